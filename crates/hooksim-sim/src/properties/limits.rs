//! The policy's per-webhook limits are kept: at most `in_flight_per_webhook_max` attempts of one
//! webhook in flight at once. (Past `pending_per_webhook_max` unfinished deliveries a new event is
//! refused: the routing check counts the pending ones and files `queued-past-limit` here.)
//!
//! In flight counts attempts started and not yet finished or lost, judged at the end of each
//! instant: what one input did at one time is judged as a whole (an attempt that timed out and
//! the send it freed a slot for come at the same time, in either order).

use super::{Breach, PropertyContext, Violation};
use hooksim_core::domain::WebhookId;
use hooksim_core::time::SimTime;
use hooksim_core::trace::{Trace, TraceEvent};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn check(trace: &Trace, ctx: &PropertyContext) -> Vec<Violation> {
    let max = ctx.policy.in_flight_per_webhook_max();
    let mut out = Vec::new();
    // Per webhook: the entries of its attempts in flight, in start order.
    let mut in_flight: BTreeMap<WebhookId, Vec<(u64, usize)>> = BTreeMap::new();
    // Webhooks that started an attempt in this instant, and webhooks already reported.
    let mut started: BTreeSet<WebhookId> = BTreeSet::new();
    let mut reported: BTreeSet<WebhookId> = BTreeSet::new();
    let entries = trace.entries();
    for (i, e) in entries.iter().enumerate() {
        match &e.event {
            TraceEvent::AttemptStarted { attempt, webhook, .. } => {
                in_flight.entry(*webhook).or_default().push((*attempt, i));
                started.insert(*webhook);
            }
            TraceEvent::AttemptFinished { attempt, webhook, .. } | TraceEvent::AttemptLost { attempt, webhook, .. } => {
                if let Some(list) = in_flight.get_mut(webhook) {
                    list.retain(|(a, _)| a != attempt);
                }
            }
            _ => {}
        }
        let instant_ends = entries.get(i + 1).is_none_or(|next| next.at != e.at);
        if instant_ends {
            for webhook in std::mem::take(&mut started) {
                let list = &in_flight[&webhook];
                if list.len() > max as usize && reported.insert(webhook) {
                    out.push(over(webhook, list, max, e.at));
                }
            }
        }
    }
    out
}

fn over(webhook: WebhookId, list: &[(u64, usize)], max: u32, at: SimTime) -> Violation {
    let detail = format!(
        "{webhook} had {} attempts in flight at once (attempts {}); in_flight_per_webhook_max is {max}",
        list.len(),
        list.iter().map(|(a, _)| a.to_string()).collect::<Vec<_>>().join(", ")
    );
    Violation::new(Breach::InFlightPastLimit, at, list.iter().map(|(_, i)| *i).collect(), detail)
}
