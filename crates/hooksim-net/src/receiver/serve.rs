//! The reference receivers over the real network: what `hooksim receiver` runs, and what tests
//! certify on loopback, within [`ServeLimits`].

use super::limits::BodyBudget;
use super::page::{DeliveryLog, SharedLog};
use super::{Book, Handled, OnHandled, ReceiverKind, ReceiverState, ServeLimits, SignatureCheck, verifying, with_page};
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::{self, Next};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower_service::Service as _;

/// How a served receiver behaves beyond its kind's logic.
#[derive(Clone, Default)]
pub struct ServeOptions {
    /// Every answer waits this long (wall clock) after the receiver decided: set it beyond the
    /// sender's attempt timeout to be the slow receiver that causes duplicates. The side effect
    /// happens before the wait, as in a handler that acts and then stalls.
    pub answer_delay_ms: u64,
    /// Told of every handled delivery (`hooksim receiver` logs them).
    pub on_handled: Option<OnHandled>,
    /// Verify signatures before the kind's logic sees a delivery (see [`SignatureCheck`]).
    pub signature: Option<SignatureCheck>,
    /// Acts the receiver keeps ([`Book`]); `None`: [`super::EFFECTS_MAX`]. At the limit a new
    /// act is refused with 503.
    pub effects_max: Option<usize>,
}

/// The reference router of `kind`, with a fresh book, its page (`GET /`, the last deliveries),
/// and `options` applied.
pub fn app(kind: ReceiverKind, options: ServeOptions) -> (Router, Arc<Mutex<Book>>) {
    let book = Arc::new(Mutex::new(Book::with_effects_max(options.effects_max.unwrap_or(super::EFFECTS_MAX))));
    let state = ReceiverState {
        name: kind.as_str().to_string(),
        kind,
        book: Arc::clone(&book),
        on_handled: options.on_handled.clone(),
        provider: hooksim_core::provider::Provider::Snapbill,
        events: Arc::default(),
    };
    let log = DeliveryLog::shared();
    let mut app = with_page(Arc::new(state), Arc::clone(&log));
    if let Some(check) = options.signature {
        app = verifying(app, check, Some(logging_refusals(log, options.on_handled)));
    }
    if options.answer_delay_ms > 0 {
        let delay = Duration::from_millis(options.answer_delay_ms);
        app = app.layer(middleware::from_fn(move |req: Request, next: Next| delayed(delay, req, next)));
    }
    (app, book)
}

/// A delivery refused for its signature never reaches the logic: it goes on the page here (its
/// body unread), and on to whoever else is told.
fn logging_refusals(log: SharedLog, on_handled: Option<OnHandled>) -> OnHandled {
    Arc::new(move |handled: &Handled| {
        log.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).record(None, handled);
        if let Some(on_handled) = &on_handled {
            on_handled(handled);
        }
    })
}

async fn delayed(delay: Duration, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    tokio::time::sleep(delay).await;
    response
}

/// Serves `app` on `listener` until `shutdown` completes, within the default [`ServeLimits`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_limits(listener, app, ServeLimits::default(), shutdown).await
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes; then stops accepting,
/// lets every open connection finish its request (closing idle ones), and returns.
///
/// hyper is driven directly rather than through `axum::serve`, which has no read timeout and
/// no connection cap: a few hundred connections that never finish their headers would starve
/// real deliveries, and every body would be buffered whole.
pub async fn serve_with_limits(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.connections_max.clamp(1, Semaphore::MAX_PERMITS)));
    let server = Arc::new(Server { app, budget: BodyBudget::new(&limits), limits });
    let (stop, stopped) = watch::channel(());
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // At the cap nothing is accepted: new connections wait in the kernel's accept queue.
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                connections.spawn(Arc::clone(&server).connection(stream, slot, stopped.clone()));
            }
            // Out of file descriptors, or a connection reset before it was accepted: wait a
            // little rather than spin, and go on serving the connections already open.
            Err(_) => tokio::time::sleep(ACCEPT_RETRY).await,
        }
        while connections.try_join_next().is_some() {}
    }
    drop(stop);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// The pause after a failed `accept` (file descriptors exhausted, most likely).
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// hyper refuses read buffers smaller than this.
const HYPER_BUF_BYTES_MIN: usize = 8192;

struct Server {
    app: Router,
    budget: BodyBudget,
    limits: ServeLimits,
}

impl Server {
    /// Serves one connection, holding its `slot` until it closes.
    async fn connection(
        self: Arc<Self>,
        stream: TcpStream,
        slot: OwnedSemaphorePermit,
        mut stopped: watch::Receiver<()>,
    ) {
        let _slot = slot;
        let limits = &self.limits;
        let server = Arc::clone(&self);
        let service = hyper::service::service_fn(move |request| {
            let server = Arc::clone(&server);
            async move { Ok::<_, Infallible>(server.answer(request).await) }
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_millis(limits.header_read_timeout_ms))
            .max_buf_size(limits.header_bytes_max.max(HYPER_BUF_BYTES_MIN));
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(connection);
        // A peer that goes away mid-exchange is its own business, not an error of the server.
        tokio::select! {
            _ = connection.as_mut() => {}
            _ = stopped.changed() => {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        }
    }

    /// Reads the body within the limits, then lets the app answer; the body's share of the
    /// budget is given back once the answer is ready.
    async fn answer(&self, request: hyper::Request<Incoming>) -> Response {
        let (parts, body) = request.into_parts();
        let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let held = match self.budget.read(declared, body).await {
            Ok(held) => held,
            Err(refusal) => return refusal.response(),
        };
        let request = hyper::Request::from_parts(parts, Body::from(held.bytes.clone()));
        let response = match self.app.clone().call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        drop(held);
        response
    }
}

/// The command that certifies a receiver listening on `addr`, effects included.
pub fn certify_command(addr: SocketAddr) -> String {
    let base = base_url(addr);
    format!("hooksim certify receiver --url {base}/webhook --effects-url {base}/effects")
}

/// `http://host:port`, with an unspecified listen address (`0.0.0.0`) replaced by loopback,
/// which is where a local certification connects.
pub fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_command_points_at_loopback_for_a_wildcard_listener() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(
            certify_command(any),
            "hooksim certify receiver --url http://127.0.0.1:8080/webhook --effects-url http://127.0.0.1:8080/effects"
        );
        let v6: SocketAddr = "[::]:9".parse().unwrap();
        assert_eq!(base_url(v6), "http://[::1]:9");
    }
}
