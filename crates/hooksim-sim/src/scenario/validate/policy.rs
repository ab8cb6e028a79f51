//! `[policy]`: a profile, overrides, and `PolicySpec::build` errors mapped to the key at fault.

use super::Validator;
use crate::scenario::duration::Duration;
use crate::scenario::file::{Never, PolicyFile};
use hooksim_core::policy::{Backoff, Policy, PolicyError, PolicySpec, Profile, Schedule};
use std::ops::Range;
use toml::Spanned;

/// How many different errors `PolicySpec::build` can find in one table, at most.
const POLICY_ERROR_KINDS: usize = 12;

impl Validator<'_> {
    pub(super) fn policy(&mut self, p: &Spanned<PolicyFile>) -> Policy {
        let table = p.get_ref();
        let profile = match &table.profile {
            None => Profile::Snapbill,
            Some(name) => match name.get_ref().parse::<Profile>() {
                Ok(p) => p,
                Err(e) => {
                    self.err(name.span(), e.to_string());
                    return Policy::default();
                }
            },
        };
        let mut spec: PolicySpec = profile.spec();
        if table.retries.is_some()
            && let Some(b) = &table.backoff
        {
            self.err(b.span(), "give either `retries` (a list of delays) or `backoff` (exponential), not both");
        }
        if let Some(r) = &table.retries {
            spec.schedule.backoff = Backoff::List { delays_ms: r.get_ref().iter().map(|d| d.get_ref().ms()).collect() };
        }
        if let Some(b) = &table.backoff {
            let b = b.get_ref();
            spec.schedule.backoff = Backoff::Exponential {
                initial_ms: b.initial.get_ref().ms(),
                multiplier: *b.multiplier.get_ref(),
                max_ms: b.max.get_ref().ms(),
            };
        }
        if let Some(j) = &table.jitter_percent {
            spec.schedule = Schedule { jitter_percent: *j.get_ref(), ..spec.schedule };
        }
        let dur = |d: &Option<Spanned<Never<Duration>>>, old: Option<u64>| {
            d.as_ref().map_or(old, |d| d.get_ref().into_option().map(Duration::ms))
        };
        spec.warn_after_ms = dur(&table.warn_after, spec.warn_after_ms);
        spec.disable_after_ms = dur(&table.disable_after, spec.disable_after_ms);
        spec.retry_window_ms = dur(&table.retry_window, spec.retry_window_ms);
        if let Some(t) = &table.attempt_timeout {
            spec.attempt_timeout_ms = t.get_ref().ms();
        }
        if let Some(n) = &table.attempts_max {
            spec.attempts_max = n.get_ref().into_option();
        }
        if let Some(n) = &table.in_flight_max {
            spec.in_flight_per_webhook_max = *n.get_ref();
        }
        if let Some(n) = &table.pending_max {
            spec.pending_per_webhook_max = *n.get_ref();
        }
        if table.broken {
            // A value could not be read (reported): what is left would be judged without it.
            return Policy::default();
        }
        self.build(p, profile, spec)
    }

    /// `PolicySpec::build` stops at its first error; every error of the table is wanted. So after
    /// each one, the value at fault is put back to the profile's (valid) value and the policy
    /// built again, at most once per kind of error.
    fn build(&mut self, p: &Spanned<PolicyFile>, profile: Profile, mut spec: PolicySpec) -> Policy {
        let valid = profile.spec();
        let mut failed = false;
        for _ in 0..POLICY_ERROR_KINDS {
            let (warn, disable) = (spec.warn_after_ms, spec.disable_after_ms);
            let e = match spec.clone().build() {
                Ok(policy) => return if failed { Policy::default() } else { policy },
                Err(e) => e,
            };
            let (span, message) = self.policy_error(p, profile, e.clone(), warn, disable);
            self.err(span, message);
            failed = true;
            match e {
                PolicyError::Zero { field: "attempt_timeout_ms" } => spec.attempt_timeout_ms = valid.attempt_timeout_ms,
                PolicyError::Zero { field: "in_flight_per_webhook_max" } => {
                    spec.in_flight_per_webhook_max = valid.in_flight_per_webhook_max
                }
                PolicyError::Zero { field: "pending_per_webhook_max" } => {
                    spec.pending_per_webhook_max = valid.pending_per_webhook_max
                }
                PolicyError::Zero { field: "attempts_max" } => spec.attempts_max = valid.attempts_max,
                PolicyError::Zero { field: "retry_window_ms" } => spec.retry_window_ms = valid.retry_window_ms,
                PolicyError::Zero { field: "warn_after_ms" | "disable_after_ms" }
                | PolicyError::DisableNotAfterWarn { .. }
                | PolicyError::DisableWithoutWarn => {
                    (spec.warn_after_ms, spec.disable_after_ms) = (valid.warn_after_ms, valid.disable_after_ms)
                }
                PolicyError::Jitter(_) => spec.schedule.jitter_percent = valid.schedule.jitter_percent,
                PolicyError::Zero { .. }
                | PolicyError::EmptySchedule
                | PolicyError::ZeroDelay { .. }
                | PolicyError::Multiplier
                | PolicyError::CapBelowInitial => spec.schedule.backoff = valid.schedule.backoff.clone(),
            }
        }
        Policy::default()
    }

    /// Says what is wrong in the file's words (`warn_after`, not `warn_after_ms`) at the key the
    /// user wrote, or at the profile when the bad value came from it.
    fn policy_error(
        &self,
        p: &Spanned<PolicyFile>,
        profile: Profile,
        e: PolicyError,
        warn: Option<u64>,
        disable: Option<u64>,
    ) -> (Range<usize>, String) {
        let t = p.get_ref();
        let fallback = t.profile.as_ref().map_or(p.span(), |s| s.span());
        let at = |s: Option<Range<usize>>| s.unwrap_or_else(|| fallback.clone());
        let fmt = |ms: Option<u64>| ms.map_or("never".to_string(), |ms| Duration(ms).to_string());
        match e {
            PolicyError::Zero { field } => {
                let (key, span) = match field {
                    "attempt_timeout_ms" => ("attempt_timeout", t.attempt_timeout.as_ref().map(|s| s.span())),
                    "in_flight_per_webhook_max" => ("in_flight_max", t.in_flight_max.as_ref().map(|s| s.span())),
                    "pending_per_webhook_max" => ("pending_max", t.pending_max.as_ref().map(|s| s.span())),
                    "attempts_max" => ("attempts_max", t.attempts_max.as_ref().map(|s| s.span())),
                    "retry_window_ms" => ("retry_window", t.retry_window.as_ref().map(|s| s.span())),
                    "warn_after_ms" => ("warn_after", t.warn_after.as_ref().map(|s| s.span())),
                    "disable_after_ms" => ("disable_after", t.disable_after.as_ref().map(|s| s.span())),
                    _ => ("backoff.initial", t.backoff.as_ref().map(|b| b.get_ref().initial.span())),
                };
                let never = matches!(key, "attempts_max" | "retry_window" | "warn_after" | "disable_after");
                let hint = if never { " (write \"never\" for no limit)" } else { "" };
                (at(span), format!("`{key}` must be greater than zero{hint}"))
            }
            PolicyError::EmptySchedule => {
                (at(t.retries.as_ref().map(|s| s.span())), "`retries` must list at least one delay".to_string())
            }
            PolicyError::ZeroDelay { index } => (
                at(t.retries.as_ref().and_then(|r| r.get_ref().get(index).map(|d| d.span()))),
                format!("`retries[{index}]` must be greater than zero"),
            ),
            PolicyError::Multiplier => (
                at(t.backoff.as_ref().map(|b| b.get_ref().multiplier.span())),
                "`backoff.multiplier` must be at least 1".to_string(),
            ),
            PolicyError::CapBelowInitial => (
                at(t.backoff.as_ref().map(|b| b.get_ref().max.span())),
                "`backoff.max` must not be less than `backoff.initial`".to_string(),
            ),
            PolicyError::Jitter(j) => (
                at(t.jitter_percent.as_ref().map(|s| s.span())),
                format!("`jitter_percent` must be at most 100, got {j}"),
            ),
            PolicyError::DisableNotAfterWarn { .. } => (
                at(t.disable_after.as_ref().or(t.warn_after.as_ref()).map(|s| s.span())),
                format!(
                    "impossible policy: `disable_after` ({}) must be later than `warn_after` ({}), since a webhook is warned before it is disabled{}",
                    fmt(disable),
                    fmt(warn),
                    profile_note(t, profile)
                ),
            ),
            PolicyError::DisableWithoutWarn => (
                at(t.warn_after.as_ref().or(t.disable_after.as_ref()).map(|s| s.span())),
                format!(
                    "impossible policy: `disable_after` ({}) needs a `warn_after`: a webhook is warned before it is disabled{}",
                    fmt(disable),
                    profile_note(t, profile)
                ),
            ),
        }
    }
}

fn profile_note(t: &PolicyFile, profile: Profile) -> String {
    match (&t.profile, &t.warn_after, &t.disable_after) {
        (_, Some(_), Some(_)) => String::new(),
        _ => format!(" (the `{}` profile supplies the value not given here)", <&str>::from(profile)),
    }
}
