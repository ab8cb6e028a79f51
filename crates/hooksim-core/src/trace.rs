//! The one observable trace: every decision, by the core and by the shells, as a value of a closed
//! enum with its virtual time. The trace is the log, the snapshot, the input to expectations.
//!
//! ## The JSON-lines format, version 2
//! The first line is a header, `{"format":"hooksim-trace","version":2}`; then one object per
//! entry, in order: `at` (virtual milliseconds), `type` (the entry's kind, snake case) and the
//! kind's fields, each key once. [`Trace::from_json_lines`] reads it back, refusing another
//! format or version, and entries that go back in time. The version changes whenever a key or
//! kind changes meaning or goes away (version 2: `world_changed` carries a typed `change`, with
//! its `kind` and fields, where version 1 had display text in `what`).

use crate::domain::{EntityRef, EventPath, InvoiceState, WebhookId};
use crate::time::SimTime;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::sync::Arc;
use uuid::Uuid;

/// A scripted fault or behaviour change, as the trace records it: typed, so a reader (the
/// timeline, the properties) matches on it and never parses words. Hosts by name (`dispatcher`,
/// `mail`, or a receiver's). Its `Display` is the one wording people read (`crash shop`,
/// `partition dispatcher <-> shop`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorldChange {
    /// A receiver's scripted replies from now on; `behaviour` is for people (shown, never read).
    Behave {
        /// The receiver's name in the scenario.
        receiver: String,
        /// The new replies in words, e.g. `503, 503, then 200`.
        behaviour: String,
    },
    /// Messages from `from` to `to` dropped; both ways unless `one_way`.
    Partition {
        /// The host whose messages are dropped.
        from: String,
        /// The host they were going to.
        to: String,
        /// Only `from` -> `to` is cut; the answers back still pass.
        one_way: bool,
    },
    /// Every partition between the two hosts undone.
    Repair {
        /// One host of the pair.
        a: String,
        /// The other host.
        b: String,
    },
    /// Messages between the two hosts held until released.
    Hold {
        /// One host of the pair.
        a: String,
        /// The other host.
        b: String,
    },
    /// Messages between the two hosts flow again, the held ones first.
    Release {
        /// One host of the pair.
        a: String,
        /// The other host.
        b: String,
    },
    /// One-way latency of every message from now on, uniform in `[min_ms, max_ms]`.
    Latency {
        /// Shortest one-way latency, in milliseconds.
        min_ms: u64,
        /// Longest one-way latency, in milliseconds.
        max_ms: u64,
    },
    /// The host's process died.
    Crash {
        /// `dispatcher`, `mail` or a receiver's name.
        host: String,
    },
    /// The host's process came back (a dispatcher restarts from its durable state).
    Restart {
        /// `dispatcher`, `mail` or a receiver's name.
        host: String,
    },
    /// The next `count` attempts to `receiver` held `by_ms` at the sender.
    DelayAttempts {
        /// The receiver whose attempts are held.
        receiver: String,
        /// How many of its next attempts are held.
        count: u32,
        /// How long each is held, in milliseconds.
        by_ms: u64,
    },
}

impl WorldChange {
    /// The dispatcher's process died (`Crash`) or came back (`Restart`): `Some(true)` / `Some(false)`.
    pub fn dispatcher_down(&self, dispatcher_host: &str) -> Option<bool> {
        match self {
            WorldChange::Crash { host } if host == dispatcher_host => Some(true),
            WorldChange::Restart { host } if host == dispatcher_host => Some(false),
            _ => None,
        }
    }
}

impl std::fmt::Display for WorldChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorldChange::Behave { receiver, behaviour } => write!(f, "{receiver} behaves: {behaviour}"),
            WorldChange::Partition { from, to, one_way: false } => write!(f, "partition {from} <-> {to}"),
            WorldChange::Partition { from, to, one_way: true } => write!(f, "partition {from} -> {to}"),
            WorldChange::Repair { a, b } => write!(f, "repair {a} <-> {b}"),
            WorldChange::Hold { a, b } => write!(f, "hold {a} <-> {b}"),
            WorldChange::Release { a, b } => write!(f, "release {a} <-> {b}"),
            WorldChange::Latency { min_ms, max_ms } => write!(f, "latency {min_ms}..={max_ms} ms"),
            WorldChange::Crash { host } => write!(f, "crash {host}"),
            WorldChange::Restart { host } => write!(f, "restart {host}"),
            WorldChange::DelayAttempts { receiver, count, by_ms } => {
                write!(f, "delay the next {count} attempt(s) to {receiver} by {}", crate::time::format_ms(*by_ms))
            }
        }
    }
}

