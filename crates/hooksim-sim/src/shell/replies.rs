//! What a scripted receiver does with each request: which reply of its sequence comes next, and
//! what that reply means (act or not, answer with what, a `Retry-After` written and read back).
//! Both engines play replies through this.

use super::signing::unix_s;
use crate::receiver::BODY_BYTES_MAX;
use crate::world::{Answer, Behaviour, Reply, RetryAfter};
use hooksim_core::core::{AttemptId, Input};
use hooksim_core::policy::SLOW_DOWN_STATUSES;
use hooksim_core::time::SimTime;
use hooksim_core::trace::Outcome;
use std::time::{Duration, UNIX_EPOCH};

/// How a receiver currently behaves and how many requests it saw since. Durable: a property of
/// the script, not of the process (a restart does not start the sequence over; a new behaviour
/// does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conduct {
    behaviour: Behaviour,
    seen: u64,
}

impl Conduct {
    /// A receiver's conduct starting with `behaviour`, at its first reply.
    pub fn new(behaviour: Behaviour) -> Conduct {
        Conduct { behaviour, seen: 0 }
    }

    /// The reply to the next request.
    pub fn next_reply(&mut self) -> Reply {
        let reply = self.behaviour.reply(self.seen);
        self.seen = self.seen.saturating_add(1);
        reply
    }

    /// From now on the receiver behaves so; its reply sequence starts over.
    pub fn behave(&mut self, behaviour: &Behaviour) {
        *self = Conduct::new(behaviour.clone());
    }
}

/// What a receiver answers to a request whose body is longer than [`BODY_BYTES_MAX`]: 413, before
/// any reply of its sequence is used and without running its logic. `None` for a body it reads.
pub fn refuse_body(body_bytes: usize) -> Option<Outcome> {
    (body_bytes > BODY_BYTES_MAX).then_some(Outcome::Status { code: 413 })
}

/// How a reply is played once its latency has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Play {
    /// Run the receiver's logic (its side effect, if it decides to act).
    pub runs_logic: bool,
    /// What to answer.
    pub respond: Respond,
}

/// What goes back on the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Respond {
    /// The status the receiver's logic answered (it may refuse).
    LogicStatus,
    /// This status, whatever the logic decided.
    Status(u16),
    /// This status with a `Retry-After` header.
    SlowDown(u16, RetryAfter),
    /// Close the connection without answering: the sender sees a reset.
    Drop,
}

/// The one mapping from a scripted answer to what the receiver does. A 2xx lets the logic decide
/// (it may act, skip, or refuse); any other status answers without acting.
pub fn play(answer: Answer) -> Play {
    match answer {
        Answer::Status(code) if (200..300).contains(&code) => Play { runs_logic: true, respond: Respond::LogicStatus },
        Answer::Status(code) => Play { runs_logic: false, respond: Respond::Status(code) },
        Answer::StatusRetryAfter(code, wait) => Play { runs_logic: false, respond: Respond::SlowDown(code, wait) },
        Answer::ActThenStatus(code) => Play { runs_logic: true, respond: Respond::Status(code) },
        Answer::ActThenDrop => Play { runs_logic: true, respond: Respond::Drop },
        Answer::Drop => Play { runs_logic: false, respond: Respond::Drop },
    }
}

impl Respond {
    /// The outcome the sender sees, given the status the logic answered (if it ran).
    pub fn outcome(self, logic_status: Option<u16>) -> Outcome {
        match self {
            Respond::LogicStatus => Outcome::Status { code: logic_status.unwrap_or(500) },
            Respond::Status(code) | Respond::SlowDown(code, _) => Outcome::Status { code },
            Respond::Drop => Outcome::Reset,
        }
    }

    /// The `Retry-After` header value the receiver writes at `at`, if its answer has one.
    pub fn retry_after(self, at: SimTime) -> Option<String> {
        let Respond::SlowDown(_, wait) = self else { return None };
        if !wait.as_date {
            return Some(wait.wait_s.to_string());
        }
        let date_s = u64::try_from(unix_s(at)).unwrap_or(0).saturating_add(wait.wait_s);
        Some(httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(date_s)))
    }
}

