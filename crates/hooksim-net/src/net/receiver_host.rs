//! A receiver host: the reference axum router behind a wrapper that plays the scripted
//! [`Behaviour`] (latency, status, act-then-fail, dropped connections).
//!
//! The handling of a request runs in its own task, detached from the connection: a receiver that
//! got a request acts even if the sender gave up meanwhile (it times out, or crashes). Only a
//! crash of the receiver itself stops it.

use super::acts::Acts;
use super::alarm::Alarms;
use super::http::{self, Dropped};
use super::journal::{Journal, Note, Work};
use crate::receiver::trace_event;
use crate::receiver::{BODY_BYTES_MAX, Book, DeliveryEvents, Handled, ReceiverState, router};
use axum::Router;
use axum::body::Body;
use hooksim_core::provider::Provider;
use hooksim_core::time::SimTime;
use hooksim_sim::shell::signing::Gate;
use hooksim_sim::shell::{Conduct, Respond, play};
use hooksim_sim::world::{Behaviour, ReceiverSpec, Reply, World};
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use tower_service::Service;

/// Everything about one receiver that outlives its process: its records and its script.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) host: String,
    conduct: Rc<RefCell<Conduct>>,
    /// Built once per run; a restart serves a clone (routers are cheap to clone).
    router: Router,
    /// Its signature check, when it verifies; a rejection goes to the journal.
    door: Rc<Door>,
    /// For a caller's own router: what it has reported acting on so far.
    acts: Option<Rc<Acts>>,
}

/// What stands before a verifying receiver's logic.
struct Door {
    host: String,
    gate: Option<Gate>,
    journal: Journal,
    /// Whose shape requests are in, and the event of each delivery: what a rejection names.
    provider: Provider,
    events: Arc<Mutex<DeliveryEvents>>,
}

impl Receiver {
    /// `app`: the caller's own router in place of the reference logic of `spec.kind`.
    /// `events`: the event of each delivery sent, which the driver learns from the trace.
    pub(crate) fn new(
        spec: &ReceiverSpec,
        world: &World,
        events: &Arc<Mutex<DeliveryEvents>>,
        journal: &Journal,
        app: Option<Router>,
    ) -> Receiver {
        let signing = &world.signing;
        // The book is the receiver's database: the router's state, which outlives the host.
        let state = Arc::new(ReceiverState {
            name: spec.host.clone(),
            kind: spec.kind,
            book: Arc::new(Mutex::new(Book::default())),
            on_handled: Some(on_handled(spec.host.clone(), journal.clone())),
            provider: world.provider,
            events: Arc::clone(events),
        });
        let acts = app.as_ref().map(|_| Rc::new(Acts::new(&spec.host, journal, world.provider, events)));
        Receiver {
            host: spec.host.clone(),
            conduct: Rc::new(RefCell::new(Conduct::new(spec.behaviour.clone()))),
            router: app.unwrap_or_else(|| router(state)),
            acts,
            door: Rc::new(Door {
                host: spec.host.clone(),
                gate: Gate::of(signing, &spec.host),
                journal: journal.clone(),
                provider: world.provider,
                events: Arc::clone(events),
            }),
        }
    }

    /// From now on the receiver behaves so; its reply sequence starts over.
    pub(crate) fn behave(&self, behaviour: &Behaviour) {
        self.conduct.borrow_mut().behave(behaviour);
    }

    /// The host's software: started at each (re)start of the host.
    pub(crate) fn software(
        &self,
        port: u16,
        work: Work,
        alarms: Alarms,
    ) -> impl Future<Output = turmoil::Result> + 'static + use<> {
        let (router, conduct, door, acts) =
            (self.router.clone(), self.conduct.clone(), self.door.clone(), self.acts.clone());
        http::serve(port, move |request| {
            let served = Served {
                router: router.clone(),
                conduct: conduct.clone(),
                door: door.clone(),
                alarms: alarms.clone(),
                acts: acts.clone(),
            };
            take(request, served, work.clone())
        })
    }
}

/// Every readable delivery goes to the trace, as in the model engine: an act, or a skip (a
/// refusal is a skip with its reason); an unreadable body has no ids and goes nowhere.
fn on_handled(receiver: String, journal: Journal) -> crate::receiver::OnHandled {
    Arc::new(move |handled: &Handled| {
        if let Some(event) = trace_event(&receiver, handled) {
            journal.push(Note::Event(event));
        }
    })
}