/// How one attempt ended, as the dispatcher saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The receiver answered with this HTTP status.
    Status {
        /// The status code, e.g. `503`.
        code: u16,
    },
    /// No answer within the attempt timeout.
    Timeout,
    /// The connection could not be made.
    Refused,
    /// The connection broke before a whole answer came back.
    Reset,
}

impl Outcome {
    /// A 2xx answer: the delivery is done.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Status { code } if (200..300).contains(&code))
    }
}

/// Why an event did not become a delivery for a webhook that subscribes to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RefusedReason {
    /// The webhook is disabled: events are not queued for it until it is enabled.
    WebhookDisabled,
    /// `pending_per_webhook_max` reached.
    QueueFull,
}

/// Why a webhook was disabled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisableReason {
    /// Failing past `disable_after`, a grace after the warning (the health rule).
    #[default]
    FailingStreak,
    /// The receiver answered `410 Gone` under a profile that unsubscribes on it.
    Gone,
}

/// Why a delivery stopped being retried without a 2xx.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AbandonReason {
    /// The policy's `attempts_max` attempts all failed.
    AttemptsExhausted,
    /// The policy's `retry_window_ms` passed since the first attempt.
    RetryWindowExpired,
}

/// Everything any engine records, one variant per entry `type` of the JSON-lines form (the
/// variant's name in snake case); its fields are the entry's keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TraceEvent {
    // ---- dispatcher core ----
    /// A change to the store recorded an event (`event_recorded`).
    EventRecorded {
        /// The event's id, counted from 1 in the order events are recorded.
        event: u64,
        /// What changed, e.g. `/invoice/update/state`: webhooks subscribe to paths.
        path: EventPath,
        /// One of a closed set of words (the invoice state, or empty): read back as the same
        /// static string, so that recording an event allocates nothing.
        #[serde(deserialize_with = "known_details")]
        details: Details,
        /// The client or invoice the event is about.
        entity: EntityRef,
    },
    /// The event matched a webhook's filter and became a delivery (`delivery_queued`).
    DeliveryQueued {
        /// The delivery's uuid, the same on every attempt (receivers deduplicate on it).
        delivery: Uuid,
        /// The webhook it is for.
        webhook: WebhookId,
        /// The event delivered.
        event: u64,
    },
    /// An event matched a webhook but no delivery was queued (`delivery_refused`).
    DeliveryRefused {
        /// The webhook that subscribes to it.
        webhook: WebhookId,
        /// The event refused.
        event: u64,
        /// Why: the webhook is disabled or its queue is full.
        reason: RefusedReason,
    },
    /// An attempt left the dispatcher with this body (`attempt_started`).
    AttemptStarted {
        /// The attempt's id, unique in the run, counted from 1.
        attempt: u64,
        /// The delivery attempted.
        delivery: Uuid,
        /// The webhook posted to.
        webhook: WebhookId,
        /// The event delivered.
        event: u64,
        /// Which attempt of the delivery this is, from 1.
        number: u32,
        /// The exact bytes posted, rendered from the store at this instant.
        body: Arc<str>,
    },
    /// An attempt ended, with an answer or without (`attempt_finished`).
    AttemptFinished {
        /// The attempt's id, as in its `attempt_started`.
        attempt: u64,
        /// The delivery attempted.
        delivery: Uuid,
        /// The webhook posted to.
        webhook: WebhookId,
        /// The event delivered.
        event: u64,
        /// How it ended: a status, a timeout, a refused connection or a reset.
        outcome: Outcome,
    },
    /// An answer for an attempt that had already timed out, or was lost in a restart.
    LateAnswerIgnored {
        /// The attempt's id, as in its `attempt_started`.
        attempt: u64,
        /// What came back too late.
        outcome: Outcome,
    },
    /// The dispatcher restarted while this attempt was in flight: its fate is unknown, so the
    /// delivery is attempted again (a real duplicate, with the same uuid).
    AttemptLost {
        /// The attempt's id, as in its `attempt_started`.
        attempt: u64,
        /// The delivery, attempted again.
        delivery: Uuid,
        /// The webhook posted to.
        webhook: WebhookId,
    },
    /// A delivery failed and will be attempted again at `due` (`retry_scheduled`).
    RetryScheduled {
        /// The delivery to retry.
        delivery: Uuid,
        /// The webhook it is for.
        webhook: WebhookId,
        /// When the next attempt is due (`due` in JSON: the entry's own `at` is when it was
        /// scheduled).
        #[serde(rename = "due")]
        at: SimTime,
        /// Failed attempts of this delivery so far.
        failures: u32,
    },
    /// A 2xx ended the delivery (`delivered`).
    Delivered {
        /// The delivery done.
        delivery: Uuid,
        /// The webhook it was for.
        webhook: WebhookId,
        /// The event delivered.
        event: u64,
        /// Attempts it took, the successful one included.
        attempts: u32,
    },
    /// The delivery stopped without a 2xx at a policy limit (`delivery_abandoned`).
    DeliveryAbandoned {
        /// The delivery given up.
        delivery: Uuid,
        /// The webhook it was for.
        webhook: WebhookId,
        /// The event not delivered.
        event: u64,
        /// Attempts made.
        attempts: u32,
        /// Which limit: `attempts_exhausted` or `retry_window_expired`.
        reason: AbandonReason,
    },
    /// The webhook's failing streak reached `warn_after`: a warning email went out
    /// (`warning_sent`).
    WarningSent {
        /// The failing webhook.
        webhook: WebhookId,
        /// The address the warning was sent to.
        to: String,
        /// When the failing streak began.
        failing_since: SimTime,
    },
    /// The webhook was disabled (`webhook_disabled`): its deliveries are parked until it is
    /// enabled.
    WebhookDisabled {
        /// The disabled webhook.
        webhook: WebhookId,
        /// When the failing streak began.
        failing_since: SimTime,
        /// Absent in traces written before it was recorded: those disables were all the streak's.
        #[serde(default)]
        reason: DisableReason,
    },
    /// A success ended a failing streak that had been warned about.
    WebhookRecovered {
        /// The webhook that recovered.
        webhook: WebhookId,
    },
    /// The timeline enabled the webhook again (`webhook_enabled`): its parked deliveries resume.
    WebhookEnabled {
        /// The webhook enabled.
        webhook: WebhookId,
    },
    /// The dispatcher came back from a crash with its durable state (`dispatcher_restarted`).
    DispatcherRestarted,
    // ---- shells: world, network, receivers, mail ----
    /// A scripted fault or behaviour change took effect.
    WorldChanged {
        /// What changed.
        change: WorldChange,
    },
    /// A receiver ran its side effect for a delivery.
    ReceiverActed {
        /// The receiver's name.
        receiver: String,
        /// The delivery acted on.
        delivery: Uuid,
        /// The event it carries.
        event: u64,
        /// The side effect, e.g. `fulfil invoice 4`.
        action: String,
    },
    /// A receiver saw a delivery and chose not to act (a duplicate, a stale payload, a path it ignores).
    ReceiverSkipped {
        /// The receiver's name.
        receiver: String,
        /// The delivery skipped.
        delivery: Uuid,
        /// The event it carries.
        event: u64,
        /// Why it was skipped, in words (for people; a skip's kind is the receiver's `SkipReason`).
        why: String,
    },
    /// A verifying receiver refused a request whose signature it could not accept (missing,
    /// forged, of another version, truncated, or outside its time tolerance): answered with a 4xx
    /// (the status is the attempt's outcome), never acted on. The ids are those the body names,
    /// recorded for the reader (the receiver does not trust an unverified body); `null` when the
    /// body names none.
    ReceiverRejected {
        /// The receiver's name.
        receiver: String,
        /// The delivery the body names, or `null`.
        delivery: Option<Uuid>,
        /// The event the body names, or `null`.
        event: Option<u64>,
        /// What was wrong with the signature, in words.
        why: String,
    },
    /// The mail host received a warning email.
    EmailReceived {
        /// The address the warning was sent to.
        to: String,
        /// The webhook warned about.
        webhook: WebhookId,
    },
    /// The network engine could not hand a warning email to the mail host (partition, crash):
    /// it tries again at `retry_at`.
    EmailDeferred {
        /// The webhook warned about.
        webhook: WebhookId,
        /// What the mail host's connection did instead of accepting.
        outcome: Outcome,
        /// When the email is tried again.
        retry_at: SimTime,
    },
}

