//! Reference receivers: what a SnapBill customer's endpoint does with a delivery.
//!
//! [`logic`] is pure (parse the envelope, decide to act or not, keep the durable [`Book`]); the
//! [`router`] serves it with axum, in the simulation and over the real network alike; [`serve`]
//! runs it on a real socket; [`trace_event`] turns a handled delivery into a trace entry.

mod book;
mod kind;
mod logic;
mod router;
mod serve;
mod traced;

pub use book::{Book, Effect};
pub use kind::ReceiverKind;
pub use logic::{Decision, Handled, handle};
pub use router::{BODY_BYTES_MAX, OnHandled, ReceiverState, router};
pub use serve::{ServeOptions, app, base_url, certify_command, serve};
pub use traced::trace_event;
