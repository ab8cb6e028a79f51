//! What can go wrong with a dispatcher process: every failure names the line (its number among
//! the lines the process wrote, and its text, cut to [`super::QUOTE_CHARS_MAX`] characters) or,
//! when the process went quiet or away, the input it owed an answer to and its stderr's tail.

use hooksim_core::time::SimTime;

/// Why a dispatcher process was given up on: the run stops with the trace so far.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The command could not be started.
    #[error("could not start the dispatcher `{command}`: {reason}")]
    Spawn {
        /// The command line.
        command: String,
        /// What the OS said.
        reason: String,
    },
    /// A line the process wrote was wrong.
    #[error("dispatcher line {line}: {problem}\n    {text}")]
    Line {
        /// Its number among the process's lines, from 1.
        line: u64,
        /// The line (cut short if long).
        text: String,
        /// What was wrong with it.
        problem: Problem,
    },
    /// The process exited, closed its stdout or said nothing for the reply timeout while it owed a
    /// line.
    #[error("the dispatcher {how} while it owed an answer to `{input}` (after its line {line}){}", stderr_note(.stderr))]
    Gone {
        /// What happened, in words (`said nothing`, `exited`).
        how: String,
        /// The input it owed an answer to.
        input: String,
        /// Its last line's number.
        line: u64,
        /// The end of its stderr.
        stderr: String,
    },
    /// The process failed before; this is that failure again.
    #[error("the dispatcher failed earlier and is not used again: {0}")]
    Broken(String),
    /// The run sent the process as many inputs as it may ([`super::INPUTS_PER_RUN_MAX`]): a
    /// limit of the run, not a fault of the process alone.
    #[error(
        "the run sent the dispatcher process its budget of {max} inputs (INPUTS_PER_RUN_MAX, or \
         --inputs-per-run-max) and stops before `{input}`"
    )]
    InputsSpent {
        /// The budget of inputs.
        max: u64,
        /// The input not sent.
        input: String,
    },
}

/// What was wrong with one line the process wrote.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not a JSON object of the protocol (the parser's words).
    #[error("not a protocol message: {0}")]
    Malformed(String),
    /// A `type` the protocol does not have.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// A line longer than the line limit.
    #[error("longer than the {limit}-byte line limit")]
    TooLong {
        /// `LINE_BYTES_MAX`, in bytes.
        limit: usize,
    },
    /// Bytes that are not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// A line when no input was waiting for an answer.
    #[error("written when no input was waiting for an answer")]
    Unsolicited,
    /// A line of another `type` than the one owed.
    #[error("a `{got}` line where {expected} was expected")]
    Unexpected {
        /// The `type` written.
        got: String,
        /// What the harness was waiting for, in words.
        expected: &'static str,
    },
    /// A `hello` of another protocol version.
    #[error("speaks protocol version {got}; the harness speaks {want}")]
    Version {
        /// The version the process speaks.
        got: u32,
        /// The harness's.
        want: u32,
    },
    /// An attempt id the process had used before.
    #[error("attempt id {0} was used before")]
    AttemptReused(u64),
    /// A `send` whose `body` is not JSON (the parser's words).
    #[error("the body is not JSON: {0}")]
    BodyNotJson(String),
    /// A `wake_at` before the input's `now`.
    #[error("wake_at {wake_at} is in the past (now is {now})")]
    WakeInPast {
        /// The time asked for, virtual milliseconds.
        wake_at: SimTime,
        /// The input's `now`.
        now: SimTime,
    },
    /// A `wake_at` not later than the `wake` it answers: the run would never end.
    #[error("wake_at {wake_at} is not later than the wake-up it answers ({now}): it would never end")]
    WakeNotLater {
        /// The time asked for, virtual milliseconds.
        wake_at: SimTime,
        /// The `wake` it answers.
        now: SimTime,
    },
    /// More outputs for one input than the limit.
    #[error("more than {limit} outputs for one input")]
    TooManyOutputs {
        /// `OUTPUTS_PER_INPUT_MAX`.
        limit: usize,
    },
    /// A fact or send that contradicts what the harness knows (the ledger's words).
    #[error("{0}")]
    Inconsistent(String),
}

fn stderr_note(stderr: &str) -> String {
    if stderr.is_empty() { String::new() } else { format!("; its stderr ends with:\n{stderr}") }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn quote(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
