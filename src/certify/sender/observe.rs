//! What arrived, when, and how it was answered: the ledger the grades are read from. Pure: the
//! endpoint passes times in (milliseconds since the run started).
//!
//! Requests are grouped into *events* by the event key (see [`super::reading`]), and within an
//! event by *delivery id* (`--id`).

use super::load::{ListenerLoad, QUEUE_DRAIN_MS};
use super::reading::{Reading, event_key};
use super::script::{Answer, Failure, Plan};
use serde::Serialize;
use serde_json::Value;

/// How a request was answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Still being answered (a held request when the run ended).
    Open,
    /// Answered with a status.
    Answered {
        /// The status sent.
        status: u16,
    },
    /// Held; the sender closed the connection first (its timeout).
    SenderGaveUp,
    /// Held until the cap; the sender was still waiting.
    HoldCapReached,
    /// The sender reset the connection before an answer.
    Reset,
}

/// One request.
#[derive(Clone, Debug, Serialize)]
pub struct Arrival {
    /// When the request was whole.
    pub at_ms: u64,
    /// When it was answered, reset, or given up on.
    pub ended_ms: Option<u64>,
    /// The request's path, e.g. `/webhook`.
    pub path: String,
    /// A request to the redirect's target (followed the redirect).
    pub redirect_target: bool,
    /// The event (0-based, in order of first arrival); `None` for the redirect target.
    pub event: Option<usize>,
    /// 1-based, within the event.
    pub attempt: u32,
    /// The delivery id read from it, or why none could be.
    pub id: Result<String, String>,
    /// What the endpoint answered, by plan.
    pub answer: Answer,
    /// How the exchange ended.
    pub outcome: Outcome,
    /// Whether the body is an envelope of `--envelope`, or why not.
    pub envelope: Result<(), String>,
    /// `None` without `--secret`.
    pub signature: Option<Result<(), String>>,
    /// The timestamp its signature carries (unix seconds), where the scheme signs one.
    pub signed_at_s: Option<i64>,
    /// The machine's clock when it was whole (unix ms): what its signed timestamp is judged by.
    pub at_unix_ms: i64,
    /// Requests open when this one arrived, itself included.
    pub in_flight: u32,
    /// Its answer was written, and the sender reset the connection with it unread: a 2xx it may
    /// never have seen, so another attempt after it is a retry, not a resend.
    pub answer_unread: bool,
    /// Accepted while every connection slot was held, or just after: it may have waited in the
    /// kernel's accept queue, so when it arrived says little about when it was sent.
    pub queued: bool,
}

impl Arrival {
    /// Whether the sender must count this attempt failed: any answer but a 2xx, a reset, or its
    /// own timeout (a 2xx it hung up before reading included). `false` while it is open.
    pub fn failed(&self) -> bool {
        match self.outcome {
            Outcome::Open => false,
            Outcome::Answered { status } => !(200..300).contains(&status),
            Outcome::SenderGaveUp | Outcome::HoldCapReached | Outcome::Reset => true,
        }
    }

    /// Whether the sender read a 2xx for it.
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, Outcome::Answered { status } if (200..300).contains(&status))
    }

    /// When the sender learnt this attempt failed: the answer, the reset, or its own timeout.
    pub fn failed_at_ms(&self) -> Option<u64> {
        if self.failed() { self.ended_ms } else { None }
    }
}

/// One event: its key, its number, the failure it plays, the arrivals that are its attempts.
#[derive(Clone, Debug, Serialize)]
pub struct EventRecord {
    /// What tells the event apart (its id, or its body).
    #[serde(skip)]
    pub key: String,
    /// The `HOOKSIM_EVENT` of the trigger that sent it; `None` without `--trigger` (events are
    /// then numbered in the order they first arrive).
    pub trigger: Option<u32>,
    /// The failure the plan plays on it (by its number); `None` past the planned ones.
    pub failure: Option<Failure>,
    /// Indices into [`Ledger::arrivals`], in order.
    pub attempts: Vec<usize>,
}

