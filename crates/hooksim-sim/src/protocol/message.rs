//! Every message of the dispatcher protocol, version [`super::VERSION`]: one JSON object per line,
//! `type` names it. [`ToDispatcher`] is what the harness writes to the process's stdin,
//! [`FromDispatcher`] what the process writes to its stdout. `docs/protocol.md` shows each with an
//! example; `docs/protocol.schema.json` is the same set as a JSON Schema.
//!
//! The trace's own types ([`hooksim_core::trace::Outcome`], ...) only serialize; the protocol has to read
//! them back too, so it keeps wire twins here with conversions both ways.

use hooksim_core::domain::{Change, Client, EntityKind, EventPath, Invoice, WebhookConfig, WebhookId};
use hooksim_core::policy::PolicySpec;
use hooksim_core::time::SimTime;
use hooksim_core::trace::DisableReason;
use hooksim_core::trace::{AbandonReason, Outcome, RefusedReason};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use uuid::Uuid;

/// A line the harness writes. Every input but `hello` carries the virtual `now` (milliseconds
/// since the world began); the process answers each with zero or more [`FromDispatcher`] outputs
/// and then exactly one [`FromDispatcher::Done`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToDispatcher {
    /// First line of every process: the version, the configuration, where to keep state.
    /// Answered by [`FromDispatcher::Hello`] (no `done`).
    Hello {
        /// The protocol version the harness speaks ([`super::VERSION`]).
        version: u32,
        /// Seed for any randomness (delivery uuids, jitter): same seed, same run.
        seed: u64,
        /// The retry policy to follow, field by field (`docs/protocol.md`'s table).
        policy: PolicySpec,
        /// Webhook `i` of every other message is `webhooks[i]`.
        webhooks: Vec<WebhookConfig>,
        /// A directory the process may keep across its restarts (also in `HOOKSIM_STATE_DIR`).
        state_dir: PathBuf,
        /// True when this process replaces one that crashed: carry on from `state_dir`.
        resumed: bool,
    },
    /// A user changed an entity: one event, and the entity as it is now.
    Change {
        /// The virtual now, milliseconds since the world began.
        now: SimTime,
        /// The event the change records.
        event: EventMsg,
        /// The entity the event is about, as it is after the change. Every change of an entity
        /// comes with one, so a process that keeps the latest copy renders payloads at send time.
        entity: EntityMsg,
        /// The same change as the reference core takes it (a process may ignore it).
        change: Change,
    },
    /// How attempt `attempt` ended, as the network saw it. `retry_after_ms`: the answer (a 429 or
    /// 503) asked the sender to wait this long (`Retry-After`); the profile decides how much of it
    /// to honour. Absent when the answer asked nothing.
    Answer {
        /// The virtual now, milliseconds since the world began.
        now: SimTime,
        /// The attempt answered, as in its `send`.
        attempt: u64,
        /// How it ended: a status, `timeout`, `refused` or `reset`.
        outcome: OutcomeMsg,
        /// The wait the answer asked for, in milliseconds, if it asked one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// Re-enable a disabled webhook: its parked deliveries resume.
    Enable {
        /// The virtual now, milliseconds since the world began.
        now: SimTime,
        /// The webhook to enable (its index in `webhooks`).
        webhook: WebhookId,
    },
    /// The dispatcher host died: attempts in flight are lost, nothing is sent until `restart`.
    /// Changes still arrive (the database takes them).
    Crash {
        /// The virtual now, milliseconds since the world began.
        now: SimTime,
    },
    /// The host is back: the harness has started a new process on the same `state_dir`.
    Restart {
        /// The virtual now, milliseconds since the world began.
        now: SimTime,
    },
    /// The `wake_at` the process asked for has come.
    Wake {
        /// The virtual now, milliseconds since the world began.
        now: SimTime,
    },
}

/// The event a change records: ids count from 1 in the order of changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventMsg {
    /// The event's id, from 1.
    pub id: u64,
    /// The event's path, e.g. `/invoice/update/state`.
    pub path: EventPath,
    /// The invoice's state for an invoice event (e.g. `paid`), empty for a client event.
    pub details: String,
    /// Which kind of entity it is about: `client` or `invoice`.
    pub kind: EntityKind,
    /// That entity's id.
    pub entity_id: u64,
}

