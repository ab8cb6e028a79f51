//! The simulated provider API of a `certify receiver --provider P` run: one loopback listener per
//! run that answers `GET` of an invoice as it is now, in the case's virtual time, in P's own
//! object shape, so a receiver that follows the provider's advice (fetch the current state
//! before acting on a snapshot) can be certified, and one that trusts the snapshot is caught.
//!
//! What an answer says is the pack's ([`crate::provider::Provider::api_get`], pure); this is
//! only the listener. Each case's store is published to one [`StoreView`]: by the live shell
//! after every change of a scenario case's timeline, by the deck after every change of a
//! hand-sent case.

use crate::live::StoreView;
use crate::provider::Provider;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests the API answers per case; past it, each is answered 429 until the next case (a
/// receiver fetching in a loop must not turn the run into a flood).
pub const API_REQUESTS_PER_CASE_MAX: u64 = 1_000;

/// The API of one run: where it listens, and the store it reads.
pub struct ProviderApi {
    /// `http://127.0.0.1:PORT`: the base of every path the pack names.
    pub base_url: String,
    /// The store the current case publishes.
    pub view: StoreView,
    shared: Arc<Shared>,
    task: Option<tokio::task::JoinHandle<()>>,
}

struct Shared {
    provider: Provider,
    view: StoreView,
    /// Requests answered in the current case.
    requests: AtomicU64,
}

impl ProviderApi {
    /// Listens on 127.0.0.1:`port` (0: any free port) for `provider`'s API; `None` for a
    /// provider hooksim simulates no API of.
    pub async fn start(provider: Provider, port: u16) -> Option<std::io::Result<ProviderApi>> {
        if !provider.has_api() {
            return None;
        }
        Some(ProviderApi::listen(provider, port).await)
    }

    async fn listen(provider: Provider, port: u16) -> std::io::Result<ProviderApi> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let view = StoreView::default();
        let shared = Arc::new(Shared { provider, view: view.clone(), requests: AtomicU64::new(0) });
        let state = shared.clone();
        let app = axum::Router::new().fallback(move |request: Request<Body>| answer(state.clone(), request));
        let task = tokio::spawn(async move {
            // The listener ends with the run (`stop`, or `Drop` aborts it); an accept error ends it early,
            // and the receiver's fetches then fail, which its cases show.
            let _ = axum::serve(listener, app).await;
        });
        Ok(ProviderApi { base_url, view, shared, task: Some(task) })
    }

    /// A new case starts: its request budget is full again.
    pub fn next_case(&self) {
        self.shared.requests.store(0, Ordering::Relaxed);
    }

    /// Requests answered in the current case so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }
}

impl ProviderApi {
    /// Stops listening, and waits until the port is free again (a next run may bind it).
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for ProviderApi {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// One request: counted, then answered by the pack from the store as it is now. The body is
/// never read (a `GET` has none).
async fn answer(shared: Arc<Shared>, request: Request<Body>) -> Response<Body> {
    let n = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let (status, body) = if n > API_REQUESTS_PER_CASE_MAX {
        let why = format!("more than {API_REQUESTS_PER_CASE_MAX} requests in this case");
        (429, serde_json::json!({"error": {"message": why}}).to_string())
    } else {
        let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let (now_s, store) = shared.view.read();
        let a = shared.provider.api_get(request.method().as_str(), target, &store, now_s);
        (a.status, a.body)
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Change, Client, Invoice, InvoiceState, Store};

    fn store(state: InvoiceState) -> Store {
        let mut store = Store::default();
        let client = Client { id: 1, name: "Ada".into(), email: "ada@example.com".into() };
        Change::AddClient(client).apply(&mut store).unwrap();
        let inv = Invoice { id: 7, number: "INV-7".into(), client_id: 1, total_cents: 990, state };
        Change::AddInvoice(inv).apply(&mut store).unwrap();
        store
    }

    /// The listener answers from the store last published, 404 for an unknown id, and 429 past
    /// the case's budget until the next case.
    #[tokio::test]
    async fn the_listener_serves_the_store_last_published_within_the_cases_budget() {
        assert!(ProviderApi::start(Provider::StandardWebhooks, 0).await.is_none(), "no API to serve");
        let api = ProviderApi::start(Provider::Stripe, 0).await.unwrap().unwrap();
        let client = hooksim_net::http::builder(None, "hooksim-test").unwrap().build().unwrap();
        let get = |path: &str| client.get(format!("{}{path}", api.base_url)).send();
        api.view.publish(1_767_225_600, &store(InvoiceState::Paid));
        let paid: serde_json::Value = get("/v1/invoices/in_7").await.unwrap().json().await.unwrap();
        assert_eq!(paid["status"], "paid");
        api.view.publish(1_767_225_660, &store(InvoiceState::Cancelled));
        let now: serde_json::Value = get("/v1/invoices/in_7").await.unwrap().json().await.unwrap();
        assert_eq!(now["status"], "void", "the invoice as it is now");
        assert_eq!(get("/v1/invoices/in_8").await.unwrap().status(), 404);
        for _ in api.requests()..API_REQUESTS_PER_CASE_MAX {
            get("/v1/invoices/in_7").await.unwrap();
        }
        assert_eq!(get("/v1/invoices/in_7").await.unwrap().status(), 429);
        api.next_case();
        assert_eq!(get("/v1/invoices/in_7").await.unwrap().status(), 200);
        let port: u16 = api.base_url.rsplit(':').next().unwrap().parse().unwrap();
        assert!(ProviderApi::start(Provider::Stripe, port).await.unwrap().is_err(), "the port is taken");
        api.stop().await;
        let again = ProviderApi::start(Provider::Stripe, port).await.unwrap();
        assert!(again.is_ok(), "stopped, the port is free at once");
    }
}