/// A request as the endpoint read it.
pub struct Incoming<'a> {
    /// The request's path.
    pub path: &'a str,
    /// Its headers, names and raw values.
    pub headers: &'a [(String, Vec<u8>)],
    /// Its body.
    pub body: &'a [u8],
}

/// Everything that arrived, in order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Ledger {
    /// Every request, in order of arrival.
    pub arrivals: Vec<Arrival>,
    /// Every event, in order of first arrival.
    pub events: Vec<EventRecord>,
    #[serde(skip)]
    open: u32,
    /// The most requests open at once.
    pub in_flight_peak: u32,
    /// How loaded the listener was.
    pub listener: ListenerLoad,
    /// With `--trigger`: the triggers fired whose event has not arrived yet, oldest first. A new
    /// event is the oldest one's, and plays the failure of its number.
    #[serde(skip)]
    pub awaited: std::collections::VecDeque<u32>,
    /// Whether events come from triggers (numbered by `HOOKSIM_EVENT`), not on their own.
    #[serde(skip)]
    pub triggered: bool,
    /// The endpoint verifications that arrived (Slack's `url_verification`, with `--provider
    /// slack`): answered with their challenge, never counted as an event's attempt.
    pub handshakes: Vec<Handshake>,
}

/// One endpoint verification request.
#[derive(Clone, Debug, Serialize)]
pub struct Handshake {
    /// When it was whole (ms since the run started).
    pub at_ms: u64,
    /// `None` without `--secret`; else whether it verified.
    pub signature: Option<Result<(), String>>,
}

/// The challenge of Slack's `url_verification` body (`{"type": "url_verification", "challenge"}`),
/// if `body` is one.
pub fn url_verification_challenge(body: &[u8]) -> Option<String> {
    let json: Value = serde_json::from_slice(body).ok()?;
    if json.get("type")?.as_str()? != "url_verification" {
        return None;
    }
    Some(json.get("challenge")?.as_str()?.to_string())
}

impl Ledger {
    /// Records a request whole at `now_ms` (the machine's clock reading `now_unix_ms`: signature
    /// timestamps are judged by it) and returns its index and the answer the script gives it.
    pub fn admit(
        &mut self,
        req: &Incoming,
        reading: &Reading,
        plan: &Plan,
        now_ms: u64,
        now_unix_ms: i64,
    ) -> (usize, Answer) {
        let json: Option<Value> = serde_json::from_slice(req.body).ok();
        let id = reading.id.read(req.headers, json.as_ref());
        let redirect_target = req.path == super::script::REDIRECT_TARGET_PATH;
        let (event, attempt, answer) = if redirect_target {
            (None, 0, plan.redirect_target_answer())
        } else {
            let key = event_key(reading, json.clone(), req.body);
            let index = self.events.iter().position(|e| e.key == key).unwrap_or_else(|| self.new_event(key));
            let attempt = self.events[index].attempts.len() as u32 + 1;
            self.events[index].attempts.push(self.arrivals.len());
            (Some(index), attempt, plan.answer(self.events[index].failure, attempt))
        };
        self.open += 1;
        self.in_flight_peak = self.in_flight_peak.max(self.open);
        let now_s = now_unix_ms.div_euclid(1000);
        let signature =
            reading.verifier.as_ref().map(|v| v.verify(req.headers, req.body, now_s).map_err(|e| e.to_string()));
        let signed_at_s = reading.verifier.as_ref().and_then(|v| v.timestamp_s(req.headers));
        self.arrivals.push(Arrival {
            at_ms: now_ms,
            ended_ms: None,
            path: req.path.to_string(),
            redirect_target,
            event,
            attempt,
            id,
            answer: answer.clone(),
            outcome: Outcome::Open,
            envelope: reading.envelope.check(req.headers, req.body, json.as_ref()),
            signature,
            signed_at_s,
            at_unix_ms: now_unix_ms,
            in_flight: self.open,
            answer_unread: false,
            queued: self.listener.hides(now_ms, now_ms, QUEUE_DRAIN_MS),
        });
        (self.arrivals.len() - 1, answer)
    }

