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
//! - [`world`]: a simulated world, independent of the engine that runs it: receivers and their
//!   behaviour, a timeline of changes and faults.
//! - [`model`]: the model engine, a pure discrete-event driver of the core.
//! - [`net`]: the network engine: the same core over real HTTP (hyper, axum) on turmoil's
//!   simulated network, skipping idle time.
//! - [`scenario`]: scenario files (TOML): loading with `file:line:column` errors, expectations
//!   evaluated over a trace.
//! - [`runner`]: runs scenarios on an engine; human, JSON and JUnit reports.
//! - [`receiver`]: reference receivers (`dedup`, `naive`, `picky`, `brittle`) as axum routers.
//! - [`certify`]: grades a real receiver over the network (wall clock, bounded client).
//!
//! Every engine produces a [`trace::Trace`]; same world and seed, byte-identical trace.
//! See `ARCHITECTURE.md` for the invariants.

pub mod certify;
pub mod core;
pub mod domain;
pub mod model;
pub mod net;
pub mod policy;
pub mod properties;
pub mod receiver;
pub mod runner;
pub mod scenario;
pub mod time;
pub mod timeline;
pub mod trace;
pub mod world;
