//! The mail host: takes warning emails over HTTP (`POST /mail`, a tiny JSON letter) and records
//! each letter's first arrival in the trace: a letter carries its idempotency key, and a copy the
//! dispatcher sent again (it never heard the first answer) is answered as taken, not delivered
//! twice ([`MailRecord`]). Being on the network, it can be partitioned or crashed like any host.

use super::http::{self, Dropped};
use super::journal::{Journal, Note};
use bytes::Bytes;
use hooksim_core::domain::WebhookId;
use hooksim_core::trace::TraceEvent;
use hooksim_sim::shell::MailRecord;
use hooksim_sim::shell::limits::LETTER_BYTES_MAX;
use hooksim_sim::shell::mail::MailKey;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;

/// What the dispatcher sends to the mail host.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Letter {
    /// The idempotency key: the mail host delivers each key once.
    pub(crate) key: MailKey,
    pub(crate) to: String,
    pub(crate) webhook: WebhookId,
    pub(crate) url: String,
}

pub(crate) fn software(
    journal: Journal,
    record: Rc<RefCell<MailRecord>>,
) -> impl Future<Output = turmoil::Result> + 'static {
    http::serve(http::PORT, move |request| receive(request, journal.clone(), record.clone()))
}

async fn receive(
    request: Request<Incoming>,
    journal: Journal,
    record: Rc<RefCell<MailRecord>>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let Some(bytes) = http::read_body(request.into_body(), LETTER_BYTES_MAX).await else {
        return Ok(http::status(413));
    };
    let Ok(letter) = serde_json::from_slice::<Letter>(&bytes) else {
        return Ok(http::status(400));
    };
    if record.borrow_mut().take(letter.key) {
        journal.push(Note::Event(TraceEvent::EmailReceived { to: letter.to, webhook: letter.webhook }));
    }
    Ok(http::status(204))
}
