//! What the endpoint answers, delivery by delivery, and when the declared profile says the next
//! attempt is due. Pure: no clock, no socket.
//!
//! Event `n` (in the order events first arrive) plays failure `Failure::ALL[n-1]` and then
//! answers 2xx, so one run exercises every kind of failure; events past the sixth get a 2xx.

use crate::policy::Policy;
use serde::Serialize;

/// The failure an event's script plays before its 2xx.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Failure {
    /// `500`, repeated for the first retries of the profile's schedule that fit in the budget.
    ServerError,
    /// No answer: the request is held until the sender gives up (its own timeout).
    Timeout,
    /// The connection is reset without an answer.
    Reset,
    /// `429` with `Retry-After`.
    RateLimited,
    /// `307` to a second path, which must see nothing.
    Redirect,
    /// `410 Gone`. Played last: a profile that disables on it stops sending altogether.
    Gone,
}

impl Failure {
    /// In the order events are given them.
    pub const ALL: [Failure; 6] =
        [Self::ServerError, Self::Timeout, Self::Reset, Self::RateLimited, Self::Redirect, Self::Gone];

    /// The failure as the report names it, e.g. `500`, `307 redirect`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::ServerError => "500",
            Self::Timeout => "timeout",
            Self::Reset => "reset",
            Self::RateLimited => "429",
            Self::Redirect => "307 redirect",
            Self::Gone => "410",
        }
    }

    /// The failure event `index` (0-based, in order of first arrival) plays; `None` past the sixth.
    pub fn of_event(index: usize) -> Option<Failure> {
        Self::ALL.get(index).copied()
    }
}

/// The path the redirect points at. Anything else is the endpoint.
pub const REDIRECT_TARGET_PATH: &str = "/moved";

/// What the endpoint does with one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Answer {
    /// Answer with a status.
    Status {
        /// The status, e.g. `500`.
        status: u16,
        /// Headers to send with it, e.g. `Retry-After`.
        headers: Vec<(String, String)>,
    },
    /// Say nothing until the sender closes the connection, or `cap_ms` passes.
    Hold {
        /// The longest hold, wall milliseconds.
        cap_ms: u64,
    },
    /// Close the connection with a reset, without answering.
    Reset,
}

impl Answer {
    fn status(status: u16) -> Answer {
        Answer::Status { status, headers: Vec::new() }
    }

    /// Whether the sender must count this as a failed attempt.
    pub fn is_failure(&self) -> bool {
        !matches!(self, Answer::Status { status, .. } if (200..300).contains(status))
    }
}

/// The profile's timing as the endpoint expects to see it: every duration divided by the time
/// scale, with the tolerance a real clock needs.
#[derive(Clone, Debug)]
pub struct Timing {
    /// The profile's policy, unscaled.
    pub policy: Policy,
    /// The profile's delays and timeout are divided by this (1: real time).
    pub time_scale: u32,
    /// The least tolerance on a measured duration, in wall milliseconds.
    pub tolerance_floor_ms: u64,
}

/// Tolerance on a measured duration: this share of the expected one, when above the floor.
pub const TOLERANCE_PERCENT: u64 = 10;

impl Timing {
    fn scaled(&self, ms: u64) -> u64 {
        (ms / self.time_scale.max(1) as u64).max(1)
    }

    /// The backoff after the `failures`-th failure, scaled, without jitter.
    pub fn backoff_ms(&self, failures: u32) -> u64 {
        self.scaled(self.policy.schedule().base_delay_ms(failures))
    }

    /// How far a measured duration may stray from `expected_ms`: max(floor, 10%) plus the
    /// profile's jitter.
    pub fn tolerance_ms(&self, expected_ms: u64) -> u64 {
        let jitter = expected_ms.saturating_mul(self.policy.schedule().jitter_percent as u64) / 100;
        self.tolerance_floor_ms.max(expected_ms.saturating_mul(TOLERANCE_PERCENT) / 100).saturating_add(jitter)
    }

    /// The sender's attempt timeout the profile declares, scaled.
    pub fn timeout_ms(&self) -> u64 {
        self.scaled(self.policy.attempt_timeout_ms())
    }

