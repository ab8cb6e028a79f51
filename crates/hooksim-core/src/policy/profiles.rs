//! Named policies as data: hooksim's reading of SnapBill, and the published policies of other
//! senders (figures from the published policies (docs/providers.md gives their sources); each profile names its source).
//!
//! Where a sender's rule does not fit hooksim's model (warn and disable by failing *time*), the
//! comment says how it was mapped.

use super::spec::{DEFAULT_IN_FLIGHT_MAX, DEFAULT_PENDING_MAX, DEFAULT_TIMEOUT_MS, WEEK_MS};
use super::{Backoff, Policy, PolicySpec, Schedule};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A published retry policy, by name (`policy.profile` in a scenario file; sources in `docs/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Profile {
    /// `snapbill`: retried until a 2xx, with no attempt limit; warned after a week failing,
    /// disabled a day later.
    Snapbill,
    /// `svix`: 8 attempts from 5 s to 10 h apart, disabled after 5 days failing or at once on
    /// `410 Gone`.
    Svix,
    /// `stripe`: exponential backoff within a 3-day retry window; warned at 2 days, disabled at 3.
    Stripe,
    /// `shopify`: 9 attempts 1 min doubling (about 4 h); warned at 1 h, disabled at 4 h of failure.
    Shopify,
    /// `hook0`: 3 s to 10 h apart, 25 attempts within 8 days; never disabled.
    Hook0,
    /// `standard-webhooks`: the specification's 10 attempts over about 3 days; disabled at 5 days
    /// or on `410 Gone`.
    StandardWebhooks,
    /// `github`: one attempt per delivery, 10 s to answer; never retried, never disabled.
    Github,
    /// `slack`: the Events API's 3 retries (at once, after 1 min, after 5 min), 3 s to answer.
    Slack,
}

/// A profile name that is not one of [`Profile::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown policy profile {0:?} (known: {known})", known = Profile::names(Profile::ALL.iter().copied()))]
pub struct UnknownProfile(pub String);

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Names come from the enum alone (`Profile::ALL` and its kebab-case names): a new profile is
/// one variant, and every list of names, parser and error message follows.
impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| UnknownProfile(s.to_string()))
    }
}

impl Profile {
    /// Every profile, in the order of the table in `docs/`.
    pub const ALL: [Profile; 8] = [
        Self::Snapbill,
        Self::Svix,
        Self::Stripe,
        Self::Shopify,
        Self::Hook0,
        Self::StandardWebhooks,
        Self::Github,
        Self::Slack,
    ];

    /// Its name in files and flags (`standard-webhooks`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Names joined for a message: `snapbill, svix, stripe`.
    pub fn names(profiles: impl Iterator<Item = Profile>) -> String {
        profiles.map(Profile::name).collect::<Vec<_>>().join(", ")
    }

    /// The profile's policy as written, e.g. SnapBill's: a warning after a week failing.
    ///
    /// ```
    /// use hooksim_core::policy::Profile;
    /// use hooksim_core::time::DAY_MS;
    /// let snapbill = Profile::Snapbill.spec();
    /// assert_eq!(snapbill.warn_after_ms, Some(7 * DAY_MS));
    /// assert!(Profile::ALL.iter().any(|p| p.signing_scheme().is_some()), "some profiles sign");
    /// ```
    pub fn spec(self) -> PolicySpec {
        match self {
            Self::Snapbill => snapbill(),
            Self::Svix => svix(),
            Self::Stripe => stripe(),
            Self::Shopify => shopify(),
            Self::Hook0 => hook0(),
            Self::StandardWebhooks => standard_webhooks(),
            Self::Github => github(),
            Self::Slack => slack(),
        }
    }

    /// The profile's policy, built (every built-in profile is valid).
    pub fn policy(self) -> Policy {
        self.spec().build().expect("every built-in profile is a valid policy")
    }

    /// The signature scheme the sender uses, when it publishes one (docs/providers.md gives the
    /// sources): Svix and the Standard Webhooks specification sign with Standard Webhooks, Stripe
    /// with `Stripe-Signature`, Shopify, GitHub and Slack with their own. SnapBill's documentation
    /// describes no signature; Hook0's is not modelled. A scenario's `[signing]` table gives the
    /// secret (and may name a scheme).
    pub fn signing_scheme(self) -> Option<crate::signing::Scheme> {
        use crate::signing::Scheme;
        match self {
            Self::Svix | Self::StandardWebhooks => Some(Scheme::StandardWebhooks),
            Self::Stripe => Some(Scheme::Stripe),
            Self::Shopify => Some(Scheme::Shopify),
            Self::Github => Some(Scheme::Github),
            Self::Slack => Some(Scheme::Slack),
            Self::Snapbill | Self::Hook0 => None,
        }
    }
}

