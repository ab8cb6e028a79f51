//! The dispatcher host: a thin shell that performs the core's outputs over the network. The core
//! itself (deliveries, webhook state) lives outside the host, as its database would; the host is
//! the process that does the I/O, and a crash kills only what it had in flight.

use super::alarm::{Alarms, within};
use super::hosting::Address;
use super::http;
use super::journal::{Busy, Journal, Note, Work};
use super::mail_host::Letter;
use bytes::Bytes;
use hooksim_core::core::{AttemptRequest, WarningEmail};
use hooksim_core::trace::Outcome;
use hooksim_sim::shell::mail::{MailKey, MailTry};
use hooksim_sim::shell::signing::SignedHeaders;
use hooksim_sim::world::{DISPATCHER_HOST, MAIL_HOST, url_host};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use tokio::sync::{Notify, oneshot};

/// Work for the host, handed over by the driver between ticks, with the world instant at which
/// the host gives up on it.
pub(crate) enum Job {
    /// `give_up_ms`: [`hooksim_sim::shell::limits::LINGER_MS`] after the core's own timeout of the
    /// attempt. `close` ends the exchange early when the driver drops its sender (the lingering
    /// limit, [`hooksim_sim::shell::Lingering`]).
    Attempt {
        request: AttemptRequest,
        /// Where its receiver listens ([`super::hosting`]).
        to: Address,
        /// The headers that sign it, if the world signs.
        headers: Option<SignedHeaders>,
        give_up_ms: u64,
        close: oneshot::Receiver<()>,
    },
    Email {
        attempt: MailTry,
        email: Arc<WarningEmail>,
        deadline_ms: u64,
    },
}

/// Jobs not yet taken by the host. Process memory: a crash empties it.
#[derive(Default)]
pub(crate) struct Inbox {
    jobs: RefCell<VecDeque<(Job, Busy)>>,
    notify: Notify,
    /// Connects that never completed, over the whole run (see [`http::post_counting`]): each
    /// holds one of the host's ports for good, as turmoil keeps its socket.
    unfinished_connects: Cell<u64>,
}

impl Inbox {
    pub(crate) fn push(&self, job: Job, busy: Busy) {
        self.jobs.borrow_mut().push_back((job, busy));
        // Stores a permit if the host is not waiting yet: no wake-up is lost.
        self.notify.notify_one();
    }

    pub(crate) fn unfinished_connects(&self) -> u64 {
        self.unfinished_connects.get()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.jobs.borrow().is_empty()
    }

    pub(crate) fn clear(&self) {
        self.jobs.borrow_mut().clear();
    }

    fn pop(&self) -> Option<(Job, Busy)> {
        self.jobs.borrow_mut().pop_front()
    }
}

/// The host's software: takes jobs as they come and runs each in its own task.
pub(crate) async fn software(inbox: Rc<Inbox>, journal: Journal, alarms: Alarms) -> turmoil::Result {
    loop {
        match inbox.pop() {
            Some((job, busy)) => {
                let (journal, alarms, inbox) = (journal.clone(), alarms.clone(), inbox.clone());
                tokio::task::spawn_local(async move {
                    let _busy = busy;
                    journal.push(run(job, &alarms, &inbox.unfinished_connects).await);
                });
            }
            None => inbox.notify.notified().await,
        }
    }
}

/// Shorthand for the driver: count the job as work from the moment it is queued.
pub(crate) fn queue(inbox: &Inbox, work: &Work, job: Job) {
    inbox.push(job, work.start());
}

async fn run(job: Job, alarms: &Alarms, unfinished: &Cell<u64>) -> Note {
    match job {
        Job::Attempt { request, to, headers, give_up_ms, close } => {
            let closed = async move {
                let _ = close.await;
            };
            let headers = headers.as_deref().unwrap_or_default();
            let sent = attempt(&request, &to, headers, unfinished);
            let posted = within(alarms.until(give_up_ms), within(closed, sent)).await.flatten();
            let (outcome, retry_after) = match posted {
                Some(posted) => (posted.outcome, posted.retry_after),
                None => (Outcome::Timeout, None),
            };
            Note::Answer { attempt: request.attempt, outcome, retry_after }
        }
        Job::Email { attempt, email, deadline_ms } => {
            let outcome = within(alarms.until(deadline_ms), send_letter(attempt.key, &email, unfinished)).await;
            let outcome = outcome.map(|posted| posted.outcome);
            Note::EmailTried { attempt, outcome: outcome.unwrap_or(Outcome::Timeout) }
        }
    }
}

/// One delivery attempt.
async fn attempt(
    req: &AttemptRequest,
    to: &Address,
    headers: &[(&'static str, String)],
    unfinished: &Cell<u64>,
) -> http::Posted {
    // The dispatcher and mail hosts serve no webhooks: nothing listens for one there.
    let Some(host) = url_host(&req.url).filter(|h| h != DISPATCHER_HOST && h != MAIL_HOST) else {
        return Outcome::Refused.into();
    };
    let body = Bytes::copy_from_slice(req.body.as_bytes());
    http::post_counting(to, &host, &http::url_path(&req.url), headers, body, unfinished).await
}

async fn send_letter(key: MailKey, email: &WarningEmail, unfinished: &Cell<u64>) -> http::Posted {
    let letter = Letter { key, to: email.to.clone(), webhook: email.webhook, url: email.url.to_string() };
    let body = match serde_json::to_vec(&letter) {
        Ok(body) => Bytes::from(body),
        // A letter of strings and an integer always serializes; treat the impossible as a failure.
        Err(_) => return Outcome::Reset.into(),
    };
    let to = Address { host: MAIL_HOST.to_string(), port: http::PORT };
    http::post_counting(&to, MAIL_HOST, "/mail", &[], body, unfinished).await
}
