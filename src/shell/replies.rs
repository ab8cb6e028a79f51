//! What a scripted receiver does with each request: which reply of its sequence comes next, and
//! what that reply means (act or not, answer with what). Both engines play replies through this.

use crate::receiver::BODY_BYTES_MAX;
use crate::trace::Outcome;
use crate::world::{Answer, Behaviour, Reply};

/// How a receiver currently behaves and how many requests it saw since. Durable: a property of
/// the script, not of the process (a restart does not start the sequence over; a new behaviour
/// does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conduct {
    behaviour: Behaviour,
    seen: u64,
}

impl Conduct {
    pub fn new(behaviour: Behaviour) -> Conduct {
        Conduct { behaviour, seen: 0 }
    }

    /// The reply to the next request.
    pub fn next_reply(&mut self) -> Reply {
        let reply = self.behaviour.reply(self.seen);
        self.seen = self.seen.saturating_add(1);
        reply
    }

    /// From now on the receiver behaves so; its reply sequence starts over.
    pub fn behave(&mut self, behaviour: &Behaviour) {
        *self = Conduct::new(behaviour.clone());
    }
}

/// What a receiver answers to a request whose body is longer than [`BODY_BYTES_MAX`]: 413, before
/// any reply of its sequence is used and without running its logic. `None` for a body it reads.
pub fn refuse_body(body_bytes: usize) -> Option<Outcome> {
    (body_bytes > BODY_BYTES_MAX).then_some(Outcome::Status { code: 413 })
}

/// How a reply is played once its latency has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Play {
    /// Run the receiver's logic (its side effect, if it decides to act).
    pub runs_logic: bool,
    pub respond: Respond,
}

/// What goes back on the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Respond {
    /// The status the receiver's logic answered (it may refuse).
    LogicStatus,
    Status(u16),
    /// Close the connection without answering: the sender sees a reset.
    Drop,
}

/// The one mapping from a scripted answer to what the receiver does. A 2xx lets the logic decide
/// (it may act, skip, or refuse); any other status answers without acting.
pub fn play(answer: Answer) -> Play {
    match answer {
        Answer::Status(code) if (200..300).contains(&code) => Play { runs_logic: true, respond: Respond::LogicStatus },
        Answer::Status(code) => Play { runs_logic: false, respond: Respond::Status(code) },
        Answer::ActThenStatus(code) => Play { runs_logic: true, respond: Respond::Status(code) },
        Answer::ActThenDrop => Play { runs_logic: true, respond: Respond::Drop },
        Answer::Drop => Play { runs_logic: false, respond: Respond::Drop },
    }
}

impl Respond {
    /// The outcome the sender sees, given the status the logic answered (if it ran).
    pub fn outcome(self, logic_status: Option<u16>) -> Outcome {
        match self {
            Respond::LogicStatus => Outcome::Status { code: logic_status.unwrap_or(500) },
            Respond::Status(code) => Outcome::Status { code },
            Respond::Drop => Outcome::Reset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_then_its_tail_and_a_new_behaviour_starts_over() {
        let seq = Behaviour { replies: vec![Reply::status(500)], then: Reply::OK };
        let mut conduct = Conduct::new(seq.clone());
        assert_eq!(conduct.next_reply(), Reply::status(500));
        assert_eq!(conduct.next_reply(), Reply::OK);
        conduct.behave(&seq);
        assert_eq!(conduct.next_reply(), Reply::status(500));
    }

    #[test]
    fn a_body_past_the_limit_is_413() {
        assert_eq!(refuse_body(BODY_BYTES_MAX), None);
        assert_eq!(refuse_body(BODY_BYTES_MAX + 1), Some(Outcome::Status { code: 413 }));
    }

    #[test]
    fn only_a_2xx_lets_the_logic_answer() {
        assert_eq!(play(Answer::Status(204)), Play { runs_logic: true, respond: Respond::LogicStatus });
        assert!(!play(Answer::Status(503)).runs_logic);
        assert_eq!(play(Answer::ActThenDrop).respond.outcome(Some(200)), Outcome::Reset);
        assert_eq!(play(Answer::ActThenStatus(500)).respond.outcome(Some(200)), Outcome::Status { code: 500 });
    }
}