fn list(delays_ms: &[u64], jitter_percent: u8) -> Schedule {
    Schedule { backoff: Backoff::List { delays_ms: delays_ms.to_vec() }, jitter_percent }
}

fn base(schedule: Schedule) -> PolicySpec {
    PolicySpec {
        schedule,
        warn_after_ms: None,
        disable_after_ms: None,
        attempt_timeout_ms: DEFAULT_TIMEOUT_MS,
        attempts_max: None,
        retry_window_ms: None,
        in_flight_per_webhook_max: DEFAULT_IN_FLIGHT_MAX,
        pending_per_webhook_max: DEFAULT_PENDING_MAX,
        disable_on_gone: false,
        retry_after_past_backoff_max_ms: None,
    }
}

/// Source: SnapBill webhook docs (`shared/seed/webhooks.txt`). The docs state: retried until 2xx,
/// a warning email after a week of failure, then disabled if still failing. They do not state
/// intervals, grace or timeout; hooksim's reading:
/// - retries after 10s, 1m, 5m, 15m, then every 30m (quick retries for blips, then a steady
///   pace: about 48 attempts a day per delivery);
/// - no attempt limit: only a 2xx or the disable ends a delivery;
/// - warning at 7 days of continuous failure; disabled at 8 days ("subsequently": one day's grace
///   to fix the endpoint after the email);
/// - 30 s attempt timeout;
/// - status codes: only a 2xx succeeds, so a `410 Gone` is retried like any failure, and a
///   `Retry-After` is not honoured (the docs name neither); a 3xx is a failure, never followed.
fn snapbill() -> PolicySpec {
    PolicySpec {
        warn_after_ms: Some(WEEK_MS),
        disable_after_ms: Some(WEEK_MS + DAY_MS),
        ..base(list(&[10 * SECOND_MS, MINUTE_MS, 5 * MINUTE_MS, 15 * MINUTE_MS, 30 * MINUTE_MS], 0))
    }
}

/// Source: Svix hosted docs and OSS server. Retries after 5s, 5m, 30m, 2h, 5h, 10h, 10h (8
/// attempts with the immediate first), +-20% jitter, 15 s timeout. The endpoint is disabled when
/// all attempts failed for 5 days. Mapping: the "failing" notice after the 4th failed attempt
/// becomes a warning at 35m of failure (5s + 5m + 30m). Status codes (Standard Webhooks, which
/// Svix maintains, and the Svix server): `410 Gone` disables the endpoint at once; on `429`/`503`
/// with `Retry-After` the next delay is the larger of the backoff and `Retry-After`, at most the
/// backoff plus 2 hours; a 3xx is a failure, never followed.
fn svix() -> PolicySpec {
    PolicySpec {
        disable_on_gone: true,
        retry_after_past_backoff_max_ms: Some(2 * HOUR_MS),
        warn_after_ms: Some(35 * MINUTE_MS),
        disable_after_ms: Some(5 * DAY_MS),
        attempt_timeout_ms: 15 * SECOND_MS,
        attempts_max: Some(8),
        ..base(list(
            &[5 * SECOND_MS, 5 * MINUTE_MS, 30 * MINUTE_MS, 2 * HOUR_MS, 5 * HOUR_MS, 10 * HOUR_MS, 10 * HOUR_MS],
            20,
        ))
    }
}

/// Source: Stripe docs: exponential backoff for up to 3 days; disabled after persistent failure
/// (threshold unpublished); 30 s timeout (secondary source). Mapping: 1m doubling to a 12h cap,
/// a 3-day retry window, warning at 2 days, disable at 3 days.
/// No published status-code rule: a 410 and a `Retry-After` count as plain failures; a 3xx is
/// a failure, never followed.
fn stripe() -> PolicySpec {
    PolicySpec {
        warn_after_ms: Some(2 * DAY_MS),
        disable_after_ms: Some(3 * DAY_MS),
        retry_window_ms: Some(3 * DAY_MS),
        ..base(Schedule {
            backoff: Backoff::Exponential { initial_ms: MINUTE_MS, multiplier: 2, max_ms: 12 * HOUR_MS },
            jitter_percent: 0,
        })
    }
}

