//! Standard output for people and pipes. `hooksim run | head` closes the pipe after ten lines:
//! `println!` would panic there (Rust ignores SIGPIPE, so the write fails with `BrokenPipe`).
//! Restoring SIGPIPE's default would instead kill hooksim when a dispatcher process it feeds
//! exits early, so a closed stdout is handled here: lines after it are dropped, while the run,
//! its report files and its exit status are unchanged. `tests/tidy.rs` keeps `println!` out of
//! `src/cli`.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write failed for another reason than a closed pipe, so it is said once.
static FAILED_ONCE: AtomicBool = AtomicBool::new(false);

pub fn write(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {}
        Err(e) => {
            if !FAILED_ONCE.swap(true, Ordering::Relaxed) {
                eprintln!("error: writing to standard output: {e}");
            }
        }
    }
}

/// `print!` that survives a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::stdout::write(format_args!($($arg)*)) };
}

/// `println!` that survives a closed pipe.
macro_rules! outln {
    () => { $crate::cli::stdout::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::stdout::write(format_args!("{}\n", format_args!($($arg)*))) };
}