/// An entity as it is now, serialized as it appears in the SnapBill envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EntityMsg {
    /// An invoice (`kind` `invoice`).
    Invoice(Invoice),
    /// A client (`kind` `client`).
    Client(Client),
}

/// A line the process writes: `hello` once, then for each input its outputs (`send`, `email`
/// and facts) and one `done`.
///
/// Facts are decisions the harness cannot see in sends and emails; each is recorded in the trace
/// as the entry of the same name, after the harness checked it against what it knows. They are
/// optional in the protocol, but expectations read them (`delivered`, `webhook_disabled`, ...):
/// a dispatcher that wants to be graded reports them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FromDispatcher {
    /// The answer to `hello`: the version the process speaks.
    Hello {
        /// The protocol version the process speaks: must be the harness's.
        version: u32,
        /// Free text for reports (`my-dispatcher 1.2`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// POST `body` to `url` (webhook `webhook`'s URL); the harness answers with `answer`.
    Send {
        /// A new attempt id, unique in the run; `answer` names it.
        attempt: u64,
        /// The delivery's uuid, the same on every attempt of it.
        delivery: Uuid,
        /// The webhook posted to (its index in `webhooks`).
        webhook: WebhookId,
        /// The event delivered.
        event: u64,
        /// The webhook's URL.
        url: String,
        /// The exact bytes to POST: a JSON text (the SnapBill envelope), as a string.
        body: String,
        /// How long the dispatcher waits for the answer, in milliseconds (the policy's
        /// `attempt_timeout_ms`).
        timeout_ms: u64,
    },
    /// Send the warning email about `webhook` to its owner.
    Email {
        /// The owner's address (the webhook's `owner_email`).
        to: String,
        /// The failing webhook.
        webhook: WebhookId,
        /// Its URL.
        url: String,
        /// When the failing streak began, virtual milliseconds.
        failing_since: SimTime,
    },
    /// The end of the outputs of one input; `wake_at`: when to be woken next (`null`: never).
    Done {
        /// When to be sent `wake`, virtual milliseconds; must be written, `null` for never.
        #[serde(deserialize_with = "required")]
        wake_at: Option<SimTime>,
    },
    // ---- facts ----
    /// Fact: a `change` made a delivery for a subscribed webhook (`delivery_queued`).
    DeliveryQueued {
        /// The new delivery's uuid.
        delivery: Uuid,
        /// The webhook it is for.
        webhook: WebhookId,
        /// The event it delivers.
        event: u64,
    },
    /// Fact: a subscribed webhook took no delivery (`delivery_refused`).
    DeliveryRefused {
        /// The webhook that subscribes.
        webhook: WebhookId,
        /// The event refused.
        event: u64,
        /// `webhook_disabled` or `queue_full`.
        reason: RefusedMsg,
    },
    /// Fact: an attempt ended, with its answer or its timeout (`attempt_finished`).
    AttemptFinished {
        /// The attempt, as in its `send`.
        attempt: u64,
        /// Its delivery.
        delivery: Uuid,
        /// Its webhook.
        webhook: WebhookId,
        /// Its event.
        event: u64,
        /// The answer's outcome, or `timeout` at or after its deadline.
        outcome: OutcomeMsg,
    },
    /// Fact: an answer came for an attempt already finished (`late_answer_ignored`).
    LateAnswerIgnored {
        /// The attempt, as in its `send`.
        attempt: u64,
        /// The late answer's outcome.
        outcome: OutcomeMsg,
    },
    /// Fact: a `crash` lost this attempt in flight (`attempt_lost`).
    AttemptLost {
        /// The attempt, as in its `send`.
        attempt: u64,
        /// Its delivery, to be attempted again.
        delivery: Uuid,
        /// Its webhook.
        webhook: WebhookId,
    },
    /// Fact: a failed delivery will be tried again at `at` (`retry_scheduled`).
    RetryScheduled {
        /// The delivery to retry.
        delivery: Uuid,
        /// Its webhook.
        webhook: WebhookId,
        /// When, virtual milliseconds; not in the past.
        at: SimTime,
        /// Its failed attempts so far, this one included (lost ones are not failures).
        failures: u32,
    },
    /// Fact: a 2xx ended a delivery (`delivered`).
    Delivered {
        /// The delivery done.
        delivery: Uuid,
        /// Its webhook.
        webhook: WebhookId,
        /// Its event.
        event: u64,
        /// The number of sends it took.
        attempts: u32,
    },
    /// Fact: a policy limit ended a delivery without a 2xx (`delivery_abandoned`).
    DeliveryAbandoned {
        /// The delivery given up.
        delivery: Uuid,
        /// Its webhook.
        webhook: WebhookId,
        /// Its event.
        event: u64,
        /// The number of sends made.
        attempts: u32,
        /// `attempts_exhausted` or `retry_window_expired`.
        reason: AbandonMsg,
    },
    /// Fact: the webhook is disabled (`webhook_disabled`).
    WebhookDisabled {
        /// The webhook disabled.
        webhook: WebhookId,
        /// When its failing streak began; not in the future.
        failing_since: SimTime,
        /// `failing_streak` (the default when absent) or `gone` (a 410 under a profile that
        /// unsubscribes on it).
        #[serde(default)]
        reason: DisableReason,
    },
    /// Fact: a 2xx ended a streak that had been warned about (`webhook_recovered`).
    WebhookRecovered {
        /// The webhook that recovered.
        webhook: WebhookId,
    },
    /// Fact: an `enable` re-enabled a disabled webhook (`webhook_enabled`).
    WebhookEnabled {
        /// The webhook enabled.
        webhook: WebhookId,
    },
    /// Fact: the process came back after a `restart` (`dispatcher_restarted`).
    DispatcherRestarted,
}

