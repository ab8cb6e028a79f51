//! `hooksim check [PATH...]`: validate scenario files without running them.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use clap::Args;
use hooksim::scenario::check_paths;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[arg(default_value = "scenarios", help = super::PATHS_HELP)]
    pub paths: Vec<PathBuf>,
}

pub fn run(args: CheckArgs) -> u8 {
    let report = check_paths(&args.paths);
    for error in &report.errors {
        eprintln!("{error}");
    }
    if report.is_ok() {
        outln!("{} scenario file(s) OK", report.files.len());
        EXIT_OK
    } else {
        eprintln!("{}", super::bad_files_summary(&report));
        EXIT_BAD_INPUT
    }
}
