//! # hooksim
//!
//! A deterministic simulation and conformance harness for webhook delivery, with SnapBill's
//! webhook documentation as the reference behaviour: at-least-once delivery retried until a 2xx,
//! payloads rendered at send time, a `uuid` per delivery, a warning after a week of failure and
//! then a disable.
//!
//! ## Map
//! - [`time`]: virtual time ([`time::SimTime`], milliseconds). Nothing on the simulated path
//!   reads a real clock.
//! - [`domain`]: clients, invoices, the store, changes that record events, webhook configuration.
//! - [`policy`]: retry schedules, warn/disable thresholds and limits; named [`policy::Profile`]s.
//! - [`core`]: the sans-IO dispatcher. `handle(now, input)`, `poll_output()`, `poll_timeout()`.
//! - [`trace`]: the closed enum of everything that happens, with virtual timestamps.
//! - [`model`]: the model engine, a pure discrete-event driver of the core.
//! - [`receiver`]: reference receivers (`dedup`, `naive`, `picky`, `brittle`) as axum routers.
//! - [`certify`]: grades a real receiver over the network (wall clock, bounded client).
//!
//! See `ARCHITECTURE.md` for the invariants.

pub mod certify;
pub mod core;
pub mod domain;
pub mod model;
pub mod net;
pub mod policy;
pub mod receiver;
pub mod runner;
pub mod scenario;
pub mod time;
pub mod trace;
pub mod world;
