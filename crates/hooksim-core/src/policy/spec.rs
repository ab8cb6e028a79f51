//! The policy as written (a spec, which may be wrong) and as built (a `Policy`, which is not).

use super::{Backoff, Schedule};
use crate::time::{DAY_MS, SECOND_MS};
use serde::{Deserialize, Serialize};

/// Everything the dispatcher needs to decide when to retry, warn and disable, and its limits.
/// Build one from a [`PolicySpec`] (or a [`super::Profile`]); the fields are then known good.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    spec: PolicySpec,
}

/// Field by field, what a policy says. Durations are milliseconds, limits are counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// When a failed delivery is attempted again (`schedule`: a list of delays or an exponential
    /// backoff).
    pub schedule: Schedule,
    /// Failing this long (first failed attempt to a failed attempt) sends one warning email.
    /// `None`: never warn.
    pub warn_after_ms: Option<u64>,
    /// Failing this long disables the webhook, once the warning went out at least the grace
    /// (`disable_after_ms - warn_after_ms`) before. `None`: never disable.
    pub disable_after_ms: Option<u64>,
    /// An attempt with no answer after this long has timed out (a failed attempt).
    pub attempt_timeout_ms: u64,
    /// A delivery gives up after this many attempts (`None`: retried until 2xx or disabled).
    pub attempts_max: Option<u32>,
    /// A delivery gives up when a retry would start later than this after its event
    /// (`None`: no window).
    pub retry_window_ms: Option<u64>,
    /// Attempts of one webhook in flight at once. At the limit, due attempts wait their turn.
    pub in_flight_per_webhook_max: u32,
    /// Unfinished deliveries one webhook may hold. At the limit, a new event for it is recorded
    /// as not delivered (`delivery_refused`, reason `queue_full`) rather than growing without end.
    pub pending_per_webhook_max: u32,
    /// A `410 Gone` answer disables the webhook at once, with no warning (the receiver said it
    /// is gone for good). `false`: a 410 is a failed attempt like any other non-2xx.
    #[serde(default)]
    pub disable_on_gone: bool,
    /// A `429` or `503` answer with `Retry-After` delays the next attempt to at least that long,
    /// but never more than this past the backoff's own delay (a receiver cannot park a delivery
    /// for ever). `None`: `Retry-After` is ignored and the backoff alone decides.
    #[serde(default)]
    pub retry_after_past_backoff_max_ms: Option<u64>,
}

/// The statuses whose `Retry-After` asks the sender to slow down.
pub const SLOW_DOWN_STATUSES: [u16; 2] = [429, 503];

/// `410 Gone`: the receiver says the endpoint is gone for good.
pub const GONE_STATUS: u16 = 410;

/// A policy that cannot be built; each names the field as written in a scenario's `[policy]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The field must be greater than zero.
    #[error("{field}: must be greater than zero")]
    Zero {
        /// The field, e.g. `attempt_timeout_ms`.
        field: &'static str,
    },
    /// `schedule.backoff.delays_ms` is empty.
    #[error("schedule.backoff.delays_ms: must list at least one delay")]
    EmptySchedule,
    /// A delay of `schedule.backoff.delays_ms` is zero.
    #[error("schedule.backoff.delays_ms[{index}]: must be greater than zero")]
    ZeroDelay {
        /// Its position in the list, from 0.
        index: usize,
    },
    /// `schedule.backoff.multiplier` is below 1.
    #[error("schedule.backoff.multiplier: must be at least 1")]
    Multiplier,
    /// `schedule.backoff.max_ms` is below `initial_ms`.
    #[error("schedule.backoff.max_ms: must not be less than initial_ms")]
    CapBelowInitial,
    /// `schedule.jitter_percent` is above 100.
    #[error("schedule.jitter_percent: must be at most 100, got {0}")]
    Jitter(u8),
    /// `disable_after_ms` is not later than `warn_after_ms`.
    #[error("disable_after_ms: must be later than warn_after_ms ({disable_ms} <= {warn_ms})")]
    DisableNotAfterWarn {
        /// `warn_after_ms` as given.
        warn_ms: u64,
        /// `disable_after_ms` as given.
        disable_ms: u64,
    },
    /// `disable_after_ms` is set without `warn_after_ms`: a webhook is never disabled unwarned.
    #[error("disable_after_ms: a webhook must be warned before it is disabled; set warn_after_ms")]
    DisableWithoutWarn,
}

