//! What can go wrong with a dispatcher process: every failure names the line (its number among
//! the lines the process wrote, and its text, cut to [`super::QUOTE_CHARS_MAX`] characters) or,
//! when the process went quiet or away, the input it owed an answer to and its stderr's tail.

use hooksim_core::time::SimTime;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("could not start the dispatcher `{command}`: {reason}")]
    Spawn { command: String, reason: String },
    #[error("dispatcher line {line}: {problem}\n    {text}")]
    Line { line: u64, text: String, problem: Problem },
    #[error("the dispatcher {how} while it owed an answer to `{input}` (after its line {line}){}", stderr_note(.stderr))]
    Gone { how: String, input: String, line: u64, stderr: String },
    #[error("the dispatcher failed earlier and is not used again: {0}")]
    Broken(String),
    /// The run sent the process as many inputs as it may ([`super::INPUTS_PER_RUN_MAX`]): a
    /// limit of the run, not a fault of the process alone.
    #[error(
        "the run sent the dispatcher process its budget of {max} inputs (INPUTS_PER_RUN_MAX, or \
         --inputs-per-run-max) and stops before `{input}`"
    )]
    InputsSpent { max: u64, input: String },
}

/// What was wrong with one line the process wrote.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("not a protocol message: {0}")]
    Malformed(String),
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("longer than the {limit}-byte line limit")]
    TooLong { limit: usize },
    #[error("not UTF-8")]
    NotUtf8,
    #[error("written when no input was waiting for an answer")]
    Unsolicited,
    #[error("a `{got}` line where {expected} was expected")]
    Unexpected { got: String, expected: &'static str },
    #[error("speaks protocol version {got}; the harness speaks {want}")]
    Version { got: u32, want: u32 },
    #[error("attempt id {0} was used before")]
    AttemptReused(u64),
    #[error("the body is not JSON: {0}")]
    BodyNotJson(String),
    #[error("wake_at {wake_at} is in the past (now is {now})")]
    WakeInPast { wake_at: SimTime, now: SimTime },
    #[error("wake_at {wake_at} is not later than the wake-up it answers ({now}): it would never end")]
    WakeNotLater { wake_at: SimTime, now: SimTime },
    #[error("more than {limit} outputs for one input")]
    TooManyOutputs { limit: usize },
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
