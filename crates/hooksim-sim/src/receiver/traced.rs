//! A handled delivery as a trace event, so scenarios can assert on receivers' side effects.
//! The one mapping from a handled delivery to a trace entry: the model engine, the network shell and
//! any other caller of [`super::router`] use this one.

use super::{Decision, Handled};
use hooksim_core::trace::TraceEvent;

/// `ReceiverActed` for an act; `ReceiverSkipped` for a skip or a refusal (the refusal's status
/// is in the attempt's outcome); `None` for a body that could not be read.
pub fn trace_event(receiver: &str, handled: &Handled) -> Option<TraceEvent> {
    let (delivery, event) = (handled.uuid?, handled.event?);
    let receiver = receiver.to_string();
    match &handled.decision {
        Decision::Act { action } => {
            Some(TraceEvent::ReceiverActed { receiver, delivery, event, action: action.clone() })
        }
        Decision::Skip { why, .. } | Decision::Refuse { why, .. } => {
            Some(TraceEvent::ReceiverSkipped { receiver, delivery, event, why: why.clone() })
        }
    }
}

/// The event of each delivery a run has queued, by delivery uuid, learnt from the trace's
/// `delivery_queued` entries: what a trace entry names when a receiver reads a provider's shape,
/// whose body does not carry hooksim's event id ([`super::handle_shaped`]). One entry per
/// `delivery_queued` entry: bounded by the trace's own limit (`RunLimits::trace_entries_max`).
/// The engines learn only in a provider's world; SnapBill's envelope names its event.
#[derive(Clone, Debug, Default)]
pub struct DeliveryEvents(std::collections::BTreeMap<uuid::Uuid, u64>);

impl DeliveryEvents {
    /// Learns the deliveries `entries` queue.
    pub fn learn(&mut self, entries: &[hooksim_core::trace::TraceEntry]) {
        for e in entries {
            if let TraceEvent::DeliveryQueued { delivery, event, .. } = &e.event {
                self.0.insert(*delivery, *event);
            }
        }
    }

    /// The event of the delivery `delivery`, once a `delivery_queued` entry named it.
    pub fn event_of(&self, delivery: uuid::Uuid) -> Option<u64> {
        self.0.get(&delivery).copied()
    }
}
