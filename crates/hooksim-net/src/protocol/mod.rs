//! The dispatcher protocol's process side: [`ProcessDispatcher`] spawns a command, speaks the
//! protocol (`hooksim_sim::protocol`'s messages and ledger), trusts nothing it reads, and
//! implements `Dispatch` with the trace derived from what the process said; [`serve`] serves the
//! reference core over the protocol (`hooksim dispatcher --stdio`).

mod client;
mod line;
mod pipe;
pub mod serve;

pub use client::{Direction, ProcessConfig, ProcessDispatcher, ProcessError};
pub use hooksim_sim::protocol::*;
