//! A test that cannot run here (its tool is missing) passes, so the harness's `ok` alone would
//! hide it. Each skip therefore says so in three places: the test's captured output, the run's
//! own stderr (written to the handle, past the harness's capture of `println!`/`eprintln!`, so it
//! shows without `--nocapture`), and one line appended to `target/skipped-tests.txt`, which
//! `.ci/run` empties before the tests and prints after them ("no test skipped" when empty).

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// `skipped-tests.txt` in the target directory (the parent of `CARGO_TARGET_TMPDIR`, so it
/// follows `CARGO_TARGET_DIR`).
pub fn list_path() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp is inside the target directory")
        .join("skipped-tests.txt")
}

/// Says that the running test is skipped and why (`reason` names the missing tool and how to
/// install it); the caller then returns.
pub fn skipped(reason: &str) {
    let line = line(&current_test(), reason);
    print!("{line}");
    let _ = std::io::stderr().write_all(line.as_bytes());
    append(&list_path(), &line);
}

/// The running test's name: its thread's, as the harness runs each test on a thread named after
/// it (`certify_sender::a_sender_on_the_standardwebhooks_library_passes`).
pub fn current_test() -> String {
    std::thread::current().name().unwrap_or("(a test off its own thread)").to_string()
}

/// `SKIPPED test: reason` and a newline.
pub fn line(test: &str, reason: &str) -> String {
    format!("SKIPPED {test}: {reason}\n")
}

/// Appends `line` to `list` in one write to a file opened for appending, so the lines of tests
/// skipping at once on other threads never interleave. A list that cannot be written fails the
/// test: a skip nobody can see is what this is for.
pub fn append(list: &Path, line: &str) {
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(list)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(e) = appended {
        panic!("{} cannot record `{}`: {e}", list.display(), line.trim_end());
    }
}
