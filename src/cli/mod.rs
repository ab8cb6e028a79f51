//! The binary's subcommands: flags in, a library call, a report and an exit status out.

#[macro_use]
pub mod stdout;
pub mod certify;
pub mod check;
pub mod dispatch;
pub mod dispatcher;
pub mod explore;
pub mod live_flags;
pub mod merge;
pub mod receiver;
pub mod run;
pub mod sign;

/// Exit statuses shared by the subcommands.
pub const EXIT_OK: u8 = 0;
/// An expectation (or a certification case) failed.
pub const EXIT_FAILED: u8 = 1;
/// Bad input: unreadable or invalid files, bad flags. Nothing was run.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Help for the PATH arguments of `run` and `check`.
const PATHS_HELP: &str = "Scenario files or folders. A folder is searched for *.toml files at every depth \
     (subfolders too, symbolic links followed); any other file is read as given";

/// The last lines of a failed check: how many errors, and every file that has one.
fn bad_files_summary(report: &hooksim::scenario::CheckReport) -> String {
    let bad = report.bad_files();
    let mut out = format!("{} error(s) at {} path(s)", report.errors.len(), bad.len());
    if !report.files.is_empty() {
        out.push_str(&format!(" ({} scenario file(s) found)", report.files.len()));
    }
    for f in bad {
        out.push_str(&format!("\n  bad: {}", f.display()));
    }
    out
}

/// A runtime for one network-bound subcommand (certify, receiver): one thread is enough.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}
