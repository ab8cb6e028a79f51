//! Waiting for an effects list to settle: a receiver that answers at once and works from a
//! queue records its acts after its answers, in real time.
//!
//! This file reads the wall clock (`Instant::now`): it is on ARCHITECTURE.md's allow-list. The
//! wait is bounded ([`Settle::max_ms`]), and it never reaches the trace's times.

use std::future::Future;
use std::time::{Duration, Instant};

/// How the effects lists are read, so that a receiver that answers at once and works from a
/// queue is seen to act: at the world's end (a certification case's end), read every
/// `interval_ms` until a list has not changed for `quiet_ms`, and at most for `max_ms` (then the
/// last read is taken as it is). Every read of a list, there or after an answer, is bounded by
/// `read_timeout_ms` (at the limit the list is unreadable: the run stops, exit 2).
///
/// The default quiet window, 2 s, lets a receiver whose acts land within 2 s of its answer
/// pass; an act later than that is told apart by [`Settle::until_changed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settle {
    /// Pause between reads at the end, in milliseconds.
    pub interval_ms: u64,
    /// How long a list must stay unchanged to count as settled, in milliseconds.
    pub quiet_ms: u64,
    /// The longest wait at the end, in milliseconds; then the last read counts.
    pub max_ms: u64,
    /// The deadline of each read, in milliseconds; past it the list is unreadable and the run stops
    /// (exit 2).
    pub read_timeout_ms: u64,
}

/// The default quiet window: acts within this long of their answer are seen.
pub const EFFECTS_QUIET_MS: u64 = 2_000;
/// The default deadline of one read of an effects list (`--effects-timeout-ms`), in `run`,
/// `dispatch` and `certify receiver` alike.
pub const EFFECTS_TIMEOUT_MS: u64 = 5_000;

impl Default for Settle {
    fn default() -> Self {
        Settle { interval_ms: 50, quiet_ms: EFFECTS_QUIET_MS, max_ms: 10_000, read_timeout_ms: EFFECTS_TIMEOUT_MS }
    }
}

impl Settle {
    /// Calls `read` every `interval_ms` until it gives the same value for `quiet_ms`, or until
    /// `max_ms` have passed (then the last value counts); an error ends the wait at once.
    pub async fn until_quiet<T, E, F, Fut>(&self, mut read: F) -> Result<T, E>
    where
        T: PartialEq,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let started = Instant::now();
        let mut last = read().await?;
        let mut same_since = Instant::now();
        loop {
            let waited = |since: Instant, ms: u64| since.elapsed() >= Duration::from_millis(ms);
            if waited(same_since, self.quiet_ms) || waited(started, self.max_ms) {
                return Ok(last);
            }
            tokio::time::sleep(Duration::from_millis(self.interval_ms.max(1))).await;
            let next = read().await?;
            if next != last {
                same_since = Instant::now();
            }
            last = next;
        }
    }

    /// Calls `read` every `interval_ms` until it gives something other than `before` (then
    /// waits for that to settle, [`Settle::until_quiet`]), or until `max_ms` have passed (then
    /// the last value counts). What a list settled to may still change: a receiver acting later
    /// than the quiet window is seen here, and told so, rather than counted as never acting.
    pub async fn until_changed<T, E, F, Fut>(&self, before: &T, mut read: F) -> Result<T, E>
    where
        T: PartialEq,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let started = Instant::now();
        loop {
            let next = read().await?;
            if next != *before {
                return self.until_quiet(read).await;
            }
            if started.elapsed() >= Duration::from_millis(self.max_ms) {
                return Ok(next);
            }
            tokio::time::sleep(Duration::from_millis(self.interval_ms.max(1))).await;
        }
    }
}
