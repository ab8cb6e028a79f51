//! When the declared profile says an event's next attempt is due, and so whether an event is
//! settled: done, overdue (its retry never came in time), or quietly stopped after a `410` the
//! profile disables on. The endpoint ends a run when every event is settled; the grades use the
//! same deadlines, so "not retried" and "not observed" are told apart the same way.

use super::observe::{Arrival, EventRecord, Ledger, Outcome};
use super::script::{Failure, Plan, Timing};

/// The delay the profile gives before the attempt after `failed` (the `failed.attempt`-th
/// failure of an event playing `failure`).
pub fn next_delay_ms(timing: &Timing, plan: &Plan, failure: Option<Failure>, failed: &Arrival) -> u64 {
    match failure {
        Some(Failure::RateLimited) if failed.attempt == 1 => {
            timing.after_retry_after_ms(1, plan.retry_after_s.saturating_mul(1000))
        }
        _ => timing.backoff_ms(failed.attempt.max(1)),
    }
}

/// The last moment the attempt after `failed` may arrive, tolerance included.
pub fn deadline_ms(timing: &Timing, plan: &Plan, failure: Option<Failure>, failed: &Arrival) -> Option<u64> {
    let expected = next_delay_ms(timing, plan, failure, failed);
    Some(failed.failed_at_ms()?.saturating_add(expected).saturating_add(timing.tolerance_ms(expected)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventState {
    /// A request is open, or the next attempt is not yet overdue.
    Waiting,
    /// Its last attempt got a 2xx.
    Done,
    /// Its last attempt failed and the next did not come in time.
    Overdue,
    /// A `410` the profile disables on, and nothing since, for as long as a retry would take.
    Stopped,
}

impl EventState {
    pub fn settled(self) -> bool {
        self != EventState::Waiting
    }
}

pub fn state(ledger: &Ledger, event: &EventRecord, timing: &Timing, plan: &Plan, now_ms: u64) -> EventState {
    let Some(last) = event.attempts.last().map(|i| &ledger.arrivals[*i]) else { return EventState::Waiting };
    if last.outcome == Outcome::Open {
        return EventState::Waiting;
    }
    if !last.answer.is_failure() {
        return EventState::Done;
    }
    match deadline_ms(timing, plan, event.failure, last) {
        Some(deadline) if now_ms > deadline => {
            let gone = event.failure == Some(Failure::Gone) && last.attempt == 1;
            if gone && timing.policy.disables_at_once(410) { EventState::Stopped } else { EventState::Overdue }
        }
        _ => EventState::Waiting,
    }
}
