//! Retry schedules: the delay after each failed attempt of one delivery.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// How the delay before retry `n` (1-based: after the n-th failure) is computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Backoff {
    /// `delays_ms[n-1]`; the last delay repeats for every later failure.
    /// The delays in milliseconds, at least one.
    List {
        /// The delays in milliseconds; the last repeats.
        delays_ms: Vec<u64>,
    },
    /// `initial_ms * multiplier^(n-1)`, never more than `max_ms`.
    /// First delay in milliseconds, its growth factor per failure, and the cap in milliseconds.
    Exponential {
        /// The first delay, in milliseconds.
        initial_ms: u64,
        /// Each delay is the one before times this (at least 1).
        multiplier: u32,
        /// No delay is longer, in milliseconds.
        max_ms: u64,
    },
}

/// When a failed delivery is attempted again: a backoff and its jitter (`schedule` in a policy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The delays before jitter.
    pub backoff: Backoff,
    /// Each delay is drawn uniformly from `base ± floor(base × jitter_percent / 100)` (both ends
    /// included, never below 1 ms), from the core's RNG.
    #[serde(default)]
    pub jitter_percent: u8,
}

impl Schedule {
    /// The base delay (no jitter) after the `failures`-th failure (`failures >= 1`).
    pub fn base_delay_ms(&self, failures: u32) -> u64 {
        let n = failures.max(1);
        match &self.backoff {
            Backoff::List { delays_ms } => {
                let i = (n as usize - 1).min(delays_ms.len() - 1);
                delays_ms[i]
            }
            Backoff::Exponential { initial_ms, multiplier, max_ms } => {
                let factor = (*multiplier as u64).checked_pow(n - 1).unwrap_or(u64::MAX);
                initial_ms.saturating_mul(factor).min(*max_ms)
            }
        }
    }

    /// The delay after the `failures`-th failure, jittered. Never zero, so a receiver that fails
    /// at once cannot pin the dispatcher to one instant.
    pub fn delay_ms(&self, failures: u32, rng: &mut impl Rng) -> u64 {
        let base = self.base_delay_ms(failures);
        if self.jitter_percent == 0 {
            return base.max(1);
        }
        let spread = base / 100 * self.jitter_percent as u64 + base % 100 * self.jitter_percent as u64 / 100;
        let low = base - spread;
        let high = base.saturating_add(spread);
        rng.random_range(low..=high).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Profile;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn list_repeats_its_last_delay() {
        let s = Schedule { backoff: Backoff::List { delays_ms: vec![10, 20, 30] }, jitter_percent: 0 };
        let got: Vec<u64> = (1..=5).map(|n| s.base_delay_ms(n)).collect();
        assert_eq!(got, [10, 20, 30, 30, 30]);
    }

    #[test]
    fn exponential_doubles_up_to_its_cap() {
        let s = Schedule {
            backoff: Backoff::Exponential { initial_ms: 100, multiplier: 2, max_ms: 1000 },
            jitter_percent: 0,
        };
        let got: Vec<u64> = (1..=6).map(|n| s.base_delay_ms(n)).collect();
        assert_eq!(got, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(s.base_delay_ms(200), 1000, "huge powers saturate instead of overflowing");
    }

    #[test]
    fn jitter_stays_within_its_band_and_is_seeded() {
        let s = Schedule { backoff: Backoff::List { delays_ms: vec![1000] }, jitter_percent: 20 };
        let mut a = ChaCha8Rng::seed_from_u64(7);
        let mut b = ChaCha8Rng::seed_from_u64(7);
        let xs: Vec<u64> = (0..200).map(|_| s.delay_ms(1, &mut a)).collect();
        let ys: Vec<u64> = (0..200).map(|_| s.delay_ms(1, &mut b)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|d| (800..=1200).contains(d)));
        assert!(xs.iter().any(|d| *d != 1000), "jitter must actually move delays");
    }

    /// `docs/protocol.md`: the spread is `floor(base * jitter_percent / 100)` either way, both
    /// ends included, and no delay is ever 0.
    #[test]
    fn jitter_spreads_the_floor_of_its_percent_either_way_and_never_gives_zero() {
        let draws = |base: u64, jitter_percent: u8| {
            let s = Schedule { backoff: Backoff::List { delays_ms: vec![base] }, jitter_percent };
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            (0..5000).map(|_| s.delay_ms(1, &mut rng)).collect::<std::collections::BTreeSet<u64>>()
        };
        let got = draws(999, 10); // spread floor(99.9) = 99
        assert_eq!((got.first(), got.last()), (Some(&900), Some(&1098)));
        assert_eq!(draws(5000, 20).first(), Some(&4000));
        assert_eq!(draws(1, 100), [1, 2].into(), "0 is drawn as 1");
        assert_eq!(draws(1234, 0), [1234].into());
    }

    #[test]
    fn the_delay_is_chosen_by_the_count_of_failures() {
        let s = Profile::Stripe.policy().schedule().clone();
        let minutes: Vec<u64> = (1..=12).map(|n| s.base_delay_ms(n) / 60_000).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 720, 720], "stripe: doubling to 12 h");
    }
}
