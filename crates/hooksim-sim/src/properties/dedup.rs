//! A deduplicating receiver acts at most once per delivery uuid, whatever the retries, lost
//! answers and crashes in between.

use super::{Breach, PropertyContext, Violation};
use hooksim_core::trace::{Trace, TraceEvent};
use std::collections::BTreeMap;

pub(super) fn check(trace: &Trace, ctx: &PropertyContext) -> Vec<Violation> {
    let mut acts: BTreeMap<(&str, uuid::Uuid), Vec<usize>> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, e) in trace.entries().iter().enumerate() {
        let TraceEvent::ReceiverActed { receiver, delivery, .. } = &e.event else { continue };
        if !ctx.dedup_receivers.contains(receiver) {
            continue;
        }
        let seen = acts.entry((receiver.as_str(), *delivery)).or_default();
        seen.push(i);
        // One violation per extra act, each showing every act so far.
        if seen.len() > 1 {
            let detail = format!("{receiver} acted {} times on delivery {delivery}", seen.len());
            out.push(Violation::new(Breach::DedupActedTwice, e.at, seen.clone(), detail));
        }
    }
    out
}
