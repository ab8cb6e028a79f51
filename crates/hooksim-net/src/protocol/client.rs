//! [`ProcessDispatcher`]: the harness side of the protocol. It spawns the dispatcher command,
//! turns each [`Input`] into a line, reads the outputs back through the [`Ledger`], and records
//! the trace the in-process core would have recorded: `event_recorded` itself (it knows the
//! change), `attempt_started` from each `send`, `warning_sent` from each `email`, every other
//! dispatcher entry from the process's facts.

use super::error::{ProtocolError, quote};
use super::ledger::{Asked, Ledger};
use super::message::{FromDispatcher, ToDispatcher};
use super::pipe::{Pipe, Read};
use super::{
    INPUTS_PER_RUN_MAX, LINE_BYTES_MAX, OUTPUTS_PER_INPUT_MAX, QUOTE_CHARS_MAX, REPLY_TIMEOUT_MS, STATE_DIR_ENV,
    STDERR_BYTES_MAX, VERSION,
};
use hooksim_core::core::{Dispatch, Input, InputError, Output};
use hooksim_core::domain::{Store, WebhookConfig};
use hooksim_core::policy::Policy;
use hooksim_core::time::SimTime;
use hooksim_core::trace::{Outcome, Trace, TraceEntry, TraceEvent};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How to run a dispatcher process, and the limits it runs under.
#[derive(Clone, Debug)]
pub struct ProcessConfig {
    /// Program and arguments (no shell).
    pub command: Vec<String>,
    /// The directory the process may keep across restarts. `None`: a fresh one under the system's
    /// temporary directory, removed when the dispatcher is dropped.
    pub state_dir: Option<PathBuf>,
    /// How long the harness waits for each reply line, in wall milliseconds; past it the process is
    /// given up on.
    pub reply_timeout_ms: u64,
    /// The longest line the process may write, in bytes; a longer one is a protocol error.
    pub line_bytes_max: usize,
    /// Outputs the process may answer one input with; more is a protocol error.
    pub outputs_per_input_max: usize,
    /// Inputs one run may send (see [`INPUTS_PER_RUN_MAX`]), all incarnations together.
    pub inputs_max: u64,
    /// Lines kept in [`ProcessDispatcher::transcript`] (both directions); 0 keeps none.
    pub transcript_lines_max: usize,
}

impl ProcessConfig {
    /// A dispatcher process running `command`, in a fresh state directory, with the protocol's
    /// default limits.
    pub fn new(command: Vec<String>) -> Self {
        ProcessConfig {
            command,
            state_dir: None,
            reply_timeout_ms: REPLY_TIMEOUT_MS,
            line_bytes_max: LINE_BYTES_MAX,
            outputs_per_input_max: OUTPUTS_PER_INPUT_MAX,
            inputs_max: INPUTS_PER_RUN_MAX,
            transcript_lines_max: 0,
        }
    }

    /// `python3 my_dispatcher.py`: words split on whitespace (no quoting, no shell).
    pub fn from_command_line(line: &str) -> Self {
        Self::new(line.split_whitespace().map(str::to_string).collect())
    }

    fn command_line(&self) -> String {
        self.command.join(" ")
    }
}

/// Why a [`ProcessDispatcher`] step failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    /// The input itself was impossible (as the core would have said).
    #[error(transparent)]
    Input(#[from] InputError),
    /// The process broke the protocol, went quiet or went away.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// Which way a transcript line went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// A line the harness wrote to the process.
    ToDispatcher,
    /// A line the process wrote to the harness.
    FromDispatcher,
}

/// A dispatcher in a child process, driven like [`hooksim_core::core::Dispatcher`].
pub struct ProcessDispatcher {
    config: ProcessConfig,
    hello: ToDispatcher,
    state_dir: PathBuf,
    owns_state_dir: bool,
    pipe: Option<Pipe>,
    /// Lines read from the current process.
    lines_read: u64,
    /// Lines written to every process of this run (the budget's count).
    inputs_sent: u64,
    name: Option<String>,
    store: Store,
    ledger: Ledger,
    now: SimTime,
    crashed: bool,
    wake_at: Option<SimTime>,
    outputs: VecDeque<Output>,
    trace: Vec<TraceEntry>,
    failed: Option<ProtocolError>,
    transcript: Vec<(Direction, String)>,
    stderr: String,
}

static STATE_DIRS: AtomicU64 = AtomicU64::new(0);

