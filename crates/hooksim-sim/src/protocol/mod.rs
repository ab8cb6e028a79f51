//! The dispatcher protocol: the core's sans-IO shape spoken as JSON lines over a child process's
//! stdin and stdout, so that a dispatcher written in any language runs in the simulated worlds
//! under virtual time. `docs/protocol.md` is the specification.
//!
//! - [`message`]: every message, both directions, as serde types.
//! - [`ProcessDispatcher`]: the harness side. Spawns a command, speaks the protocol, trusts
//!   nothing it reads, and implements [`hooksim_core::core::Dispatch`] with the trace derived from what
//!   the process said.
//! - [`serve`]: the reference core served over the protocol (`hooksim dispatcher --stdio`).

pub mod error;
pub mod ledger;
pub mod message;
pub mod reference;
pub mod spoken;

pub use error::{Problem, ProtocolError};
pub use reference::ReferenceSpeaker;
pub use spoken::{Speaks, Spoken, SpokenError};

/// The protocol version `hello` names. A process that answers another version is refused.
pub const VERSION: u32 = 1;

/// Longest line either side may write, newline excluded. A longer line from the process is a
/// [`Problem::TooLong`]; the reference server refuses a longer input line the same way.
pub const LINE_BYTES_MAX: usize = 8 * 1024 * 1024;

/// Most output lines (sends, emails, facts) the process may write for one input before `done`.
pub const OUTPUTS_PER_INPUT_MAX: usize = 10_000;

/// Inputs (every line the harness writes, `hello` included) one run may send its dispatcher
/// process, restarts included. A run that would send more stops there with an error naming this
/// limit: a dispatcher that retries every second for ever ends in seconds, not hours. The heaviest
/// library scenario sends the reference core a few hundred.
pub const INPUTS_PER_RUN_MAX: u64 = 100_000;

/// Wall-clock time the harness waits for each line the process owes (the `hello` answer, each
/// output, `done`) before it gives up on the process.
pub const REPLY_TIMEOUT_MS: u64 = 10_000;

/// The process's stderr kept for the report: the last this many bytes.
pub const STDERR_BYTES_MAX: usize = 64 * 1024;

/// Characters of an offending line quoted in an error.
pub const QUOTE_CHARS_MAX: usize = 200;

/// The environment variable naming the process's state directory (also in `hello`).
pub const STATE_DIR_ENV: &str = "HOOKSIM_STATE_DIR";

/// Why `world` cannot be run with a dispatcher speaking the protocol, if it cannot: the protocol
/// carries SnapBill's envelope, which a dispatcher renders itself, so a world in a provider's
/// shape (`provider = "stripe"`) runs on the reference core only. The error stops the run at its
/// start, as a dispatcher that cannot start does.
pub fn refuses(world: &crate::world::World) -> Option<crate::world::EngineError> {
    (world.provider != hooksim_core::provider::Provider::Snapbill).then(|| crate::world::EngineError::Dispatcher {
        at: hooksim_core::time::SimTime::ZERO,
        during: "start".to_string(),
        message: format!(
            "provider = {:?}: a dispatcher speaking the protocol renders SnapBill's envelope; a provider's \
             shape is rendered by the reference core only (run without a dispatcher)",
            world.provider.name()
        ),
    })
}