/// The wait, in milliseconds, that a `Retry-After` header value asks of a sender reading it at
/// `at`: a number of seconds, or an HTTP date on the simulated calendar (a date already past asks
/// for none). `None` for a value that is neither.
pub fn retry_after_ms(value: &str, at: SimTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1_000));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    let date_ms = u64::try_from(date.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()?;
    let now_ms = u64::try_from(unix_s(SimTime::ZERO)).unwrap_or(0).saturating_mul(1_000).saturating_add(at.as_millis());
    Some(date_ms.saturating_sub(now_ms))
}

/// How an engine tells the core that an attempt ended: a `429` or `503` with a readable
/// `Retry-After` (read at `at`) becomes [`Input::AnswerRetryAfter`], whose wait the policy
/// honours or not; anything else (a `Retry-After` on another status included, as the protocol
/// carries it only on those two) a plain [`Input::Answer`].
pub fn answer_input(attempt: AttemptId, outcome: Outcome, retry_after: Option<&str>, at: SimTime) -> Input {
    let wait_ms = retry_after.and_then(|v| retry_after_ms(v, at));
    match (outcome, wait_ms) {
        (Outcome::Status { code: status }, Some(retry_after_ms)) if SLOW_DOWN_STATUSES.contains(&status) => {
            Input::AnswerRetryAfter { attempt, status, retry_after_ms }
        }
        _ => Input::Answer { attempt, outcome },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_then_its_tail_and_a_new_behaviour_starts_over() {
        let seq = Behaviour { replies: vec![Reply::status(500)], then: Reply::OK };
        let mut conduct = Conduct::new(seq.clone());
        assert_eq!(conduct.next_reply(), Reply::status(500));
        assert_eq!(conduct.next_reply(), Reply::OK);
        conduct.behave(&seq);
        assert_eq!(conduct.next_reply(), Reply::status(500));
    }

    #[test]
    fn a_body_past_the_limit_is_413() {
        assert_eq!(refuse_body(BODY_BYTES_MAX), None);
        assert_eq!(refuse_body(BODY_BYTES_MAX + 1), Some(Outcome::Status { code: 413 }));
    }

    #[test]
    fn a_retry_after_reads_back_as_written_in_seconds_or_as_a_date() {
        let at = SimTime::from_millis(90_500);
        let seconds = Respond::SlowDown(429, RetryAfter { wait_s: 30, as_date: false });
        assert_eq!(seconds.retry_after(at).as_deref(), Some("30"));
        assert_eq!(retry_after_ms("30", at), Some(30_000));
        let date = Respond::SlowDown(503, RetryAfter { wait_s: 120, as_date: true }).retry_after(at).unwrap();
        assert_eq!(date, "Thu, 01 Jan 2026 00:03:30 GMT");
        // Read a little later than written: the date is whole seconds, the wait what is left.
        assert_eq!(retry_after_ms(&date, at.plus_ms(2)), Some(119_498));
        assert_eq!(retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", at), Some(0), "a past date asks for no wait");
        assert_eq!(retry_after_ms("soon", at), None);
        assert_eq!(Respond::Status(429).retry_after(at), None);
        let input = answer_input(7, Outcome::Status { code: 429 }, Some("30"), at);
        assert_eq!(input, Input::AnswerRetryAfter { attempt: 7, status: 429, retry_after_ms: 30_000 });
        assert_eq!(
            answer_input(7, Outcome::Reset, Some("30"), at),
            Input::Answer { attempt: 7, outcome: Outcome::Reset }
        );
    }

    #[test]
    fn only_a_2xx_lets_the_logic_answer() {
        assert_eq!(play(Answer::Status(204)), Play { runs_logic: true, respond: Respond::LogicStatus });
        assert!(!play(Answer::Status(503)).runs_logic);
        assert_eq!(play(Answer::ActThenDrop).respond.outcome(Some(200)), Outcome::Reset);
        assert_eq!(play(Answer::ActThenStatus(500)).respond.outcome(Some(200)), Outcome::Status { code: 500 });
    }
}
