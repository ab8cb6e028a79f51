//! Messages in transit, ordered by arrival time then by send order (deterministic).

use crate::shell::mail::MailTry;
use crate::shell::signing::SignedHeaders;
use crate::world::Reply;
use hooksim_core::core::{AttemptId, WarningEmail};
use hooksim_core::time::{SimTime, TimeQueue};
use hooksim_core::trace::Outcome;
use std::sync::Arc;

/// What of an attempt travels to the receiver: the id its answer names, the body, and the
/// headers that sign it (`None`: unsigned).
#[derive(Clone, Debug)]
pub(super) struct Wire {
    pub attempt: AttemptId,
    pub body: Arc<str>,
    pub headers: Option<SignedHeaders>,
    /// The webhook URL it was sent to (a caller's own receiver is given its path).
    pub url: Arc<str>,
}

/// One try to hand a warning email to the mail host.
#[derive(Clone, Debug)]
pub(super) struct Letter {
    pub attempt: MailTry,
    pub email: Arc<WarningEmail>,
}

/// What travels between hosts, and what a host does later.
///
/// An exchange costs what it costs on a real network: a connection request (SYN) travels to the
/// server, the connection opens (the SYN-ACK is immediate, as in turmoil), the request travels,
/// the answer travels back. Three one-way latencies, each drawn on its own.
#[derive(Clone, Debug)]
pub(super) enum Message {
    /// A connection request reaches a receiver; the connection opens if the dispatcher still
    /// waits for it (its exchange is open).
    Connect { rx: usize, wire: Wire },
    /// An attempt's request reaches its receiver over the connection opened by the receiver's
    /// process `life` (a restart since then: the connection is gone, reset).
    Request { rx: usize, wire: Wire, life: u32 },
    /// The receiver finishes handling after its reply's latency, unless its process died since.
    Handle { rx: usize, wire: Wire, reply: Reply, life: u32 },
    /// An answer reaches the dispatcher (taken only while its exchange is open), with the
    /// `Retry-After` header value it carries, if any.
    Answer { attempt: AttemptId, outcome: Outcome, retry_after: Option<Box<str>> },
    /// A letter's connection request reaches the mail host.
    MailConnect(Letter),
    /// A letter reaches the mail host.
    Mail(Letter),
    /// The mail host reads the letter, a server turn after it arrived.
    MailTake(Letter),
    /// The mail host's answer reaches the dispatcher.
    MailAnswer(MailTry),
    /// The try's deadline: if it is still in flight, it failed.
    MailTimeout(MailTry),
    /// The mail host restarted with the letter's connection request waiting: refused.
    MailRefused(MailTry),
    /// A message on the wire since `cuts_made` cuts had been made (only once the world has had
    /// a partition): dropped at arrival if its direction was cut meanwhile.
    Wire { from: Peer, to: Peer, cuts_made: usize, message: Box<Message> },
}

/// A host as the engine's wire names it: a receiver by its index in the engine's list, so that
/// sending, holding or stamping a message costs no copy of the receiver's name (a name copied per
/// message was three allocations per attempt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Peer {
    Dispatcher,
    Mail,
    Receiver(usize),
}

impl Message {
    /// An answer without `Retry-After`.
    pub(crate) fn answer(attempt: AttemptId, outcome: Outcome) -> Message {
        Message::Answer { attempt, outcome, retry_after: None }
    }
}

/// Messages by arrival time, ties in send order ([`TimeQueue`]).
///
/// The queue orders slot numbers, not messages: a message (up to ~90 bytes) is written into a
/// slot once and taken out once, while the heap sifts 24-byte entries. Moving whole messages
/// through the heap's sifts was about a tenth of a 10-day run.
#[derive(Default)]
pub(super) struct Agenda {
    entries: TimeQueue<usize>,
    /// Messages by slot; `None`: a free slot (listed in `free`).
    slots: Vec<Option<Message>>,
    free: Vec<usize>,
}

impl Agenda {
    pub(crate) fn push(&mut self, at: SimTime, message: Message) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(message);
                slot
            }
            None => {
                // As many slots as messages once in transit at the same time: the engine's limits
                // (in flight, lingering, letters) bound them.
                self.slots.push(Some(message));
                self.slots.len() - 1
            }
        };
        self.entries.push(at, slot);
    }

    pub(crate) fn next_at(&self) -> Option<SimTime> {
        self.entries.next_at()
    }

    /// The earliest message due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: SimTime) -> Option<Message> {
        let (_, slot) = self.entries.pop_due(now)?;
        self.free.push(slot);
        self.slots[slot].take()
    }
}
