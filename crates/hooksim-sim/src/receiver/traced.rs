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
