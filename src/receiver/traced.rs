//! A handled delivery as a trace event, so scenarios can assert on receivers' side effects.

use super::{Decision, Handled};
use crate::trace::TraceEvent;

/// `ReceiverActed` or `ReceiverSkipped` for a delivery whose envelope was readable; `None` for a
/// refused or unreadable one (the attempt's outcome already shows it in the trace).
pub fn trace_event(receiver: &str, handled: &Handled) -> Option<TraceEvent> {
    let (delivery, event) = (handled.uuid?, handled.event?);
    let receiver = receiver.to_string();
    match &handled.decision {
        Decision::Act { action } => {
            Some(TraceEvent::ReceiverActed { receiver, delivery, event, action: action.clone() })
        }
        Decision::Skip { why } => Some(TraceEvent::ReceiverSkipped { receiver, delivery, event, why: why.clone() }),
        Decision::Refuse { .. } => None,
    }
}