impl ProcessDispatcher {
    /// Starts the process and says `hello`. The arguments are those of
    /// [`hooksim_core::core::Dispatcher::new`]: the process gets the policy, webhooks and seed in `hello`.
    pub fn spawn(
        config: ProcessConfig,
        policy: &Policy,
        webhooks: Vec<WebhookConfig>,
        seed: u64,
    ) -> Result<Self, ProtocolError> {
        let (state_dir, owns_state_dir) = match &config.state_dir {
            Some(dir) => (dir.clone(), false),
            None => {
                let n = STATE_DIRS.fetch_add(1, Ordering::Relaxed);
                (std::env::temp_dir().join(format!("hooksim-dispatcher-{}-{n}", std::process::id())), true)
            }
        };
        std::fs::create_dir_all(&state_dir).map_err(|e| ProtocolError::Spawn {
            command: config.command_line(),
            reason: format!("cannot create the state directory {}: {e}", state_dir.display()),
        })?;
        let hello = ToDispatcher::Hello {
            version: VERSION,
            seed,
            policy: policy.spec().clone(),
            webhooks: webhooks.clone(),
            state_dir: state_dir.clone(),
            resumed: false,
        };
        let mut d = ProcessDispatcher {
            config,
            hello,
            state_dir,
            owns_state_dir,
            pipe: None,
            lines_read: 0,
            inputs_sent: 0,
            name: None,
            store: Store::default(),
            ledger: Ledger::new(webhooks),
            now: SimTime::ZERO,
            crashed: false,
            wake_at: None,
            outputs: VecDeque::new(),
            trace: Vec::new(),
            failed: None,
            transcript: Vec::new(),
            stderr: String::new(),
        };
        d.start(false).map_err(|e| d.fail(e))?;
        Ok(d)
    }

