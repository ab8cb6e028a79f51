//! Messages in transit, ordered by arrival time then by send order (deterministic).

use crate::core::{AttemptRequest, WarningEmail};
use crate::time::SimTime;
use crate::trace::Outcome;
use crate::world::Reply;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub(super) enum Message {
    /// An attempt's request reaches its receiver.
    Request { host: String, request: AttemptRequest, incarnation: u32 },
    /// The receiver finishes handling after its reply's latency.
    Handle { host: String, request: AttemptRequest, reply: Reply, incarnation: u32 },
    /// An answer reaches the dispatcher (dropped if the dispatcher restarted since it was sent).
    Answer { attempt: u64, outcome: Outcome, incarnation: u32 },
    /// The dispatcher (re)tries to send a warning email; emails are kept durably until sent.
    SendEmail(WarningEmail),
    /// An email reaches the mail host.
    Email(WarningEmail),
}

#[derive(Default)]
pub(super) struct Agenda {
    entries: BTreeMap<(SimTime, u64), Message>,
    next_seq: u64,
}

impl Agenda {
    pub fn push(&mut self, at: SimTime, message: Message) {
        self.entries.insert((at, self.next_seq), message);
        self.next_seq += 1;
    }

    pub fn next_at(&self) -> Option<SimTime> {
        self.entries.first_key_value().map(|((at, _), _)| *at)
    }

    /// The earliest message due at or before `now`.
    pub fn pop_due(&mut self, now: SimTime) -> Option<Message> {
        if self.next_at()? > now {
            return None;
        }
        self.entries.pop_first().map(|(_, m)| m)
    }
}
