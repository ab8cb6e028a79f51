//! Why a receiver did not act on a delivery, as closed kinds. A decision carries its kind next to
//! its words: the words go into traces (and their snapshots), and whatever groups or counts
//! decisions (the receiver's page) matches on the kind, so rewording a reason cannot regroup it.

/// Why a delivery was answered 2xx without acting on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, strum::EnumIter)]
pub enum SkipReason {
    /// The delivery's uuid was acted on already.
    DuplicateUuid,
    /// The event is older than the state it would act on: the invoice in the body, or a later
    /// event about the same invoice that was acted on already.
    StaleState,
    /// A path (or a state change) the receiver does nothing with.
    UnhandledPath,
}

/// Why a delivery was answered with a non-2xx status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, strum::EnumIter)]
pub enum RefuseReason {
    /// A path the receiver does nothing with, answered 500 (the picky receiver).
    UnhandledPath,
    /// A body that is not an envelope the receiver can read (400; 500 from the brittle receiver,
    /// which also cannot read fields it does not know).
    Unreadable,
    /// A signature that is missing, forged or out of tolerance: the body was never read.
    RejectedSignature,
    /// The book holds `effects_max` acts: a delivery calling for a new one is answered 503.
    EffectsFull,
}
