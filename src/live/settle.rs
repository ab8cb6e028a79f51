//! Waiting for an effects list to settle: a receiver that answers at once and works from a
//! queue records its acts after its answers, in real time.
//!
//! This file reads the wall clock (`Instant::now`): it is on ARCHITECTURE.md's allow-list. The
//! wait is bounded ([`Settle::max_ms`]), and it never reaches the trace's times.

use std::future::Future;
use std::time::{Duration, Instant};

/// How the effects lists are read at the world's end, so that a receiver that answers at once
/// and works from a queue is seen to act: read every `interval_ms` until a list has not changed
/// for `quiet_ms`, and at most for `max_ms` (then the last read is taken as it is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settle {
    pub interval_ms: u64,
    pub quiet_ms: u64,
    pub max_ms: u64,
}

impl Default for Settle {
    fn default() -> Self {
        Settle { interval_ms: 50, quiet_ms: 500, max_ms: 10_000 }
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
}
