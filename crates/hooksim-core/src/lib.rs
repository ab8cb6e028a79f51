//! # hooksim-core
//!
//! The bottom layer of hooksim: virtual time, seeds, the domain, policies, signatures, the trace,
//! and the sans-IO dispatcher core. Nothing here performs IO, reads a clock or draws unseeded
//! randomness; this crate's `Cargo.toml` has no tokio, turmoil, hyper, axum or reqwest, so the
//! compiler keeps it that way.
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
//! - [`provider`]: provider packs: each provider's envelope, headers, dedup id and delivery facts.
//! - [`signing`]: webhook signatures (Standard Webhooks, Stripe, GitHub): sign and verify, pure,
//!   with `now` as a parameter.

// `pub` only where a user of the crate can reach it: anything else is `pub(crate)`.
#![warn(unreachable_pub)]
#![warn(missing_docs)]

pub mod core;
pub mod domain;
pub mod policy;
pub mod provider;
pub mod seed;
pub mod signing;
pub mod time;
pub mod trace;
