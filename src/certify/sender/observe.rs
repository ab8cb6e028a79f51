//! What arrived, when, and how it was answered: the ledger the grades are read from. Pure: the
//! endpoint passes times in (milliseconds since the run started).
//!
//! Requests are grouped into *events* by the event key (by default the body with the delivery id
//! taken out, so a retry that wrongly carries a new id is still seen as a retry), and within an
//! event by *delivery id* (`--id`).

use super::script::{Answer, Failure, Plan};
use crate::signing::{Headers as _, Verifier};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::str::FromStr;

/// Where a request's delivery id is: a JSON pointer into the body, or a header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum IdSource {
    Pointer(String),
    Header(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("bad --id {0:?}: give a JSON pointer (`/uuid`) or `header:NAME` (`header:webhook-id`)")]
pub struct BadIdSource(String);

impl FromStr for IdSource {
    type Err = BadIdSource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(name) = s.strip_prefix("header:") {
            let ok = !name.is_empty() && axum::http::HeaderName::from_bytes(name.as_bytes()).is_ok();
            return if ok { Ok(Self::Header(name.to_ascii_lowercase())) } else { Err(BadIdSource(s.into())) };
        }
        if s.starts_with('/') { Ok(Self::Pointer(s.into())) } else { Err(BadIdSource(s.into())) }
    }
}

impl std::fmt::Display for IdSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pointer(p) => f.write_str(p),
            Self::Header(h) => write!(f, "header:{h}"),
        }
    }
}

/// SnapBill's delivery id: `{"uuid": ...}`.
pub const SNAPBILL_ID_POINTER: &str = "/uuid";

impl IdSource {
    /// The id as text (a JSON string as is, a number or other value as JSON), or why there is none.
    pub fn read(&self, headers: &[(String, Vec<u8>)], json: Option<&Value>) -> Result<String, String> {
        match self {
            Self::Header(name) => {
                let raw = headers.header(name).ok_or_else(|| format!("no `{name}` header"))?;
                let text = std::str::from_utf8(raw).map_err(|_| format!("header `{name}` is not text"))?;
                if text.is_empty() { Err(format!("header `{name}` is empty")) } else { Ok(text.to_string()) }
            }
            Self::Pointer(pointer) => match json.map(|v| v.pointer(pointer)) {
                None => Err("the body is not JSON".into()),
                Some(None) | Some(Some(Value::Null)) => Err(format!("no `{pointer}` in the body")),
                Some(Some(Value::String(s))) if s.is_empty() => Err(format!("`{pointer}` is empty")),
                Some(Some(Value::String(s))) => Ok(s.clone()),
                Some(Some(other)) => Ok(other.to_string()),
            },
        }
    }
}

/// The body every attempt must carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Envelope {
    /// `{"uuid": <text>, "body": {"id", "path": <text>, "details", "<entity kind>": <object>}}`.
    Snapbill,
    /// Any JSON value.
    Json,
}

impl FromStr for Envelope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "snapbill" => Ok(Self::Snapbill),
            "json" => Ok(Self::Json),
            other => Err(format!("unknown envelope {other:?} (known: snapbill, json)")),
        }
    }
}

impl Envelope {
    pub fn check(self, json: Option<&Value>) -> Result<(), String> {
        let value = json.ok_or("the body is not JSON")?;
        if self == Self::Json {
            return Ok(());
        }
        let text = |v: Option<&Value>, name: &str| match v {
            Some(Value::String(s)) if !s.is_empty() => Ok(()),
            _ => Err(format!("`{name}` is not a non-empty string")),
        };
        text(value.get("uuid"), "uuid")?;
        let body = value.get("body").and_then(Value::as_object).ok_or("`body` is not an object")?;
        if !body.get("id").is_some_and(|id| id.is_u64() || id.is_string()) {
            return Err("`body.id` is not an event id (a number or a string)".into());
        }
        text(body.get("path"), "body.path")?;
        if !body.contains_key("details") {
            return Err("`body.details` is missing".into());
        }
        let entities: Vec<&String> = body.keys().filter(|k| !["id", "path", "details"].contains(&k.as_str())).collect();
        match entities.as_slice() {
            [kind] if body[kind.as_str()].is_object() => Ok(()),
            [kind] => Err(format!("`body.{kind}` (the entity) is not an object")),
            [] => Err("`body` carries no entity (`invoice`, `client`, ...)".into()),
            many => Err(format!("`body` carries {} entity keys ({many:?}); SnapBill sends one", many.len())),
        }
    }
}

