//! The binary's subcommands: flags in, a library call, a report and an exit status out.

pub mod certify;
pub mod receiver;

/// A runtime for one subcommand; the work is network-bound, so one thread is enough.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}
