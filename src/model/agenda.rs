//! Messages in transit, ordered by arrival time then by send order (deterministic).

use crate::core::{AttemptId, WarningEmail};
use crate::time::{SimTime, TimeQueue};
use crate::trace::Outcome;
use crate::world::Reply;
use std::sync::Arc;

/// What of an attempt travels to the receiver: the id its answer names, and the body.
#[derive(Clone, Debug)]
pub(super) struct Wire {
    pub attempt: AttemptId,
    pub body: Arc<str>,
}

/// Kept small (emails are boxed: they are rare): the agenda heap moves messages on every push
/// and pop.
#[derive(Clone, Debug)]
pub(super) enum Message {
    /// An attempt's request reaches its receiver.
    Request { rx: usize, wire: Wire, incarnation: u32 },
    /// The receiver finishes handling after its reply's latency.
    Handle { rx: usize, wire: Wire, reply: Reply, incarnation: u32 },
    /// An answer reaches the dispatcher (dropped if the dispatcher restarted since it was sent).
    Answer { attempt: u64, outcome: Outcome, incarnation: u32 },
    /// The dispatcher (re)tries to send a warning email; emails are kept durably until sent.
    SendEmail(Box<WarningEmail>),
    /// An email reaches the mail host.
    Email(Box<WarningEmail>),
}

/// Messages by arrival time, ties in send order ([`TimeQueue`]).
#[derive(Default)]
pub(super) struct Agenda {
    entries: TimeQueue<Message>,
}

impl Agenda {
    pub fn push(&mut self, at: SimTime, message: Message) {
        self.entries.push(at, message);
    }

    pub fn next_at(&self) -> Option<SimTime> {
        self.entries.next_at()
    }

    /// The earliest message due at or before `now`.
    pub fn pop_due(&mut self, now: SimTime) -> Option<Message> {
        self.entries.pop_due(now).map(|(_, message)| message)
    }
}