    /// Whether the profile honours `Retry-After` (`svix`, `standard-webhooks`).
    pub fn honours_retry_after(&self) -> bool {
        self.policy.spec().retry_after_past_backoff_max_ms.is_some()
    }

    /// The delay after a `429` that was the `failures`-th failure: the backoff, or where the
    /// profile honours `Retry-After` (given in real milliseconds: the receiver's wish is not
    /// scaled) the larger of the two, capped past the backoff.
    pub fn after_retry_after_ms(&self, failures: u32, retry_after_ms: u64) -> u64 {
        let backoff = self.backoff_ms(failures);
        match self.policy.spec().retry_after_past_backoff_max_ms {
            Some(cap) => backoff.max(retry_after_ms.min(backoff.saturating_add(self.scaled(cap)))),
            None => backoff,
        }
    }

    /// The `Retry-After` the endpoint sends: twice the first backoff, in whole seconds (at least
    /// 1), so a sender that honours it and one that does not are told apart.
    pub fn retry_after_s(&self) -> u64 {
        (2 * self.backoff_ms(1)).div_ceil(1000).max(1)
    }

    /// How long a 2xx is held before it is written: long enough for a burst's requests to be in
    /// flight together (instant answers never overlap), short against the sender's timeout.
    pub fn success_hold_ms(&self) -> u64 {
        SUCCESS_HOLD_MS_MAX.min(self.timeout_ms() / SUCCESS_HOLD_TIMEOUT_SHARE)
    }

    /// How long, after a 2xx is written, the endpoint watches for the sender resetting the
    /// connection with it unread: the sender's declared timeout, at most the tolerance floor.
    pub fn close_watch_ms(&self) -> u64 {
        self.timeout_ms().min(self.tolerance_floor_ms)
    }

    /// How long a request is held before the endpoint stops waiting for the sender to give up.
    pub fn hold_cap_ms(&self) -> u64 {
        let timeout = self.timeout_ms();
        timeout.saturating_mul(2).saturating_add(self.tolerance_ms(timeout))
    }
}

/// The longest a 2xx is held ([`Timing::success_hold_ms`]).
pub const SUCCESS_HOLD_MS_MAX: u64 = 50;
/// ... and at most this share of the sender's declared timeout (a quarter).
pub const SUCCESS_HOLD_TIMEOUT_SHARE: u64 = 4;

/// The most schedule delays measured (the server-error event fails this many times at most).
pub const SCHEDULE_FAILURES_MAX: u32 = 5;

/// What a run plays, decided before it starts from the profile and the budget.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// How many 500s the server-error event gets: the profile's first delays whose sum (and
    /// tolerance) fits in half the budget (at least 1).
    pub schedule_failures: u32,
    /// The `Retry-After` the 429 sends, whole seconds.
    pub retry_after_s: u64,
    /// `/moved` on the endpoint's host: where the redirect points.
    pub redirect_location: String,
    /// How long a held request is kept at most, wall milliseconds.
    pub hold_cap_ms: u64,
}

impl Plan {
    /// The plan for a run of `budget_ms` against `timing`, the redirect pointing at `base_url`.
    pub fn new(timing: &Timing, budget_ms: u64, base_url: &str) -> Plan {
        // A profile that gives up after N attempts must still reach the 2xx.
        let attempts_left = timing.policy.attempts_max().map_or(u32::MAX, |n| n.saturating_sub(1)).max(1);
        let mut failures = 1;
        let mut elapsed = timing.backoff_ms(1);
        while failures < SCHEDULE_FAILURES_MAX.min(attempts_left) {
            let next = timing.backoff_ms(failures + 1);
            elapsed = elapsed.saturating_add(next);
            // Half the budget: the rest is for the other events, the 410 played after them,
            // and a sender that takes its time to start.
            if elapsed.saturating_add(timing.tolerance_ms(next)) > budget_ms / 2 {
                break;
            }
            failures += 1;
        }
        Plan {
            schedule_failures: failures,
            retry_after_s: timing.retry_after_s(),
            redirect_location: format!("{base_url}{REDIRECT_TARGET_PATH}"),
            hold_cap_ms: timing.hold_cap_ms(),
        }
    }

