//! A disabled webhook gets no attempt, and is disabled only after a warning: the streak must
//! have failed for `disable_after`, and the warning gone out `disable_after - warn_after`
//! (the grace) before, in the same streak. A streak starts at the first failed attempt after a
//! success and ends at the next 2xx (or a re-enable).

use super::{Breach, PropertyContext, Violation};
use crate::domain::WebhookId;
use crate::time::{SimTime, format_ms};
use crate::trace::{Trace, TraceEvent};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn check_disabled(trace: &Trace) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut disabled: BTreeMap<WebhookId, usize> = BTreeMap::new();
    for (i, e) in trace.entries().iter().enumerate() {
        match &e.event {
            TraceEvent::WebhookDisabled { webhook, .. } => {
                disabled.insert(*webhook, i);
            }
            TraceEvent::WebhookEnabled { webhook } => {
                disabled.remove(webhook);
            }
            TraceEvent::AttemptStarted { webhook, delivery, number, .. } => {
                if let Some(&since) = disabled.get(webhook) {
                    let detail = format!("attempt {number} of delivery {delivery} while {webhook} was disabled");
                    out.push(Violation::new(Breach::AttemptWhileDisabled, e.at, vec![since, i], detail));
                }
            }
            _ => {}
        }
    }
    out
}

/// One webhook's failing streak as the trace shows it.
#[derive(Default)]
struct Streak {
    /// The first failure of the streak: (time, entry).
    since: Option<(SimTime, usize)>,
    warned: Option<(SimTime, usize)>,
}

pub(super) fn check_warnings(trace: &Trace, ctx: &PropertyContext) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut streaks: BTreeMap<WebhookId, Streak> = BTreeMap::new();
    let mut disabled = BTreeSet::new();
    for (i, e) in trace.entries().iter().enumerate() {
        match &e.event {
            TraceEvent::AttemptFinished { webhook, outcome, .. } => {
                let s = streaks.entry(*webhook).or_default();
                if outcome.is_success() {
                    *s = Streak::default();
                } else if !disabled.contains(webhook) && s.since.is_none() {
                    s.since = Some((e.at, i));
                }
            }
            TraceEvent::WarningSent { webhook, .. } => {
                let s = streaks.entry(*webhook).or_default();
                out.extend(on_warning(s, *webhook, e.at, i, ctx));
                s.warned.get_or_insert((e.at, i));
            }
            TraceEvent::WebhookDisabled { webhook, .. } => {
                disabled.insert(*webhook);
                let s = streaks.entry(*webhook).or_default();
                out.extend(on_disable(s, *webhook, e.at, i, ctx));
            }
            // Re-enabling a disabled webhook starts afresh; enabling an active one changes nothing.
            TraceEvent::WebhookEnabled { webhook } if disabled.contains(webhook) => {
                disabled.remove(webhook);
                streaks.insert(*webhook, Streak::default());
            }
            _ => {}
        }
    }
    out
}

fn on_warning(s: &Streak, webhook: WebhookId, at: SimTime, i: usize, ctx: &PropertyContext) -> Option<Violation> {
    if let Some((_, first)) = s.warned {
        let detail = format!("{webhook} was warned twice in one failing streak");
        return Some(Violation::new(Breach::WarnedTwiceInStreak, at, vec![first, i], detail));
    }
    let failing_ms = s.since.map_or(0, |(t, _)| at.ms_since(t));
    let warn_ms = ctx.policy.warn_after_ms();
    if warn_ms.is_some_and(|w| failing_ms >= w) {
        return None;
    }
    let entries = s.since.map(|(_, e)| e).into_iter().chain([i]).collect();
    let need = warn_ms.map_or("the policy never warns".to_string(), |w| format!("warn_after is {}", format_ms(w)));
    let detail = format!("{webhook} warned after failing {}; {need}", format_ms(failing_ms));
    Some(Violation::new(Breach::WarnBeforeThreshold, at, entries, detail))
}

fn on_disable(s: &Streak, webhook: WebhookId, at: SimTime, i: usize, ctx: &PropertyContext) -> Option<Violation> {
    let Some((warned_at, warned_i)) = s.warned else {
        let entries = s.since.map(|(_, e)| e).into_iter().chain([i]).collect();
        let detail = format!("{webhook} disabled with no warning in its failing streak");
        return Some(Violation::new(Breach::DisableWithoutWarning, at, entries, detail));
    };
    let failing_ms = s.since.map_or(0, |(t, _)| at.ms_since(t));
    let (warn_ms, disable_ms) = (ctx.policy.warn_after_ms(), ctx.policy.disable_after_ms());
    let since_i = s.since.map(|(_, e)| e);
    if disable_ms.is_none_or(|d| failing_ms < d) {
        let need =
            disable_ms.map_or("the policy never disables".into(), |d| format!("disable_after is {}", format_ms(d)));
        let detail = format!("{webhook} disabled after failing {}; {need}", format_ms(failing_ms));
        let entries = since_i.into_iter().chain([i]).collect();
        return Some(Violation::new(Breach::DisableBeforeThreshold, at, entries, detail));
    }
    let grace_ms = disable_ms.unwrap_or(0).saturating_sub(warn_ms.unwrap_or(0));
    let since_warning = at.ms_since(warned_at);
    if since_warning < grace_ms {
        let detail = format!(
            "{webhook} disabled {} after its warning; the grace (disable_after - warn_after) is {}",
            format_ms(since_warning),
            format_ms(grace_ms)
        );
        return Some(Violation::new(Breach::DisableBeforeGrace, at, vec![warned_i, i], detail));
    }
    None
}