/// How a request was answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Still being answered (a held request when the run ended).
    Open,
    Answered {
        status: u16,
    },
    /// Held; the sender closed the connection first (its timeout).
    SenderGaveUp,
    /// Held until the cap; the sender was still waiting.
    HoldCapReached,
    Reset,
}

/// One request.
#[derive(Clone, Debug, Serialize)]
pub struct Arrival {
    /// When the request was whole.
    pub at_ms: u64,
    /// When it was answered, reset, or given up on.
    pub ended_ms: Option<u64>,
    pub path: String,
    /// A request to the redirect's target (followed the redirect).
    pub redirect_target: bool,
    /// The event (0-based, in order of first arrival); `None` for the redirect target.
    pub event: Option<usize>,
    /// 1-based, within the event.
    pub attempt: u32,
    pub id: Result<String, String>,
    pub answer: Answer,
    pub outcome: Outcome,
    pub envelope: Result<(), String>,
    /// `None` without `--secret`.
    pub signature: Option<Result<(), String>>,
    /// Requests open when this one arrived, itself included.
    pub in_flight: u32,
}

impl Arrival {
    /// When the sender learnt this attempt failed: the answer, the reset, or its own timeout.
    pub fn failed_at_ms(&self) -> Option<u64> {
        if self.answer.is_failure() { self.ended_ms } else { None }
    }
}

/// One event: its key, the failure it plays, the arrivals that are its attempts.
#[derive(Clone, Debug, Serialize)]
pub struct EventRecord {
    #[serde(skip)]
    pub key: String,
    pub failure: Option<Failure>,
    /// Indices into [`Ledger::arrivals`], in order.
    pub attempts: Vec<usize>,
}

/// A request as the endpoint read it.
pub struct Incoming<'a> {
    pub path: &'a str,
    pub headers: &'a [(String, Vec<u8>)],
    pub body: &'a [u8],
}

/// How requests are identified and checked.
#[derive(Clone, Debug)]
pub struct Reading {
    pub id: IdSource,
    /// A JSON pointer to the event's own id; `None`: the body without the delivery id.
    pub event_id: Option<String>,
    pub envelope: Envelope,
    pub verifier: Option<Verifier>,
}

/// Everything that arrived, in order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Ledger {
    pub arrivals: Vec<Arrival>,
    pub events: Vec<EventRecord>,
    #[serde(skip)]
    open: u32,
    pub in_flight_peak: u32,
}

