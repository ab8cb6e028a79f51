//! The binary's subcommands: flags in, a library call, a report and an exit status out.

pub mod certify;
pub mod check;
pub mod dispatcher;
pub mod receiver;
pub mod run;

/// Exit statuses shared by the subcommands.
pub const EXIT_OK: u8 = 0;
/// An expectation (or a certification case) failed.
pub const EXIT_FAILED: u8 = 1;
/// Bad input: unreadable or invalid files, bad flags. Nothing was run.
pub const EXIT_BAD_INPUT: u8 = 2;

/// A runtime for one network-bound subcommand (certify, receiver): one thread is enough.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}