impl PolicySpec {
    /// Checks every field and returns the policy, or the first field that is wrong.
    pub fn build(self) -> Result<Policy, PolicyError> {
        self.check_schedule()?;
        positive("attempt_timeout_ms", self.attempt_timeout_ms)?;
        positive("in_flight_per_webhook_max", self.in_flight_per_webhook_max as u64)?;
        positive("pending_per_webhook_max", self.pending_per_webhook_max as u64)?;
        if let Some(n) = self.attempts_max {
            positive("attempts_max", n as u64)?;
        }
        if let Some(ms) = self.retry_window_ms {
            positive("retry_window_ms", ms)?;
        }
        if let Some(warn_ms) = self.warn_after_ms {
            positive("warn_after_ms", warn_ms)?;
        }
        match (self.warn_after_ms, self.disable_after_ms) {
            (_, Some(0)) => {
                return Err(PolicyError::Zero { field: "disable_after_ms" });
            }
            (None, Some(_)) => return Err(PolicyError::DisableWithoutWarn),
            (Some(warn_ms), Some(disable_ms)) if disable_ms <= warn_ms => {
                return Err(PolicyError::DisableNotAfterWarn { warn_ms, disable_ms });
            }
            _ => {}
        }
        Ok(Policy { spec: self })
    }

    fn check_schedule(&self) -> Result<(), PolicyError> {
        if self.schedule.jitter_percent > 100 {
            return Err(PolicyError::Jitter(self.schedule.jitter_percent));
        }
        match &self.schedule.backoff {
            Backoff::List { delays_ms } => {
                if delays_ms.is_empty() {
                    return Err(PolicyError::EmptySchedule);
                }
                match delays_ms.iter().position(|d| *d == 0) {
                    Some(index) => Err(PolicyError::ZeroDelay { index }),
                    None => Ok(()),
                }
            }
            Backoff::Exponential { initial_ms, multiplier, max_ms } => {
                positive("schedule.backoff.initial_ms", *initial_ms)?;
                if *multiplier == 0 {
                    return Err(PolicyError::Multiplier);
                }
                if max_ms < initial_ms {
                    return Err(PolicyError::CapBelowInitial);
                }
                Ok(())
            }
        }
    }
}

fn positive(field: &'static str, value: u64) -> Result<(), PolicyError> {
    if value == 0 { Err(PolicyError::Zero { field }) } else { Ok(()) }
}

impl Policy {
    /// The spec it was built from.
    pub fn spec(&self) -> &PolicySpec {
        &self.spec
    }

    /// When failed deliveries are retried.
    pub fn schedule(&self) -> &Schedule {
        &self.spec.schedule
    }

    /// Failing this long (ms) sends one warning email; `None`: never warn.
    pub fn warn_after_ms(&self) -> Option<u64> {
        self.spec.warn_after_ms
    }

    /// Failing this long (ms) disables the webhook; `None`: never disable.
    pub fn disable_after_ms(&self) -> Option<u64> {
        self.spec.disable_after_ms
    }

    /// The owner's time to act on the warning: a disable comes at least this long after it
    /// (`disable_after_ms - warn_after_ms`; a day for snapbill). `None` when nothing disables.
    pub fn disable_grace_ms(&self) -> Option<u64> {
        Some(self.spec.disable_after_ms?.saturating_sub(self.spec.warn_after_ms?))
    }

    /// How long an attempt may wait for its answer, in milliseconds; then it is a timeout.
    pub fn attempt_timeout_ms(&self) -> u64 {
        self.spec.attempt_timeout_ms
    }

    /// A delivery is abandoned after this many attempts; `None`: no limit.
    pub fn attempts_max(&self) -> Option<u32> {
        self.spec.attempts_max
    }

    /// A delivery is abandoned when this long (ms) has passed since its first attempt; `None`: no
    /// limit.
    pub fn retry_window_ms(&self) -> Option<u64> {
        self.spec.retry_window_ms
    }

    /// Attempts in flight per webhook at most; due attempts wait their turn.
    pub fn in_flight_per_webhook_max(&self) -> u32 {
        self.spec.in_flight_per_webhook_max
    }

    /// Deliveries waiting per webhook at most; a new event past it is refused (`queue_full`).
    pub fn pending_per_webhook_max(&self) -> u32 {
        self.spec.pending_per_webhook_max
    }

    /// Whether an answer with this status disables its webhook at once.
    pub fn disables_at_once(&self, status: u16) -> bool {
        self.spec.disable_on_gone && status == GONE_STATUS
    }

    /// The delay before the next attempt, given the backoff's (jittered) delay and the answer
    /// that failed: the larger of the backoff and a `429`/`503`'s `Retry-After`, at most
    /// `retry_after_past_backoff_max_ms` past the backoff. Any other answer, or a policy that
    /// ignores `Retry-After`, leaves the backoff as it is.
    pub fn retry_delay_ms(&self, backoff_ms: u64, status: Option<u16>, retry_after_ms: Option<u64>) -> u64 {
        let asked = status.is_some_and(|s| SLOW_DOWN_STATUSES.contains(&s));
        match (self.spec.retry_after_past_backoff_max_ms, retry_after_ms) {
            (Some(past_max_ms), Some(wait_ms)) if asked => {
                backoff_ms.max(wait_ms.min(backoff_ms.saturating_add(past_max_ms)))
            }
            _ => backoff_ms,
        }
    }
}