    /// A new event: numbered by the oldest trigger awaited (its failure that number's), or by
    /// arrival without triggers. An event no trigger accounts for (a sender's own extra) plays
    /// no failure.
    fn new_event(&mut self, key: String) -> usize {
        let trigger = self.awaited.pop_front();
        let failure = match (self.triggered, trigger) {
            (false, _) => Failure::of_event(self.events.len()),
            (true, Some(n)) => Failure::of_event((n as usize).saturating_sub(1)),
            (true, None) => None,
        };
        self.events.push(EventRecord { key, trigger, failure, attempts: Vec::new() });
        self.events.len() - 1
    }

    /// The event's number as reports say it: its `HOOKSIM_EVENT`, or its place in arrival order.
    pub fn number(&self, event: usize) -> u32 {
        self.events.get(event).and_then(|e| e.trigger).unwrap_or(event as u32 + 1)
    }

    /// The request at `index` was answered (or reset, or given up on) at `now_ms`.
    pub fn finish(&mut self, index: usize, outcome: Outcome, now_ms: u64) {
        let Some(a) = self.arrivals.get_mut(index) else { return };
        if a.ended_ms.is_none() {
            self.open = self.open.saturating_sub(1);
        }
        a.ended_ms = Some(now_ms);
        a.outcome = outcome;
    }

    /// The answer to the request at `index` was written but the sender reset the connection with
    /// it unread (it had given up: its timeout).
    pub fn unread(&mut self, index: usize) {
        if let Some(a) = self.arrivals.get_mut(index) {
            a.answer_unread = true;
        }
    }

    /// Requests to the endpoint (not the redirect target).
    pub fn endpoint(&self) -> impl Iterator<Item = &Arrival> {
        self.arrivals.iter().filter(|a| !a.redirect_target)
    }

    /// The event playing `failure`, if one arrived.
    pub fn event(&self, failure: Failure) -> Option<&EventRecord> {
        self.events.iter().find(|e| e.failure == Some(failure))
    }

    /// The requests of one event, in order.
    pub(crate) fn attempts<'a>(&'a self, event: &'a EventRecord) -> impl Iterator<Item = &'a Arrival> + 'a {
        event.attempts.iter().map(|i| &self.arrivals[*i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certify::sender::reading::Envelope;
    use crate::certify::sender::script::Timing;
    use crate::policy::Profile;

    fn reading() -> Reading {
        Reading { id: "/uuid".parse().unwrap(), event_id: None, envelope: Envelope::Snapbill, verifier: None }
    }

    fn plan() -> Plan {
        Plan::new(&Timing { policy: Profile::Snapbill.policy(), time_scale: 100, tolerance_floor_ms: 50 }, 3_000, "")
    }

    fn body(uuid: &str, event: u64) -> Vec<u8> {
        serde_json::json!({"uuid": uuid, "body": {"id": event, "path": "/invoice/create", "details": null, "invoice": {"id": 1}}})
            .to_string()
            .into_bytes()
    }

    fn admit(ledger: &mut Ledger, bytes: &[u8]) -> (usize, Answer) {
        ledger.admit(&Incoming { path: "/webhook", headers: &[], body: bytes }, &reading(), &plan(), 0, 0)
    }

    #[test]
    fn a_retry_with_a_new_id_is_still_the_same_event_and_events_get_scripts_in_order() {
        let mut ledger = Ledger::default();
        let (_, first) = admit(&mut ledger, &body("a", 1));
        assert_eq!(first, Answer::Status { status: 500, headers: vec![] });
        admit(&mut ledger, &body("b", 1));
        let (_, other) = admit(&mut ledger, &body("c", 2));
        assert!(matches!(other, Answer::Hold { .. }), "the second event plays the timeout");
        assert_eq!(ledger.events.len(), 2);
        assert_eq!(ledger.events[0].attempts, [0, 1]);
        assert_eq!(ledger.arrivals[1].attempt, 2);
        assert_eq!(ledger.in_flight_peak, 3);
        ledger.finish(0, Outcome::Answered { status: 500 }, 5);
        ledger.finish(0, Outcome::Answered { status: 500 }, 6);
        let (_, _) = admit(&mut ledger, &body("d", 3));
        assert_eq!(ledger.arrivals[3].in_flight, 3, "a request finished twice is counted out once");
    }
}
