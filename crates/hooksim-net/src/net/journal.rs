//! What the hosts tell the driver, and how the driver knows they are still busy.
//!
//! Hosts run inside turmoil; the driver runs between ticks. Hosts never stamp times: they append
//! [`Note`]s to the [`Journal`], and the driver stamps each with the virtual instant at which it
//! drains them (the end of the tick in which they happened).

use hooksim_core::core::AttemptId;
use hooksim_core::trace::{Outcome, TraceEvent};
use hooksim_sim::shell::mail::MailTry;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// One thing a host observed during a tick.
#[derive(Debug)]
pub(crate) enum Note {
    /// The dispatcher host's report of how an attempt ended, with the answer's `Retry-After`.
    Answer { attempt: AttemptId, outcome: Outcome, retry_after: Option<String> },
    /// The dispatcher host's report of one try to hand a warning email to the mail host.
    EmailTried { attempt: MailTry, outcome: Outcome },
    /// A receiver or the mail host did something the trace records as is.
    Event(TraceEvent),
    /// A caller's own receiver broke the effects contract: what it acted on cannot be seen, so
    /// nothing about its acts can be judged and the run stops with this error.
    ContractBroken { receiver: String, why: String },
}

/// Notes in the order they happened. Shared with the receivers' `on_handled` hook, which must be
/// `Send + Sync`, hence a mutex although everything runs on one thread.
#[derive(Clone, Default)]
pub(crate) struct Journal(Arc<Mutex<Vec<Note>>>);

impl Journal {
    pub(crate) fn push(&self, note: Note) {
        self.lock().push(note);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Takes every note so far, oldest first.
    pub(crate) fn take(&self) -> Vec<Note> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Note>> {
        // A panic elsewhere cannot leave a Vec half-pushed: use it as it is.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How many tasks on any host are doing work whose end the trace must see (an attempt, an email,
/// a receiver's handling). A busy period does not end while it is above zero.
#[derive(Clone, Default)]
pub(crate) struct Work(Rc<Cell<usize>>);

impl Work {
    /// Counts one task until the returned guard drops. The guard drops when the task ends, and
    /// also when a crash cancels the task, so a crashed host never leaves work counted.
    pub(crate) fn start(&self) -> Busy {
        self.0.set(self.0.get() + 1);
        Busy(self.0.clone())
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.0.get() == 0
    }
}

pub(crate) struct Busy(Rc<Cell<usize>>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}