impl Default for Policy {
    /// The `snapbill` profile.
    fn default() -> Self {
        super::Profile::Snapbill.policy()
    }
}

/// Defaults shared by profiles that publish no figure of their own.
pub(super) const DEFAULT_TIMEOUT_MS: u64 = 30 * SECOND_MS;
pub(super) const DEFAULT_IN_FLIGHT_MAX: u32 = 8;
pub(super) const DEFAULT_PENDING_MAX: u32 = 100_000;
pub(super) const WEEK_MS: u64 = 7 * DAY_MS;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Profile;

    fn spec() -> PolicySpec {
        Profile::Snapbill.policy().spec().clone()
    }

    #[test]
    fn every_bad_value_is_refused_with_its_field() {
        type Mutation = fn(&mut PolicySpec);
        let cases: Vec<(Mutation, &str)> = vec![
            (|s| s.attempt_timeout_ms = 0, "attempt_timeout_ms"),
            (|s| s.in_flight_per_webhook_max = 0, "in_flight_per_webhook_max"),
            (|s| s.pending_per_webhook_max = 0, "pending_per_webhook_max"),
            (|s| s.attempts_max = Some(0), "attempts_max"),
            (|s| s.warn_after_ms = Some(0), "warn_after_ms"),
            (|s| s.disable_after_ms = s.warn_after_ms, "disable_after_ms"),
            (|s| s.warn_after_ms = None, "disable_after_ms"),
            (|s| s.schedule.backoff = Backoff::List { delays_ms: vec![] }, "delays_ms"),
            (|s| s.schedule.backoff = Backoff::List { delays_ms: vec![5, 0] }, "delays_ms[1]"),
            (|s| s.schedule.jitter_percent = 101, "jitter_percent"),
            (|s| s.schedule.backoff = Backoff::Exponential { initial_ms: 0, multiplier: 2, max_ms: 9 }, "initial_ms"),
            (|s| s.schedule.backoff = Backoff::Exponential { initial_ms: 10, multiplier: 2, max_ms: 9 }, "max_ms"),
        ];
        for (mutate, field) in cases {
            let mut s = spec();
            mutate(&mut s);
            let err = s.build().expect_err(field).to_string();
            assert!(err.contains(field), "{err:?} should name {field}");
        }
    }

    #[test]
    fn the_default_is_the_snapbill_profile_and_valid() {
        assert_eq!(Policy::default(), spec().build().unwrap());
        assert_eq!(Policy::default().warn_after_ms(), Some(WEEK_MS));
        assert_eq!(Policy::default().disable_grace_ms(), Some(DAY_MS));
    }

    #[test]
    fn snapbill_ignores_gone_and_retry_after() {
        let p = Policy::default();
        assert!(!p.disables_at_once(410), "only a 2xx or the disable ends a snapbill delivery");
        assert_eq!(p.retry_delay_ms(10_000, Some(429), Some(3_600_000)), 10_000);
    }

    #[test]
    fn retry_after_is_a_minimum_capped_past_the_backoff() {
        let p = Profile::Svix.policy();
        let hour = 3_600_000;
        assert_eq!(p.retry_delay_ms(300_000, Some(429), Some(60_000)), 300_000, "the backoff when it is longer");
        assert_eq!(p.retry_delay_ms(300_000, Some(503), Some(hour)), hour, "Retry-After when it is longer");
        assert_eq!(p.retry_delay_ms(300_000, Some(429), Some(100 * hour)), 300_000 + 2 * hour, "capped");
        assert_eq!(p.retry_delay_ms(300_000, Some(500), Some(hour)), 300_000, "only 429 and 503 slow down");
        assert_eq!(p.retry_delay_ms(300_000, None, Some(hour)), 300_000, "a timeout asks nothing");
        assert_eq!(p.retry_delay_ms(u64::MAX - 1, Some(429), Some(u64::MAX)), u64::MAX, "saturates");
    }

    #[test]
    fn gone_disables_only_where_the_profile_says() {
        for profile in Profile::ALL {
            let gone = matches!(profile, Profile::Svix | Profile::StandardWebhooks);
            assert_eq!(profile.policy().disables_at_once(410), gone, "{profile:?}");
            assert!(!profile.policy().disables_at_once(404), "{profile:?}");
        }
    }
}