    /// What the process called itself in its `hello`, if anything.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The last [`STDERR_BYTES_MAX`] bytes the process (its latest incarnation) wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        match &self.pipe {
            Some(pipe) => pipe.stderr_tail(),
            None => self.stderr.clone(),
        }
    }

    /// The lines exchanged, in order, up to `transcript_lines_max`.
    pub fn transcript(&self) -> &[(Direction, String)] {
        &self.transcript
    }

    /// Why the process was given up on, if it was (it is then not used again).
    pub fn failure(&self) -> Option<&ProtocolError> {
        self.failed.as_ref()
    }

    /// The directory the process keeps its state in across restarts.
    pub fn state_dir(&self) -> &std::path::Path {
        &self.state_dir
    }

    /// Starts (or restarts) the process and exchanges `hello`.
    fn start(&mut self, resumed: bool) -> Result<(), ProtocolError> {
        if let Some(mut old) = self.pipe.take() {
            // The crashed incarnation: the host went down, its children with it.
            old.kill();
        }
        if let ToDispatcher::Hello { resumed: r, .. } = &mut self.hello {
            *r = resumed;
        }
        let env = [(STATE_DIR_ENV, self.state_dir.as_os_str())];
        let pipe = Pipe::spawn(&self.config.command, &env, self.config.line_bytes_max, STDERR_BYTES_MAX)
            .map_err(|e| ProtocolError::Spawn { command: self.config.command_line(), reason: e.to_string() })?;
        self.pipe = Some(pipe);
        self.lines_read = 0;
        let hello = self.hello.to_line();
        self.write(&hello, "hello")?;
        let (line, text) = self.read("hello")?;
        match parse(&text) {
            Ok(FromDispatcher::Hello { version, name }) if version == VERSION => {
                self.name = name;
                Ok(())
            }
            Ok(FromDispatcher::Hello { version, .. }) => {
                Err(self.line_error(line, &text, super::Problem::Version { got: version, want: VERSION }))
            }
            Ok(other) => {
                let got = message_type(&other);
                Err(self.line_error(line, &text, super::Problem::Unexpected { got, expected: "`hello`" }))
            }
            Err(problem) => Err(self.line_error(line, &text, problem)),
        }
    }

    fn line_error(&self, line: u64, text: &str, problem: super::Problem) -> ProtocolError {
        ProtocolError::Line { line, text: quote(text, QUOTE_CHARS_MAX), problem }
    }

    fn gone(&mut self, how: String, input: &str) -> ProtocolError {
        let stderr = self.pipe.as_ref().map(Pipe::stderr_tail).unwrap_or_default();
        ProtocolError::Gone { how, input: input.to_string(), line: self.lines_read, stderr: tail_lines(&stderr) }
    }

    fn write(&mut self, line: &str, input: &str) -> Result<(), ProtocolError> {
        if self.inputs_sent >= self.config.inputs_max {
            return Err(ProtocolError::InputsSpent { max: self.config.inputs_max, input: input.to_string() });
        }
        self.inputs_sent += 1;
        self.note(Direction::ToDispatcher, line);
        let pipe = self.pipe.as_mut().expect("a started process");
        if let Err(e) = pipe.write_line(line) {
            let status = pipe.exit_status();
            let how = match status {
                Some(status) => format!("exited ({status})"),
                None => format!("stopped reading its input ({e})"),
            };
            return Err(self.gone(how, input));
        }
        Ok(())
    }

    /// The next line the process owes for `input`: (its number, its text).
    fn read(&mut self, input: &str) -> Result<(u64, String), ProtocolError> {
        let timeout = Duration::from_millis(self.config.reply_timeout_ms);
        let pipe = self.pipe.as_mut().expect("a started process");
        let next = pipe.next(timeout);
        let line = self.lines_read + 1;
        match next {
            Some(Read::Line(text)) => {
                self.lines_read = line;
                self.note(Direction::FromDispatcher, &text);
                Ok((line, text))
            }
            Some(Read::TooLong(start)) => {
                let limit = self.config.line_bytes_max;
                Err(self.line_error(line, &start, super::Problem::TooLong { limit }))
            }
            Some(Read::NotUtf8(text)) => Err(self.line_error(line, &text, super::Problem::NotUtf8)),
            Some(Read::Eof) => {
                let status = self.pipe.as_mut().and_then(Pipe::exit_status);
                let how = match status {
                    Some(status) => format!("exited ({status})"),
                    None => "closed its stdout".to_string(),
                };
                Err(self.gone(how, input))
            }
            Some(Read::Failed(e)) => Err(self.gone(format!("could not be read ({e})"), input)),
            None => {
                let how = format!("said nothing for {} ms (reply_timeout_ms)", self.config.reply_timeout_ms);
                Err(self.gone(how, input))
            }
        }
    }

    fn note(&mut self, direction: Direction, line: &str) {
        if self.transcript.len() < self.config.transcript_lines_max {
            self.transcript.push((direction, line.to_string()));
        }
    }

    /// Records the failure: the process is ended and not used again.
    fn fail(&mut self, error: ProtocolError) -> ProtocolError {
        if let Some(mut pipe) = self.pipe.take() {
            self.stderr = pipe.stderr_tail();
            pipe.end();
        }
        self.failed = Some(error.clone());
        error
    }

    fn log(&mut self, event: TraceEvent) {
        self.trace.push(TraceEntry { at: self.now, event });
    }

    /// Sends one input and takes its outputs, up to `done`.
    fn exchange(&mut self, message: ToDispatcher, asked: Asked) -> Result<(), ProtocolError> {
        if let Some(e) = &self.failed {
            return Err(ProtocolError::Broken(e.to_string()));
        }
        self.exchange_inner(message, asked).map_err(|e| self.fail(e))
    }

    fn exchange_inner(&mut self, message: ToDispatcher, asked: Asked) -> Result<(), ProtocolError> {
        let input = message.name();
        if let Some(early) = self.pipe.as_ref().and_then(Pipe::unsolicited) {
            let line = self.lines_read + 1;
            let text = match early {
                Read::Line(text) | Read::NotUtf8(text) | Read::TooLong(text) => text,
                _ => String::new(),
            };
            if !text.is_empty() {
                return Err(self.line_error(line, &text, super::Problem::Unsolicited));
            }
        }
        self.write(&message.to_line(), input)?;
        let mut outputs = 0usize;
        loop {
            let (line, text) = self.read(input)?;
            let parsed = parse(&text).map_err(|p| self.line_error(line, &text, p))?;
            let taken =
                self.ledger.take(self.now, asked, self.crashed, parsed).map_err(|p| self.line_error(line, &text, p))?;
            if let Some(wake_at) = taken.done {
                // The attempt ends the process did not report, recorded by the ledger.
                for event in taken.trace {
                    self.log(event);
                }
                self.wake_at = wake_at;
                return Ok(());
            }
            outputs += 1;
            if outputs > self.config.outputs_per_input_max {
                let limit = self.config.outputs_per_input_max;
                return Err(self.line_error(line, &text, super::Problem::TooManyOutputs { limit }));
            }
            for event in taken.trace {
                self.log(event);
            }
            self.outputs.extend(taken.output);
        }
    }

    fn advance(&mut self, now: SimTime) -> SimTime {
        self.now = self.now.max(now);
        self.now
    }

    fn change(&mut self, now: SimTime, change: hooksim_core::domain::Change) -> Result<(), ProcessError> {
        let (recorded, message, asked) = self.ledger.change(&mut self.store, now, change)?;
        self.log(recorded);
        Ok(self.exchange(message, asked)?)
    }
}

