//! Virtual time. The core never reads a clock: shells pass `now` in as a [`SimTime`].

use serde::{Deserialize, Serialize};
use std::fmt;

mod queue;

pub use queue::TimeQueue;

/// Milliseconds since the start of a simulated world (or of a real run, for the real-network shell).
///
/// ```
/// use hooksim_core::time::{DAY_MS, SimTime, format_ms};
/// let warned = SimTime::from_millis(7 * DAY_MS).plus_ms(1);
/// assert_eq!(warned.to_string(), "7d 00:00:00.001");
/// assert_eq!(warned.ms_since(SimTime::ZERO), 7 * DAY_MS + 1);
/// assert_eq!(format_ms(90_000), "1m 30s");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimTime(u64);

/// One second, in milliseconds.
pub const SECOND_MS: u64 = 1_000;
/// One minute, in milliseconds.
pub const MINUTE_MS: u64 = 60 * SECOND_MS;
/// One hour, in milliseconds.
pub const HOUR_MS: u64 = 60 * MINUTE_MS;
/// One day, in milliseconds.
pub const DAY_MS: u64 = 24 * HOUR_MS;

impl SimTime {
    /// The instant the world begins.
    pub const ZERO: SimTime = SimTime(0);

    /// The instant `ms` milliseconds after the world began.
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms)
    }

    /// Milliseconds since the world began.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + ms`, saturating: a far-future deadline must not wrap into the past.
    pub const fn plus_ms(self, ms: u64) -> Self {
        SimTime(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self`, zero if `earlier` is later.
    pub const fn ms_since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// `2d 03:04:05.006`: days first because webhook stories are told in days.
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        let (d, rest) = (ms / DAY_MS, ms % DAY_MS);
        let (h, rest) = (rest / HOUR_MS, rest % HOUR_MS);
        let (m, rest) = (rest / MINUTE_MS, rest % MINUTE_MS);
        let (s, milli) = (rest / SECOND_MS, rest % SECOND_MS);
        write!(f, "{d}d {h:02}:{m:02}:{s:02}.{milli:03}")
    }
}

/// A duration in milliseconds, written for people: `7d 12h`, `90s`, `250ms`.
pub fn format_ms(ms: u64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(ms)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_as_days_and_clock() {
        let t = SimTime::from_millis(2 * DAY_MS + 3 * HOUR_MS + 4 * MINUTE_MS + 5 * SECOND_MS + 6);
        assert_eq!(t.to_string(), "2d 03:04:05.006");
        assert_eq!(SimTime::ZERO.to_string(), "0d 00:00:00.000");
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(SimTime::from_millis(u64::MAX).plus_ms(5).as_millis(), u64::MAX);
        assert_eq!(SimTime::from_millis(3).ms_since(SimTime::from_millis(9)), 0);
    }
}