/// One line of the trace: an event and the virtual instant it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEntry {
    /// When, in virtual milliseconds since the world began (`at`).
    pub at: SimTime,
    /// What happened; flattened, so `type` and the event's keys sit beside `at`.
    #[serde(flatten)]
    pub event: TraceEvent,
}

/// Feeds what is written to a hash, so that hashing a trace needs no copy of its text.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The `format` of the header line of a trace's JSON-lines form.
pub const TRACE_FORMAT: &str = "hooksim-trace";
/// The `version` of that header line: bumped whenever an entry's JSON form changes meaning.
pub const TRACE_FORMAT_VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

fn header_line() -> String {
    let header = Header { format: TRACE_FORMAT.to_string(), version: TRACE_FORMAT_VERSION };
    serde_json::to_string(&header).expect("the header always serializes")
}

/// Why a JSON-lines trace could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceReadError {
    /// The first line is not a `{"format":...,"version":...}` header.
    #[error(
        "line 1: not a hooksim trace (expected {{\"format\":\"{TRACE_FORMAT}\",\"version\":{TRACE_FORMAT_VERSION}}})"
    )]
    Header,
    /// A header of another format or version than this hooksim reads.
    #[error(
        "line 1: trace format {format:?} version {version}; this hooksim reads {TRACE_FORMAT:?} version {TRACE_FORMAT_VERSION}"
    )]
    Version {
        /// The `format` the header names.
        format: String,
        /// The `version` the header names.
        version: u32,
    },
    /// An entry that is not a valid trace entry of this version.
    #[error("line {line}: {message}")]
    Entry {
        /// The line's number, from 1.
        line: usize,
        /// What the JSON reader found wrong.
        message: String,
    },
    /// An entry earlier than the one before it (1-based `line`).
    #[error("line {line}: the entry is earlier than the one before it")]
    BackInTime {
        /// The line's number, from 1.
        line: usize,
    },
}

