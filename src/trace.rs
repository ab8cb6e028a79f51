//! The one observable trace: every decision, by the core and by the shells, as a value of a closed
//! enum with its virtual time. The trace is the log, the snapshot, the input to expectations.

use crate::domain::{EntityRef, EventPath, WebhookId};
use crate::time::SimTime;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::sync::Arc;
use uuid::Uuid;

/// How one attempt ended, as the dispatcher saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The receiver answered with this HTTP status.
    Status { code: u16 },
    /// No answer within the attempt timeout.
    Timeout,
    /// The connection could not be made.
    Refused,
    /// The connection broke before a whole answer came back.
    Reset,
}

impl Outcome {
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Status { code } if (200..300).contains(&code))
    }
}

/// Why an event did not become a delivery for a webhook that subscribes to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusedReason {
    WebhookDisabled,
    /// `pending_per_webhook_max` reached.
    QueueFull,
}

/// Why a delivery stopped being retried without a 2xx.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AbandonReason {
    AttemptsExhausted,
    RetryWindowExpired,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TraceEvent {
    // ---- dispatcher core ----
    EventRecorded {
        event: u64,
        path: EventPath,
        details: &'static str,
        entity: EntityRef,
    },
    DeliveryQueued {
        delivery: Uuid,
        webhook: WebhookId,
        event: u64,
    },
    DeliveryRefused {
        webhook: WebhookId,
        event: u64,
        reason: RefusedReason,
    },
    AttemptStarted {
        attempt: u64,
        delivery: Uuid,
        webhook: WebhookId,
        event: u64,
        number: u32,
        body: Arc<str>,
    },
    AttemptFinished {
        attempt: u64,
        delivery: Uuid,
        webhook: WebhookId,
        event: u64,
        outcome: Outcome,
    },
    /// An answer for an attempt that had already timed out, or was lost in a restart.
    LateAnswerIgnored {
        attempt: u64,
        outcome: Outcome,
    },
    /// The dispatcher restarted while this attempt was in flight: its fate is unknown, so the
    /// delivery is attempted again (a real duplicate, with the same uuid).
    AttemptLost {
        attempt: u64,
        delivery: Uuid,
        webhook: WebhookId,
    },
    RetryScheduled {
        delivery: Uuid,
        webhook: WebhookId,
        at: SimTime,
        failures: u32,
    },
    Delivered {
        delivery: Uuid,
        webhook: WebhookId,
        event: u64,
        attempts: u32,
    },
    DeliveryAbandoned {
        delivery: Uuid,
        webhook: WebhookId,
        event: u64,
        attempts: u32,
        reason: AbandonReason,
    },
    WarningSent {
        webhook: WebhookId,
        to: String,
        failing_since: SimTime,
    },
    WebhookDisabled {
        webhook: WebhookId,
        failing_since: SimTime,
    },
    /// A success ended a failing streak that had been warned about.
    WebhookRecovered {
        webhook: WebhookId,
    },
    WebhookEnabled {
        webhook: WebhookId,
    },
    DispatcherRestarted,
    // ---- shells: world, network, receivers, mail ----
    /// A scripted fault or behaviour change took effect.
    WorldChanged {
        what: String,
    },
    /// A receiver ran its side effect for a delivery.
    ReceiverActed {
        receiver: String,
        delivery: Uuid,
        event: u64,
        action: String,
    },
    /// A receiver saw a delivery and chose not to act (a duplicate, a stale payload, a path it ignores).
    ReceiverSkipped {
        receiver: String,
        delivery: Uuid,
        event: u64,
        why: String,
    },
    /// The mail host received a warning email.
    EmailReceived {
        to: String,
        webhook: WebhookId,
    },
    /// The network engine could not hand a warning email to the mail host (partition, crash):
    /// it tries again at `retry_at`.
    EmailDeferred {
        webhook: WebhookId,
        outcome: Outcome,
        retry_at: SimTime,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    pub at: SimTime,
    #[serde(flatten)]
    pub event: TraceEvent,
}

/// An append-only list of entries in the order they happened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    entries: Vec<TraceEntry>,
}

impl Trace {
    pub fn push(&mut self, at: SimTime, event: TraceEvent) {
        debug_assert!(self.entries.last().is_none_or(|e| e.at <= at), "the trace never goes back in time");
        self.entries.push(TraceEntry { at, event });
    }

    pub fn extend(&mut self, entries: impl IntoIterator<Item = TraceEntry>) {
        for e in entries {
            self.push(e.at, e.event);
        }
    }

    /// Moves all of `entries` to the end of the trace.
    pub fn append(&mut self, entries: &mut Vec<TraceEntry>) {
        debug_assert!(
            entries.windows(2).all(|w| w[0].at <= w[1].at) && entries.first().is_none_or(|e| self.last_at() <= e.at),
            "the trace never goes back in time"
        );
        self.entries.append(entries);
    }

    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn last_at(&self) -> SimTime {
        self.entries.last().map_or(SimTime::ZERO, |e| e.at)
    }

    /// One JSON object per line: the trace's canonical, hashable form.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::with_capacity(self.entries.len() * 128);
        for e in &self.entries {
            out.push_str(&serde_json::to_string(e).expect("trace entries always serialize"));
            out.push('\n');
        }
        out
    }

    /// Hex SHA-256 of [`Trace::to_json_lines`]: equal hashes mean byte-identical traces.
    pub fn sha256(&self) -> String {
        let digest = Sha256::digest(self.to_json_lines().as_bytes());
        let mut hex = String::with_capacity(64);
        for b in digest {
            let _ = write!(hex, "{b:02x}");
        }
        hex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_time_and_type_and_hash_stably() {
        let mut t = Trace::default();
        t.push(SimTime::from_millis(5), TraceEvent::DispatcherRestarted);
        t.push(SimTime::from_millis(9), TraceEvent::WebhookEnabled { webhook: WebhookId(2) });
        assert_eq!(
            t.to_json_lines(),
            "{\"at\":5,\"type\":\"dispatcher_restarted\"}\n{\"at\":9,\"type\":\"webhook_enabled\",\"webhook\":2}\n"
        );
        assert_eq!(t.sha256(), t.clone().sha256());
        assert_eq!(t.sha256().len(), 64);
    }

    #[test]
    fn only_2xx_is_success() {
        assert!(Outcome::Status { code: 204 }.is_success());
        assert!(!Outcome::Status { code: 302 }.is_success());
        assert!(!Outcome::Timeout.is_success());
    }
}
