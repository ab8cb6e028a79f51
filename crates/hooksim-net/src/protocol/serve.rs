//! The reference core served over the protocol (`hooksim dispatcher --stdio`): the proof that
//! the protocol carries everything, since the harness derives from its lines a trace
//! byte-identical to the in-process core's.
//!
//! Durable state: every input is appended to `journal.jsonl` in the state directory before it is
//! applied (and flushed before `done`). A process started with `resumed: true` replays the
//! journal into a fresh core, dropping the outputs: the core is deterministic (its RNG is seeded),
//! so it ends in the state the crashed process had.

use super::message::{FromDispatcher, ToDispatcher};
use super::{LINE_BYTES_MAX, VERSION};
use hooksim_core::core::Dispatcher;
use hooksim_sim::protocol::reference::{apply, emit};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read as _, Write};
use std::path::Path;

/// The journal's file name inside the state directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// Why `hooksim dispatcher --stdio` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// An input line that is not a valid protocol message.
    #[error("input line {line}: {message}")]
    Input {
        /// Its number, from 1.
        line: u64,
        /// What was wrong with it.
        message: String,
    },
    /// Reading stdin, writing stdout, or the journal in the state directory failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Serves one process's life: `hello`, then inputs until end of input.
pub fn serve(input: impl BufRead, mut output: impl Write) -> Result<(), ServeError> {
    let mut lines = Lines { input, line: 0 };
    let Some(first) = lines.next()? else { return Ok(()) };
    let (mut core, journal) = match lines.parse(&first)? {
        ToDispatcher::Hello { version: _, seed, policy, webhooks, state_dir, resumed } => {
            let policy = policy.build().map_err(|e| lines.error(format!("policy: {e}")))?;
            let mut core = Dispatcher::new(policy, webhooks, seed);
            let journal = open_journal(&state_dir, resumed, &mut core)?;
            (core, journal)
        }
        _ => return Err(lines.error("the first line must be `hello`".into())),
    };
    let name = format!("hooksim {}", env!("CARGO_PKG_VERSION"));
    writeln!(output, "{}", FromDispatcher::Hello { version: VERSION, name: Some(name) }.to_line())?;
    output.flush()?;
    let mut journal = BufWriter::new(journal);
    let mut out = String::new();
    while let Some(text) = lines.next()? {
        let message = lines.parse(&text)?;
        journal.write_all(text.as_bytes())?;
        journal.write_all(b"\n")?;
        apply(&mut core, message).map_err(|e| lines.error(e))?;
        journal.flush()?;
        out.clear();
        for said in emit(&mut core).map_err(|e| lines.error(e))? {
            out.push_str(&said.to_line());
            out.push('\n');
        }
        output.write_all(out.as_bytes())?;
        output.flush()?;
    }
    Ok(())
}

struct Lines<R> {
    input: R,
    line: u64,
}

impl<R: BufRead> Lines<R> {
    fn next(&mut self) -> Result<Option<String>, ServeError> {
        let mut buf = Vec::new();
        let n = (&mut self.input).take(LINE_BYTES_MAX as u64 + 1).read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        } else if buf.len() > LINE_BYTES_MAX {
            return Err(self.error(format!("longer than {LINE_BYTES_MAX} bytes")));
        }
        String::from_utf8(buf).map(Some).map_err(|_| self.error("not UTF-8".into()))
    }

    fn parse(&self, text: &str) -> Result<ToDispatcher, ServeError> {
        super::line::from_line(text).map_err(|e| self.error(e.to_string()))
    }

    fn error(&self, message: String) -> ServeError {
        ServeError::Input { line: self.line, message }
    }
}

/// Opens the journal: replayed first when resuming, emptied otherwise.
fn open_journal(dir: &Path, resumed: bool, core: &mut Dispatcher) -> Result<File, ServeError> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(JOURNAL_FILE);
    if !resumed {
        return Ok(File::create(&path)?);
    }
    if let Ok(file) = File::open(&path) {
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line?;
            let replay_error = |message: String| ServeError::Input { line: i as u64 + 1, message };
            let message: ToDispatcher =
                serde_json::from_str(&line).map_err(|e| replay_error(format!("{}: {e}", path.display())))?;
            apply(core, message).map_err(replay_error)?;
            while core.poll_output().is_some() {}
            core.drain_trace().for_each(drop);
        }
    }
    Ok(OpenOptions::new().create(true).append(true).open(&path)?)
}
