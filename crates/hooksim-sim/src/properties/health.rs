//! A disabled webhook gets no attempt, and is disabled only after a warning: the streak must
//! have failed for `disable_after`, and the warning gone out `disable_after - warn_after`
//! (the grace) before, in the same streak. A streak starts at the first failed attempt after a
//! success and ends at the next 2xx (or a re-enable). A `410 Gone` under a profile that unsubscribes on it disables at once, with no warning.
//!
//! The other way round, a webhook failing past the thresholds must be warned, then disabled: a
//! failure that meets the warning rule (or the disable rule) is the last attempt of the webhook
//! before its warning (or its disable). Judged at the next attempt, so a dispatcher that does not
//! report `webhook_disabled` is judged by what it sends: nothing, once disabled.

use super::{Breach, PropertyContext, Violation};
use hooksim_core::domain::WebhookId;
use hooksim_core::time::{SimTime, format_ms};
use hooksim_core::trace::{DisableReason, Outcome, Trace, TraceEvent};
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
    /// The status of the webhook's last answered attempt, and its entry.
    last_status: Option<(u16, usize)>,
}

pub(super) fn check_warnings(trace: &Trace, ctx: &PropertyContext) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut streaks: BTreeMap<WebhookId, Streak> = BTreeMap::new();
    let mut disabled = BTreeSet::new();
    // (Only the timeline's enables can make one: none, nothing to look for.)
    let silent_enables = if ctx.enables.is_empty() { Vec::new() } else { silent_enables(trace, ctx) };
    let mut silent_enables = silent_enables.iter().peekable();
    for (i, e) in trace.entries().iter().enumerate() {
        while let Some(&(webhook, _)) = silent_enables.next_if(|(_, at)| *at == i) {
            streaks.insert(webhook, Streak::default());
        }
        match &e.event {
            TraceEvent::AttemptFinished { webhook, outcome, .. } => {
                let s = streaks.entry(*webhook).or_default();
                s.last_status = match outcome {
                    Outcome::Status { code } => Some((*code, i)),
                    _ => None,
                };
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
            TraceEvent::WebhookDisabled { webhook, reason, .. } => {
                disabled.insert(*webhook);
                let s = streaks.entry(*webhook).or_default();
                out.extend(on_disable(s, *webhook, *reason, e.at, i, ctx));
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

fn on_disable(
    s: &Streak,
    webhook: WebhookId,
    reason: DisableReason,
    at: SimTime,
    i: usize,
    ctx: &PropertyContext,
) -> Option<Violation> {
    if reason == DisableReason::Gone {
        return on_gone(s, webhook, at, i, ctx);
    }
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

/// A disable for `410 Gone` needs no warning, but it needs the profile to say so and the
/// webhook's last answer to have been that 410.
fn on_gone(s: &Streak, webhook: WebhookId, at: SimTime, i: usize, ctx: &PropertyContext) -> Option<Violation> {
    match s.last_status {
        Some((code, _)) if ctx.policy.disables_at_once(code) => None,
        last => {
            let entries = last.map(|(_, e)| e).into_iter().chain([i]).collect();
            let why = match last {
                Some((code, _)) => format!("its last answer was {code}, and the profile disables at once only on 410"),
                None => "no answer of it came before".to_string(),
            };
            let detail = format!("{webhook} disabled as gone, with no warning: {why}");
            Some(Violation::new(Breach::DisableWithoutWarning, at, entries, detail))
        }
    }
}

/// What a failure made due for a webhook, and the entry of that failure.
#[derive(Clone, Copy)]
enum Due {
    Warning(usize),
    Disable(usize),
}

/// One webhook's streak for [`check_thresholds`].
#[derive(Default)]
struct Owed {
    streak: Streak,
    disabled: bool,
    due: Option<Due>,
}

pub(super) fn check_thresholds(trace: &Trace, ctx: &PropertyContext) -> Vec<Violation> {
    thresholds(trace, ctx).0
}

/// Where a webhook met the disable rule and got no attempt after: `(webhook, from, until)`,
/// entries, `until` the entry that ended it (an attempt, a reported disable, an enable, a 2xx)
/// or `usize::MAX`. A dispatcher that does not report `webhook_disabled` may have disabled it
/// there: what it did not send is explained.
pub(super) fn silent_disables(trace: &Trace, ctx: &PropertyContext) -> Vec<(WebhookId, usize, usize)> {
    thresholds(trace, ctx).1
}

/// Where the timeline enabled again a webhook taken as disabled (past the disable rule, silent
/// since): `(webhook, entry)`, the enable applied just before that entry. Its streak starts
/// afresh there, as after a reported `webhook_enabled`.
fn silent_enables(trace: &Trace, ctx: &PropertyContext) -> Vec<(WebhookId, usize)> {
    thresholds(trace, ctx).2
}

type Silences = Vec<(WebhookId, usize, usize)>;

fn thresholds(trace: &Trace, ctx: &PropertyContext) -> (Vec<Violation>, Silences, Vec<(WebhookId, usize)>) {
    let mut out = Vec::new();
    let mut silent = Vec::new();
    let mut enabled = Vec::new();
    let mut hooks: BTreeMap<WebhookId, Owed> = BTreeMap::new();
    let mut enables = ctx.enables.iter().peekable();
    for (i, e) in trace.entries().iter().enumerate() {
        // The timeline's enables, for a dispatcher that does not report `webhook_enabled`: a
        // webhook taken as disabled (past the disable rule, silent since) is enabled again.
        while let Some(&(_, webhook)) = enables.next_if(|(at, _)| *at <= e.at) {
            if let Some(h) = hooks.get_mut(&webhook).filter(|h| matches!(h.due, Some(Due::Disable(_)))) {
                let Some(Due::Disable(from)) = h.due else { unreachable!() };
                silent.push((webhook, from, i));
                enabled.push((webhook, i));
                *h = Owed::default();
            }
        }
        let (webhook, before) = match &e.event {
            TraceEvent::AttemptFinished { webhook, .. }
            | TraceEvent::WarningSent { webhook, .. }
            | TraceEvent::WebhookDisabled { webhook, .. }
            | TraceEvent::WebhookEnabled { webhook }
            | TraceEvent::AttemptStarted { webhook, .. } => (*webhook, hooks.get(webhook).and_then(|h| h.due)),
            _ => continue,
        };
        let h = hooks.entry(webhook).or_default();
        match &e.event {
            TraceEvent::AttemptFinished { outcome, .. } if outcome.is_success() => {
                (h.streak, h.due) = (Streak::default(), None);
            }
            TraceEvent::AttemptFinished { outcome, .. } if !h.disabled => {
                h.streak.since.get_or_insert((e.at, i));
                h.due = due_after_failure(&h.streak, outcome, e.at, i, ctx).or(h.due);
            }
            TraceEvent::WarningSent { .. } => {
                h.streak.warned.get_or_insert((e.at, i));
                if matches!(h.due, Some(Due::Warning(_))) {
                    h.due = None;
                }
            }
            TraceEvent::WebhookDisabled { .. } => (h.disabled, h.due) = (true, None),
            TraceEvent::WebhookEnabled { .. } => *h = Owed::default(),
            TraceEvent::AttemptStarted { delivery, number, .. } => {
                if let Some(due) = h.due.take() {
                    out.push(not_done(trace, h, due, (*delivery, *number), i));
                }
            }
            _ => {}
        }
        let after = hooks.get(&webhook).and_then(|h| h.due);
        match (before, after) {
            (Some(Due::Disable(_)), Some(Due::Disable(_))) => {}
            (Some(Due::Disable(from)), _) => silent.push((webhook, from, i)),
            (_, Some(Due::Disable(_))) => {}
            _ => {}
        }
    }
    for (webhook, h) in hooks {
        if let Some(Due::Disable(from)) = h.due {
            silent.push((webhook, from, usize::MAX));
        }
    }
    (out, silent, enabled)
}

/// The violation of an attempt (`delivery`, attempt `number`, entry `i`) that went out while a
/// warning or a disable was due.
fn not_done(trace: &Trace, h: &Owed, due: Due, (delivery, number): (uuid::Uuid, u32), i: usize) -> Violation {
    let (breach, failed, what) = match due {
        Due::Warning(f) => (Breach::NotWarnedPastThreshold, f, "warned"),
        Due::Disable(f) => (Breach::NotDisabledPastThreshold, f, "disabled"),
    };
    let e = &trace.entries()[i];
    let webhook = match &e.event {
        TraceEvent::AttemptStarted { webhook, .. } => *webhook,
        _ => unreachable!("judged at an attempt"),
    };
    let failing_ms = h.streak.since.map_or(0, |(t, _)| trace.entries()[failed].at.ms_since(t));
    let detail = format!(
        "{webhook} was not {what} after a failure {} into its failing streak (entry {failed}): attempt {number} \
         of delivery {delivery} went out instead",
        format_ms(failing_ms)
    );
    Violation::new(breach, e.at, vec![failed, i], detail)
}

/// What the failure at `at` (entry `i`) makes due: the disable when the streak has failed for
/// `disable_after` and the grace has passed since the warning (or at once for a `410` the
/// profile disables on), else the warning when the streak has failed for `warn_after` unwarned.
fn due_after_failure(s: &Streak, outcome: &Outcome, at: SimTime, i: usize, ctx: &PropertyContext) -> Option<Due> {
    if let Outcome::Status { code } = outcome
        && ctx.policy.disables_at_once(*code)
    {
        return Some(Due::Disable(i));
    }
    let failing_ms = s.since.map_or(0, |(t, _)| at.ms_since(t));
    let (warn_ms, disable_ms) = (ctx.policy.warn_after_ms(), ctx.policy.disable_after_ms());
    match s.warned {
        Some((warned_at, _)) => {
            let grace_ms = disable_ms?.saturating_sub(warn_ms.unwrap_or(0));
            (failing_ms >= disable_ms? && at.ms_since(warned_at) >= grace_ms).then_some(Due::Disable(i))
        }
        None => (failing_ms >= warn_ms?).then_some(Due::Warning(i)),
    }
}
