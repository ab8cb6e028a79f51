//! How an attempt ended, as an expectation filters it (`outcome = "timeout"`).

use hooksim_core::trace::Outcome;
use std::fmt;
use std::str::FromStr;

/// How an attempt ended, as an expectation filters it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeFilter {
    /// A 2xx.
    Success,
    /// Anything but a 2xx, including a loss in a dispatcher crash.
    Failure,
    /// This HTTP status, e.g. `503`.
    Status(u16),
    /// No answer by the attempt's timeout.
    Timeout,
    /// The connection could not be made.
    Refused,
    /// The connection broke before a whole answer.
    Reset,
    /// In flight when the dispatcher crashed.
    Lost,
}

impl FromStr for OutcomeFilter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "success" => Self::Success,
            "failure" => Self::Failure,
            "timeout" => Self::Timeout,
            "refused" => Self::Refused,
            "reset" => Self::Reset,
            "lost" => Self::Lost,
            other => match other.parse::<u16>() {
                Ok(c) if (100..=599).contains(&c) => Self::Status(c),
                _ => {
                    return Err(format!(
                        "unknown outcome {other:?} (known: success, failure, timeout, refused, reset, lost, or a status such as \"500\")"
                    ));
                }
            },
        })
    }
}

impl OutcomeFilter {
    /// `None`: the attempt never finished (lost, or still in flight at the end).
    pub(super) fn admits(self, outcome: Option<&AttemptEnd>) -> bool {
        match (self, outcome) {
            (Self::Lost, Some(AttemptEnd::Lost)) => true,
            (Self::Failure, Some(AttemptEnd::Lost)) => true,
            (_, Some(AttemptEnd::Lost)) | (_, None) => false,
            (Self::Success, Some(AttemptEnd::Finished(o))) => o.is_success(),
            (Self::Failure, Some(AttemptEnd::Finished(o))) => !o.is_success(),
            (Self::Status(c), Some(AttemptEnd::Finished(o))) => *o == Outcome::Status { code: c },
            (Self::Timeout, Some(AttemptEnd::Finished(o))) => *o == Outcome::Timeout,
            (Self::Refused, Some(AttemptEnd::Finished(o))) => *o == Outcome::Refused,
            (Self::Reset, Some(AttemptEnd::Finished(o))) => *o == Outcome::Reset,
            (Self::Lost, _) => false,
        }
    }
}

impl fmt::Display for OutcomeFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Success => f.write_str("a 2xx"),
            Self::Failure => f.write_str("a failure"),
            Self::Status(c) => write!(f, "status {c}"),
            Self::Timeout => f.write_str("a timeout"),
            Self::Refused => f.write_str("a refused connection"),
            Self::Reset => f.write_str("a reset connection"),
            Self::Lost => f.write_str("a dispatcher crash"),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) enum AttemptEnd {
    Finished(Outcome),
    Lost,
}
