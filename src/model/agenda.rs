//! Messages in transit, ordered by arrival time then by send order (deterministic).

use crate::core::{AttemptId, WarningEmail};
use crate::time::SimTime;
use crate::trace::Outcome;
use crate::world::Reply;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
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

/// Entries are ordered by `(at, seq)` only; the message rides along.
struct Entry {
    at: SimTime,
    seq: u64,
    message: Message,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A heap, not a B-tree map: the agenda often swings between empty and one entry, and a heap
/// keeps its buffer where a map would allocate and free a node each time.
#[derive(Default)]
pub(super) struct Agenda {
    entries: BinaryHeap<Reverse<Entry>>,
    next_seq: u64,
}

impl Agenda {
    pub fn push(&mut self, at: SimTime, message: Message) {
        self.entries.push(Reverse(Entry { at, seq: self.next_seq, message }));
        self.next_seq += 1;
    }

    pub fn next_at(&self) -> Option<SimTime> {
        self.entries.peek().map(|Reverse(e)| e.at)
    }

    /// The earliest message due at or before `now`.
    pub fn pop_due(&mut self, now: SimTime) -> Option<Message> {
        if self.next_at()? > now {
            return None;
        }
        self.entries.pop().map(|Reverse(e)| e.message)
    }
}
