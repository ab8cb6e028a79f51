//! The reference receivers as axum routers: `POST /webhook` takes deliveries, `GET /effects`
//! lists what the receiver acted on (the effects contract `hooksim certify` reads). The served
//! receiver adds its page ([`with_page`]): `GET /` and `GET /deliveries`.

use super::page::{self, SharedLog};
use super::{BODY_BYTES_MAX, Book, DeliveryEvents, Handled, ReceiverKind, handle_shaped};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use hooksim_core::provider::Provider;
use std::sync::{Arc, Mutex};

/// Told of every handled delivery; the simulation stamps it with virtual time into the trace.
pub type OnHandled = Arc<dyn Fn(&Handled) + Send + Sync>;

/// What a served reference receiver holds: who it is, its durable book, and who is told of each
/// delivery.
pub struct ReceiverState {
    /// The receiver's name (the scenario's, or `--name`).
    pub name: String,
    /// Which reference logic it runs.
    pub kind: ReceiverKind,
    /// Durable: shared with whoever owns the receiver's records (it outlives a crashed host).
    pub book: Arc<Mutex<Book>>,
    /// Told of every handled delivery, if set (the simulated engines trace it).
    pub on_handled: Option<OnHandled>,
    /// Whose deliveries it reads: SnapBill's envelope, or a provider's shape.
    pub provider: Provider,
    /// The event of each delivery sent, which a provider's body does not name (the simulation
    /// fills it; see [`handle_shaped`]).
    pub events: Arc<Mutex<DeliveryEvents>>,
}

/// The receiver's axum router: `POST /webhook` takes deliveries, `GET /effects` lists its acts.
pub fn router(state: Arc<ReceiverState>) -> Router {
    Router::new()
        .route("/webhook", post(webhook))
        .route("/effects", get(effects))
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(state)
}

/// [`router`] that also keeps every delivery in `log` and serves the receiver's page from it.
pub fn with_page(state: Arc<ReceiverState>, log: SharedLog) -> Router {
    let kind = state.kind.as_str().to_string();
    let logged = {
        let log = Arc::clone(&log);
        move |State(state): State<Arc<ReceiverState>>, headers: HeaderMap, body: Bytes| async move {
            let handled = receive(&state, &headers, &body);
            log.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).record(Some(&body), &handled);
            status(&handled)
        }
    };
    let pages =
        Router::new().route("/", get(page::page)).route("/deliveries", get(page::deliveries)).with_state((kind, log));
    Router::new()
        .route("/webhook", post(logged))
        .route("/effects", get(effects))
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(state)
        .merge(pages)
}

async fn webhook(State(state): State<Arc<ReceiverState>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    status(&receive(&state, &headers, &body))
}

/// The receiver's logic on one delivery, its owner told.
fn receive(state: &ReceiverState, headers: &HeaderMap, body: &[u8]) -> Handled {
    // One lock around decide-and-record: two concurrent deliveries of one uuid act once.
    let handled = {
        let mut book = state.book.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let event_of = |u| state.events.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).event_of(u);
        handle_shaped(state.kind, &mut book, state.provider, headers, body, event_of)
    };
    if let Some(on_handled) = &state.on_handled {
        on_handled(&handled);
    }
    handled
}

fn status(handled: &Handled) -> StatusCode {
    StatusCode::from_u16(handled.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn effects(State(state): State<Arc<ReceiverState>>) -> Json<serde_json::Value> {
    let book = state.book.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Json(serde_json::json!({ "effects": book.effects() }))
}
