//! Scenario files a run did not run: never judged, so never counted as passed, and listed in
//! every report (the summary line, `--json`, `--junit`) so that a CI system shows them.

use std::path::PathBuf;

/// One scenario file left out of a run, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedScenario {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub file: PathBuf,
    /// Why it was not run, for people.
    pub reason: String,
}
