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
use hooksim_core::core::{Dispatcher, Input, Output};
use hooksim_core::trace::{Outcome, TraceEvent};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read as _, Write};
use std::path::Path;

/// The journal's file name inside the state directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("input line {line}: {message}")]
    Input { line: u64, message: String },
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
        emit(&mut core, &mut out).map_err(|e| lines.error(e))?;
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
        serde_json::from_str(text).map_err(|e| self.error(e.to_string()))
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

fn apply(core: &mut Dispatcher, message: ToDispatcher) -> Result<(), String> {
    let result = match message {
        ToDispatcher::Hello { .. } => return Err("`hello` comes once, first".into()),
        ToDispatcher::Change { now, change, .. } => core.handle(now, Input::Change(change)),
        ToDispatcher::Answer { now, attempt, outcome, retry_after_ms } => {
            let input = match (Outcome::from(outcome), retry_after_ms) {
                (Outcome::Status { code: status }, Some(retry_after_ms)) => {
                    Input::AnswerRetryAfter { attempt, status, retry_after_ms }
                }
                (outcome, _) => Input::Answer { attempt, outcome },
            };
            core.handle(now, input)
        }
        ToDispatcher::Enable { now, webhook } => core.handle(now, Input::Enable(webhook)),
        ToDispatcher::Crash { now } => core.handle(now, Input::Crash),
        ToDispatcher::Restart { now } => core.handle(now, Input::Restart),
        ToDispatcher::Wake { now } => {
            core.handle_timeout(now);
            Ok(())
        }
    };
    result.map_err(|e| e.to_string())
}

/// Writes the core's outputs as protocol lines, in the order of its trace, then `done`.
fn emit(core: &mut Dispatcher, out: &mut String) -> Result<(), String> {
    let entries: Vec<_> = core.drain_trace().collect();
    for entry in entries {
        let line = match entry.event {
            // The harness records the event itself: it made the change.
            TraceEvent::EventRecorded { .. } => continue,
            TraceEvent::AttemptStarted { attempt, event, .. } => match core.poll_output() {
                Some(Output::Send(r)) if r.attempt == attempt => FromDispatcher::Send {
                    attempt,
                    delivery: r.delivery,
                    webhook: r.webhook,
                    event,
                    url: r.url.to_string(),
                    body: r.body.to_string(),
                    timeout_ms: r.timeout_ms,
                },
                other => return Err(format!("attempt {attempt} started but the core's next output is {other:?}")),
            },
            TraceEvent::WarningSent { webhook, .. } => match core.poll_output() {
                Some(Output::Email(e)) if e.webhook == webhook => {
                    FromDispatcher::Email { to: e.to, webhook, url: e.url.to_string(), failing_since: e.failing_since }
                }
                other => return Err(format!("a warning about {webhook} but the core's next output is {other:?}")),
            },
            other => fact(other).ok_or("a shell's trace entry from the core")?,
        };
        out.push_str(&line.to_line());
        out.push('\n');
    }
    if let Some(left) = core.poll_output() {
        return Err(format!("an output with no trace entry: {left:?}"));
    }
    out.push_str(&FromDispatcher::Done { wake_at: core.poll_timeout() }.to_line());
    out.push('\n');
    Ok(())
}

/// The fact that carries a core trace entry (`None` for the shells' entries).
fn fact(event: TraceEvent) -> Option<FromDispatcher> {
    Some(match event {
        TraceEvent::DeliveryQueued { delivery, webhook, event } => {
            FromDispatcher::DeliveryQueued { delivery, webhook, event }
        }
        TraceEvent::DeliveryRefused { webhook, event, reason } => {
            FromDispatcher::DeliveryRefused { webhook, event, reason: reason.into() }
        }
        TraceEvent::AttemptFinished { attempt, delivery, webhook, event, outcome } => {
            FromDispatcher::AttemptFinished { attempt, delivery, webhook, event, outcome: outcome.into() }
        }
        TraceEvent::LateAnswerIgnored { attempt, outcome } => {
            FromDispatcher::LateAnswerIgnored { attempt, outcome: outcome.into() }
        }
        TraceEvent::AttemptLost { attempt, delivery, webhook } => {
            FromDispatcher::AttemptLost { attempt, delivery, webhook }
        }
        TraceEvent::RetryScheduled { delivery, webhook, at, failures } => {
            FromDispatcher::RetryScheduled { delivery, webhook, at, failures }
        }
        TraceEvent::Delivered { delivery, webhook, event, attempts } => {
            FromDispatcher::Delivered { delivery, webhook, event, attempts }
        }
        TraceEvent::DeliveryAbandoned { delivery, webhook, event, attempts, reason } => {
            FromDispatcher::DeliveryAbandoned { delivery, webhook, event, attempts, reason: reason.into() }
        }
        TraceEvent::WebhookDisabled { webhook, failing_since, reason } => {
            FromDispatcher::WebhookDisabled { webhook, failing_since, reason }
        }
        TraceEvent::WebhookRecovered { webhook } => FromDispatcher::WebhookRecovered { webhook },
        TraceEvent::WebhookEnabled { webhook } => FromDispatcher::WebhookEnabled { webhook },
        TraceEvent::DispatcherRestarted => FromDispatcher::DispatcherRestarted,
        _ => return None,
    })
}
