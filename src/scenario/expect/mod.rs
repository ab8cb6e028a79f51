//! Expectations and their evaluation against a trace. A failure says what was expected, what the
//! trace shows, and quotes the trace lines that matter.

mod subject;

pub use subject::{Qualifier, Subject, Target};

use super::Scenario;
use super::excerpt::{Names, excerpt, render_entry};
use super::matching::{actual_at, contains, describe};
use crate::domain::WebhookId;
use crate::time::SimTime;
use crate::trace::{Outcome, Trace, TraceEntry, TraceEvent};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use uuid::Uuid;

/// What a scenario expects of its trace. Webhooks are resolved to ids, events to event ids.
#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    /// Successful deliveries (a 2xx ended them) to `webhook`; with `body`, counted only when the
    /// body of the successful attempt contains those fields.
    Delivered {
        webhook: WebhookId,
        event: Option<u64>,
        body: Option<Value>,
        count: Count,
        window: Window,
    },
    /// Attempts started to `webhook`, optionally only those whose body contains `body`, or that
    /// ended with `outcome`.
    Attempts {
        webhook: WebhookId,
        event: Option<u64>,
        body: Option<Value>,
        outcome: Option<OutcomeFilter>,
        count: Count,
        window: Window,
    },
    /// Warning emails sent about `webhook` (to `to`, when given).
    Warned {
        webhook: WebhookId,
        to: Option<String>,
        count: Count,
        window: Window,
    },
    /// Warning emails about `webhook` that reached the mail host (to `to`, when given).
    Emailed {
        webhook: WebhookId,
        to: Option<String>,
        count: Count,
        window: Window,
    },
    Disabled {
        webhook: WebhookId,
        count: Count,
        window: Window,
    },
    /// From a disable until the next enable, no attempt to `webhook` starts.
    NoAttemptAfterDisable {
        webhook: WebhookId,
    },
    /// Deliveries given up (attempts exhausted, retry window expired).
    Abandoned {
        webhook: WebhookId,
        event: Option<u64>,
        count: Count,
        window: Window,
    },
    /// The receiver's side effects (`ReceiverActed`), optionally only `action`.
    Acted {
        receiver: String,
        event: Option<u64>,
        action: Option<String>,
        count: Count,
        window: Window,
    },
    /// Deliveries the receiver saw and chose not to act on (`ReceiverSkipped`).
    Skipped {
        receiver: String,
        event: Option<u64>,
        count: Count,
        window: Window,
    },
    /// The first successful delivery of each event to `webhook` came in this order.
    DeliveredInOrder {
        webhook: WebhookId,
        events: Vec<u64>,
    },
}

/// How many matching facts are expected: `min..=max` (`max` `None`: no upper bound).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    pub min: u64,
    pub max: Option<u64>,
}

impl Count {
    pub const NONE: Count = Count { min: 0, max: Some(0) };

    pub fn admits(self, n: u64) -> bool {
        n >= self.min && self.max.is_none_or(|m| n <= m)
    }

    /// `one` or `many`, to agree with the number this count displays ("exactly 1 delivery",
    /// "at least 2 deliveries", "no deliveries").
    pub fn noun<'a>(self, one: &'a str, many: &'a str) -> &'a str {
        let shown = match (self.min, self.max) {
            (0, Some(0)) => 0,
            (a, Some(b)) if a == b => a,
            (a, None) => a,
            (0, Some(b)) => b,
            _ => 2,
        };
        if shown == 1 { one } else { many }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (0, Some(0)) => f.write_str("no"),
            (a, Some(b)) if a == b => write!(f, "exactly {a}"),
            (a, None) => write!(f, "at least {a}"),
            (0, Some(b)) => write!(f, "at most {b}"),
            (a, Some(b)) => write!(f, "between {a} and {b}"),
        }
    }
}

/// Virtual times the fact must fall in, both ends included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub after: Option<SimTime>,
    pub before: Option<SimTime>,
}

