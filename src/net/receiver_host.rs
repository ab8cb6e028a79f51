//! A receiver host: the reference axum router behind a wrapper that plays the scripted
//! [`Behaviour`] (latency, status, act-then-fail, dropped connections).
//!
//! The handling of a request runs in its own task, detached from the connection: a receiver that
//! got a request acts even if the sender gave up meanwhile (it times out, or crashes). Only a
//! crash of the receiver itself stops it.

use super::http::{self, Dropped};
use super::journal::{Journal, Note, Work};
use crate::model::receiver_trace;
use crate::receiver::{BODY_BYTES_MAX, Book, Handled, ReceiverState, router};
use crate::world::{Answer, Behaviour, ReceiverSpec, Reply};
use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_service::Service;

/// How a receiver currently behaves and how many requests it saw since (durable: a script
/// property, not process memory).
struct Conduct {
    behaviour: Behaviour,
    seen: u64,
}

impl Conduct {
    fn next_reply(&mut self) -> Reply {
        let reply = self.behaviour.reply(self.seen);
        self.seen = self.seen.saturating_add(1);
        reply
    }
}

/// Everything about one receiver that outlives its process: its records and its script.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) host: String,
    conduct: Rc<RefCell<Conduct>>,
    /// Built once per run; a restart serves a clone (routers are cheap to clone).
    router: Router,
}

impl Receiver {
    pub(crate) fn new(spec: &ReceiverSpec, journal: &Journal) -> Receiver {
        // The book is the receiver's database: the router's state, which outlives the host.
        let state = Arc::new(ReceiverState {
            name: spec.host.clone(),
            kind: spec.kind,
            book: Arc::new(Mutex::new(Book::default())),
            on_handled: Some(on_handled(spec.host.clone(), journal.clone())),
        });
        Receiver {
            host: spec.host.clone(),
            conduct: Rc::new(RefCell::new(Conduct { behaviour: spec.behaviour.clone(), seen: 0 })),
            router: router(state),
        }
    }

    /// From now on the receiver behaves so; its reply sequence starts over.
    pub(crate) fn behave(&self, behaviour: &Behaviour) {
        *self.conduct.borrow_mut() = Conduct { behaviour: behaviour.clone(), seen: 0 };
    }

    /// The host's software: started at each (re)start of the host.
    pub(crate) fn software(&self, work: Work) -> impl Future<Output = turmoil::Result> + 'static + use<> {
        let (router, conduct) = (self.router.clone(), self.conduct.clone());
        http::serve(move |request| take(request, router.clone(), conduct.clone(), work.clone()))
    }
}

/// Every readable delivery goes to the trace, as in the model engine: an act, or a skip (a
/// refusal is a skip with its reason); an unreadable body has no ids and goes nowhere.
fn on_handled(receiver: String, journal: Journal) -> crate::receiver::OnHandled {
    Arc::new(move |handled: &Handled| {
        if let Some(event) = receiver_trace(&receiver, handled) {
            journal.push(Note::Event(event));
        }
    })
}

/// Reads the request, picks the scripted reply, and hands the handling to a detached task.
async fn take(
    request: Request<Incoming>,
    router: Router,
    conduct: Rc<RefCell<Conduct>>,
    work: Work,
) -> Result<Response<Body>, Dropped> {
    let (parts, body) = request.into_parts();
    let Some(bytes) = http::read_body(body, BODY_BYTES_MAX).await else {
        return Ok(http::status(413));
    };
    let reply = conduct.borrow_mut().next_reply();
    let request = Request::from_parts(parts, Body::from(bytes));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let busy = work.start();
    tokio::task::spawn_local(async move {
        let _busy = busy;
        let _ = tx.send(handle(reply, request, router).await);
    });
    match rx.await {
        Ok(Some(response)) => Ok(response),
        _ => Err(Dropped),
    }
}

/// Plays one reply: wait, then answer with or without the reference logic. `None`: close the
/// connection without answering.
async fn handle(reply: Reply, request: Request<Body>, mut router: Router) -> Option<Response<Body>> {
    if reply.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(reply.latency_ms)).await;
    }
    let act = async move || match router.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    match reply.answer {
        Answer::Status(code) if (200..300).contains(&code) => Some(act().await),
        Answer::Status(code) => Some(http::status(code)),
        Answer::ActThenStatus(code) => {
            act().await;
            Some(http::status(code))
        }
        Answer::ActThenDrop => {
            act().await;
            None
        }
        Answer::Drop => None,
    }
}
