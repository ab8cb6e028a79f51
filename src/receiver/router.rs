//! The reference receivers as axum routers: `POST /webhook` takes deliveries, `GET /effects`
//! lists what the receiver acted on (the effects contract `hooksim certify` reads).

use super::{Book, Handled, ReceiverKind, handle};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use std::sync::{Arc, Mutex};

/// Larger request bodies are refused with 413 before the handler runs.
pub const BODY_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Told of every handled delivery; the simulation stamps it with virtual time into the trace.
pub type OnHandled = Arc<dyn Fn(&Handled) + Send + Sync>;

pub struct ReceiverState {
    pub name: String,
    pub kind: ReceiverKind,
    /// Durable: shared with whoever owns the receiver's records (it outlives a crashed host).
    pub book: Arc<Mutex<Book>>,
    pub on_handled: Option<OnHandled>,
}

pub fn router(state: Arc<ReceiverState>) -> Router {
    Router::new()
        .route("/webhook", post(webhook))
        .route("/effects", get(effects))
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(state)
}

async fn webhook(State(state): State<Arc<ReceiverState>>, body: Bytes) -> StatusCode {
    // One lock around decide-and-record: two concurrent deliveries of one uuid act once.
    let handled = {
        let mut book = state.book.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        handle(state.kind, &mut book, &body)
    };
    if let Some(on_handled) = &state.on_handled {
        on_handled(&handled);
    }
    StatusCode::from_u16(handled.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn effects(State(state): State<Arc<ReceiverState>>) -> Json<serde_json::Value> {
    let book = state.book.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Json(serde_json::json!({ "effects": book.effects() }))
}
