//! One delivery: one event for one webhook, attempted until a 2xx (or it is given up).

use super::dispatcher::Shape;
use crate::domain::WebhookId;
use std::sync::Arc;
use uuid::Uuid;

/// Index of a delivery in the dispatcher's table, in creation order (so ordered sets of them
/// are deterministic).
pub(super) type DeliveryIdx = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DeliveryState {
    /// Waiting for its retry timer, or in its webhook's ready queue.
    Waiting,
    InFlight,
    /// Its webhook is disabled; resumes when re-enabled.
    Parked,
    Delivered,
    Abandoned,
}

#[derive(Clone, Debug)]
pub(super) struct Delivery {
    pub uuid: Uuid,
    pub webhook: WebhookId,
    pub event: u64,
    pub attempts: u32,
    pub failures: u32,
    pub state: DeliveryState,
    /// The last body sent and the store revision it was rendered at.
    pub rendered: Option<(u64, Arc<str>)>,
    /// A provider that sends a snapshot: the body and shape rendered when the event happened,
    /// sent by every attempt.
    pub snapshot: Option<(Arc<str>, Arc<Shape>)>,
}

impl Delivery {
    pub(super) fn is_finished(&self) -> bool {
        matches!(self.state, DeliveryState::Delivered | DeliveryState::Abandoned)
    }
}
