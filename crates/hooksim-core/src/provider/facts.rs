//! What a provider's deliveries do, as data: every value has its source in docs/providers.md.

use crate::policy::Profile;
use crate::signing::Scheme;

/// When the body of a delivery is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendered {
    /// At each attempt, from the entity as it is then (SnapBill): a retry can carry other bytes.
    AtSend,
    /// Once, when the event happens: every retry carries the same snapshot, and a receiver
    /// fetches the object's current state when it needs it.
    AtEvent,
}

/// A provider's delivery behaviour. `None` is a fact the provider does not publish.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    /// The sender's deadline for an answer.
    pub timeout_ms: u64,
    /// Delays before each retry, from the previous attempt, when published exactly; `Some(&[])`
    /// is "never retried automatically" (GitHub).
    pub retry_delays_ms: Option<&'static [u64]>,
    /// Automatic retries after the first attempt, when published.
    pub retries_max: Option<u32>,
    /// How long after the first attempt the same delivery (same dedup id) can still arrive: the
    /// retry schedule's span, or the manual redelivery window (GitHub). A receiver that forgets
    /// ids sooner acts twice on a late retry.
    pub redelivery_window_ms: u64,
    /// The largest body the provider sends, when published.
    pub body_bytes_max: Option<u64>,
    /// When the body is rendered: at each attempt, or once when the event happens.
    pub rendered: Rendered,
    /// Where the id to deduplicate on is (the header or body field).
    pub dedup_on: &'static str,
    /// Whether every retry (and redelivery) carries the same dedup id.
    pub retry_keeps_id: bool,
    /// The signature scheme; `None`: SnapBill publishes none (a scheme can still be chosen).
    pub scheme: Option<Scheme>,
    /// The retry policy hooksim models for this provider (`policy.profile`, `--profile`).
    pub profile: Profile,
}

pub(super) const SECOND_MS: u64 = 1_000;
pub(super) const MINUTE_MS: u64 = 60 * SECOND_MS;
pub(super) const HOUR_MS: u64 = 60 * MINUTE_MS;
pub(super) const DAY_MS: u64 = 24 * HOUR_MS;