impl Window {
    pub fn contains(self, at: SimTime) -> bool {
        self.after.is_none_or(|a| at >= a) && self.before.is_none_or(|b| at <= b)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.after, self.before) {
            (None, None) => Ok(()),
            (Some(a), None) => write!(f, " at or after {a}"),
            (None, Some(b)) => write!(f, " at or before {b}"),
            (Some(a), Some(b)) => write!(f, " between {a} and {b}"),
        }
    }
}

/// How an attempt ended, as an expectation filters it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeFilter {
    /// A 2xx.
    Success,
    /// Anything but a 2xx, including a loss in a dispatcher crash.
    Failure,
    Status(u16),
    Timeout,
    Refused,
    Reset,
    /// In flight when the dispatcher crashed.
    Lost,
}

impl FromStr for OutcomeFilter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "success" => Self::Success,
            "failure" => Self::Failure,
            "timeout" => Self::Timeout,
            "refused" => Self::Refused,
            "reset" => Self::Reset,
            "lost" => Self::Lost,
            other => match other.parse::<u16>() {
                Ok(c) if (100..=599).contains(&c) => Self::Status(c),
                _ => {
                    return Err(format!(
                        "unknown outcome {other:?} (known: success, failure, timeout, refused, reset, lost, or a status such as \"500\")"
                    ));
                }
            },
        })
    }
}

impl OutcomeFilter {
    /// `None`: the attempt never finished (lost, or still in flight at the end).
    fn admits(self, outcome: Option<&AttemptEnd>) -> bool {
        match (self, outcome) {
            (Self::Lost, Some(AttemptEnd::Lost)) => true,
            (Self::Failure, Some(AttemptEnd::Lost)) => true,
            (_, Some(AttemptEnd::Lost)) | (_, None) => false,
            (Self::Success, Some(AttemptEnd::Finished(o))) => o.is_success(),
            (Self::Failure, Some(AttemptEnd::Finished(o))) => !o.is_success(),
            (Self::Status(c), Some(AttemptEnd::Finished(o))) => *o == Outcome::Status { code: c },
            (Self::Timeout, Some(AttemptEnd::Finished(o))) => *o == Outcome::Timeout,
            (Self::Refused, Some(AttemptEnd::Finished(o))) => *o == Outcome::Refused,
            (Self::Reset, Some(AttemptEnd::Finished(o))) => *o == Outcome::Reset,
            (Self::Lost, _) => false,
        }
    }
}

impl fmt::Display for OutcomeFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Success => f.write_str("a 2xx"),
            Self::Failure => f.write_str("a failure"),
            Self::Status(c) => write!(f, "status {c}"),
            Self::Timeout => f.write_str("a timeout"),
            Self::Refused => f.write_str("a refused connection"),
            Self::Reset => f.write_str("a reset connection"),
            Self::Lost => f.write_str("a dispatcher crash"),
        }
    }
}

/// One expectation the trace did not meet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub file: PathBuf,
    /// Where the `[[expect]]` entry is.
    pub line: usize,
    pub column: usize,
    pub expected: String,
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

#[derive(Clone, Debug)]
enum AttemptEnd {
    Finished(Outcome),
    Lost,
}

/// What evaluation needs to look up, gathered in one pass over the trace.
struct Index<'t> {
    /// Attempt id -> the body of its `AttemptStarted` (the envelope's `body`, parsed).
    bodies: BTreeMap<u64, Option<Value>>,
    ends: BTreeMap<u64, AttemptEnd>,
    /// Delivery -> its last successful attempt (whose body the receiver accepted).
    succeeded_by: BTreeMap<Uuid, u64>,
    entries: &'t [TraceEntry],
}

