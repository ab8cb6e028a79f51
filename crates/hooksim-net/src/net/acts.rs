//! What a caller's own router acted on, on the network engine: the effects contract read in the
//! process (`GET /effects` on the router) after each delivery it handled, turned into trace
//! entries by the shared [`ActsBook`]. And [`RouterApp`]: the same router as an [`App`] for the
//! model engine, which has no runtime.

use super::journal::{Journal, Note};
use axum::Router;
use axum::body::Body;
use hooksim_core::provider::Provider;
use hooksim_sim::receiver::effects::{EffectRecord, EffectsDoc};
use hooksim_sim::receiver::{ActsBook, App, DeliveryEvents};
use std::cell::RefCell;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use tower_service::Service;

/// Bytes of one effects list read; a longer list breaks the contract (the run stops).
pub(crate) const EFFECTS_BYTES_MAX: usize = 8 * 1024 * 1024;

/// Polls of one request on the model engine before the router is judged to be waiting on
/// something (a socket, a timer) that the model engine, which has no runtime, cannot give it.
pub const ROUTER_POLLS_MAX: usize = 10_000;

pub(crate) struct Acts {
    receiver: String,
    journal: Journal,
    book: RefCell<ActsBook>,
    /// Whose shape deliveries are in, and the event of each (a provider's body names none).
    provider: Provider,
    events: Arc<Mutex<DeliveryEvents>>,
}

impl Acts {
    pub(crate) fn new(
        receiver: &str,
        journal: &Journal,
        provider: Provider,
        events: &Arc<Mutex<DeliveryEvents>>,
    ) -> Acts {
        Acts {
            receiver: receiver.to_string(),
            journal: journal.clone(),
            book: RefCell::new(ActsBook::default()),
            provider,
            events: Arc::clone(events),
        }
    }

    /// Remembers a delivery's ids from its headers and body, to name the acts filed under it.
    pub(crate) fn note_delivery(&self, headers: &hyper::HeaderMap, body: &[u8]) {
        let events = self.events.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.book.borrow_mut().note_shaped(self.provider, headers, body, |u| events.event_of(u));
    }

    /// Reads the router's effects list and records each entry not seen before.
    pub(crate) async fn read(&self, router: &mut Router) {
        let recorded = match effects(router).await {
            Ok(records) => self.book.borrow_mut().record(&self.receiver, &records),
            Err(why) => Err(why),
        };
        match recorded {
            Ok(events) => events.into_iter().for_each(|event| self.journal.push(Note::Event(event))),
            Err(why) => self.journal.push(Note::ContractBroken { receiver: self.receiver.clone(), why }),
        }
    }
}

/// `GET /effects` on the router, in the process: the entries, or why they cannot be read.
async fn effects(router: &mut Router) -> Result<Vec<EffectRecord>, String> {
    let request = hyper::Request::get("/effects").body(Body::empty()).map_err(|e| e.to_string())?;
    let response = match router.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    if status != 200 {
        return Err(format!("GET /effects answered {status}, not 200"));
    }
    let bytes = axum::body::to_bytes(response.into_body(), EFFECTS_BYTES_MAX)
        .await
        .map_err(|_| format!("GET /effects answered more than {EFFECTS_BYTES_MAX} bytes"))?;
    serde_json::from_slice::<EffectsDoc>(&bytes).map(|doc| doc.effects).map_err(|e| {
        format!("GET /effects is not in the contract's format ({{\"effects\": [{{\"uuid\": ...}}]}}): {e}")
    })
}

/// The caller's router as an [`App`] for the model engine: each request is polled to its end in
/// the engine's thread. A router that awaits a socket or a timer does not end there: after
/// [`ROUTER_POLLS_MAX`] polls the run stops and says to use the network engine.
#[derive(Clone)]
pub struct RouterApp(pub Router);

impl App for RouterApp {
    fn deliver(&mut self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<u16, String> {
        let mut request = hyper::Request::post(path).header(hyper::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Body::from(body.to_vec())).map_err(|e| format!("POST {path}: {e}"))?;
        let mut router = self.0.clone();
        let response = poll_to_end(async move {
            match router.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        })?;
        Ok(response.status().as_u16())
    }

    fn effects(&mut self) -> Result<Vec<EffectRecord>, String> {
        let mut router = self.0.clone();
        poll_to_end(async move { effects(&mut router).await })?
    }
}

/// Polls `future` with a waker that does nothing until it ends, at most [`ROUTER_POLLS_MAX`] times.
/// A panic in the router (tokio's timers and sockets panic outside a runtime) ends the run
/// with its message, not the caller's process.
fn poll_to_end<T>(future: impl Future<Output = T>) -> Result<T, String> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..ROUTER_POLLS_MAX {
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(&mut context)));
        match polled {
            Ok(Poll::Ready(value)) => return Ok(value),
            Ok(Poll::Pending) => {}
            Err(panic) => {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                return Err(format!("the router panicked ({text}); {NET_ENGINE_HINT}"));
            }
        }
    }
    Err(format!("the router did not finish a request in {ROUTER_POLLS_MAX} polls; {NET_ENGINE_HINT}"))
}

const NET_ENGINE_HINT: &str = "a router that awaits a socket or a timer needs a runtime, which the model engine \
     has not: run it on the net engine";