/// An event's `details` word. An alias, so that serde's derive does not take the `'static` for a
/// borrow from the input (which would tie reading to `'static` text); [`known_details`] reads it.
type Details = &'static str;

/// `details` words are a closed set (see [`crate::domain::Change::apply`]); reading one back gives
/// the same static string the core records.
fn known_details<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let word = String::deserialize(d)?;
    if word.is_empty() {
        return Ok("");
    }
    InvoiceState::ALL
        .iter()
        .map(|s| s.as_str())
        .find(|s| *s == word)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown details {word:?}: expected \"\" or an invoice state")))
}

/// Entries one trace holds at most (a few hundred bytes each, most of it the attempts' bodies:
/// a few hundred megabytes at the limit). An engine whose trace reaches it stops the run with an
/// error and the trace so far; `hooksim run --trace-entries-max` sets another budget.
pub const TRACE_ENTRIES_MAX: usize = 1_000_000;

/// An append-only list of entries in the order they happened, with a budget: entries past
/// `entries_max` are not kept, and [`Trace::is_full`] says so (the engines then stop).
#[derive(Clone, Debug)]
pub struct Trace {
    entries: Vec<TraceEntry>,
    entries_max: usize,
    full: bool,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::with_entries_max(TRACE_ENTRIES_MAX)
    }
}

/// Two traces are equal when their entries are: the budget is not part of what happened.
impl PartialEq for Trace {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Eq for Trace {}

impl Trace {
    /// An empty trace that keeps at most `entries_max` entries; past it [`Trace::is_full`].
    pub fn with_entries_max(entries_max: usize) -> Trace {
        Trace { entries: Vec::new(), entries_max, full: false }
    }

    /// How many entries the trace keeps at most.
    pub fn entries_max(&self) -> usize {
        self.entries_max
    }

    /// An entry was refused for want of room: the trace ends early.
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Appends one entry at `at` (never earlier than the last); past the budget it is dropped and
    /// the trace is full.
    pub fn push(&mut self, at: SimTime, event: TraceEvent) {
        debug_assert!(self.entries.last().is_none_or(|e| e.at <= at), "the trace never goes back in time");
        if self.entries.len() >= self.entries_max {
            self.full = true;
            return;
        }
        self.entries.push(TraceEntry { at, event });
    }

    /// Appends entries in order, as [`Trace::push`] does each.
    pub fn extend(&mut self, entries: impl IntoIterator<Item = TraceEntry>) {
        for e in entries {
            self.push(e.at, e.event);
        }
    }

