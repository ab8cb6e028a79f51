//! What evaluation looks up in a trace, gathered in one pass, and the helpers that pick the
//! trace lines a failure quotes.

use super::Window;
use super::outcome::AttemptEnd;
use crate::scenario::excerpt::Names;
use crate::scenario::matching::{contains, describe};
use hooksim_core::domain::WebhookId;
use hooksim_core::provider::Provider;
use hooksim_core::trace::{Trace, TraceEntry, TraceEvent};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// `None` when the expectation holds; otherwise (expected, found, indices of the trace lines to quote).
pub(super) type Verdict = Option<(String, String, Vec<usize>)>;

/// What evaluation needs to look up, gathered in one pass over the trace.
pub(super) struct Index<'t> {
    /// Attempt id -> the body of its `AttemptStarted` (the envelope's `body`, parsed; a
    /// provider's whole body).
    pub bodies: BTreeMap<u64, Option<Value>>,
    pub ends: BTreeMap<u64, AttemptEnd>,
    /// Delivery -> its last successful attempt (whose body the receiver accepted).
    pub succeeded_by: BTreeMap<Uuid, u64>,
    pub entries: &'t [TraceEntry],
    /// How failures name webhooks and events.
    pub names: Names<'t>,
}

impl<'t> Index<'t> {
    pub(crate) fn new(trace: &'t Trace, names: Names<'t>, provider: Provider) -> Self {
        let envelope = provider == Provider::Snapbill;
        let mut ix = Index {
            bodies: BTreeMap::new(),
            ends: BTreeMap::new(),
            succeeded_by: BTreeMap::new(),
            entries: trace.entries(),
            names,
        };
        for e in trace.entries() {
            match &e.event {
                TraceEvent::AttemptStarted { attempt, body, .. } => {
                    let parsed = serde_json::from_str::<Value>(body).ok();
                    let parsed = if envelope { parsed.and_then(|v| v.get("body").cloned()) } else { parsed };
                    ix.bodies.insert(*attempt, parsed);
                }
                TraceEvent::AttemptFinished { attempt, delivery, outcome, .. } => {
                    ix.ends.insert(*attempt, AttemptEnd::Finished(*outcome));
                    if outcome.is_success() {
                        ix.succeeded_by.insert(*delivery, *attempt);
                    }
                }
                TraceEvent::AttemptLost { attempt, .. } => {
                    ix.ends.insert(*attempt, AttemptEnd::Lost);
                }
                _ => {}
            }
        }
        ix
    }

    pub(crate) fn body_matches(&self, attempt: Option<u64>, expected: &Option<Value>) -> bool {
        match expected {
            None => true,
            Some(exp) => {
                attempt.and_then(|a| self.bodies.get(&a)).and_then(Option::as_ref).is_some_and(|b| contains(b, exp))
            }
        }
    }
}

pub(super) fn of_event(names: &Names<'_>, event: Option<u64>) -> String {
    event.map_or(String::new(), |e| format!(" of {}", names.event(e)))
}

pub(super) fn with_body(body: &Option<Value>) -> String {
    body.as_ref().map_or(String::new(), |b| format!(" with a body containing {}", describe(b)))
}

pub(super) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Entries of the trace that concern `webhook` (and `event`, when given).
pub(super) fn about_webhook(e: &TraceEvent, webhook: WebhookId, event: Option<u64>) -> bool {
    let (w, ev) = match e {
        TraceEvent::DeliveryQueued { webhook, event, .. }
        | TraceEvent::DeliveryRefused { webhook, event, .. }
        | TraceEvent::AttemptStarted { webhook, event, .. }
        | TraceEvent::AttemptFinished { webhook, event, .. }
        | TraceEvent::Delivered { webhook, event, .. }
        | TraceEvent::DeliveryAbandoned { webhook, event, .. } => (*webhook, Some(*event)),
        TraceEvent::WarningSent { webhook, .. }
        | TraceEvent::WebhookDisabled { webhook, .. }
        | TraceEvent::WebhookRecovered { webhook }
        | TraceEvent::WebhookEnabled { webhook } => (*webhook, None),
        _ => return false,
    };
    w == webhook && (event.is_none() || ev.is_none() || ev == event)
}

pub(super) fn is_health(e: &TraceEvent, webhook: WebhookId) -> bool {
    match e {
        TraceEvent::WarningSent { webhook: w, .. }
        | TraceEvent::WebhookDisabled { webhook: w, .. }
        | TraceEvent::WebhookRecovered { webhook: w }
        | TraceEvent::WebhookEnabled { webhook: w }
        | TraceEvent::Delivered { webhook: w, .. } => *w == webhook,
        TraceEvent::WorldChanged { .. } => true,
        _ => false,
    }
}

/// Like [`select`], narrowed to the expectation's window when that leaves anything to show.
pub(super) fn select_in(ix: &Index<'_>, window: &Window, keep: impl Fn(&TraceEntry) -> bool) -> Vec<usize> {
    let all = select(ix, keep);
    let inside: Vec<usize> = all.iter().copied().filter(|i| window.contains(ix.entries[*i].at)).collect();
    if inside.is_empty() { all } else { inside }
}

/// How many entries inside `window` satisfy `keep`.
pub(super) fn count_in(ix: &Index<'_>, window: &Window, keep: impl Fn(&TraceEntry) -> bool) -> u64 {
    ix.entries.iter().filter(|e| window.contains(e.at) && keep(e)).count() as u64
}

pub(super) fn select(ix: &Index<'_>, keep: impl Fn(&TraceEntry) -> bool) -> Vec<usize> {
    ix.entries.iter().enumerate().filter(|(_, e)| keep(e)).map(|(i, _)| i).collect()
}