impl<'t> Index<'t> {
    fn new(trace: &'t Trace) -> Self {
        let mut ix = Index {
            bodies: BTreeMap::new(),
            ends: BTreeMap::new(),
            succeeded_by: BTreeMap::new(),
            entries: trace.entries(),
        };
        for e in trace.entries() {
            match &e.event {
                TraceEvent::AttemptStarted { attempt, body, .. } => {
                    let parsed = serde_json::from_str::<Value>(body).ok().and_then(|v| v.get("body").cloned());
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

    fn body_matches(&self, attempt: Option<u64>, expected: &Option<Value>) -> bool {
        match expected {
            None => true,
            Some(exp) => {
                attempt.and_then(|a| self.bodies.get(&a)).and_then(Option::as_ref).is_some_and(|b| contains(b, exp))
            }
        }
    }
}

/// Checks every expectation of `scenario` against `trace`; an empty list means all held.
pub fn evaluate(scenario: &Scenario, trace: &Trace) -> Vec<Failure> {
    let ix = Index::new(trace);
    let names = scenario.names();
    scenario
        .expectations
        .iter()
        .filter_map(|x| {
            check(&x.value, &ix, &names).map(|(expected, found, mut lines)| {
                if lines.is_empty() {
                    lines = receiver_fallback(scenario, &x.value, &ix);
                }
                Failure {
                    file: scenario.file.clone(),
                    line: x.line,
                    column: x.column,
                    expected,
                    found,
                    excerpt: excerpt(lines.into_iter().map(|i| render_entry(&ix.entries[i], &names)).collect(), 8, 6),
                }
            })
        })
        .collect()
}

/// A receiver that never acted (or skipped) has no lines of its own: show what reached it
/// instead, the attempts of the webhooks whose URLs name it.
fn receiver_fallback(scenario: &Scenario, x: &Expectation, ix: &Index<'_>) -> Vec<usize> {
    let (Expectation::Acted { receiver, event, .. } | Expectation::Skipped { receiver, event, .. }) = x else {
        return Vec::new();
    };
    let webhooks: Vec<WebhookId> = scenario
        .world
        .webhooks
        .iter()
        .enumerate()
        .filter(|(_, w)| crate::world::url_host(&w.url) == Some(receiver.as_str()))
        .filter_map(|(i, _)| u32::try_from(i).ok().map(WebhookId))
        .collect();
    select(ix, |e| {
        webhooks.iter().any(|w| about_webhook(&e.event, *w, *event))
            && matches!(e.event, TraceEvent::AttemptFinished { .. } | TraceEvent::Delivered { .. })
    })
}

fn of_event(names: &Names<'_>, event: Option<u64>) -> String {
    event.map_or(String::new(), |e| format!(" of {}", names.event(e)))
}

fn with_body(body: &Option<Value>) -> String {
    body.as_ref().map_or(String::new(), |b| format!(" with a body containing {}", describe(b)))
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Entries of the trace that concern `webhook` (and `event`, when given).
fn about_webhook(e: &TraceEvent, webhook: WebhookId, event: Option<u64>) -> bool {
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

fn is_health(e: &TraceEvent, webhook: WebhookId) -> bool {
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
fn select_in(ix: &Index<'_>, window: &Window, keep: impl Fn(&TraceEntry) -> bool) -> Vec<usize> {
    let all = select(ix, keep);
    let inside: Vec<usize> = all.iter().copied().filter(|i| window.contains(ix.entries[*i].at)).collect();
    if inside.is_empty() { all } else { inside }
}

/// How many entries inside `window` satisfy `keep`.
fn count_in(ix: &Index<'_>, window: &Window, keep: impl Fn(&TraceEntry) -> bool) -> u64 {
    ix.entries.iter().filter(|e| window.contains(e.at) && keep(e)).count() as u64
}

fn select(ix: &Index<'_>, keep: impl Fn(&TraceEntry) -> bool) -> Vec<usize> {
    ix.entries.iter().enumerate().filter(|(_, e)| keep(e)).map(|(i, _)| i).collect()
}

/// `None` when the expectation holds; otherwise (expected, found, indices of relevant entries).
fn check(x: &Expectation, ix: &Index<'_>, names: &Names<'_>) -> Option<(String, String, Vec<usize>)> {
    match x {
        Expectation::Delivered { webhook, event, body, count, window } => {
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
                    names.webhook(*webhook),
                    of_event(names, *event),
                    with_body(body)
                ),
                found,
                lines,
            ))
        }
        Expectation::Attempts { webhook, event, body, outcome, count, window } => {
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
                    names.webhook(*webhook),
                    of_event(names, *event),
                    with_body(body),
                    outcome.map_or(String::new(), |o| format!(" ending in {o}"))
                ),
                plural(n, "such attempt", "such attempts"),
                lines,
            ))
        }
        Expectation::Warned { webhook, to, count, window } => {
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
                    names.webhook(*webhook),
                    to.as_ref().map_or(String::new(), |t| format!(" to {t}"))
                ),
                plural(n, "such warning", "such warnings"),
                select(ix, |e| is_health(&e.event, *webhook)),
            ))
        }
        Expectation::Emailed { webhook, to, count, window } => {
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
                    names.webhook(*webhook),
                    to.as_ref().map_or(String::new(), |t| format!(" for {t}"))
                ),
                plural(n, "such email", "such emails"),
                select(ix, |e| {
                    is_health(&e.event, *webhook)
                        || matches!(&e.event, TraceEvent::EmailReceived { webhook: w, .. } if w == webhook)
                }),
            ))
        }
        Expectation::Disabled { webhook, count, window } => {
            let n = count_in(
                ix,
                window,
                |e| matches!(&e.event, TraceEvent::WebhookDisabled { webhook: w, .. } if w == webhook),
            );
            if count.admits(n) {
                return None;
            }
            Some((
                format!("{count} {} of {}{window}", count.noun("disable", "disables"), names.webhook(*webhook)),
                plural(n, "such disable", "such disables"),
                select(ix, |e| is_health(&e.event, *webhook)),
            ))
        }
        Expectation::NoAttemptAfterDisable { webhook } => {
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
                format!("no attempt to {} while it is disabled", names.webhook(*webhook)),
                plural(bad.len() as u64 - 1, "attempt after the disable", "attempts after the disable"),
                bad,
            ))
        }
        Expectation::Abandoned { webhook, event, count, window } => {
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
                    names.webhook(*webhook),
                    of_event(names, *event)
                ),
                plural(n, "such abandon", "such abandons"),
                select(ix, |e| {
                    about_webhook(&e.event, *webhook, *event)
                        && matches!(e.event, TraceEvent::DeliveryAbandoned { .. } | TraceEvent::Delivered { .. })
                }),
            ))
        }
        Expectation::Acted { receiver, event, action, count, window } => {
            let n = count_in(ix, window, |e| {
                matches!(&e.event, TraceEvent::ReceiverActed { receiver: r, event: ev, action: a, .. }
                        if r == receiver
                            && event.is_none_or(|x| x == *ev)
                            && action.as_ref().is_none_or(|x| x == a))
            });
            if count.admits(n) {
                return None;
            }
            Some((
                format!(
                    "receiver {receiver} to act {count} {}{}{}{window}",
                    count.noun("time", "times"),
                    of_event(names, *event).replacen(" of ", " on ", 1),
                    action.as_ref().map_or(String::new(), |a| format!(" with {a:?}"))
                ),
                format!("it acted {}", plural(n, "such time", "such times")),
                select(ix, |e| receiver_line(&e.event, receiver, *event)),
            ))
        }
        Expectation::Skipped { receiver, event, count, window } => {
            let n = count_in(ix, window, |e| {
                matches!(&e.event, TraceEvent::ReceiverSkipped { receiver: r, event: ev, .. }
                        if r == receiver && event.is_none_or(|x| x == *ev))
            });
            if count.admits(n) {
                return None;
            }
            Some((
                format!(
                    "receiver {receiver} to skip {count} {}{}{window}",
                    count.noun("delivery", "deliveries"),
                    of_event(names, *event)
                ),
                format!("it skipped {}", plural(n, "such delivery", "such deliveries")),
                select(ix, |e| receiver_line(&e.event, receiver, *event)),
            ))
        }
        Expectation::DeliveredInOrder { webhook, events } => {
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
            let order: Vec<String> = events.iter().map(|e| names.event(*e)).collect();
            let mut seen: Vec<(usize, u64)> =
                events.iter().zip(&first).filter_map(|(e, i)| i.map(|i| (i, *e))).collect();
            seen.sort();
            let missing: Vec<String> =
                events.iter().zip(&first).filter(|(_, i)| i.is_none()).map(|(e, _)| names.event(*e)).collect();
            let mut found =
                format!("the order {}", seen.iter().map(|(_, e)| names.event(*e)).collect::<Vec<_>>().join(", then "));
            if !missing.is_empty() {
                found.push_str(&format!(", and no delivery of {}", missing.join(", ")));
            }
            Some((
                format!("first deliveries to {} in the order {}", names.webhook(*webhook), order.join(", then ")),
                found,
                select(ix, |e| {
                    matches!(&e.event, TraceEvent::Delivered { webhook: w, event: x, .. }
                        if w == webhook && events.contains(x))
                }),
            ))
        }
    }
}

