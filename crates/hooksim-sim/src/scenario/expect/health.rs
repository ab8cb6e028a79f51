//! Expectations about a webhook's health: warnings (sent and received), disables, and no
//! attempt while disabled.

use super::index::{Index, Verdict, count_in, is_health, plural, select};
use super::{Count, Window};
use hooksim_core::domain::WebhookId;
use hooksim_core::trace::TraceEvent;

pub(super) fn warned(
    ix: &Index<'_>,
    webhook: &WebhookId,
    to: &Option<String>,
    count: &Count,
    window: &Window,
) -> Verdict {
    let mut n = 0u64;
    for e in ix.entries {
        if let TraceEvent::WarningSent { webhook: w, to: t, .. } = &e.event
            && w == webhook
            && to.as_ref().is_none_or(|x| x == t)
            && window.contains(e.at)
        {
            n += 1;
        }
    }
    if count.admits(n) {
        return None;
    }
    Some((
        format!(
            "{count} warning {} about {}{}{window}",
            count.noun("email", "emails"),
            ix.names.webhook(*webhook),
            to.as_ref().map_or(String::new(), |t| format!(" to {t}"))
        ),
        plural(n, "such warning", "such warnings"),
        select(ix, |e| is_health(&e.event, *webhook)),
    ))
}

pub(super) fn emailed(
    ix: &Index<'_>,
    webhook: &WebhookId,
    to: &Option<String>,
    count: &Count,
    window: &Window,
) -> Verdict {
    let n = count_in(ix, window, |e| {
        matches!(&e.event, TraceEvent::EmailReceived { webhook: w, to: t }
                if w == webhook && to.as_ref().is_none_or(|x| x == t))
    });
    if count.admits(n) {
        return None;
    }
    Some((
        format!(
            "{count} warning {} about {} received by the mail host{}{window}",
            count.noun("email", "emails"),
            ix.names.webhook(*webhook),
            to.as_ref().map_or(String::new(), |t| format!(" for {t}"))
        ),
        plural(n, "such email", "such emails"),
        select(ix, |e| {
            is_health(&e.event, *webhook)
                || matches!(&e.event, TraceEvent::EmailReceived { webhook: w, .. } if w == webhook)
        }),
    ))
}

pub(super) fn disabled(ix: &Index<'_>, webhook: &WebhookId, count: &Count, window: &Window) -> Verdict {
    let n =
        count_in(ix, window, |e| matches!(&e.event, TraceEvent::WebhookDisabled { webhook: w, .. } if w == webhook));
    if count.admits(n) {
        return None;
    }
    Some((
        format!("{count} {} of {}{window}", count.noun("disable", "disables"), ix.names.webhook(*webhook)),
        plural(n, "such disable", "such disables"),
        select(ix, |e| is_health(&e.event, *webhook)),
    ))
}

pub(super) fn no_attempt_after_disable(ix: &Index<'_>, webhook: &WebhookId) -> Verdict {
    let mut disabled_at: Option<usize> = None;
    let mut bad = Vec::new();
    for (i, e) in ix.entries.iter().enumerate() {
        match &e.event {
            TraceEvent::WebhookDisabled { webhook: w, .. } if w == webhook => {
                disabled_at = Some(i);
            }
            TraceEvent::WebhookEnabled { webhook: w } if w == webhook => {
                disabled_at = None;
            }
            TraceEvent::AttemptStarted { webhook: w, .. } if w == webhook => {
                if let Some(d) = disabled_at {
                    if bad.is_empty() {
                        bad.push(d);
                    }
                    bad.push(i);
                }
            }
            _ => {}
        }
    }
    if bad.is_empty() {
        return None;
    }
    Some((
        format!("no attempt to {} while it is disabled", ix.names.webhook(*webhook)),
        plural(bad.len() as u64 - 1, "attempt after the disable", "attempts after the disable"),
        bad,
    ))
}
