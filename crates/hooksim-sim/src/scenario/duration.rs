//! Durations as people write them: `90s`, `5m`, `7d 12h`, `250ms`; and latency ranges
//! `1ms..5ms`. Parsed while deserializing, so a bad one is reported at its own position.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;

const HINT: &str = r#"write durations like "90s", "5m", "7d 12h" or "250ms""#;

/// A non-negative duration, in whole milliseconds (the resolution of virtual time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub u64);

impl Duration {
    /// The duration in milliseconds.
    pub(crate) fn ms(self) -> u64 {
        self.0
    }
}

/// Written back the way the format reads it: `7d 12h`, `1m 30s`, `250ms`, `0s`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use hooksim_core::time::{DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS};
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        let mut first = true;
        for (unit, ms) in [("d", DAY_MS), ("h", HOUR_MS), ("m", MINUTE_MS), ("s", SECOND_MS), ("ms", 1)] {
            let n = rest / ms;
            rest %= ms;
            if n > 0 {
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{n}{unit}")?;
                first = false;
            }
        }
        Ok(())
    }
}

/// Parses one duration. The message says what was wrong and how to write it instead.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(format!("empty duration; {HINT}"));
    }
    if t.starts_with('-') {
        return Err(format!("duration {text:?} is negative; durations cannot be negative"));
    }
    // humantime reads a bare number as an error too, but its message ("time unit needed") does
    // not say which units exist: say it here.
    if t.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("duration {text:?} has no unit; {HINT} (units: ms, s, m, h, d, w)"));
    }
    let d = humantime::parse_duration(t).map_err(|e| format!("bad duration {text:?}: {e}; {HINT}"))?;
    if d.subsec_nanos() % 1_000_000 != 0 {
        return Err(format!("duration {text:?} is finer than a millisecond; virtual time counts whole milliseconds"));
    }
    u64::try_from(d.as_millis()).map(Duration).map_err(|_| format!("duration {text:?} is too long"))
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a duration in a string ({HINT})")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                parse_duration(v).map_err(E::custom)
            }

            // A bare number is ambiguous (seconds? milliseconds?): refuse it with the fix.
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                Err(E::custom(format!("a duration must be a string with a unit, such as \"{v}s\" or \"{v}ms\"")))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Err(E::custom(format!("a duration must be a string with a unit, such as \"{v}s\" or \"{v}ms\"")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A one-way network latency: every message takes between `min` and `max` (both included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencyRange {
    /// The shortest latency.
    pub min: Duration,
    /// The longest (at least `min`).
    pub max: Duration,
}

/// `"5ms"` (fixed) or `"1ms..5ms"` (uniform between the two).
pub fn parse_latency(text: &str) -> Result<LatencyRange, String> {
    let (min, max) = match text.split_once("..") {
        Some((a, b)) => (parse_duration(a)?, parse_duration(b.strip_prefix('=').unwrap_or(b))?),
        None => {
            let d = parse_duration(text)?;
            (d, d)
        }
    };
    if min > max {
        return Err(format!("latency range {text:?} runs backwards: its minimum is above its maximum"));
    }
    Ok(LatencyRange { min, max })
}

impl<'de> Deserialize<'de> for LatencyRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LatencyRange;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a latency such as "5ms" or a range such as "1ms..5ms""#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<LatencyRange, E> {
                parse_latency(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hooksim_core::time::{DAY_MS, HOUR_MS};

    #[test]
    fn durations_read_the_way_people_write_them() {
        assert_eq!(parse_duration("90s"), Ok(Duration(90_000)));
        assert_eq!(parse_duration("5m"), Ok(Duration(300_000)));
        assert_eq!(parse_duration("250ms"), Ok(Duration(250)));
        assert_eq!(parse_duration("7d 12h"), Ok(Duration(7 * DAY_MS + 12 * HOUR_MS)));
        assert_eq!(parse_duration(" 1h "), Ok(Duration(HOUR_MS)));
        assert_eq!(parse_duration("0s"), Ok(Duration(0)));
        for text in ["7d 12h", "1m 30s", "250ms", "0s", "1d 2h 3m 4s 5ms"] {
            assert_eq!(parse_duration(text).unwrap().to_string(), text, "written back as read");
        }
    }

    #[test]
    fn garbage_and_negatives_are_refused_with_a_hint() {
        for bad in ["", "-5s", "5", "abc", "5 parsecs", "1us", "99999999999999999999d", "1h -"] {
            let e = parse_duration(bad).expect_err(bad);
            assert!(e.contains("duration"), "{bad:?} gave a message that does not say what is wrong: {e}");
        }
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
    }

    #[test]
    fn latency_is_a_fixed_value_or_an_ordered_range() {
        assert_eq!(parse_latency("1ms..5ms"), Ok(LatencyRange { min: Duration(1), max: Duration(5) }));
        assert_eq!(parse_latency("3ms").map(|l| (l.min, l.max)), Ok((Duration(3), Duration(3))));
        assert!(parse_latency("5ms..1ms").unwrap_err().contains("backwards"));
        assert!(parse_latency("5ms..").is_err());
    }
}
