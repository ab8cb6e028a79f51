//! Reference receivers: what a SnapBill customer's endpoint does with a delivery.
//!
//! [`handle`] is pure (parse the envelope, decide to act or not, keep the durable [`Book`]; a
//! skip or refusal carries its [`SkipReason`] or [`RefuseReason`] kind next to its words); the
//! [`router`] serves it with axum, in the simulation and over the real network alike; [`app`] and
//! [`serve`] run it on a real socket, within [`ServeLimits`], with its page at `/` (the last
//! [`DELIVERIES_SHOWN_MAX`] deliveries, each marked acted or skipped and why); [`trace_event`] turns a handled delivery into a trace entry;
//! [`SignatureCheck`] and [`verifying`] make any of them refuse (4xx) unsigned or forged deliveries.
//!
//! Kinds ([`ReceiverKind`]): `dedup` (correct), `naive` (the SnapBill sample), and two that
//! misbehave on purpose, `picky` (500 to paths it ignores) and `brittle` (500 to fields it does
//! not know and to bodies it cannot read). Slowness and dropped answers are not kinds: they are
//! the world's `Behaviour` in the simulation, and [`ServeOptions`] on the network.

mod limits;
mod page;
mod router;
mod serve;
mod signature;

pub use hooksim_sim::receiver::*;
pub use limits::ServeLimits;
pub use page::{BODY_SHOWN_BYTES_MAX, DELIVERIES_SHOWN_MAX, DeliveryLog, Mark, Received, SharedLog};
pub use router::{OnHandled, ReceiverState, router, with_page};
pub use serve::{ServeOptions, app, base_url, certify_command, serve, serve_with_limits};
pub use signature::{Clock, SignatureCheck, verifying};
