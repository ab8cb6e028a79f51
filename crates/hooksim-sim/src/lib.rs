//! # hooksim-sim
//!
//! The simulation layer, still without IO: worlds, the shell every engine shares, the reference
//! receivers' logic, the model engine, scenario files and the properties that hold in every
//! world, and the dispatcher protocol's messages and ledger. Built on `hooksim-core`; the network
//! engines (`hooksim-net`) build on this.
//!
//! ## Map
//! - [`world`]: a simulated world, independent of the engine that runs it: receivers and their
//!   behaviour (`Retry-After` answers included), a timeline of changes and faults, how attempts
//!   are signed and which receivers verify ([`world::Signing`]); what a run may cost
//!   ([`world::RunLimits`]) and how an engine that stops early keeps its trace
//!   ([`world::EngineFailure`]).
//! - [`shell`]: what every engine needs around the core, written once and pure: link state,
//!   reply sequences and `Retry-After`, warning emails, lingering exchanges, attempts held at the
//!   sender, limits, and the signing of every attempt as the core sends it (so any dispatcher's
//!   attempts are signed alike).
//! - [`model`]: the model engine, a pure discrete-event driver of the core.
//! - [`scenario`]: scenario files (TOML): loading with `file:line:column` errors, expectations
//!   evaluated over a trace.
//! - [`properties`]: what holds in every world, checked over a finished trace (nothing lost,
//!   dedup acts once, one uuid per delivery, warn a grace before disabling, bodies at send time,
//!   parked deliveries resume).
//! - [`receiver`]: the reference receivers' pure logic (`dedup`, `naive`, `picky`, `brittle`).
//! - [`protocol`]: the dispatcher protocol's messages, limits and the ledger that derives and
//!   checks a dispatcher's trace from what it said.

// `pub` only where a user of the crate can reach it: anything else is `pub(crate)`.
#![warn(unreachable_pub)]
#![warn(missing_docs)]

pub mod model;
pub mod properties;
pub mod protocol;
pub mod receiver;
pub mod scenario;
pub mod shell;
pub mod world;
