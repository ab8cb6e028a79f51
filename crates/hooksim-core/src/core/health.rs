//! Endpoint health: the failing streak of one webhook, and what it leads to.

use crate::domain::WebhookStatus;
use crate::policy::Policy;
use crate::time::SimTime;
use crate::trace::DisableReason;

/// What a failed attempt did to its webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A failure that changes nothing beyond the streak.
    Nothing,
    /// The streak crossed `warn_after`: send the (one) warning email for this streak.
    Warn {
        /// When the streak began.
        failing_since: SimTime,
    },
    /// The streak crossed `disable_after`, and the warning went out in this streak at least the
    /// grace (`disable_after - warn_after`) ago.
    Disable {
        /// When the streak began.
        failing_since: SimTime,
        /// The streak's disable, or a `410 Gone`.
        reason: DisableReason,
    },
}

/// The streak starts at the first failed attempt after the last success (the time its failure
/// was seen) and ends at the next success.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    status: WebhookStatus,
    failing_since: Option<SimTime>,
    /// When this streak's warning was sent; the owner's grace runs from here.
    warned_at: Option<SimTime>,
}

impl Default for Health {
    fn default() -> Self {
        Health { status: WebhookStatus::Active, failing_since: None, warned_at: None }
    }
}

impl Health {
    /// Active, warned or disabled.
    pub(crate) fn status(&self) -> WebhookStatus {
        self.status
    }

    /// When the current failing streak began (its first failed attempt), if failing.
    pub fn failing_since(&self) -> Option<SimTime> {
        self.failing_since
    }

    /// When this streak's warning was sent, if it was.
    pub fn warned_at(&self) -> Option<SimTime> {
        self.warned_at
    }

    /// A failed attempt at `now`. A disable needs the streak failing past `disable_after` *and*
    /// the grace (`disable_after - warn_after`) to have passed since the warning: the seed
    /// promises a warning "and subsequently" a disable "if the problem is not resolved", so the
    /// owner always gets the grace to resolve it. When the thresholds are crossed late (a sparse
    /// schedule, a dispatcher down for days), this failure warns and a failure a grace later
    /// disables, never both at one instant.
    pub fn on_failure(&mut self, now: SimTime, policy: &Policy) -> Verdict {
        if self.status == WebhookStatus::Disabled {
            return Verdict::Nothing;
        }
        let since = *self.failing_since.get_or_insert(now);
        let failing_ms = now.ms_since(since);
        if let Some(warned_at) = self.warned_at {
            let (Some(disable_ms), Some(grace_ms)) = (policy.disable_after_ms(), policy.disable_grace_ms()) else {
                return Verdict::Nothing;
            };
            if failing_ms >= disable_ms && now.ms_since(warned_at) >= grace_ms {
                self.status = WebhookStatus::Disabled;
                return Verdict::Disable { failing_since: since, reason: DisableReason::FailingStreak };
            }
            return Verdict::Nothing;
        }
        if policy.warn_after_ms().is_some_and(|w| failing_ms >= w) {
            self.status = WebhookStatus::Warned;
            self.warned_at = Some(now);
            return Verdict::Warn { failing_since: since };
        }
        Verdict::Nothing
    }

    /// An answer that disables at once (`410 Gone` where the policy says so): no warning and no
    /// grace, since the receiver itself said it is gone. The streak starts here if it had not.
    pub fn on_gone(&mut self, now: SimTime) -> Verdict {
        if self.status == WebhookStatus::Disabled {
            return Verdict::Nothing;
        }
        let since = *self.failing_since.get_or_insert(now);
        self.status = WebhookStatus::Disabled;
        Verdict::Disable { failing_since: since, reason: DisableReason::Gone }
    }

    /// A 2xx ends the streak. Returns true when it ended a warned streak (the webhook recovered).
    pub fn on_success(&mut self) -> bool {
        self.failing_since = None;
        self.warned_at = None;
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
        assert_eq!(
            h.on_failure(at(8 * DAY_MS + HOUR_MS), &p),
            Verdict::Disable { failing_since: since, reason: DisableReason::FailingStreak }
        );
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
        assert_eq!(h.warned_at(), None);
        assert_eq!(h.on_failure(at(8 * DAY_MS + 1), &p), Verdict::Nothing, "a new streak starts");
        assert!(matches!(h.on_failure(at(15 * DAY_MS + 1), &p), Verdict::Warn { .. }));
    }

    #[test]
    fn a_sparse_schedule_still_warns_a_grace_before_it_disables() {
        let p = Profile::Snapbill.policy();
        let mut h = Health::default();
        h.on_failure(at(0), &p);
        assert!(matches!(h.on_failure(at(20 * DAY_MS), &p), Verdict::Warn { .. }));
        assert_eq!(h.warned_at(), Some(at(20 * DAY_MS)));
        assert_eq!(h.on_failure(at(20 * DAY_MS), &p), Verdict::Nothing, "never warn and disable at one instant");
        assert_eq!(h.on_failure(at(21 * DAY_MS - 1), &p), Verdict::Nothing, "the owner gets a day");
        assert!(matches!(h.on_failure(at(21 * DAY_MS), &p), Verdict::Disable { .. }));
    }

    #[test]
    fn after_a_dispatcher_outage_the_warning_still_gets_its_grace() {
        // Failing from 0; the dispatcher is down from 6d to 8d12h; on restart two attempts fail
        // in the same millisecond (a retry and the event recorded during the outage).
        let p = Profile::Snapbill.policy();
        let mut h = Health::default();
        h.on_failure(at(0), &p);
        assert_eq!(h.on_failure(at(6 * DAY_MS), &p), Verdict::Nothing);
        let restart = at(8 * DAY_MS + 12 * HOUR_MS);
        assert!(matches!(h.on_failure(restart, &p), Verdict::Warn { .. }));
        assert_eq!(h.on_failure(restart, &p), Verdict::Nothing);
        assert_eq!(h.on_failure(restart.plus_ms(DAY_MS - 1), &p), Verdict::Nothing);
        assert!(matches!(h.on_failure(restart.plus_ms(DAY_MS), &p), Verdict::Disable { .. }));
    }

    #[test]
    fn gone_disables_at_once_and_only_once() {
        let mut h = Health::default();
        assert_eq!(h.on_gone(at(5)), Verdict::Disable { failing_since: at(5), reason: DisableReason::Gone });
        assert_eq!(h.status(), WebhookStatus::Disabled);
        assert_eq!(h.on_gone(at(6)), Verdict::Nothing);
        assert!(h.enable());
    }

    #[test]
    fn enabling_resets_the_streak() {
        let p = Profile::Snapbill.policy();
        let mut h = Health::default();
        h.on_failure(at(0), &p);
        h.on_failure(at(7 * DAY_MS), &p);
        h.on_failure(at(8 * DAY_MS), &p);
        assert_eq!(h.status(), WebhookStatus::Disabled);
        assert!(h.enable());
        assert_eq!(h, Health::default());
        assert!(!h.enable(), "enabling an active webhook changes nothing");
        h.on_failure(at(9 * DAY_MS), &p);
        assert!(!h.enable());
        assert_eq!(h.failing_since(), Some(at(9 * DAY_MS)), "the streak survives a needless enable");
    }
}
