//! One delivery attempt on the real network: a POST on a new connection, bounded by the
//! attempt's timeout and a cap on the answer's bytes, never following a redirect; then, when the
//! receiver has an effects URL, a read of its effects list (what it did with the delivery).
//!
//! This file reads the wall clock (`Instant::now`, when the answer came back; `SystemTime::now`,
//! a signature's timestamp, which a real receiver judges by its own clock): it is on
//! ARCHITECTURE.md's allow-list.

use crate::effects::{self, EffectRecord, Effects};
use crate::http::wire::WireFailure;
use hooksim_core::trace::Outcome;
use hooksim_sim::shell::signing::shaped_headers;
use reqwest::Url;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Bytes of an answer's body read; a longer body is not waited for: the connection is dropped
/// and the attempt fails as `reset` (a sender does not wait on an endless answer).
pub const ANSWER_BYTES_MAX: usize = 1024 * 1024;
/// Bytes of an effects list read; a longer list is an error.
pub const EFFECTS_BYTES_MAX: usize = 8 * 1024 * 1024;

/// What the driver hands a flight.
#[derive(Clone, Debug)]
pub(super) struct Job {
    pub rx: usize,
    pub attempt: u64,
    pub delivery: Uuid,
    pub body: Arc<str>,
    pub timeout_ms: u64,
    /// The dispatcher process that sent it: an answer to an earlier, crashed one is lost.
    pub incarnation: u32,
    /// Added to the event id on the wire ([`super::LiveOptions::event_id_offset`]).
    pub event_id_offset: u64,
    /// Signs the request when the world signs (the keys in use at the attempt's virtual time).
    pub signer: Option<hooksim_core::signing::Signer>,
    /// The attempt in a provider's shape (its id and headers); `None`: SnapBill's envelope.
    pub shape: Option<Arc<hooksim_core::core::Shape>>,
}

/// How the POST ended, as a sender sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reply {
    /// An outcome to report; `retry_after_ms` from a `Retry-After: <seconds>` on a 429 or 503.
    Answered { outcome: Outcome, retry_after_ms: Option<u64> },
    /// No whole answer within the attempt timeout: the core times the attempt out by itself.
    NoAnswer,
}

/// A flight that came back.
#[derive(Debug)]
pub(super) struct Exchange {
    pub job: Job,
    pub reply: Reply,
    /// When the answer (or its absence) was known, on the wall clock.
    pub answered_at: Instant,
    /// The effects list read after the answer, when the receiver has an effects URL.
    pub effects: Option<Result<Vec<EffectRecord>, String>>,
    /// What went wrong on the wire, its kind and in words, when the outcome alone does not say it.
    pub note: Option<(WireFailure, String)>,
}

/// The HTTP clients of a live run.
#[derive(Clone)]
pub(super) struct Couriers {
    /// Deliveries: no idle connection is ever kept, so every attempt opens a new one (a retry
    /// days later never rides the first try's keep-alive connection).
    deliveries: reqwest::Client,
    effects: crate::http::client::Client,
}

impl Couriers {
    /// `ca_cert_pem`: private certificate authorities to trust besides the built-in roots;
    /// `effects_timeout_ms`: the deadline of one read of an effects list.
    pub(super) fn new(ca_cert_pem: Option<&[u8]>, effects_timeout_ms: u64) -> Result<Couriers, reqwest::Error> {
        // Each attempt's own timeout is set per request (`fly`).
        let deliveries = crate::http::builder(ca_cert_pem, "hooksim")?.build()?;
        let limits = crate::http::Limits {
            timeout_ms: effects_timeout_ms,
            effects_bytes_max: EFFECTS_BYTES_MAX,
            ..crate::http::Limits::default()
        };
        Ok(Couriers { deliveries, effects: crate::http::client::Client::trusting(limits, ca_cert_pem)? })
    }

    /// POSTs the job's body to `url`, then reads `effects_url`.
    pub(super) async fn fly(&self, job: Job, url: Url, effects_url: Option<Url>) -> Exchange {
        let deadline = Duration::from_millis(job.timeout_ms);
        let head = std::sync::Mutex::new(None);
        let (reply, note) = match tokio::time::timeout(deadline, self.post(url, &job, deadline, &head)).await {
            Ok(answered) => answered,
            Err(_) => {
                (Reply::NoAnswer, Some((WireFailure::Timeout, format!("no answer within {} ms", job.timeout_ms))))
            }
        };
        // A status line that came before the deadline: the receiver is answering, slowly.
        let note = match (note, *head.lock().unwrap_or_else(|p| p.into_inner())) {
            (Some((WireFailure::Timeout, _)), Some(code)) => Some((
                WireFailure::Unfinished,
                format!("no whole answer within {} ms (a {code} whose body did not end)", job.timeout_ms),
            )),
            (note, _) => note,
        };
        let answered_at = Instant::now();
        let effects = match effects_url {
            Some(u) => Some(self.read_effects(&u).await),
            None => None,
        };
        Exchange { job, reply, answered_at, effects, note }
    }

    /// The effects list at `url`, or why it cannot be read.
    pub(super) async fn read_effects(&self, url: &Url) -> Result<Vec<EffectRecord>, String> {
        match effects::fetch(&self.effects, Some(url.as_str()), EFFECTS_BYTES_MAX).await {
            Effects::Read(records) => Ok(records),
            Effects::Unavailable(why) => Err(why),
        }
    }

