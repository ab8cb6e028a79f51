//! The reference receivers over the real network: what `hooksim receiver` runs, and what tests
//! certify on loopback.

use super::{Book, OnHandled, ReceiverKind, ReceiverState, router};
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// How a served receiver behaves beyond its kind's logic.
#[derive(Clone, Default)]
pub struct ServeOptions {
    /// Every answer waits this long (wall clock) after the receiver decided: set it beyond the
    /// sender's attempt timeout to be the slow receiver that causes duplicates. The side effect
    /// happens before the wait, as in a handler that acts and then stalls.
    pub answer_delay_ms: u64,
    /// Told of every handled delivery (`hooksim receiver` logs them).
    pub on_handled: Option<OnHandled>,
}

/// The reference router of `kind`, with a fresh book, and `options` applied.
pub fn app(kind: ReceiverKind, options: ServeOptions) -> (Router, Arc<Mutex<Book>>) {
    let book = Arc::new(Mutex::new(Book::default()));
    let state = ReceiverState {
        name: kind.as_str().to_string(),
        kind,
        book: Arc::clone(&book),
        on_handled: options.on_handled,
    };
    let mut app = router(Arc::new(state));
    if options.answer_delay_ms > 0 {
        let delay = Duration::from_millis(options.answer_delay_ms);
        app = app.layer(middleware::from_fn(move |req: Request, next: Next| delayed(delay, req, next)));
    }
    (app, book)
}

async fn delayed(delay: Duration, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    tokio::time::sleep(delay).await;
    response
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
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
