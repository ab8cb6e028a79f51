//! The mail host: takes warning emails over HTTP (`POST /mail`, a tiny JSON letter) and records
//! each arrival in the trace. Being on the network, it can be partitioned or crashed like any host.

use super::http::{self, Dropped};
use super::journal::{Journal, Note};
use crate::domain::WebhookId;
use crate::trace::TraceEvent;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde::{Deserialize, Serialize};

/// A warning letter is a few hundred bytes; more is not a letter.
pub(crate) const LETTER_BYTES_MAX: usize = 16 * 1024;

/// What the dispatcher sends to the mail host.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Letter {
    pub(crate) to: String,
    pub(crate) webhook: WebhookId,
    pub(crate) url: String,
}

pub(crate) fn software(journal: Journal) -> impl Future<Output = turmoil::Result> + 'static {
    http::serve(move |request| receive(request, journal.clone()))
}

async fn receive(request: Request<Incoming>, journal: Journal) -> Result<Response<Full<Bytes>>, Dropped> {
    let Some(bytes) = http::read_body(request.into_body(), LETTER_BYTES_MAX).await else {
        return Ok(http::status(413));
    };
    let Ok(letter) = serde_json::from_slice::<Letter>(&bytes) else {
        return Ok(http::status(400));
    };
    journal.push(Note::Event(TraceEvent::EmailReceived { to: letter.to, webhook: letter.webhook }));
    Ok(http::status(204))
}
