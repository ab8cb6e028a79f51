//! The dispatcher host: a thin shell that performs the core's outputs over the network. The core
//! itself (deliveries, webhook state) lives outside the host, as its database would; the host is
//! the process that does the I/O, and a crash kills only what it had in flight.

use super::http;
use super::journal::{Busy, Journal, Note, Work};
use super::mail_host::Letter;
use crate::core::{AttemptRequest, WarningEmail};
use crate::trace::Outcome;
use crate::world::{MAIL_HOST, url_host};
use bytes::Bytes;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::Notify;

/// The host gives the mail host this long to take a letter; then the try has failed.
pub(crate) const MAIL_TIMEOUT_MS: u64 = 10_000;

/// Work for the host, handed over by the driver between ticks.
pub(crate) enum Job {
    Attempt(AttemptRequest),
    Email { id: u64, email: WarningEmail },
}

/// Jobs not yet taken by the host. Process memory: a crash empties it.
#[derive(Default)]
pub(crate) struct Inbox {
    jobs: RefCell<VecDeque<(Job, Busy)>>,
    notify: Notify,
}

impl Inbox {
    pub(crate) fn push(&self, job: Job, busy: Busy) {
        self.jobs.borrow_mut().push_back((job, busy));
        // Stores a permit if the host is not waiting yet: no wake-up is lost.
        self.notify.notify_one();
    }

    pub(crate) fn clear(&self) {
        self.jobs.borrow_mut().clear();
    }

    fn pop(&self) -> Option<(Job, Busy)> {
        self.jobs.borrow_mut().pop_front()
    }
}

/// The host's software: takes jobs as they come and runs each in its own task.
pub(crate) async fn software(inbox: Rc<Inbox>, journal: Journal) -> turmoil::Result {
    loop {
        match inbox.pop() {
            Some((job, busy)) => {
                let journal = journal.clone();
                tokio::task::spawn_local(async move {
                    let _busy = busy;
                    journal.push(run(job).await);
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

async fn run(job: Job) -> Note {
    match job {
        Job::Attempt(req) => Note::Answer { attempt: req.attempt, outcome: attempt(&req).await },
        Job::Email { id, email } => Note::EmailTried { id, outcome: send_letter(&email).await },
    }
}

/// One delivery attempt, bounded by the core's attempt timeout (the core times it out at the same
/// instant by itself; this bound makes the host drop the connection too).
async fn attempt(req: &AttemptRequest) -> Outcome {
    let Some(host) = url_host(&req.url) else {
        return Outcome::Refused;
    };
    let post = http::post(host, http::url_path(&req.url), Bytes::copy_from_slice(req.body.as_bytes()));
    tokio::time::timeout(Duration::from_millis(req.timeout_ms), post).await.unwrap_or(Outcome::Timeout)
}

async fn send_letter(email: &WarningEmail) -> Outcome {
    let letter = Letter { to: email.to.clone(), webhook: email.webhook, url: email.url.to_string() };
    let body = match serde_json::to_vec(&letter) {
        Ok(body) => Bytes::from(body),
        // A letter of strings and an integer always serializes; treat the impossible as a failure.
        Err(_) => return Outcome::Reset,
    };
    let post = http::post(MAIL_HOST, "/mail", body);
    tokio::time::timeout(Duration::from_millis(MAIL_TIMEOUT_MS), post).await.unwrap_or(Outcome::Timeout)
}
