//! Expectations and their evaluation against a trace. A failure says what was expected, what the
//! trace shows, and quotes the trace lines that matter.

mod count;
mod deliveries;
mod health;
mod index;
mod outcome;
mod receivers;
mod subject;
#[cfg(test)]
mod tests;

pub use count::{Count, Window};
pub use outcome::OutcomeFilter;
pub(crate) use subject::Target;
pub use subject::{Qualifier, Subject};

use super::Scenario;
use super::excerpt::{excerpt, render_entry};
use hooksim_core::domain::WebhookId;
use hooksim_core::trace::{Trace, TraceEvent};
use index::{Index, Verdict, about_webhook, select};
use serde_json::Value;
use std::fmt;
use std::path::PathBuf;

/// What a scenario expects of its trace. Webhooks are resolved to ids, events to event ids.
#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    /// Successful deliveries (a 2xx ended them) to `webhook`; with `body`, counted only when the
    /// body of the successful attempt contains those fields.
    Delivered {
        /// The webhook named (the subject's value).
        webhook: WebhookId,
        /// Only this event (`event = "paid"`, a step name, or its number).
        event: Option<u64>,
        /// Only attempts whose body contains these fields (a partial match).
        body: Option<Value>,
        /// How many (`exactly`, `at_least`, `at_most`; default at least one).
        count: Count,
        /// Only entries in this window (`after`, `before`; virtual time, both ends included).
        window: Window,
    },
    /// Attempts started to `webhook`, optionally only those whose body contains `body`, or that
    /// ended with `outcome`.
    Attempts {
        /// The webhook named (the subject's value).
        webhook: WebhookId,
        /// Only this event (`event = "paid"`, a step name, or its number).
        event: Option<u64>,
        /// Only attempts whose body contains these fields (a partial match).
        body: Option<Value>,
        /// Only attempts that ended so (`success`, `timeout`, ...).
        outcome: Option<OutcomeFilter>,
        /// How many (`exactly`, `at_least`, `at_most`; default at least one).
        count: Count,
        /// Only entries in this window (`after`, `before`; virtual time, both ends included).
        window: Window,
    },
    /// Warning emails sent about `webhook` (to `to`, when given).
    Warned {
        /// The webhook named (the subject's value).
        webhook: WebhookId,
        /// Only warnings to this address.
        to: Option<String>,
        /// How many (`exactly`, `at_least`, `at_most`; default at least one).
        count: Count,
        /// Only entries in this window (`after`, `before`; virtual time, both ends included).
        window: Window,
    },
    /// Warning emails about `webhook` that reached the mail host (to `to`, when given).
    Emailed {
        /// The webhook named (the subject's value).
        webhook: WebhookId,
        /// Only emails to this address.
        to: Option<String>,
        /// How many (`exactly`, `at_least`, `at_most`; default at least one).
        count: Count,
        /// Only entries in this window (`after`, `before`; virtual time, both ends included).
        window: Window,
    },
    /// Disables of `webhook` (`webhook_disabled`).
    Disabled {
        /// The webhook named (the subject's value).
        webhook: WebhookId,
        /// How many (`exactly`, `at_least`, `at_most`; default at least one).
        count: Count,
        /// Only entries in this window (`after`, `before`; virtual time, both ends included).
        window: Window,
    },
    /// From a disable until the next enable, no attempt to `webhook` starts.
    NoAttemptAfterDisable {
        /// The webhook named (the subject's value).
        webhook: WebhookId,
    },
    /// Deliveries given up (attempts exhausted, retry window expired).
    Abandoned {
        /// The webhook named (the subject's value).
        webhook: WebhookId,
        /// Only this event (`event = "paid"`, a step name, or its number).
        event: Option<u64>,
        /// How many (`exactly`, `at_least`, `at_most`; default at least one).
        count: Count,
        /// Only entries in this window (`after`, `before`; virtual time, both ends included).
        window: Window,
    },
    /// The receiver's side effects (`ReceiverActed`), optionally only `action`.
    Acted {
        /// The receiver named (the subject's value).
        receiver: String,
        /// Only this event (`event = "paid"`, a step name, or its number).
        event: Option<u64>,
        /// Only this side effect, e.g. `fulfil invoice 4`.
        action: Option<String>,
        /// How many (`exactly`, `at_least`, `at_most`; default at least one).
        count: Count,
        /// Only entries in this window (`after`, `before`; virtual time, both ends included).
        window: Window,
    },
    /// Deliveries the receiver saw and chose not to act on (`ReceiverSkipped`).
    Skipped {
        /// The receiver named (the subject's value).
        receiver: String,
        /// Only this event (`event = "paid"`, a step name, or its number).
        event: Option<u64>,
        /// How many (`exactly`, `at_least`, `at_most`; default at least one).
        count: Count,
        /// Only entries in this window (`after`, `before`; virtual time, both ends included).
        window: Window,
    },
    /// Requests the receiver refused for their signature (`ReceiverRejected`): answered 4xx,
    /// never acted on.
    Rejected {
        /// The receiver named (the subject's value).
        receiver: String,
        /// Only this event (`event = "paid"`, a step name, or its number).
        event: Option<u64>,
        /// How many (`exactly`, `at_least`, `at_most`; default at least one).
        count: Count,
        /// Only entries in this window (`after`, `before`; virtual time, both ends included).
        window: Window,
    },
    /// The first successful delivery of each event to `webhook` came in this order.
    DeliveredInOrder {
        /// The webhook named (the subject's value).
        webhook: WebhookId,
        /// The events, in the order their first successful deliveries must come.
        events: Vec<u64>,
    },
}