impl ProcessDispatcher {
    fn answer(
        &mut self,
        now: SimTime,
        attempt: u64,
        outcome: Outcome,
        retry_after_ms: Option<u64>,
    ) -> Result<(), ProcessError> {
        if !self.ledger.knows_attempt(attempt) {
            return Err(InputError::UnknownAttempt(attempt).into());
        }
        let message = ToDispatcher::Answer { now, attempt, outcome: outcome.into(), retry_after_ms };
        self.exchange(message, Asked::Answer { attempt, outcome })?;
        Ok(())
    }
}

impl Dispatch for ProcessDispatcher {
    type Error = ProcessError;

    fn handle(&mut self, now: SimTime, input: Input) -> Result<(), ProcessError> {
        let now = self.advance(now);
        match input {
            Input::Change(change) => return self.change(now, change),
            Input::Answer { attempt, outcome } => self.answer(now, attempt, outcome, None)?,
            Input::AnswerRetryAfter { attempt, status, retry_after_ms } => {
                self.answer(now, attempt, Outcome::Status { code: status }, Some(retry_after_ms))?
            }
            Input::Enable(webhook) => {
                if webhook.0 as usize >= self.ledger.webhook_count() {
                    return Err(InputError::UnknownWebhook(webhook).into());
                }
                self.exchange(ToDispatcher::Enable { now, webhook }, Asked::Enable { webhook })?;
            }
            Input::Crash if !self.crashed => {
                self.crashed = true;
                self.exchange(ToDispatcher::Crash { now }, Asked::Crash)?;
            }
            Input::Restart if self.crashed => {
                if let Some(e) = &self.failed {
                    return Err(ProtocolError::Broken(e.to_string()).into());
                }
                // The host came back: a new process on the same state directory.
                self.start(true).map_err(|e| self.fail(e))?;
                self.crashed = false;
                self.exchange(ToDispatcher::Restart { now }, Asked::Restart)?;
            }
            // A crash of a crashed dispatcher, a restart of a running one: nothing happens.
            Input::Crash | Input::Restart => {}
        }
        Ok(())
    }

    fn handle_timeout(&mut self, now: SimTime) -> Result<(), ProcessError> {
        let now = self.advance(now);
        if self.wake_at.is_some_and(|at| at <= now) {
            self.exchange(ToDispatcher::Wake { now }, Asked::Wake)?;
        }
        Ok(())
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        self.wake_at
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    fn drain_trace_into(&mut self, trace: &mut Trace) {
        trace.append(&mut self.trace);
    }
}

impl Drop for ProcessDispatcher {
    fn drop(&mut self) {
        if let Some(mut pipe) = self.pipe.take() {
            pipe.end();
        }
        if self.owns_state_dir {
            let _ = std::fs::remove_dir_all(&self.state_dir);
        }
    }
}

/// One line parsed, or what is wrong with it: an unknown `type` is told apart from a bad field.
fn parse(text: &str) -> Result<FromDispatcher, super::Problem> {
    super::line::from_line(text).map_err(|e| {
        let value: Option<serde_json::Value> = serde_json::from_str(text).ok();
        match value.as_ref().and_then(|v| v.get("type")).and_then(|t| t.as_str()) {
            Some(kind) if e.to_string().starts_with("unknown variant") => super::Problem::UnknownType(kind.to_string()),
            _ => super::Problem::Malformed(e.to_string()),
        }
    })
}

fn message_type(message: &FromDispatcher) -> String {
    let line = message.to_line();
    let value: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
    value.get("type").and_then(|t| t.as_str()).unwrap_or("?").to_string()
}

/// The last few lines of stderr, for an error message (the whole tail stays available).
fn tail_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let start = lines.len().saturating_sub(10);
    lines[start..].iter().map(|l| format!("    {}", quote(l, QUOTE_CHARS_MAX))).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_type_is_told_apart_from_a_bad_field_even_with_whole_doubles() {
        assert!(matches!(parse(r#"{"type":"exploded","n":1.0}"#), Err(super::super::Problem::UnknownType(_))));
        assert!(matches!(parse(r#"{"type":"done","wake_at":1.5}"#), Err(super::super::Problem::Malformed(_))));
        assert!(parse(r#"{"type":"done","wake_at":1.0}"#).is_ok());
    }
}
