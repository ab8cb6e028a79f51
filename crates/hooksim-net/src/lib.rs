//! # hooksim-net
//!
//! hooksim's IO layer: the network engine (turmoil, hyper, axum), the live shell over the real
//! network, the reference receivers served over HTTP, the dispatcher protocol's child process,
//! and the one real HTTP client ([`http`]) with the effects contract's reader ([`effects`]).
//!
//! ## Map
//! - [`net`]: the network engine: the same core over real HTTP (hyper, axum) on turmoil's
//!   simulated network, skipping idle time.
//! - [`live`]: the live shell: the same core with the scenario's receivers bound to real
//!   endpoints (reqwest, a new connection per attempt); virtual time jumps while nothing is in
//!   flight and runs at wall speed while a request is, or, for `hooksim dispatch`, runs always at
//!   wall speed times a scale (`live::Pace`).
//! - [`receiver`]: reference receivers (`dedup`, `naive`, `picky`, `brittle`) as axum routers,
//!   with a page at `/` of the deliveries they saw, acted on or skipped and why.
//! - [`protocol`]: the dispatcher protocol: the core's shape as JSON lines to a child process,
//!   so a dispatcher in any language runs in the worlds (`hooksim dispatcher --stdio` serves the core).
//! - [`http`]: the real HTTP client (reqwest) and how a failed exchange reads.
//! - [`effects`]: the effects contract: what a receiver under test says it acted on.

// `pub` only where a user of the crate can reach it: anything else is `pub(crate)`.
#![warn(unreachable_pub)]
#![warn(missing_docs)]

#[cfg(feature = "live")]
pub mod effects;
#[cfg(feature = "live")]
pub mod http;
#[cfg(feature = "live")]
pub mod live;
pub mod net;
pub mod protocol;
pub mod receiver;
