//! The model engine: a pure discrete-event driver of the dispatcher core. No runtime, no
//! sockets: messages are agenda entries with a delivery time, receivers are the reference logic
//! called directly, and the clock jumps straight to the next thing that happens.
//!
//! It gives the same verdicts as the network engine on every scenario (same fault semantics,
//! see [`crate::world::Action`]), in microseconds, which makes it the engine for property tests
//! and sweeps.

mod agenda;
mod engine;

pub use engine::run;