    /// Moves all of `entries` to the end of the trace (as many as the budget takes).
    pub fn append(&mut self, entries: &mut Vec<TraceEntry>) {
        debug_assert!(
            entries.windows(2).all(|w| w[0].at <= w[1].at) && entries.first().is_none_or(|e| self.last_at() <= e.at),
            "the trace never goes back in time"
        );
        let room = self.entries_max.saturating_sub(self.entries.len());
        if entries.len() > room {
            self.full = true;
            entries.truncate(room);
        }
        self.entries.append(entries);
    }

    /// The entries, in the order they happened.
    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// How many entries the trace holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the trace holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// When the last entry happened ([`SimTime::ZERO`] for an empty trace).
    pub fn last_at(&self) -> SimTime {
        self.entries.last().map_or(SimTime::ZERO, |e| e.at)
    }

    /// The header line, then one JSON object per entry: the trace's canonical, hashable form
    /// (see the module doc).
    pub fn to_json_lines(&self) -> String {
        let mut out = Vec::with_capacity(64 + self.entries.len() * 128);
        self.write_json_lines(&mut out).expect("writing to memory never fails");
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    /// [`Trace::to_json_lines`], written to `out` line by line (a long trace is never one string).
    pub fn write_json_lines(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        out.write_all(header_line().as_bytes())?;
        out.write_all(b"\n")?;
        for e in &self.entries {
            serde_json::to_writer(&mut out, e)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Reads back what [`Trace::to_json_lines`] wrote (a trailing newline is optional).
    ///
    /// ```
    /// use hooksim_core::time::SimTime;
    /// use hooksim_core::trace::{Trace, TraceEvent};
    /// let mut trace = Trace::default();
    /// trace.push(SimTime::from_millis(5), TraceEvent::DispatcherRestarted);
    /// let text = trace.to_json_lines();
    /// assert_eq!(Trace::from_json_lines(&text).unwrap().to_json_lines(), text);
    /// assert!(Trace::from_json_lines("not a trace").is_err());
    /// ```
    pub fn from_json_lines(text: &str) -> Result<Trace, TraceReadError> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let header = lines.next().map(|(_, l)| l).unwrap_or_default();
        let header: Header = serde_json::from_str(header).map_err(|_| TraceReadError::Header)?;
        if header.format != TRACE_FORMAT || header.version != TRACE_FORMAT_VERSION {
            return Err(TraceReadError::Version { format: header.format, version: header.version });
        }
        // No budget here: the text is already in memory, and a run may have been given a larger
        // one (`--trace-entries-max`) than the default.
        let mut trace = Trace::with_entries_max(usize::MAX);
        for (line, text) in lines {
            let entry: TraceEntry =
                serde_json::from_str(text).map_err(|e| TraceReadError::Entry { line, message: e.to_string() })?;
            if entry.at < trace.last_at() {
                return Err(TraceReadError::BackInTime { line });
            }
            trace.entries.push(entry);
        }
        Ok(trace)
    }

    /// Hex SHA-256 of [`Trace::to_json_lines`]: equal hashes mean byte-identical traces.
    pub fn sha256(&self) -> String {
        let mut hasher = HashWriter(Sha256::new());
        self.write_json_lines(&mut hasher).expect("hashing never fails");
        let digest = hasher.0.finalize();
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
            "{\"format\":\"hooksim-trace\",\"version\":2}\n{\"at\":5,\"type\":\"dispatcher_restarted\"}\n{\"at\":9,\"type\":\"webhook_enabled\",\"webhook\":2}\n"
        );
        assert_eq!(t.sha256(), t.clone().sha256());
        assert_eq!(t.sha256().len(), 64);
    }

    #[test]
    fn a_world_change_is_typed_and_reads_back() {
        let mut t = Trace::default();
        let change = WorldChange::Partition { from: "dispatcher".into(), to: "shop".into(), one_way: true };
        t.push(SimTime::from_millis(7), TraceEvent::WorldChanged { change: change.clone() });
        let text = t.to_json_lines();
        assert!(
            text.contains(r#"{"at":7,"type":"world_changed","change":{"kind":"partition","from":"dispatcher","to":"shop","one_way":true}}"#),
            "{text}"
        );
        assert_eq!(Trace::from_json_lines(&text).unwrap(), t);
        assert_eq!(change.to_string(), "partition dispatcher -> shop");
        assert_eq!(WorldChange::Crash { host: "dispatcher".into() }.dispatcher_down("dispatcher"), Some(true));
        assert_eq!(WorldChange::Restart { host: "shop".into() }.dispatcher_down("dispatcher"), None);
    }

    fn retry() -> TraceEvent {
        TraceEvent::RetryScheduled {
            delivery: Uuid::from_u128(7),
            webhook: WebhookId(1),
            at: SimTime::from_millis(60_000),
            failures: 2,
        }
    }

    #[test]
    fn every_key_of_a_line_is_written_once() {
        let mut t = Trace::default();
        t.push(SimTime::from_millis(5), retry());
        let line = t.to_json_lines().lines().nth(1).unwrap().to_string();
        assert_eq!(line.matches("\"at\":").count(), 1, "{line}");
        assert!(line.contains("\"at\":5,") && line.contains("\"due\":60000"), "{line}");
    }

    #[test]
    fn json_lines_read_back_equal_with_the_same_hash() {
        let mut t = Trace::default();
        let events = [
            TraceEvent::EventRecorded {
                event: 1,
                path: EventPath::InvoiceUpdateState,
                details: "paid",
                entity: EntityRef { kind: crate::domain::EntityKind::Invoice, id: 4 },
            },
            TraceEvent::AttemptStarted {
                attempt: 1,
                delivery: Uuid::from_u128(7),
                webhook: WebhookId(1),
                event: 1,
                number: 1,
                body: Arc::from("{\"uuid\":\"x\"}"),
            },
            TraceEvent::AttemptFinished {
                attempt: 1,
                delivery: Uuid::from_u128(7),
                webhook: WebhookId(1),
                event: 1,
                outcome: Outcome::Status { code: 500 },
            },
            retry(),
            TraceEvent::ReceiverRejected {
                receiver: "shop".into(),
                delivery: None,
                event: None,
                why: "signature rejected: missing header `webhook-signature`".into(),
            },
            TraceEvent::EmailDeferred {
                webhook: WebhookId(0),
                outcome: Outcome::Timeout,
                retry_at: SimTime::from_millis(9),
            },
        ];
        for (i, e) in events.into_iter().enumerate() {
            t.push(SimTime::from_millis(i as u64), e);
        }
        let back = Trace::from_json_lines(&t.to_json_lines()).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.sha256(), t.sha256());
    }

    #[test]
    fn another_format_or_version_or_time_going_back_is_refused() {
        let v1 = "{\"format\":\"hooksim-trace\",\"version\":1}\n";
        assert!(matches!(Trace::from_json_lines(v1), Err(TraceReadError::Version { version: 1, .. })));
        let v3 = "{\"format\":\"hooksim-trace\",\"version\":3}\n";
        assert!(matches!(Trace::from_json_lines(v3), Err(TraceReadError::Version { version: 3, .. })));
        assert_eq!(Trace::from_json_lines("{\"at\":5}\n"), Err(TraceReadError::Header));
        let back = format!(
            "{}\n{{\"at\":5,\"type\":\"dispatcher_restarted\"}}\n{{\"at\":4,\"type\":\"dispatcher_restarted\"}}",
            header_line()
        );
        assert_eq!(Trace::from_json_lines(&back), Err(TraceReadError::BackInTime { line: 3 }));
        let odd = format!(
            "{}\n{{\"at\":5,\"type\":\"event_recorded\",\"event\":1,\"path\":\"/client/add\",\"details\":\"odd\",\"entity\":{{\"kind\":\"client\",\"id\":1}}}}",
            header_line()
        );
        let err = Trace::from_json_lines(&odd).unwrap_err().to_string();
        assert!(err.starts_with("line 2: unknown details \"odd\""), "{err}");
    }

    #[test]
    fn a_trace_keeps_no_more_than_its_budget_and_says_it_is_full() {
        let mut t = Trace::with_entries_max(3);
        t.push(SimTime::from_millis(1), TraceEvent::DispatcherRestarted);
        assert!(!t.is_full());
        let mut more: Vec<TraceEntry> = (2..5)
            .map(|ms| TraceEntry { at: SimTime::from_millis(ms), event: TraceEvent::DispatcherRestarted })
            .collect();
        t.append(&mut more);
        assert_eq!((t.len(), t.is_full()), (3, true));
        t.push(SimTime::from_millis(9), TraceEvent::DispatcherRestarted);
        assert_eq!(t.len(), 3);
        assert_eq!(t.last_at(), SimTime::from_millis(3));
    }

    #[test]
    fn only_2xx_is_success() {
        assert!(Outcome::Status { code: 204 }.is_success());
        assert!(!Outcome::Status { code: 302 }.is_success());
        assert!(!Outcome::Timeout.is_success());
    }
}
