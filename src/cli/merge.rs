//! `hooksim merge FILE... --json FILE --junit FILE`: explore shards' out files into one report.
//! Exit 0 when every seed passed, 1 when one failed, 2 when the files do not make one run
//! (a shard missing, twice, of another run, or unreadable) or a line of one is corrupt (every
//! field is checked; the error names `file:line`).

use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use clap::Args;
use hooksim::explore::report::{MergeError, OUT_FILE_BYTES_MAX, OutFile, merge, read_out};
use hooksim::scenario::read_regular_file;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The shards' out files (`hooksim explore --out`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the merged JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report here (a test case per failure signature).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

pub fn run(args: MergeArgs) -> u8 {
    let mut files: Vec<OutFile> = Vec::new();
    let mut errors = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        // A named pipe or a device is refused unread, an oversized file after its limit.
        let text = read_regular_file(path, "out file", ("OUT_FILE_BYTES_MAX", OUT_FILE_BYTES_MAX))
            .and_then(|bytes| String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}")));
        match text {
            Ok(text) => match read_out(&name, &text) {
                Ok(f) => files.push(f),
                Err(MergeError(e)) => errors.extend(e),
            },
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    }
    if files.is_empty() && !errors.is_empty() {
        // No file was read: coverage would only add "no files to merge".
        return bad(&errors);
    }
    let merged = match merge(&files) {
        Ok(m) if errors.is_empty() => m,
        Ok(_) => return bad(&errors),
        Err(MergeError(e)) => {
            errors.extend(e);
            return bad(&errors);
        }
    };
    outln!("seeds {}: {} passed, {} failed", merged.run.seeds, merged.passed, merged.failed);
    for g in &merged.failures {
        outln!("  {}: {} seed(s), e.g. {:?}", g.signature, g.seeds_failed, g.seeds);
        if let Some(why) = &g.stopped {
            outln!("{}", super::explore::indent(why));
        }
    }
    let written = (|| -> anyhow::Result<()> {
        if let Some(p) = &args.json {
            std::fs::write(p, merged.to_json())?;
        }
        if let Some(p) = &args.junit {
            std::fs::write(p, merged.to_junit()?)?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        eprintln!("error: {e:#}");
        return EXIT_FAILED;
    }
    if merged.failed == 0 { EXIT_OK } else { EXIT_FAILED }
}

fn bad(errors: &[String]) -> u8 {
    for e in errors {
        eprintln!("{e}");
    }
    eprintln!("the files do not make one run: nothing was merged");
    EXIT_BAD_INPUT
}
