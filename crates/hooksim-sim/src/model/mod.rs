//! The model engine: a pure discrete-event driver of the dispatcher core. No runtime, no
//! sockets: messages are agenda entries with a delivery time, receivers are the reference logic
//! called directly, and the clock jumps straight to the next thing that happens.
//!
//! It tells the same story as the network engine (`tests/it/engine_parity.rs`): link state, reply
//! sequences, emails and lingering exchanges are the shared shell's ([`crate::shell`]), and an
//! exchange costs what it costs on the network (connect, request, answer, and a server turn). It
//! runs in microseconds, which makes it the engine for property tests and sweeps.

mod agenda;
mod engine;

pub use engine::{Apps, run, run_dispatched, run_dispatched_with_apps, run_with};
