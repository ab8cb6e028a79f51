//! A broken property: which one, how (a stable signature), and the trace entries that show it.

use hooksim_core::time::SimTime;
use std::fmt;

/// The properties of every world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Property {
    /// Every routed event is delivered, parked, refused at a limit, abandoned by the policy, or
    /// still pending for a reason that lasts to the end of the run; the trace says which.
    NothingLost,
    /// A deduplicating receiver acts at most once per delivery uuid.
    DedupActsOnce,
    /// A uuid names one delivery: the same on every attempt, never reused.
    StableUuid,
    /// A delivery that ended (delivered, or abandoned by the policy) is never attempted again,
    /// nor counted delivered twice: at most once after success.
    NoAttemptAfterEnd,
    NoAttemptWhileDisabled,
    /// A disable needs a warning in the same streak, at least `disable_after - warn_after` before.
    WarnBeforeDisable,
    /// A webhook failing past the thresholds is warned, then disabled: the failure that meets a
    /// rule is the last attempt before its warning, or its disable.
    DisabledPastThreshold,
    /// Each body renders the store as it was when its attempt started.
    BodyAtSendTime,
    /// A delivery parked while its webhook was disabled moves again once the webhook is enabled.
    ParkedResumes,
    /// The policy's per-webhook limits: attempts in flight, unfinished deliveries.
    LimitsKept,
}

/// How a property broke. [`Breach::signature`] is stable across seeds and runs: it names the
/// kind of failure, never a uuid or a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Breach {
    EventNotRouted,
    EventRoutedTwice,
    RoutedAgainstFilter,
    QueuedWhileDisabled,
    QueuedPastLimit,
    /// More attempts of one webhook in flight than `in_flight_per_webhook_max`.
    InFlightPastLimit,
    RefusedWhileEnabled,
    RefusedBelowLimit,
    DeliveryLost,
    /// Parked by a disable, its webhook enabled again, and never moved after: lost to the enable.
    ParkedNeverResumed,
    AttemptNeverFinished,
    /// A delivery's retry went out under a new uuid: the uuid it replaced, and the new one.
    UuidChanged,
    AttemptAfterEnd,
    DeliveredTwice,
    DeliveredWithout2xx,
    AbandonedWithoutLimit,
    AbandonedEarly,
    DedupActedTwice,
    UuidReused,
    AttemptOfUnknownDelivery,
    AttemptIdentityMismatch,
    BodyUuidMismatch,
    AttemptWhileDisabled,
    DisableWithoutWarning,
    DisableBeforeGrace,
    DisableBeforeThreshold,
    WarnBeforeThreshold,
    WarnedTwiceInStreak,
    /// An attempt after a failure `warn_after` into the streak, with no warning sent.
    NotWarnedPastThreshold,
    /// An attempt after a failure that met the disable rule (or a `410` under a profile that
    /// disables on it), with the webhook not disabled.
    NotDisabledPastThreshold,
    BodyUnreadable,
    BodyWrongEvent,
    BodyStale,
    TraceDisagreesWithHistory,
}

impl Breach {
    pub fn property(self) -> Property {
        use Breach::*;
        match self {
            EventNotRouted
            | EventRoutedTwice
            | RoutedAgainstFilter
            | QueuedWhileDisabled
            | RefusedWhileEnabled
            | RefusedBelowLimit
            | DeliveryLost
            | AttemptNeverFinished
            | DeliveredWithout2xx
            | AbandonedWithoutLimit
            | AbandonedEarly => Property::NothingLost,
            AttemptAfterEnd | DeliveredTwice => Property::NoAttemptAfterEnd,
            QueuedPastLimit | InFlightPastLimit => Property::LimitsKept,
            DedupActedTwice => Property::DedupActsOnce,
            UuidReused | UuidChanged | AttemptOfUnknownDelivery | AttemptIdentityMismatch | BodyUuidMismatch => {
                Property::StableUuid
            }
            AttemptWhileDisabled => Property::NoAttemptWhileDisabled,
            DisableWithoutWarning
            | DisableBeforeGrace
            | DisableBeforeThreshold
            | WarnBeforeThreshold
            | WarnedTwiceInStreak => Property::WarnBeforeDisable,
            NotWarnedPastThreshold | NotDisabledPastThreshold => Property::DisabledPastThreshold,
            BodyUnreadable | BodyWrongEvent | BodyStale | TraceDisagreesWithHistory => Property::BodyAtSendTime,
            ParkedNeverResumed => Property::ParkedResumes,
        }
    }

    pub fn signature(self) -> &'static str {
        use Breach::*;
        match self {
            EventNotRouted => "event-not-routed",
            EventRoutedTwice => "event-routed-twice",
            RoutedAgainstFilter => "routed-against-filter",
            QueuedWhileDisabled => "queued-while-disabled",
            QueuedPastLimit => "queued-past-limit",
            InFlightPastLimit => "in-flight-past-limit",
            RefusedWhileEnabled => "refused-while-enabled",
            RefusedBelowLimit => "refused-below-limit",
            DeliveryLost => "delivery-lost",
            ParkedNeverResumed => "parked-never-resumed",
            AttemptNeverFinished => "attempt-never-finished",
            AttemptAfterEnd => "attempt-after-delivery-ended",
            DeliveredTwice => "delivered-twice",
            DeliveredWithout2xx => "delivered-without-2xx",
            AbandonedWithoutLimit => "abandoned-without-limit",
            AbandonedEarly => "abandoned-early",
            DedupActedTwice => "dedup-acted-twice",
            UuidReused => "uuid-reused",
            UuidChanged => "uuid-changed-on-retry",
            AttemptOfUnknownDelivery => "attempt-of-unknown-delivery",
            AttemptIdentityMismatch => "attempt-identity-mismatch",
            BodyUuidMismatch => "body-uuid-mismatch",
            AttemptWhileDisabled => "attempt-while-disabled",
            DisableWithoutWarning => "disable-without-warning",
            DisableBeforeGrace => "disable-before-grace",
            DisableBeforeThreshold => "disable-before-threshold",
            WarnBeforeThreshold => "warn-before-threshold",
            WarnedTwiceInStreak => "warned-twice-in-streak",
            NotWarnedPastThreshold => "not-warned-past-threshold",
            NotDisabledPastThreshold => "not-disabled-past-threshold",
            BodyUnreadable => "body-unreadable",
            BodyWrongEvent => "body-wrong-event",
            BodyStale => "body-stale",
            TraceDisagreesWithHistory => "trace-disagrees-with-history",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub breach: Breach,
    /// When it became visible (the time of the last entry that shows it, or the run's end).
    pub at: SimTime,
    /// Indices into [`hooksim_core::trace::Trace::entries`], in trace order.
    pub entries: Vec<usize>,
    /// For people: what was expected and what the trace shows.
    pub detail: String,
}

impl Violation {
    pub(super) fn new(breach: Breach, at: SimTime, entries: Vec<usize>, detail: impl Into<String>) -> Self {
        Violation { breach, at, entries, detail: detail.into() }
    }

    pub fn property(&self) -> Property {
        self.breach.property()
    }

    pub fn signature(&self) -> &'static str {
        self.breach.signature()
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {} (trace entries {:?})", self.signature(), self.at, self.detail, self.entries)
    }
}