impl Ledger {
    /// Records a request whole at `now_ms` (signature timestamps judged at `now_s`, unix
    /// seconds) and returns its index and the answer the script gives it.
    pub fn admit(
        &mut self,
        req: &Incoming,
        reading: &Reading,
        plan: &Plan,
        now_ms: u64,
        now_s: i64,
    ) -> (usize, Answer) {
        let json: Option<Value> = serde_json::from_slice(req.body).ok();
        let id = reading.id.read(req.headers, json.as_ref());
        let redirect_target = req.path == super::script::REDIRECT_TARGET_PATH;
        let (event, attempt, answer) = if redirect_target {
            (None, 0, plan.redirect_target_answer())
        } else {
            let key = event_key(reading, json.clone(), req.body);
            let index = self.events.iter().position(|e| e.key == key).unwrap_or_else(|| {
                let failure = Failure::of_event(self.events.len());
                self.events.push(EventRecord { key, failure, attempts: Vec::new() });
                self.events.len() - 1
            });
            let attempt = self.events[index].attempts.len() as u32 + 1;
            self.events[index].attempts.push(self.arrivals.len());
            (Some(index), attempt, plan.answer(self.events[index].failure, attempt))
        };
        self.open += 1;
        self.in_flight_peak = self.in_flight_peak.max(self.open);
        let signature =
            reading.verifier.as_ref().map(|v| v.verify(req.headers, req.body, now_s).map_err(|e| e.to_string()));
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
            envelope: reading.envelope.check(json.as_ref()),
            signature,
            in_flight: self.open,
        });
        (self.arrivals.len() - 1, answer)
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

    /// Requests to the endpoint (not the redirect target).
    pub fn endpoint(&self) -> impl Iterator<Item = &Arrival> {
        self.arrivals.iter().filter(|a| !a.redirect_target)
    }

    /// The event playing `failure`, if one arrived.
    pub fn event(&self, failure: Failure) -> Option<&EventRecord> {
        self.events.iter().find(|e| e.failure == Some(failure))
    }

    pub fn attempts<'a>(&'a self, event: &'a EventRecord) -> impl Iterator<Item = &'a Arrival> + 'a {
        event.attempts.iter().map(|i| &self.arrivals[*i])
    }
}

/// The key that groups a request's attempts: the event id where one is named, else a digest of
/// the body with the delivery id taken out (or of the raw bytes, when the body is not JSON).
fn event_key(reading: &Reading, json: Option<Value>, raw: &[u8]) -> String {
    let Some(mut json) = json else { return digest(raw) };
    if let Some(pointer) = &reading.event_id {
        return match json.pointer(pointer) {
            Some(v) => format!("event {v}"),
            None => digest(raw),
        };
    }
    if let IdSource::Pointer(pointer) = &reading.id
        && let Some(id) = json.pointer_mut(pointer)
    {
        *id = Value::Null;
    }
    digest(json.to_string().as_bytes())
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn ids_come_from_a_pointer_or_a_header() {
        assert_eq!("header:Webhook-Id".parse(), Ok(IdSource::Header("webhook-id".into())));
        assert!("uuid".parse::<IdSource>().is_err());
        assert!("header:".parse::<IdSource>().is_err());
        let headers = vec![("webhook-id".to_string(), b"msg_1".to_vec())];
        assert_eq!(IdSource::Header("webhook-id".into()).read(&headers, None), Ok("msg_1".into()));
        let json = serde_json::json!({"uuid": "u", "n": 3});
        assert_eq!(IdSource::Pointer("/uuid".into()).read(&[], Some(&json)), Ok("u".into()));
        assert_eq!(IdSource::Pointer("/n".into()).read(&[], Some(&json)), Ok("3".into()));
        assert!(IdSource::Pointer("/x".into()).read(&[], Some(&json)).is_err());
    }

    #[test]
    fn the_snapbill_envelope_is_checked_field_by_field() {
        let ok: Value = serde_json::from_slice(&body("u", 1)).unwrap();
        assert_eq!(Envelope::Snapbill.check(Some(&ok)), Ok(()));
        for bad in [
            serde_json::json!({"body": {}}),
            serde_json::json!({"uuid": "u", "body": {"id": 1, "path": "/p", "details": null}}),
            serde_json::json!({"uuid": "u", "body": {"path": "/p", "details": null, "invoice": {}}}),
            serde_json::json!({"uuid": "u", "body": {"id": 1, "path": "/p", "details": null, "invoice": {}, "client": {}}}),
        ] {
            assert!(Envelope::Snapbill.check(Some(&bad)).is_err(), "{bad}");
        }
        assert!(Envelope::Snapbill.check(None).is_err());
        assert_eq!(Envelope::Json.check(Some(&serde_json::json!([1]))), Ok(()));
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
