//! How many facts an expectation wants, and when they must happen.

use hooksim_core::time::SimTime;
use std::fmt;

/// How many matching facts are expected: `min..=max` (`max` `None`: no upper bound).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    /// At least this many.
    pub min: u64,
    /// At most this many; `None`: no upper bound.
    pub max: Option<u64>,
}

impl Count {
    pub(crate) const NONE: Count = Count { min: 0, max: Some(0) };

    /// Whether `n` facts meet the count.
    pub(crate) fn admits(self, n: u64) -> bool {
        n >= self.min && self.max.is_none_or(|m| n <= m)
    }

    /// `one` or `many`, to agree with the number this count displays ("exactly 1 delivery",
    /// "at least 2 deliveries", "no deliveries").
    pub fn noun<'a>(self, one: &'a str, many: &'a str) -> &'a str {
        let shown = match (self.min, self.max) {
            (0, Some(0)) => 0,
            (a, Some(b)) if a == b => a,
            (a, None) => a,
            (0, Some(b)) => b,
            _ => 2,
        };
        if shown == 1 { one } else { many }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (0, Some(0)) => f.write_str("no"),
            (a, Some(b)) if a == b => write!(f, "exactly {a}"),
            (a, None) => write!(f, "at least {a}"),
            (0, Some(b)) => write!(f, "at most {b}"),
            (a, Some(b)) => write!(f, "between {a} and {b}"),
        }
    }
}

/// Virtual times the fact must fall in, both ends included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// Not before this instant (`after`).
    pub after: Option<SimTime>,
    /// Not after this instant (`before`).
    pub before: Option<SimTime>,
}

impl Window {
    /// Whether `at` is in the window.
    pub(crate) fn contains(self, at: SimTime) -> bool {
        self.after.is_none_or(|a| at >= a) && self.before.is_none_or(|b| at <= b)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.after, self.before) {
            (None, None) => Ok(()),
            (Some(a), None) => write!(f, " at or after {a}"),
            (None, Some(b)) => write!(f, " at or before {b}"),
            (Some(a), Some(b)) => write!(f, " between {a} and {b}"),
        }
    }
}
