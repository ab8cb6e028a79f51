//! Reference receivers' logic: what a SnapBill customer's endpoint does with a delivery.
//!
//! [`handle`] is pure (parse the envelope, decide to act or not, keep the durable [`Book`]; a
//! skip or refusal carries its [`SkipReason`] or [`RefuseReason`] kind next to its words);
//! [`trace_event`] turns a handled delivery into a trace entry. Serving them over HTTP (axum) is
//! `hooksim_net::receiver`'s.
//!
//! Kinds ([`ReceiverKind`]): `dedup` (correct), `naive` (the SnapBill sample), and two that
//! misbehave on purpose, `picky` (500 to paths it ignores) and `brittle` (500 to fields it does
//! not know and to bodies it cannot read).

pub mod app;
mod book;
pub mod effects;
mod kind;
mod logic;
mod reason;
mod traced;

pub use app::{ActsBook, App};
pub use book::{Book, EFFECTS_MAX, Effect};
pub use kind::ReceiverKind;
pub use logic::{Decision, Handled, handle, handle_shaped};
pub use reason::{RefuseReason, SkipReason};
pub use traced::{DeliveryEvents, trace_event};

/// Larger request bodies are refused with 413 before a receiver's handler runs (every engine).
pub const BODY_BYTES_MAX: usize = 4 * 1024 * 1024;
