//! Endpoint health: the failing streak of one webhook, and what it leads to.

use crate::domain::WebhookStatus;
use crate::policy::Policy;
use crate::time::SimTime;

/// What a failed attempt did to its webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Nothing,
    /// The streak crossed `warn_after`: send the (one) warning email for this streak.
    Warn {
        failing_since: SimTime,
    },
    /// The streak crossed `disable_after`, and the warning went out earlier in this streak.
    Disable {
        failing_since: SimTime,
    },
}

/// The streak starts at the first failed attempt after the last success (the time its failure
/// was seen) and ends at the next success.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    status: WebhookStatus,
    failing_since: Option<SimTime>,
}

impl Default for Health {
    fn default() -> Self {
        Health { status: WebhookStatus::Active, failing_since: None }
    }
}

impl Health {
    pub fn status(&self) -> WebhookStatus {
        self.status
    }

    pub fn failing_since(&self) -> Option<SimTime> {
        self.failing_since
    }

    /// A failed attempt at `now`. A disable never comes without a warning before it in the same
    /// streak: if a sparse schedule jumps past both thresholds at once, this failure warns and a
    /// later one disables. Users of other senders complain of endpoints disabled with no warning.
    pub fn on_failure(&mut self, now: SimTime, policy: &Policy) -> Verdict {
        if self.status == WebhookStatus::Disabled {
            return Verdict::Nothing;
        }
        let since = *self.failing_since.get_or_insert(now);
        let failing_ms = now.ms_since(since);
        let warned = self.status == WebhookStatus::Warned;
        if warned && policy.disable_after_ms().is_some_and(|d| failing_ms >= d) {
            self.status = WebhookStatus::Disabled;
            return Verdict::Disable { failing_since: since };
        }
        if !warned && policy.warn_after_ms().is_some_and(|w| failing_ms >= w) {
            self.status = WebhookStatus::Warned;
            return Verdict::Warn { failing_since: since };
        }
        Verdict::Nothing
    }

    /// A 2xx ends the streak. Returns true when it ended a warned streak (the webhook recovered).
    pub fn on_success(&mut self) -> bool {
        self.failing_since = None;
        let recovered = self.status == WebhookStatus::Warned;
        if self.status != WebhookStatus::Disabled {
            self.status = WebhookStatus::Active;
        }
        recovered
    }

    /// Re-enabling a disabled webhook starts afresh: a new streak may warn again. Enabling a
    /// webhook that is not disabled changes nothing (its streak goes on). Returns true when it
    /// was disabled.
    pub fn enable(&mut self) -> bool {
        let was_disabled = self.status == WebhookStatus::Disabled;
        if was_disabled {
            *self = Health::default();
        }
        was_disabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Profile;
    use crate::time::{DAY_MS, HOUR_MS};

    fn at(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    #[test]
    fn a_week_warns_once_then_a_day_more_disables() {
        let p = Profile::Snapbill.policy();
        let mut h = Health::default();
        assert_eq!(h.on_failure(at(HOUR_MS), &p), Verdict::Nothing);
        assert_eq!(h.on_failure(at(7 * DAY_MS), &p), Verdict::Nothing, "6d23h is not a week");
        let since = at(HOUR_MS);
        assert_eq!(h.on_failure(at(7 * DAY_MS + HOUR_MS), &p), Verdict::Warn { failing_since: since });
        assert_eq!(h.on_failure(at(7 * DAY_MS + 2 * HOUR_MS), &p), Verdict::Nothing, "one warning per streak");
        assert_eq!(h.on_failure(at(8 * DAY_MS + HOUR_MS), &p), Verdict::Disable { failing_since: since });
        assert_eq!(h.status(), WebhookStatus::Disabled);
        assert_eq!(h.on_failure(at(9 * DAY_MS), &p), Verdict::Nothing);
    }

    #[test]
    fn recovering_after_the_warning_ends_the_streak_and_a_later_streak_warns_again() {
        let p = Profile::Snapbill.policy();
        let mut h = Health::default();
        h.on_failure(at(0), &p);
        assert!(matches!(h.on_failure(at(7 * DAY_MS), &p), Verdict::Warn { .. }));
        assert!(h.on_success());
        assert_eq!(h.status(), WebhookStatus::Active);
        assert_eq!(h.on_failure(at(8 * DAY_MS + 1), &p), Verdict::Nothing, "a new streak starts");
        assert!(matches!(h.on_failure(at(15 * DAY_MS + 1), &p), Verdict::Warn { .. }));
    }

    #[test]
    fn a_sparse_schedule_still_warns_before_it_disables() {
        let p = Profile::Snapbill.policy();
        let mut h = Health::default();
        h.on_failure(at(0), &p);
        assert!(matches!(h.on_failure(at(20 * DAY_MS), &p), Verdict::Warn { .. }));
        assert!(matches!(h.on_failure(at(20 * DAY_MS + 1), &p), Verdict::Disable { .. }));
    }

    #[test]
    fn enabling_resets_the_streak() {
        let p = Profile::Snapbill.policy();
        let mut h = Health::default();
        h.on_failure(at(0), &p);
        h.on_failure(at(7 * DAY_MS), &p);
        h.on_failure(at(8 * DAY_MS), &p);
        assert!(h.enable());
        assert_eq!(h, Health::default());
        assert!(!h.enable(), "enabling an active webhook changes nothing");
        h.on_failure(at(9 * DAY_MS), &p);
        assert!(!h.enable());
        assert_eq!(h.failing_since(), Some(at(9 * DAY_MS)), "the streak survives a needless enable");
    }
}
