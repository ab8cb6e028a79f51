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
    /// No attempt starts while its webhook is disabled.
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
    /// An event a webhook subscribes to was neither queued nor refused for it.
    EventNotRouted,
    /// An event was queued (or refused) twice for one webhook.
    EventRoutedTwice,
    /// An event was queued for a webhook whose paths do not take it.
    RoutedAgainstFilter,
    /// An event was queued for a disabled webhook.
    QueuedWhileDisabled,
    /// More deliveries waiting for one webhook than `pending_per_webhook_max`.
    QueuedPastLimit,
    /// More attempts of one webhook in flight than `in_flight_per_webhook_max`.
    InFlightPastLimit,
    /// An event was refused as `webhook_disabled` while the webhook was enabled.
    RefusedWhileEnabled,
    /// An event was refused as `queue_full` below `pending_per_webhook_max`.
    RefusedBelowLimit,
    /// A delivery unfinished at the end with nothing to move it (no retry due, nothing in flight,
    /// the webhook enabled, a free slot, the dispatcher up).
    DeliveryLost,
    /// Parked by a disable, its webhook enabled again, and never moved after: lost to the enable.
    ParkedNeverResumed,
    /// An attempt that never finished, though its timeout fell before the end.
    AttemptNeverFinished,
    /// A delivery's retry went out under a new uuid: the uuid it replaced, and the new one.
    UuidChanged,
    /// An attempt of a delivery that had already been abandoned.
    AttemptAfterEnd,
    /// A delivery attempted or counted delivered again after it was delivered.
    DeliveredTwice,
    /// A delivery counted delivered without a 2xx answer.
    DeliveredWithout2xx,
    /// A delivery abandoned under a policy that has no such limit.
    AbandonedWithoutLimit,
    /// A delivery abandoned before its policy's limit (`attempts_max`, `retry_window_ms`).
    AbandonedEarly,
    /// A deduplicating receiver acted twice on one delivery uuid.
    DedupActedTwice,
    /// One uuid queued for two deliveries.
    UuidReused,
    /// An attempt of a uuid no `delivery_queued` named.
    AttemptOfUnknownDelivery,
    /// An attempt whose event or webhook differs from its delivery's.
    AttemptIdentityMismatch,
    /// A body whose `uuid` is not its delivery's.
    BodyUuidMismatch,
    /// An attempt started while its webhook was disabled.
    AttemptWhileDisabled,
    /// A disable with no warning in the same failing streak.
    DisableWithoutWarning,
    /// A disable sooner than the grace (`disable_after - warn_after`) after its warning.
    DisableBeforeGrace,
    /// A disable before the streak had failed `disable_after` long.
    DisableBeforeThreshold,
    /// A warning before the streak had failed `warn_after` long.
    WarnBeforeThreshold,
    /// Two warnings in one failing streak.
    WarnedTwiceInStreak,
    /// An attempt after a failure `warn_after` into the streak, with no warning sent.
    NotWarnedPastThreshold,
    /// An attempt after a failure that met the disable rule (or a `410` under a profile that
    /// disables on it), with the webhook not disabled.
    NotDisabledPastThreshold,
    /// A body that is not the envelope (not JSON, or missing its fields).
    BodyUnreadable,
    /// A body about another event than its attempt's.
    BodyWrongEvent,
    /// A body that is not the store as it was when the attempt started (an older render).
    BodyStale,
    /// The trace's events contradict the scenario's changes (the body check then works from the
    /// trace alone).
    TraceDisagreesWithHistory,
}

impl Breach {
    /// The promise this breach breaks.
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

    /// The stable name of this kind of breach, e.g. `delivery-lost` (explore groups failures by
    /// it).
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

/// One breach of a property: what, when, which trace entries show it, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which kind of breach.
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

    /// The promise it breaks.
    pub fn property(&self) -> Property {
        self.breach.property()
    }

    /// The stable name of its kind, e.g. `delivery-lost`.
    pub fn signature(&self) -> &'static str {
        self.breach.signature()
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {} (trace entries {:?})", self.signature(), self.at, self.detail, self.entries)
    }
}