/// [`Outcome`] on the wire: `{"kind": "status", "code": 503}`, `{"kind": "timeout"}`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutcomeMsg {
    /// The receiver answered: `{"kind": "status", "code": 503}`.
    Status {
        /// The HTTP status.
        code: u16,
    },
    /// No answer by the attempt's deadline.
    Timeout,
    /// The connection could not be made.
    Refused,
    /// The connection broke before a whole answer.
    Reset,
}

/// [`RefusedReason`] on the wire: `"webhook_disabled"` or `"queue_full"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusedMsg {
    /// The webhook is disabled.
    WebhookDisabled,
    /// `pending_per_webhook_max` deliveries are waiting already.
    QueueFull,
}

/// [`AbandonReason`] on the wire: `"attempts_exhausted"` or `"retry_window_expired"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbandonMsg {
    /// The policy's `attempts_max` sends all failed.
    AttemptsExhausted,
    /// The policy's `retry_window_ms` passed.
    RetryWindowExpired,
}

impl From<Outcome> for OutcomeMsg {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Status { code } => OutcomeMsg::Status { code },
            Outcome::Timeout => OutcomeMsg::Timeout,
            Outcome::Refused => OutcomeMsg::Refused,
            Outcome::Reset => OutcomeMsg::Reset,
        }
    }
}

impl From<OutcomeMsg> for Outcome {
    fn from(o: OutcomeMsg) -> Self {
        match o {
            OutcomeMsg::Status { code } => Outcome::Status { code },
            OutcomeMsg::Timeout => Outcome::Timeout,
            OutcomeMsg::Refused => Outcome::Refused,
            OutcomeMsg::Reset => Outcome::Reset,
        }
    }
}

impl From<RefusedReason> for RefusedMsg {
    fn from(r: RefusedReason) -> Self {
        match r {
            RefusedReason::WebhookDisabled => RefusedMsg::WebhookDisabled,
            RefusedReason::QueueFull => RefusedMsg::QueueFull,
        }
    }
}

impl From<RefusedMsg> for RefusedReason {
    fn from(r: RefusedMsg) -> Self {
        match r {
            RefusedMsg::WebhookDisabled => RefusedReason::WebhookDisabled,
            RefusedMsg::QueueFull => RefusedReason::QueueFull,
        }
    }
}

impl From<AbandonReason> for AbandonMsg {
    fn from(r: AbandonReason) -> Self {
        match r {
            AbandonReason::AttemptsExhausted => AbandonMsg::AttemptsExhausted,
            AbandonReason::RetryWindowExpired => AbandonMsg::RetryWindowExpired,
        }
    }
}