/// Source: Shopify docs: 8 retries with exponential backoff over 4 hours; the subscription is
/// deleted after 8 consecutive failures (secondary source); 5 s timeout. Mapping: 1m doubling
/// (1m..128m, about 4.25h in all), 9 attempts; warn at 1h, disable at 4h of failure.
/// Shopify retries carry the original payload; hooksim always renders at send time.
/// No published status-code rule: a 410 and a `Retry-After` count as plain failures; a 3xx is
/// a failure, never followed.
fn shopify() -> PolicySpec {
    PolicySpec {
        warn_after_ms: Some(HOUR_MS),
        disable_after_ms: Some(4 * HOUR_MS),
        attempt_timeout_ms: 5 * SECOND_MS,
        attempts_max: Some(9),
        ..base(Schedule {
            backoff: Backoff::Exponential { initial_ms: MINUTE_MS, multiplier: 2, max_ms: 128 * MINUTE_MS },
            jitter_percent: 0,
        })
    }
}

/// Source: Hook0 source: 3s, 10s, 3m, 30m, 1h, 3h, 5h, then 10h each; at most 24 retries within
/// 8 days; 10% jitter; 15 s total timeout; no automatic disable (so no warning either).
/// No published status-code rule: a 410 and a `Retry-After` count as plain failures; a 3xx is
/// a failure, never followed.
fn hook0() -> PolicySpec {
    PolicySpec {
        attempt_timeout_ms: 15 * SECOND_MS,
        attempts_max: Some(25),
        retry_window_ms: Some(8 * DAY_MS),
        ..base(list(
            &[
                3 * SECOND_MS,
                10 * SECOND_MS,
                3 * MINUTE_MS,
                30 * MINUTE_MS,
                HOUR_MS,
                3 * HOUR_MS,
                5 * HOUR_MS,
                10 * HOUR_MS,
            ],
            10,
        ))
    }
}

/// Source: Standard Webhooks spec example: 0, 5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h (10
/// attempts, ~75.6h); notify and disable recommended; 15-30 s timeout. Mapping: warn when the
/// retries run out (3 days), disable at 5 days. Status codes: `410 Gone` disables the endpoint;
/// `Retry-After` "should be honoured" (no cap published: hooksim takes Svix's, the backoff plus
/// 2 hours); a 3xx is a failure, never followed.
fn standard_webhooks() -> PolicySpec {
    PolicySpec {
        disable_on_gone: true,
        retry_after_past_backoff_max_ms: Some(2 * HOUR_MS),
        warn_after_ms: Some(3 * DAY_MS),
        disable_after_ms: Some(5 * DAY_MS),
        attempt_timeout_ms: 15 * SECOND_MS,
        attempts_max: Some(10),
        ..base(list(
            &[
                5 * SECOND_MS,
                5 * MINUTE_MS,
                30 * MINUTE_MS,
                2 * HOUR_MS,
                5 * HOUR_MS,
                10 * HOUR_MS,
                14 * HOUR_MS,
                20 * HOUR_MS,
                24 * HOUR_MS,
            ],
            0,
        ))
    }
}

/// Source: GitHub docs ("Handling failed webhook deliveries"): "GitHub does not automatically
/// redeliver failed deliveries"; a delivery must be answered within 10 s. Redelivery is manual
/// (of the past 3 days), which a world scripts as it would any other step. No automatic disable
/// is documented, so none, and no warning. The schedule is never used (one attempt).
/// No published status-code rule: any non-2xx is a failed delivery; a 3xx is never followed.
fn github() -> PolicySpec {
    PolicySpec { attempt_timeout_ms: 10 * SECOND_MS, attempts_max: Some(1), ..base(list(&[MINUTE_MS], 0)) }
}

/// Source: Slack's Events API docs as summarised in docs/providers.md ([S]): 3 s to answer, then
/// 3 retries "nearly immediately", after 1 minute and after 5 minutes (4 attempts). Mapping:
/// "nearly immediately" is 1 s. Slack's own disabling of an app's event subscriptions (a failure
/// rate over an hour) is not modelled: no warning, no disable. `X-Slack-No-Retry: 1` on an answer
/// is not modelled either: any non-2xx is retried.
fn slack() -> PolicySpec {
    PolicySpec {
        attempt_timeout_ms: 3 * SECOND_MS,
        attempts_max: Some(4),
        ..base(list(&[SECOND_MS, MINUTE_MS, 5 * MINUTE_MS], 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_builds_and_round_trips_its_name() {
        for p in Profile::ALL {
            p.spec().build().unwrap();
            let name: &str = p.into();
            assert_eq!(serde_json::to_value(p).unwrap(), name, "one name for serde and for people");
            assert_eq!(name.parse::<Profile>().unwrap(), p);
        }
        assert!("nope".parse::<Profile>().is_err());
    }

    #[test]
    fn snapbill_retries_forever_every_half_hour() {
        let s = Profile::Snapbill.policy();
        assert_eq!(s.attempts_max(), None);
        assert_eq!(s.schedule().base_delay_ms(100), 30 * MINUTE_MS);
    }
}
