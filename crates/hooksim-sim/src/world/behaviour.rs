//! How a receiver answers, request by request. Pure data: engines interpret it.

use std::fmt;

/// What the receiver does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Run the receiver's logic and answer with its status (a 2xx here lets the logic decide:
    /// it may act, skip, or refuse). A non-2xx answers this status without acting.
    Status(u16),
    /// Answer this status (a `429` or `503`, asking the sender to slow down) with a
    /// `Retry-After` header, without acting.
    StatusRetryAfter(u16, RetryAfter),
    /// Act (the side effect happens), then answer this status anyway: the sender retries an
    /// event the receiver already acted on.
    ActThenStatus(u16),
    /// Act, then close the connection without answering.
    ActThenDrop,
    /// Close the connection mid-request, before acting.
    Drop,
}

/// A `Retry-After` as a receiver writes it: a wait in whole seconds, sent as a number of
/// seconds or as an HTTP date (the receiver's now plus the wait, on the simulated calendar).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter {
    /// The wait asked for, in whole seconds.
    pub wait_s: u64,
    /// Written as an HTTP date (now plus the wait) rather than seconds.
    pub as_date: bool,
}

/// One answer, given after `latency_ms` of handling (beyond the attempt timeout: the sender
/// gives up, though the receiver may still act).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    /// What comes back.
    pub answer: Answer,
    /// Handling time before the answer, in milliseconds.
    pub latency_ms: u64,
}

impl Reply {
    /// `200` at once.
    pub const OK: Reply = Reply { answer: Answer::Status(200), latency_ms: 0 };

    /// This status at once.
    pub const fn status(code: u16) -> Reply {
        Reply { answer: Answer::Status(code), latency_ms: 0 }
    }
}

/// `replies[0]` for the first request after the behaviour took effect, `replies[1]` for the
/// next, ...; then `then` for every later request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Behaviour {
    /// The replies in order, one per request.
    pub replies: Vec<Reply>,
    /// The reply to every request after those.
    pub then: Reply,
}

impl Behaviour {
    /// The same reply to every request.
    pub fn always(reply: Reply) -> Behaviour {
        Behaviour { replies: Vec::new(), then: reply }
    }

    /// The reply to the `n`-th request (0-based) since this behaviour took effect.
    pub fn reply(&self, n: u64) -> Reply {
        usize::try_from(n).ok().and_then(|i| self.replies.get(i)).copied().unwrap_or(self.then)
    }
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour::always(Reply::OK)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.answer {
            Answer::Status(c) => write!(f, "{c}")?,
            Answer::StatusRetryAfter(c, wait) => write!(f, "{c} {wait}")?,
            Answer::ActThenStatus(c) => write!(f, "act then {c}")?,
            Answer::ActThenDrop => f.write_str("act then drop")?,
            Answer::Drop => f.write_str("drop")?,
        }
        if self.latency_ms > 0 {
            write!(f, " after {} ms", self.latency_ms)?;
        }
        Ok(())
    }
}

/// `retry-after 30s`, `retry-after 2m as date`: as a scenario writes it.
impl fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "retry-after {}s", self.wait_s)?;
        if self.as_date {
            f.write_str(" as date")?;
        }
        Ok(())
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.replies {
            write!(f, "{r}, ")?;
        }
        write!(f, "then {}", self.then)
    }
}