fn receiver_line(e: &TraceEvent, receiver: &str, event: Option<u64>) -> bool {
    match e {
        TraceEvent::ReceiverActed { receiver: r, event: ev, .. }
        | TraceEvent::ReceiverSkipped { receiver: r, event: ev, .. } => r == receiver && event.is_none_or(|x| x == *ev),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EntityKind, EntityRef, EventPath};
    use crate::scenario::load_str;

    const HEAD: &str = r#"
name = "t"
description = "hand-built traces"
run_for = "10d"
[webhooks.shop]
url = "http://shop/webhook"
[receivers.shop]
[[timeline]]
at = "0s"
add_client = { id = 1 }
[[timeline]]
at = "0s"
add_invoice = { id = 4, client = 1 }
name = "inv"
"#;

    fn scenario(expect: &str) -> Scenario {
        load_str("t.toml", &format!("{HEAD}\n[[expect]]\n{expect}\n")).unwrap_or_else(|e| panic!("{e}"))
    }

    const W: WebhookId = WebhookId(0);

    fn at(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    fn uuid(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn attempt(t: &mut Trace, ms: u64, attempt: u64, delivery: u128, event: u64, state: &str, outcome: Outcome) {
        let body = format!(
            r#"{{"uuid":"{}","body":{{"id":{event},"path":"/invoice/add","details":"","invoice":{{"id":4,"state":"{state}"}}}}}}"#,
            uuid(delivery)
        );
        t.push(
            at(ms),
            TraceEvent::AttemptStarted {
                attempt,
                delivery: uuid(delivery),
                webhook: W,
                event,
                number: 1,
                body: body.into(),
            },
        );
        t.push(
            at(ms + 1),
            TraceEvent::AttemptFinished { attempt, delivery: uuid(delivery), webhook: W, event, outcome },
        );
        if outcome.is_success() {
            t.push(at(ms + 1), TraceEvent::Delivered { delivery: uuid(delivery), webhook: W, event, attempts: 1 });
        }
    }

    fn trace() -> Trace {
        let mut t = Trace::default();
        t.push(
            at(0),
            TraceEvent::EventRecorded {
                event: 2,
                path: EventPath::InvoiceAdd,
                details: "unpaid",
                entity: EntityRef { kind: EntityKind::Invoice, id: 4 },
            },
        );
        attempt(&mut t, 10, 1, 1, 2, "unpaid", Outcome::Status { code: 500 });
        attempt(&mut t, 100, 2, 1, 2, "cancelled", Outcome::Status { code: 200 });
        t.push(at(200), TraceEvent::WebhookDisabled { webhook: W, failing_since: at(10) });
        attempt(&mut t, 300, 3, 2, 1, "x", Outcome::Timeout);
        t.push(at(400), TraceEvent::WebhookEnabled { webhook: W });
        attempt(&mut t, 500, 4, 3, 1, "x", Outcome::Status { code: 200 });
        t
    }

    fn failures(expect: &str) -> Vec<Failure> {
        evaluate(&scenario(expect), &trace())
    }

    #[test]
    fn counts_and_bodies_of_deliveries() {
        assert!(failures("delivered = \"shop\"\nexactly = 2").is_empty());
        assert!(failures("delivered = \"shop\"\nevent = \"inv\"\nbody.invoice.state = \"cancelled\"").is_empty());
        let f = failures("delivered = \"shop\"\nevent = \"inv\"\nbody.invoice.state = \"unpaid\"");
        assert_eq!(f.len(), 1);
        assert!(f[0].found.contains("invoice.state = \"cancelled\""), "{}", f[0]);
        assert!(f[0].expected.contains("event 2 \"inv\""), "{}", f[0]);
        assert!(!f[0].excerpt.is_empty());
        assert!(failures("never_delivered = \"shop\"\nevent = 1\nbefore = \"100ms\"").is_empty());
        assert_eq!(failures("never_delivered = \"shop\"").len(), 1);
    }

    #[test]
    fn attempts_filter_by_outcome_body_and_window() {
        assert!(failures("attempts = \"shop\"\nexactly = 4").is_empty());
        assert!(failures("attempts = \"shop\"\noutcome = \"failure\"\nexactly = 2").is_empty());
        assert!(failures("attempts = \"shop\"\noutcome = \"500\"\nexactly = 1").is_empty());
        assert!(failures("attempts = \"shop\"\noutcome = \"timeout\"\nexactly = 1").is_empty());
        assert!(failures("attempts = \"shop\"\nbody.invoice.state = \"x\"\nexactly = 2").is_empty());
        assert!(failures("attempts = \"shop\"\nafter = \"50ms\"\nbefore = \"300ms\"\nexactly = 2").is_empty());
        assert_eq!(failures("attempts = \"shop\"\nat_most = 3").len(), 1);
    }

    #[test]
    fn an_attempt_while_disabled_is_caught_with_the_disable_in_the_excerpt() {
        let f = failures("no_attempt_after_disable = \"shop\"");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].found, "1 attempt after the disable");
        assert!(f[0].excerpt[0].contains("shop disabled"), "{:?}", f[0].excerpt);
        assert!(f[0].excerpt[1].contains("attempt 3 to shop"), "{:?}", f[0].excerpt);
        assert!(failures("disabled = \"shop\"\nafter = \"100ms\"\nbefore = \"200ms\"").is_empty());
        assert_eq!(failures("not_disabled = \"shop\"").len(), 1);
        assert!(failures("not_warned = \"shop\"").is_empty());
    }

    #[test]
    fn order_of_first_deliveries() {
        assert!(failures("delivered_in_order = [\"inv\", 1]\nwebhook = \"shop\"").is_empty());
        let f = failures("delivered_in_order = [1, \"inv\"]\nwebhook = \"shop\"");
        assert_eq!(f.len(), 1);
        assert!(f[0].found.contains("event 2 \"inv\", then event 1"), "{}", f[0]);
    }

    #[test]
    fn failures_display_position_expectation_and_excerpt() {
        let f = failures("delivered = \"shop\"\nexactly = 5");
        let text = f[0].to_string();
        assert!(text.starts_with("t.toml:16:1: expected exactly 5 successful deliveries to shop\n"), "{text}");
        assert!(text.contains("but the trace shows 2 such deliveries"), "{text}");
        assert!(text.contains("0d 00:00:00.101  delivery 00000000 of event 2 \"inv\" delivered to shop"), "{text}");
    }

    #[test]
    fn a_receiver_that_never_acted_shows_what_reached_it() {
        let f = failures("acted = \"shop\"\nevent = 1");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].found, "it acted 0 such times");
        assert!(f[0].excerpt.iter().any(|l| l.contains("attempt 3 to shop: timeout")), "{:?}", f[0].excerpt);
    }

    #[test]
    fn counts_read_as_words() {
        assert_eq!(Count::NONE.to_string(), "no");
        assert_eq!(Count { min: 2, max: Some(2) }.to_string(), "exactly 2");
        assert_eq!(Count { min: 1, max: None }.to_string(), "at least 1");
        assert_eq!(Count { min: 0, max: Some(3) }.to_string(), "at most 3");
        assert_eq!(Count { min: 1, max: Some(3) }.to_string(), "between 1 and 3");
    }
}
