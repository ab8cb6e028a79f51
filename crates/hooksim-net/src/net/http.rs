//! HTTP/1.1 over turmoil's simulated TCP: one POST per connection on the client side, and an
//! accept loop that serves a hyper service on the server side.
//!
//! hyper is used directly (not `axum::serve`): axum's serve loop uses `tokio::select!`, whose
//! branch order is random without `--cfg tokio_unstable`, and we need hyper's builder to turn off
//! the `Date` header, which reads the real clock.

use super::hosting::Address;
use bytes::Bytes;
use hooksim_core::trace::Outcome;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::cell::Cell;
use std::future::Future;
use tokio::task::JoinHandle;
use turmoil::net::{TcpListener, TcpStream};

/// A simulated server listens here unless it shares a host ([`super::hosting`]); the port of a
/// webhook URL is not simulated.
pub(crate) const PORT: u16 = 80;

/// Aborts the task when dropped, so a connection task never outlives the request it serves.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// POSTs `body` to `http://host/path` on a new connection and reports how it ended. No timeout
/// here: the caller bounds the whole exchange.
pub async fn post(host: &str, path: &str, body: Bytes) -> Outcome {
    let to = Address { host: host.to_string(), port: PORT };
    post_counting(&to, host, path, &[], body, &Cell::new(0)).await.outcome
}

/// How a POST ended, and the `Retry-After` header of its answer (as text), if it had one. A
/// redirect's `Location` is never followed: a 3xx is an answer like any other.
pub(crate) struct Posted {
    pub outcome: Outcome,
    pub retry_after: Option<String>,
}

impl From<Outcome> for Posted {
    fn from(outcome: Outcome) -> Self {
        Posted { outcome, retry_after: None }
    }
}

/// Counts a connect that never completed (refused, or given up while its SYN was held or waiting
/// for a crashed host) when dropped unfinished. turmoil keeps the socket of such a connect, and
/// its port, for the rest of the run.
struct Unfinished<'c> {
    count: &'c Cell<u64>,
    done: bool,
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.count.set(self.count.get().saturating_add(1));
        }
    }
}

/// [`post`] to the receiver `host` listening at `to`, with `headers` (a signature's), adding to
/// `unfinished` each connect that never completes. The request names `host`, whichever host
/// carries it.
pub(crate) async fn post_counting(
    to: &Address,
    host: &str,
    path: &str,
    headers: &[(&'static str, String)],
    body: Bytes,
    unfinished: &Cell<u64>,
) -> Posted {
    let mut connecting = Unfinished { count: unfinished, done: false };
    let Ok(stream) = TcpStream::connect((to.host.as_str(), to.port)).await else {
        return Outcome::Refused.into();
    };
    connecting.done = true;
    let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await else {
        return Outcome::Reset.into();
    };
    let _conn = AbortOnDrop(tokio::task::spawn_local(conn));
    let mut request = Request::post(path).header(HOST, host).header(CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let request = request.body(Full::new(body));
    let Ok(request) = request else {
        // Only a path that is not a valid URI gets here: nothing was sent.
        return Outcome::Refused.into();
    };
    match sender.send_request(request).await {
        Ok(response) => {
            let retry_after = response.headers().get(hyper::header::RETRY_AFTER);
            let retry_after = retry_after.and_then(|v| v.to_str().ok()).map(str::to_string);
            Posted { outcome: Outcome::Status { code: response.status().as_u16() }, retry_after }
        }
        // Closed or reset before a whole answer came back.
        Err(_) => Outcome::Reset.into(),
    }
}

/// The request body, at most `body_bytes_max`; `None` when it is longer or the connection broke.
pub(crate) async fn read_body(body: Incoming, body_bytes_max: usize) -> Option<Bytes> {
    let collected = Limited::new(body, body_bytes_max).collect().await.ok()?;
    Some(collected.to_bytes())
}

/// A service error: hyper closes the connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose")]
pub(crate) struct Dropped;

/// Accepts connections on `port` forever and serves each with `handle`. A handler that returns
/// [`Dropped`] closes its connection without an answer.
pub(crate) async fn serve<H, Fut, B>(port: u16, handle: H) -> turmoil::Result
where
    H: Fn(Request<Incoming>) -> Fut + Clone + 'static,
    Fut: Future<Output = Result<Response<B>, Dropped>> + 'static,
    B: hyper::body::Body<Data = Bytes> + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = TcpListener::bind(("0.0.0.0", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let handle = handle.clone();
        tokio::task::spawn_local(async move {
            let service = hyper::service::service_fn(handle);
            // The peer going away mid-exchange is an outcome the client reports, not an error here.
            let _ = hyper::server::conn::http1::Builder::new()
                .auto_date_header(false)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// An empty answer with this status. A 3xx names a place to go (`Location`), which the sender
/// must not follow: the attempt failed.
pub(crate) fn status<B: Default>(code: u16) -> Response<B> {
    let mut response = Response::new(B::default());
    *response.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if response.status().is_redirection() {
        response.headers_mut().insert(hyper::header::LOCATION, hyper::header::HeaderValue::from_static("/moved"));
    }
    response
}

/// The path part of a URL (`http://shop/webhook?x` gives `/webhook?x`), `/` when it has none.
pub(crate) fn url_path(url: &str) -> String {
    let Some(parsed) = hooksim_sim::world::parse_url(url) else { return "/".to_string() };
    match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::url_path;

    #[test]
    fn url_path_keeps_path_and_query() {
        assert_eq!(url_path("http://shop/webhook?x=1"), "/webhook?x=1");
        assert_eq!(url_path("http://shop:8080"), "/");
        assert_eq!(url_path("shop/hook"), "/hook");
    }
}
