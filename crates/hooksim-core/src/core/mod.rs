//! The reference dispatcher: a pure, sans-IO state machine.
//!
//! Shape (as in quinn-proto and str0m): the shell calls [`Dispatcher::handle`] with the current
//! virtual time and an [`Input`], drains [`Dispatcher::poll_output`] and the trace, and calls
//! [`Dispatcher::handle_timeout`] when [`Dispatcher::poll_timeout`] comes due. The core never
//! awaits, never reads a clock, and draws randomness (delivery uuids, jitter) only from its own
//! stream of the world's seed ([`crate::seed`]). It imports no async runtime and no network crate
//! (`tests/tidy.rs` checks). In debug builds it checks its bookkeeping after every input.

mod delivery;
mod dispatch;
mod dispatcher;
mod envelope;
mod health;
mod queues;
#[cfg(test)]
mod tests;

pub use dispatch::Dispatch;
pub use dispatcher::{AttemptId, AttemptRequest, Dispatcher, Input, InputError, Output, Shape, WarningEmail};
pub use envelope::render;
pub use health::{Health, Verdict};
