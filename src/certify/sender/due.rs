//! When the declared profile says an event's next attempt is due, how long the endpoint waits for
//! it, and so whether an event is settled: done (its 2xx, and a watch after it), overdue (its
//! retry never came, even late), or quietly stopped after a `410` the profile disables on. The
//! endpoint ends a run when every event is settled; the grades use the same waits, so "not
//! retried" and "not observed" are told apart the same way.
//!
//! The waits, each measured from when the sender learnt the attempt's outcome:
//! - a retry is *on time* within `expected ± tolerance`;
//! - a late one is still waited for, up to [`LATE_WAIT_FACTOR`] × `expected` + tolerance (within
//!   the budget): it is a retry, graded late, not a missing one;
//! - after a 2xx, the event is watched for [`after_success_watch_ms`] (the profile's first delay
//!   and its tolerance): an attempt then is one too many.

use super::observe::{Arrival, EventRecord, Ledger, Outcome};
use super::script::{Failure, Plan, Timing};

/// A retry missing on time is waited for until this many times its expected delay.
pub(crate) const LATE_WAIT_FACTOR: u64 = 10;

/// The delay the profile gives before the attempt after `failed` (the `failed.attempt`-th
/// failure of an event playing `failure`).
pub(crate) fn next_delay_ms(timing: &Timing, plan: &Plan, failure: Option<Failure>, failed: &Arrival) -> u64 {
    match failure {
        Some(Failure::RateLimited) if failed.attempt == 1 => {
            timing.after_retry_after_ms(1, plan.retry_after_s.saturating_mul(1000))
        }
        _ => timing.backoff_ms(failed.attempt.max(1)),
    }
}

/// How long the endpoint waits for the attempt after `failed` before it calls it missing.
pub(crate) fn wait_ms(timing: &Timing, plan: &Plan, failure: Option<Failure>, failed: &Arrival) -> u64 {
    let expected = next_delay_ms(timing, plan, failure, failed);
    expected.saturating_mul(LATE_WAIT_FACTOR).saturating_add(timing.tolerance_ms(expected))
}

/// The moment the endpoint stops waiting for the attempt after `failed`.
pub(crate) fn wait_end_ms(timing: &Timing, plan: &Plan, failure: Option<Failure>, failed: &Arrival) -> Option<u64> {
    Some(failed.failed_at_ms()?.saturating_add(wait_ms(timing, plan, failure, failed)))
}

/// How long an event is watched after its 2xx: a sender that did not take the 2xx as the end
/// resends at once or at its first backoff.
pub(crate) fn after_success_watch_ms(timing: &Timing) -> u64 {
    let first = timing.backoff_ms(1);
    first.saturating_add(timing.tolerance_ms(first))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventState {
    /// A request is open, the next attempt is still awaited, or the 2xx is being watched.
    Waiting,
    /// Its last attempt got a 2xx, and nothing came in the watch after it.
    Done,
    /// Its last attempt failed and the next did not come, even late.
    Overdue,
    /// A `410` the profile disables on, and nothing since, for as long as a retry is waited for.
    Stopped,
}

impl EventState {
    pub(crate) fn settled(self) -> bool {
        self != EventState::Waiting
    }
}

pub(crate) fn state(ledger: &Ledger, event: &EventRecord, timing: &Timing, plan: &Plan, now_ms: u64) -> EventState {
    let Some(last) = event.attempts.last().map(|i| &ledger.arrivals[*i]) else { return EventState::Waiting };
    if last.outcome == Outcome::Open {
        return EventState::Waiting;
    }
    if !last.failed() {
        let watched = last.ended_ms.is_some_and(|end| now_ms > end.saturating_add(after_success_watch_ms(timing)));
        return if watched { EventState::Done } else { EventState::Waiting };
    }
    match wait_end_ms(timing, plan, event.failure, last) {
        Some(end) if now_ms > end => {
            let gone = event.failure == Some(Failure::Gone) && last.attempt == 1;
            if gone && timing.policy.disables_at_once(410) { EventState::Stopped } else { EventState::Overdue }
        }
        _ => EventState::Waiting,
    }
}