    /// The answer to attempt `attempt` (1-based) of an event playing `failure` (`None`: a 2xx).
    pub fn answer(&self, failure: Option<Failure>, attempt: u32) -> Answer {
        let ok = Answer::status(200);
        let Some(failure) = failure else { return ok };
        match failure {
            Failure::ServerError if attempt <= self.schedule_failures => Answer::status(500),
            _ if attempt > 1 => ok,
            Failure::ServerError => ok,
            Failure::Timeout => Answer::Hold { cap_ms: self.hold_cap_ms },
            Failure::Reset => Answer::Reset,
            Failure::RateLimited => {
                Answer::Status { status: 429, headers: vec![("retry-after".into(), self.retry_after_s.to_string())] }
            }
            Failure::Redirect => {
                Answer::Status { status: 307, headers: vec![("location".into(), self.redirect_location.clone())] }
            }
            Failure::Gone => Answer::status(410),
        }
    }

    /// What the redirect target answers: a failure, so a sender that follows the redirect still
    /// has a failed attempt to retry and fails only the redirect check.
    pub fn redirect_target_answer(&self) -> Answer {
        Answer::status(500)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Profile;

    fn timing(profile: Profile, time_scale: u32) -> Timing {
        Timing { policy: profile.policy(), time_scale, tolerance_floor_ms: 100 }
    }

    #[test]
    fn the_schedule_probe_takes_the_first_delays_that_fit_the_budget() {
        // snapbill: 10 s, 1 min, 5 min, 15 min, 30 min.
        let t = timing(Profile::Snapbill, 1);
        assert_eq!(Plan::new(&t, 10 * 60_000, "").schedule_failures, 2, "10s + 1m fit in half of 10 min");
        assert_eq!(Plan::new(&t, 20 * 60_000, "").schedule_failures, 3, "10s + 1m + 5m fit in half of 20 min");
        assert_eq!(Plan::new(&t, 1_000, "").schedule_failures, 1, "at least one");
        assert_eq!(Plan::new(&t, 24 * 3_600_000, "").schedule_failures, SCHEDULE_FAILURES_MAX);
        let scaled = timing(Profile::Snapbill, 100);
        assert_eq!(Plan::new(&scaled, 6_000, "").schedule_failures, 2, "100 ms + 600 ms fit, 3 s does not");
    }

    #[test]
    fn each_event_fails_once_its_own_way_then_succeeds() {
        let plan = Plan::new(&timing(Profile::Snapbill, 100), 3_000, "http://h");
        assert_eq!(plan.answer(Some(Failure::ServerError), 2), Answer::status(500));
        assert_eq!(plan.answer(Some(Failure::ServerError), 3), Answer::status(200));
        assert_eq!(plan.answer(Some(Failure::Reset), 1), Answer::Reset);
        assert_eq!(plan.answer(Some(Failure::Reset), 2), Answer::status(200));
        assert!(matches!(plan.answer(Some(Failure::Timeout), 1), Answer::Hold { .. }));
        let Answer::Status { status: 307, headers } = plan.answer(Some(Failure::Redirect), 1) else { panic!() };
        assert_eq!(headers, [("location".to_string(), "http://h/moved".to_string())]);
        assert_eq!(plan.answer(None, 1), Answer::status(200));
        assert!(plan.redirect_target_answer().is_failure());
    }

    #[test]
    fn retry_after_is_honoured_only_where_the_profile_says() {
        let svix = timing(Profile::StandardWebhooks, 100);
        assert_eq!(svix.backoff_ms(1), 50);
        assert_eq!(svix.retry_after_s(), 1);
        assert_eq!(svix.after_retry_after_ms(1, 1_000), 1_000);
        let snapbill = timing(Profile::Snapbill, 100);
        assert_eq!(snapbill.after_retry_after_ms(1, 1_000), 100, "snapbill keeps its backoff");
    }

    #[test]
    fn tolerance_is_the_larger_of_floor_and_ten_percent_plus_jitter() {
        let t = timing(Profile::Snapbill, 1);
        assert_eq!(t.tolerance_ms(500), 100);
        assert_eq!(t.tolerance_ms(60_000), 6_000);
        let svix = timing(Profile::Svix, 1); // 20% jitter
        assert_eq!(svix.tolerance_ms(5_000), 500 + 1_000);
    }
}