/// The receiver's parts one request needs.
struct Served {
    router: Router,
    conduct: Rc<RefCell<Conduct>>,
    door: Rc<Door>,
    alarms: Alarms,
    acts: Option<Rc<Acts>>,
}

/// Reads the request, picks the scripted reply, and plays it; a reply with latency is played in a
/// detached task, so that the receiver acts even if the connection dies while it waits.
async fn take(request: Request<Incoming>, served: Served, work: Work) -> Result<Response<Body>, Dropped> {
    let Served { router, conduct, door, alarms, acts } = served;
    let (mut parts, body) = request.into_parts();
    // A receiver is reached by host, whatever path its webhook URL names (as in the model
    // engine): every POST goes to the reference router's delivery endpoint. A caller's own
    // router gets the path its webhook URL names.
    if parts.method == hyper::Method::POST && acts.is_none() {
        parts.uri = hyper::Uri::from_static("/webhook");
    }
    // A body past the limit is refused before any reply of the sequence is used (the shell's
    // `refuse_body`, which the model engine applies to the body's length).
    let Some(bytes) = http::read_body(body, BODY_BYTES_MAX).await else {
        return Ok(http::status(413));
    };
    if let Some(acts) = &acts {
        acts.note_delivery(&parts.headers, &bytes);
    }
    let reply = conduct.borrow_mut().next_reply();
    let request = Request::from_parts(parts, Body::from(bytes));
    if reply.latency_ms == 0 {
        // Nothing to wait for: the handling completes within this poll, so the connection cannot
        // fail under it and there is nothing to detach.
        return handle(reply, std::future::ready(()), request, router, &door, &alarms, acts.as_deref())
            .await
            .ok_or(Dropped);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let busy = work.start();
    // The reply's latency runs on the world's clock from the request's arrival.
    let ready = alarms.until(alarms.now_ms().saturating_add(reply.latency_ms));
    tokio::task::spawn_local(async move {
        let _busy = busy;
        let _ = tx.send(handle(reply, ready, request, router, &door, &alarms, acts.as_deref()).await);
    });
    match rx.await {
        Ok(Some(response)) => Ok(response),
        _ => Err(Dropped),
    }
}

/// Plays one reply: wait, then answer with or without the reference logic. `None`: close the
/// connection without answering.
async fn handle(
    reply: Reply,
    ready: impl Future<Output = ()>,
    request: Request<Body>,
    mut router: Router,
    door: &Door,
    alarms: &Alarms,
    acts: Option<&Acts>,
) -> Option<Response<Body>> {
    ready.await;
    // The reply's meaning is the shared shell's (`play`); only the I/O is this host's.
    let play = play(reply.answer);
    let (request, rejected) = if play.runs_logic { verify(request, door, alarms).await } else { (request, None) };
    if let Some(status) = rejected {
        return Some(http::status(status));
    }
    let response = if play.runs_logic {
        let response = match router.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if let Some(acts) = acts {
            acts.read(&mut router).await;
        }
        Some(response)
    } else {
        None
    };
    match play.respond {
        Respond::LogicStatus => response,
        Respond::Status(code) => Some(http::status(code)),
        Respond::SlowDown(code, _) => {
            let mut response = http::status(code);
            let value = play.respond.retry_after(SimTime::from_millis(alarms.now_ms())).unwrap_or_default();
            if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
                response.headers_mut().insert(hyper::header::RETRY_AFTER, value);
            }
            Some(response)
        }
        Respond::Drop => None,
    }
}

/// A verifying receiver's check (the shell's [`Gate`]) at the world's now, before its logic sees
/// the request: the request back to hand on, or the status of its rejection (traced).
async fn verify(request: Request<Body>, door: &Door, alarms: &Alarms) -> (Request<Body>, Option<u16>) {
    let Some(gate) = &door.gate else { return (request, None) };
    let (parts, body) = request.into_parts();
    // Already read within the limit by `take`: this only takes the bytes back out.
    let bytes = axum::body::to_bytes(body, BODY_BYTES_MAX).await.unwrap_or_default();
    let at = SimTime::from_millis(alarms.now_ms());
    let rejected = gate.check(&parts.headers, &bytes, at).err().map(|rejection| {
        let events = door.events.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let event_of = |u| events.event_of(u);
        let traced = rejection.trace_event(&door.host, door.provider, &parts.headers, &bytes, event_of);
        door.journal.push(Note::Event(traced));
        rejection.status
    });
    (Request::from_parts(parts, Body::from(bytes)), rejected)
}
