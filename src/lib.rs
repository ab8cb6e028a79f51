//! # hooksim
//!
//! A deterministic simulation and conformance harness for webhook delivery, with SnapBill's
//! webhook documentation as the reference behaviour: at-least-once delivery retried until a 2xx,
//! payloads rendered at send time, a `uuid` per delivery, a warning after a week of failure and
//! then a disable.
//!
//! ```
//! // A SnapBill world where the shop's first two answers are lost after it acted: the dedup
//! // receiver acts once although the delivery came three times, in virtual time.
//! let run = hooksim::Sim::from_file("scenarios/lost-answers-dedup.toml")?.run()?;
//! run.assert_passed();
//! # Ok::<(), hooksim::SimError>(())
//! ```
//!
//! Your own receiver (an axum `Router`) takes the place of a scenario's receiver with
//! [`Sim::receiver`]; `tests/facade.rs` catches one without dedup in that same world.
//! The crates underneath, bottom up: `hooksim-core` (time, domain, policy, signing, trace, the
//! sans-IO core), `hooksim-sim` (worlds, shell, model engine, scenarios, properties; no IO),
//! `hooksim-net` (the simulated network, the live shell, served receivers, the protocol
//! process); this crate adds the runner, certification, exploration, the timeline and the CLI.
//!
//! ## Map
//! - [`time`]: virtual time ([`time::SimTime`], milliseconds), and [`time::TimeQueue`], the one
//!   `(time, push order)` queue of timers and messages. Nothing on the simulated path reads a
//!   real clock.
//! - [`seed`]: the world's one seed split into independent random streams (core, engines).
//! - [`domain`]: clients, invoices, the store, changes that record events, webhook configuration.
//! - [`policy`]: retry schedules, warn/disable thresholds and limits; named [`policy::Profile`]s.
//! - [`core`]: the sans-IO dispatcher. `handle(now, input)`, `poll_output()`, `poll_timeout()`.
//! - [`trace`]: the closed enum of everything that happens, with virtual timestamps; a versioned
//!   JSON-lines form that reads back, and a budget of entries.
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
//! - [`net`]: the network engine: the same core over real HTTP (hyper, axum) on turmoil's
//!   simulated network, skipping idle time.
//! - [`live`]: the live shell: the same core with the scenario's receivers bound to real
//!   endpoints (reqwest, a new connection per attempt); virtual time jumps while nothing is in
//!   flight and runs at wall speed while a request is, or, for `hooksim dispatch`, runs always at
//!   wall speed times a scale (`live::Pace`).
//! - [`scenario`]: scenario files (TOML): loading with `file:line:column` errors, expectations
//!   evaluated over a trace.
//! - [`runner`]: runs scenarios on an engine; human, JSON and JUnit reports.
//! - [`receiver`]: reference receivers (`dedup`, `naive`, `picky`, `brittle`) as axum routers,
//!   with a page at `/` of the deliveries they saw, acted on or skipped and why.
//! - [`protocol`]: the dispatcher protocol: the core's shape as JSON lines to a child process,
//!   so a dispatcher in any language runs in the worlds (`hooksim dispatcher --stdio` serves the core).
//! - [`certify`]: grades a real receiver by playing the certification scenarios
//!   (`certification/`, shipped in the binary) through the live shell, plus hand-sent cases;
//!   `certify::sender` grades a real sender, hooksim being its receiver.
//! - [`signing`]: webhook signatures (Standard Webhooks, Stripe, GitHub): sign and verify, pure,
//!   with `now` as a parameter.
//! - [`properties`]: what holds in every world, checked over a finished trace (nothing lost,
//!   dedup acts once, one uuid per delivery, warn a grace before disabling, bodies at send time,
//!   parked deliveries resume).
//! - [`timeline`]: one run's trace as a self-contained HTML page.
//! - [`explore`]: seeds become worlds with faults, checked against every property; shards of a
//!   seed range merge into one report; a failing seed shrinks to a scenario file.
//!
//! Every engine produces a [`trace::Trace`]; same world and seed, byte-identical trace. An
//! engine that stops early (an error, a limit, its watchdog) still returns the trace up to there.
//! See `ARCHITECTURE.md` for the invariants.

// `pub` only where a user of the crate can reach it: anything else is `pub(crate)`.
#![warn(unreachable_pub)]
#![warn(missing_docs)]

pub mod allocator;
#[cfg(feature = "certify")]
pub mod certify;
pub mod explore;
pub mod runner;
mod sim;
pub mod timeline;

pub use hooksim_core::{core, domain, policy, provider, seed, signing, time, trace};
#[cfg(feature = "live")]
pub use hooksim_net::{http, live};
pub use hooksim_net::{net, protocol, receiver};
pub use hooksim_sim::{model, properties, scenario, shell, world};

// The facade: what most users need, at the root.
pub use net::Apps;
pub use protocol::{Speaks, Spoken};
pub use runner::{Engine, ScenarioRun};
pub use scenario::Scenario;
pub use sim::{Sim, SimError};
pub use trace::{Trace, TraceEvent};
pub use world::World;
