//! Expectations about deliveries to a webhook: successes, attempts, abandons, order.

use super::index::{Index, Verdict, about_webhook, count_in, of_event, plural, select, select_in, with_body};
use super::{Count, OutcomeFilter, Window};
use crate::scenario::matching::actual_at;
use hooksim_core::domain::WebhookId;
use hooksim_core::trace::TraceEvent;
use serde_json::Value;

pub(super) fn delivered(
    ix: &Index<'_>,
    webhook: &WebhookId,
    event: &Option<u64>,
    body: &Option<Value>,
    count: &Count,
    window: &Window,
) -> Verdict {
    let mut n = 0u64;
    let mut any_body = 0u64;
    let mut other_bodies: Vec<String> = Vec::new();
    for e in ix.entries {
        if let TraceEvent::Delivered { delivery, webhook: w, event: ev, .. } = &e.event
            && w == webhook
            && event.is_none_or(|x| x == *ev)
            && window.contains(e.at)
        {
            any_body += 1;
            let attempt = ix.succeeded_by.get(delivery).copied();
            if ix.body_matches(attempt, body) {
                n += 1;
            } else if let (Some(exp), Some(Some(got))) = (body, attempt.and_then(|a| ix.bodies.get(&a))) {
                other_bodies.push(actual_at(got, exp));
            }
        }
    }
    if count.admits(n) {
        return None;
    }
    let mut found = plural(n, "such delivery", "such deliveries");
    if body.is_some() && any_body != n {
        other_bodies.dedup();
        found.push_str(&format!(" ({} whose body did not match: {})", any_body - n, other_bodies.join("; ")));
    }
    let lines = select_in(ix, window, |e| {
        about_webhook(&e.event, *webhook, *event) && !matches!(e.event, TraceEvent::RetryScheduled { .. })
    });
    Some((
        format!(
            "{count} successful {} to {}{}{}{window}",
            count.noun("delivery", "deliveries"),
            ix.names.webhook(*webhook),
            of_event(&ix.names, *event),
            with_body(body)
        ),
        found,
        lines,
    ))
}

pub(super) fn attempts(
    ix: &Index<'_>,
    webhook: &WebhookId,
    event: &Option<u64>,
    body: &Option<Value>,
    outcome: &Option<OutcomeFilter>,
    count: &Count,
    window: &Window,
) -> Verdict {
    let mut n = 0u64;
    for e in ix.entries {
        if let TraceEvent::AttemptStarted { attempt, webhook: w, event: ev, .. } = &e.event
            && w == webhook
            && event.is_none_or(|x| x == *ev)
            && window.contains(e.at)
            && ix.body_matches(Some(*attempt), body)
            && outcome.is_none_or(|o| o.admits(ix.ends.get(attempt)))
        {
            n += 1;
        }
    }
    if count.admits(n) {
        return None;
    }
    let lines = select_in(ix, window, |e| {
        about_webhook(&e.event, *webhook, *event)
            && matches!(
                e.event,
                TraceEvent::AttemptStarted { .. }
                    | TraceEvent::AttemptFinished { .. }
                    | TraceEvent::AttemptLost { .. }
                    | TraceEvent::Delivered { .. }
            )
    });
    Some((
        format!(
            "{count} {} to {}{}{}{}{window}",
            count.noun("attempt", "attempts"),
            ix.names.webhook(*webhook),
            of_event(&ix.names, *event),
            with_body(body),
            outcome.map_or(String::new(), |o| format!(" ending in {o}"))
        ),
        plural(n, "such attempt", "such attempts"),
        lines,
    ))
}

pub(super) fn abandoned(
    ix: &Index<'_>,
    webhook: &WebhookId,
    event: &Option<u64>,
    count: &Count,
    window: &Window,
) -> Verdict {
    let n = count_in(ix, window, |e| {
        matches!(&e.event, TraceEvent::DeliveryAbandoned { webhook: w, event: ev, .. }
                if w == webhook && event.is_none_or(|x| x == *ev))
    });
    if count.admits(n) {
        return None;
    }
    Some((
        format!(
            "{count} abandoned {} to {}{}{window}",
            count.noun("delivery", "deliveries"),
            ix.names.webhook(*webhook),
            of_event(&ix.names, *event)
        ),
        plural(n, "such abandon", "such abandons"),
        select(ix, |e| {
            about_webhook(&e.event, *webhook, *event)
                && matches!(e.event, TraceEvent::DeliveryAbandoned { .. } | TraceEvent::Delivered { .. })
        }),
    ))
}

pub(super) fn delivered_in_order(ix: &Index<'_>, webhook: &WebhookId, events: &[u64]) -> Verdict {
    let first: Vec<Option<usize>> = events
        .iter()
        .map(|ev| {
            ix.entries.iter().position(|e| {
                matches!(&e.event, TraceEvent::Delivered { webhook: w, event: x, .. }
                    if w == webhook && x == ev)
            })
        })
        .collect();
    let in_order = first.iter().all(Option::is_some) && first.windows(2).all(|p| p[0] < p[1]);
    if in_order {
        return None;
    }
    let order: Vec<String> = events.iter().map(|e| ix.names.event(*e)).collect();
    let mut seen: Vec<(usize, u64)> = events.iter().zip(&first).filter_map(|(e, i)| i.map(|i| (i, *e))).collect();
    seen.sort();
    let missing: Vec<String> =
        events.iter().zip(&first).filter(|(_, i)| i.is_none()).map(|(e, _)| ix.names.event(*e)).collect();
    let mut found =
        format!("the order {}", seen.iter().map(|(_, e)| ix.names.event(*e)).collect::<Vec<_>>().join(", then "));
    if !missing.is_empty() {
        found.push_str(&format!(", and no delivery of {}", missing.join(", ")));
    }
    Some((
        format!("first deliveries to {} in the order {}", ix.names.webhook(*webhook), order.join(", then ")),
        found,
        select(ix, |e| {
            matches!(&e.event, TraceEvent::Delivered { webhook: w, event: x, .. }
                if w == webhook && events.contains(x))
        }),
    ))
}