/// One expectation the trace did not meet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The scenario file.
    pub file: PathBuf,
    /// Where the `[[expect]]` entry is.
    pub line: usize,
    /// Its column.
    pub column: usize,
    /// What the entry asked for, in words.
    pub expected: String,
    /// What the trace shows instead, in words.
    pub found: String,
    /// The relevant trace lines, rendered (possibly shortened, with a marker).
    pub excerpt: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: expected {}\n  but the trace shows {}",
            self.file.display(),
            self.line,
            self.column,
            self.expected,
            self.found
        )?;
        if !self.excerpt.is_empty() {
            f.write_str("\n  trace excerpt:")?;
            for l in &self.excerpt {
                write!(f, "\n    {l}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// Checks every expectation of `scenario` against `trace`; an empty list means all held.
pub fn evaluate(scenario: &Scenario, trace: &Trace) -> Vec<Failure> {
    let ix = Index::new(trace, scenario.names(), scenario.world.provider);
    scenario
        .expectations
        .iter()
        .filter_map(|x| {
            check(&x.value, &ix).map(|(expected, found, mut lines)| {
                if lines.is_empty() {
                    lines = receiver_fallback(scenario, &x.value, &ix);
                }
                Failure {
                    file: scenario.file.clone(),
                    line: x.line,
                    column: x.column,
                    expected,
                    found,
                    excerpt: excerpt(
                        lines.into_iter().map(|i| render_entry(&ix.entries[i], &ix.names)).collect(),
                        8,
                        6,
                    ),
                }
            })
        })
        .collect()
}

/// A receiver that never acted (or skipped) has no lines of its own: show what reached it
/// instead, the attempts of the webhooks whose URLs name it.
fn receiver_fallback(scenario: &Scenario, x: &Expectation, ix: &Index<'_>) -> Vec<usize> {
    let (Expectation::Acted { receiver, event, .. }
    | Expectation::Skipped { receiver, event, .. }
    | Expectation::Rejected { receiver, event, .. }) = x
    else {
        return Vec::new();
    };
    let webhooks: Vec<WebhookId> = scenario
        .world
        .webhooks
        .iter()
        .enumerate()
        .filter(|(_, w)| {
            url::Url::parse(&w.url).ok().and_then(|u| u.host_str().map(str::to_string)).as_ref() == Some(receiver)
        })
        .filter_map(|(i, _)| u32::try_from(i).ok().map(WebhookId))
        .collect();
    select(ix, |e| {
        webhooks.iter().any(|w| about_webhook(&e.event, *w, *event))
            && matches!(e.event, TraceEvent::AttemptFinished { .. } | TraceEvent::Delivered { .. })
    })
}

/// Checks one expectation. Every subject has its own function, in the file of its family.
fn check(x: &Expectation, ix: &Index<'_>) -> Verdict {
    match x {
        Expectation::Delivered { webhook, event, body, count, window } => {
            deliveries::delivered(ix, webhook, event, body, count, window)
        }
        Expectation::Attempts { webhook, event, body, outcome, count, window } => {
            deliveries::attempts(ix, webhook, event, body, outcome, count, window)
        }
        Expectation::Abandoned { webhook, event, count, window } => {
            deliveries::abandoned(ix, webhook, event, count, window)
        }
        Expectation::DeliveredInOrder { webhook, events } => deliveries::delivered_in_order(ix, webhook, events),
        Expectation::Warned { webhook, to, count, window } => health::warned(ix, webhook, to, count, window),
        Expectation::Emailed { webhook, to, count, window } => health::emailed(ix, webhook, to, count, window),
        Expectation::Disabled { webhook, count, window } => health::disabled(ix, webhook, count, window),
        Expectation::NoAttemptAfterDisable { webhook } => health::no_attempt_after_disable(ix, webhook),
        Expectation::Acted { receiver, event, action, count, window } => {
            receivers::acted(ix, receiver, event, action, count, window)
        }
        Expectation::Skipped { receiver, event, count, window } => {
            receivers::skipped(ix, receiver, event, count, window)
        }
        Expectation::Rejected { receiver, event, count, window } => {
            receivers::rejected(ix, receiver, event, count, window)
        }
    }
}