    /// How the POST ended, and in words what went wrong when the outcome alone does not say it.
    /// `head` is told the status code as soon as it arrives.
    async fn post(
        &self,
        url: Url,
        job: &Job,
        deadline: Duration,
        head: &std::sync::Mutex<Option<u16>>,
    ) -> (Reply, Option<(WireFailure, String)>) {
        // The offset moves SnapBill's event ids; a provider's body names none.
        let body = match job.shape {
            None => with_event_id_offset(&job.body, job.event_id_offset),
            Some(_) => job.body.to_string(),
        };
        let request =
            self.deliveries.post(url).timeout(deadline).header(reqwest::header::CONTENT_TYPE, "application/json");
        let request = with_headers(request, job, body.as_bytes());
        let request = request.body(body);
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return failed(&e, job.timeout_ms),
        };
        let code = response.status().as_u16();
        *head.lock().unwrap_or_else(|p| p.into_inner()) = Some(code);
        let retry_after_ms = retry_after_ms(code, response.headers());
        let note = redirect_note(code, response.headers());
        // The whole answer counts: a status line followed by a body that never ends is no answer.
        let mut read = 0usize;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    read += chunk.len();
                    if read > ANSWER_BYTES_MAX {
                        let why =
                            format!("the answer's body went past {ANSWER_BYTES_MAX} bytes: the connection was dropped");
                        let outcome = Outcome::Reset;
                        return (Reply::Answered { outcome, retry_after_ms: None }, Some((WireFailure::Reset, why)));
                    }
                }
                Ok(None) => return (Reply::Answered { outcome: Outcome::Status { code }, retry_after_ms }, note),
                Err(e) => return failed(&e, job.timeout_ms),
            }
        }
    }
}

/// The request with the provider's headers and those that sign `body` (the bytes sent), stamped
/// with the wall clock: a real receiver judges the timestamp by its own clock, not by the run's
/// virtual one.
fn with_headers(request: reqwest::RequestBuilder, job: &Job, body: &[u8]) -> reqwest::RequestBuilder {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let now_s = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    let headers = shaped_headers(job.shape.as_deref(), job.delivery, body, job.signer.as_ref(), now_s);
    headers.iter().flat_map(|h| h.iter()).fold(request, |request, (name, value)| request.header(*name, value))
}

fn failed(e: &reqwest::Error, timeout_ms: u64) -> (Reply, Option<(WireFailure, String)>) {
    let outcome = if e.is_timeout() {
        return (Reply::NoAnswer, Some((WireFailure::Timeout, format!("no answer within {timeout_ms} ms"))));
    } else if e.is_connect() {
        Outcome::Refused
    } else {
        Outcome::Reset
    };
    (Reply::Answered { outcome, retry_after_ms: None }, Some(crate::http::wire::describe(e)))
}

/// The envelope with its event id (`"body":{"id":N`, where the core's renderer puts it) moved
/// by `offset`; the body as it is when the offset is 0 or the id is not found.
fn with_event_id_offset(body: &str, offset: u64) -> String {
    const KEY: &str = r#""body":{"id":"#;
    let Some(at) = body.find(KEY).map(|i| i + KEY.len()).filter(|_| offset > 0) else { return body.to_string() };
    let digits = body[at..].bytes().take_while(u8::is_ascii_digit).count();
    match body[at..at + digits].parse::<u64>() {
        Ok(id) => format!("{}{}{}", &body[..at], id.saturating_add(offset), &body[at + digits..]),
        Err(_) => body.to_string(),
    }
}

/// `redirected to <Location>` for a 3xx: a sender does not follow it, and the receiver's owner
/// needs to know where it pointed.
fn redirect_note(code: u16, headers: &reqwest::header::HeaderMap) -> Option<(WireFailure, String)> {
    if !(300..400).contains(&code) {
        return None;
    }
    let to = headers.get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("nowhere given");
    Some((WireFailure::Redirect, format!("answered {code}, a redirect to {to} (never followed)")))
}

/// `Retry-After: <seconds>` on a 429 or 503 (an HTTP date is not read: the virtual clock has no
/// calendar).
fn retry_after_ms(code: u16, headers: &reqwest::header::HeaderMap) -> Option<u64> {
    if code != 429 && code != 503 {
        return None;
    }
    let seconds: u64 = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(seconds.saturating_mul(1_000))
}

#[cfg(test)]
mod tests {
    use super::retry_after_ms;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_event_id_moves_on_the_wire_and_nothing_else_does() {
        use super::with_event_id_offset;
        let body = r#"{"uuid":"u","body":{"id":3,"path":"/x","details":"paid","invoice":{"id":3}}}"#;
        assert_eq!(
            with_event_id_offset(body, 1000),
            r#"{"uuid":"u","body":{"id":1003,"path":"/x","details":"paid","invoice":{"id":3}}}"#
        );
        assert_eq!(with_event_id_offset(body, 0), body);
        assert_eq!(with_event_id_offset("not an envelope", 5), "not an envelope");
    }

    #[test]
    fn retry_after_is_read_in_seconds_on_429_and_503_only() {
        assert_eq!(retry_after_ms(503, &headers("2")), Some(2_000));
        assert_eq!(retry_after_ms(429, &headers(" 120 ")), Some(120_000));
        assert_eq!(retry_after_ms(500, &headers("2")), None);
        assert_eq!(retry_after_ms(503, &headers("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(retry_after_ms(503, &HeaderMap::new()), None);
    }
}
