//! Nothing is lost, at the door: every event routed to a webhook becomes exactly one delivery
//! or one refusal, a refusal names a limit that was really reached, and nothing is queued past
//! one.

use super::{Breach, PropertyContext, Violation};
use crate::world::DISPATCHER_HOST;
use hooksim_core::domain::{EventPath, WebhookId};
use hooksim_core::trace::{RefusedReason, Trace, TraceEvent};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn check(trace: &Trace, ctx: &PropertyContext) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut events: BTreeMap<u64, (EventPath, usize)> = BTreeMap::new();
    // (webhook, event) -> the entries that queued or refused it.
    let mut routed: BTreeMap<(WebhookId, u64), Vec<usize>> = BTreeMap::new();
    let mut disabled = BTreeSet::new();
    let mut pending: BTreeMap<WebhookId, u32> = BTreeMap::new();
    let pending_max = ctx.policy.pending_per_webhook_max();
    let mut retries = super::identity::Retries::default();
    // Per event, the webhooks at their pending limit when it happened, and whether the
    // dispatcher was down then (for a dispatcher that reports no refusal, see `unreported`).
    let mut full_at: BTreeMap<u64, BTreeSet<WebhookId>> = BTreeMap::new();
    let mut down_at: BTreeMap<u64, usize> = BTreeMap::new();
    let mut down_since: Option<usize> = None;
    for (i, e) in trace.entries().iter().enumerate() {
        let at = e.at;
        match &e.event {
            TraceEvent::EventRecorded { event, path, .. } => {
                events.insert(*event, (*path, i));
                let full = pending.iter().filter(|&(_, &n)| n >= pending_max).map(|(w, _)| *w).collect();
                full_at.insert(*event, full);
                if let Some(since) = down_since {
                    down_at.insert(*event, since);
                }
            }
            TraceEvent::WorldChanged { change } => match change.dispatcher_down(DISPATCHER_HOST) {
                Some(true) => down_since = Some(i),
                Some(false) => down_since = None,
                None => {}
            },
            // The same delivery under a new uuid routes nothing again: the identity property
            // reports it.
            TraceEvent::DeliveryQueued { webhook, event, delivery }
                if retries.replaced(*webhook, *event, *delivery, i).is_some() => {}
            TraceEvent::DeliveryQueued { webhook, event, .. } => {
                routed.entry((*webhook, *event)).or_default().push(i);
                if disabled.contains(webhook) {
                    out.push(Violation::new(
                        Breach::QueuedWhileDisabled,
                        at,
                        vec![i],
                        format!("event {event} was queued for {webhook} while it was disabled"),
                    ));
                }
                let n = pending.entry(*webhook).or_default();
                if *n >= pending_max {
                    let detail = format!("{webhook} already had {n} pending (pending_per_webhook_max {pending_max})");
                    out.push(Violation::new(Breach::QueuedPastLimit, at, vec![i], detail));
                }
                *n += 1;
            }
            TraceEvent::DeliveryRefused { webhook, event, reason } => {
                routed.entry((*webhook, *event)).or_default().push(i);
                let n = pending.get(webhook).copied().unwrap_or(0);
                let (breach, detail) = match reason {
                    RefusedReason::WebhookDisabled if !disabled.contains(webhook) => {
                        (Breach::RefusedWhileEnabled, format!("{webhook} was not disabled"))
                    }
                    RefusedReason::QueueFull if n < pending_max => (
                        Breach::RefusedBelowLimit,
                        format!("{webhook} had {n} pending, below pending_per_webhook_max {pending_max}"),
                    ),
                    _ => continue,
                };
                out.push(Violation::new(breach, at, vec![i], format!("event {event} refused: {detail}")));
            }
            TraceEvent::Delivered { webhook, .. } | TraceEvent::DeliveryAbandoned { webhook, .. } => {
                let n = pending.entry(*webhook).or_default();
                *n = n.saturating_sub(1);
            }
            TraceEvent::WebhookDisabled { webhook, .. } => {
                disabled.insert(*webhook);
            }
            TraceEvent::WebhookEnabled { webhook } => {
                disabled.remove(webhook);
            }
            _ => {}
        }
    }
    if let Some(webhooks) = &ctx.webhooks {
        // A dispatcher that reports no decisions reports no refusal either: an event it never
        // sent is explained when its webhook met the disable rule and was silent since, was at
        // its pending limit, or the dispatcher was down from before it to the end.
        let silent = (!super::fate::reports_decisions(trace)).then(|| super::health::silent_disables(trace, ctx));
        let unreported = |event: u64, webhook: WebhookId, i: usize| {
            let Some(silent) = &silent else { return false };
            let disabled = silent.iter().any(|&(w, from, until)| w == webhook && from <= i && i < until);
            let full = full_at.get(&event).is_some_and(|f| f.contains(&webhook));
            disabled || full || (down_at.contains_key(&event) && down_since.is_some())
        };
        out.extend(against_filters(trace, webhooks, &events, &routed, &unreported));
    }
    out
}

/// Each recorded event reaches exactly the webhooks whose filters want its path, once each.
fn against_filters(
    trace: &Trace,
    webhooks: &[hooksim_core::domain::WebhookConfig],
    events: &BTreeMap<u64, (EventPath, usize)>,
    routed: &BTreeMap<(WebhookId, u64), Vec<usize>>,
    unreported: &dyn Fn(u64, WebhookId, usize) -> bool,
) -> Vec<Violation> {
    let at = |i: usize| trace.entries()[i].at;
    let mut out = Vec::new();
    for (&event, &(path, i)) in events {
        for (w, config) in webhooks.iter().enumerate() {
            let webhook = WebhookId(w as u32);
            let seen = routed.get(&(webhook, event)).map_or(&[][..], Vec::as_slice);
            let wanted = config.wants(path);
            let (breach, detail) = match (wanted, seen.len()) {
                (true, 0) if unreported(event, webhook, i) => continue,
                (true, 0) => (Breach::EventNotRouted, "neither queued nor refused"),
                (true, 1) | (false, 0) => continue,
                (true, _) => (Breach::EventRoutedTwice, "queued or refused more than once"),
                (false, _) => (Breach::RoutedAgainstFilter, "routed to a webhook whose filters refuse its path"),
            };
            let entries: Vec<usize> = std::iter::once(i).chain(seen.iter().copied()).collect();
            let when = at(*entries.last().unwrap_or(&i));
            out.push(Violation::new(
                breach,
                when,
                entries,
                format!("event {event} ({}) for {webhook}: {detail}", path.as_str()),
            ));
        }
    }
    for (&(webhook, event), seen) in routed {
        if !events.contains_key(&event) {
            let detail = format!("{webhook} got event {event}, which was never recorded");
            out.push(Violation::new(Breach::RoutedAgainstFilter, at(seen[0]), seen.clone(), detail));
        }
    }
    out
}