impl From<AbandonMsg> for AbandonReason {
    fn from(r: AbandonMsg) -> Self {
        match r {
            AbandonMsg::AttemptsExhausted => AbandonReason::AttemptsExhausted,
            AbandonMsg::RetryWindowExpired => AbandonReason::RetryWindowExpired,
        }
    }
}

/// An `Option` that must be written, if only as `null`: a forgotten `wake_at` is an error, not
/// a silent "never wake me".
fn required<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

impl ToDispatcher {
    /// The message's `type`, for errors (`change`, `wake`).
    pub fn name(&self) -> &'static str {
        match self {
            ToDispatcher::Hello { .. } => "hello",
            ToDispatcher::Change { .. } => "change",
            ToDispatcher::Answer { .. } => "answer",
            ToDispatcher::Enable { .. } => "enable",
            ToDispatcher::Crash { .. } => "crash",
            ToDispatcher::Restart { .. } => "restart",
            ToDispatcher::Wake { .. } => "wake",
        }
    }

    /// The virtual time of an input (`None` for `hello`).
    pub fn now(&self) -> Option<SimTime> {
        match self {
            ToDispatcher::Hello { .. } => None,
            ToDispatcher::Change { now, .. }
            | ToDispatcher::Answer { now, .. }
            | ToDispatcher::Enable { now, .. }
            | ToDispatcher::Crash { now }
            | ToDispatcher::Restart { now }
            | ToDispatcher::Wake { now } => Some(*now),
        }
    }

    /// One line of JSON, without the newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("protocol messages always serialize")
    }
}

impl FromDispatcher {
    /// One line of JSON, without the newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("protocol messages always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hooksim_core::domain::InvoiceState;

    #[test]
    fn lines_read_back_as_they_were_written() {
        let lines = [
            r#"{"type":"answer","now":5,"attempt":1,"outcome":{"kind":"status","code":500}}"#,
            r#"{"type":"wake","now":10005}"#,
            r#"{"type":"enable","now":9,"webhook":1}"#,
        ];
        for line in lines {
            let message: ToDispatcher = serde_json::from_str(line).unwrap();
            assert_eq!(message.to_line(), line);
        }
        let out = [
            r#"{"type":"done","wake_at":null}"#,
            r#"{"type":"dispatcher_restarted"}"#,
            r#"{"type":"retry_scheduled","delivery":"00000000-0000-0000-0000-000000000001","webhook":0,"at":10005,"failures":1}"#,
        ];
        for line in out {
            let message: FromDispatcher = serde_json::from_str(line).unwrap();
            assert_eq!(message.to_line(), line);
        }
    }

    #[test]
    fn a_change_carries_the_entity_as_the_envelope_shows_it() {
        let invoice =
            Invoice { id: 4, number: "INV-4".into(), client_id: 1, total_cents: 1250, state: InvoiceState::Paid };
        let message = ToDispatcher::Change {
            now: SimTime::from_millis(3),
            event: EventMsg {
                id: 2,
                path: EventPath::InvoiceUpdateState,
                details: "paid".into(),
                kind: EntityKind::Invoice,
                entity_id: 4,
            },
            entity: EntityMsg::Invoice(invoice),
            change: Change::SetInvoiceState { id: 4, state: InvoiceState::Paid },
        };
        let line = message.to_line();
        assert!(line.contains(r#""entity":{"id":4,"number":"INV-4","client_id":1,"total_cents":1250,"state":"paid"}"#));
        assert_eq!(serde_json::from_str::<ToDispatcher>(&line).unwrap(), message);
    }

    #[test]
    fn unknown_fields_and_types_are_refused() {
        assert!(serde_json::from_str::<FromDispatcher>(r#"{"type":"done","wake_at":null,"extra":1}"#).is_err());
        assert!(serde_json::from_str::<FromDispatcher>(r#"{"type":"delivery_exploded"}"#).is_err());
        assert!(serde_json::from_str::<FromDispatcher>(r#"{"type":"done"}"#).is_err(), "wake_at is required");
    }
}
