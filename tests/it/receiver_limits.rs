//! `hooksim receiver`'s limits on loopback: connections that never finish their headers do not
//! starve a real delivery, a body over the limit gets 413 without being read whole, the bytes of
//! bodies held at once stay within a budget (503 past it), and a stalled body gets 408.
//! Outcomes only: every wait below is a generous guard against a hang, never the thing tested.

use hooksim::receiver::{ReceiverKind, ServeLimits, ServeOptions, app, base_url, serve_with_limits};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PAID: &str = r#"{"uuid":"6f1c2a4e-0000-4000-8000-000000000001","body":{"id":41,"path":"/invoice/update/state","details":"paid","invoice":{"id":9,"number":"INV-9","client_id":1,"total_cents":100,"state":"paid"}}}"#;
/// Longer than any wait the tests need: only a hang reaches it.
const GUARD: Duration = Duration::from_secs(60);

async fn start(limits: ServeLimits) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (router, _) = app(ReceiverKind::Dedup, ServeOptions::default());
    tokio::spawn(serve_with_limits(listener, router, limits, std::future::pending()));
    addr
}

/// A connection that sent `head` (and maybe some body) and then stalls.
async fn stalled(addr: SocketAddr, head: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head).await.unwrap();
    stream
}

/// Everything the server sends until it closes the connection (or the head of its answer).
async fn answer(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(GUARD, read).await.expect("the server answers or closes");
    String::from_utf8_lossy(&seen).into_owned()
}

async fn deliver(addr: SocketAddr, body: String) -> u16 {
    let client = hooksim::http::builder(None, "hooksim-tests").unwrap().timeout(GUARD).build().unwrap();
    let response = client.post(format!("{}/webhook", base_url(addr))).body(body).send().await.unwrap();
    response.status().as_u16()
}

const HALF_HEAD: &[u8] = b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: applic";

#[tokio::test]
async fn connections_that_never_finish_their_headers_do_not_starve_a_delivery() {
    // The reported case: 250 such connections under the default limits.
    let addr = start(ServeLimits::default()).await;
    let mut idle = Vec::new();
    for _ in 0..250 {
        idle.push(stalled(addr, HALF_HEAD).await);
    }
    assert_eq!(deliver(addr, PAID.to_string()).await, 200);
}

#[tokio::test]
async fn at_the_connection_cap_stalled_connections_are_closed_and_the_delivery_waits_its_turn() {
    let limits = ServeLimits { connections_max: 4, header_read_timeout_ms: 300, ..ServeLimits::default() };
    let addr = start(limits).await;
    let mut idle = Vec::new();
    for _ in 0..12 {
        idle.push(stalled(addr, HALF_HEAD).await);
    }
    // Three times the cap is stalled ahead of it: it is served once their deadlines free slots.
    assert_eq!(deliver(addr, PAID.to_string()).await, 200);
    for stream in &mut idle {
        assert_eq!(answer(stream).await, "", "closed without an answer");
    }
}

#[tokio::test]
async fn a_body_declared_over_the_limit_gets_413_before_it_is_sent() {
    let addr = start(ServeLimits::default()).await;
    let head = format!("POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{{", 4 * 1024 * 1024 + 1);
    let mut stream = stalled(addr, head.as_bytes()).await;
    assert!(answer(&mut stream).await.starts_with("HTTP/1.1 413"));
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_gets_413_once_the_limit_is_crossed() {
    let limits = ServeLimits { body_bytes_max: 64 * 1024, ..ServeLimits::default() };
    let addr = start(limits).await;
    let mut stream = stalled(addr, b"POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").await;
    let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
    // Five 16 KiB chunks, one more than the limit, and the body never ends: the answer cannot
    // wait for the whole of it.
    for _ in 0..5 {
        stream.write_all(chunk.as_bytes()).await.unwrap();
    }
    assert!(answer(&mut stream).await.starts_with("HTTP/1.1 413"));
}

#[tokio::test]
async fn bodies_held_at_once_stay_within_the_budget_and_the_rest_get_503() {
    let limits = ServeLimits { body_bytes_max: 64 * 1024, bodies_bytes_total_max: 20 * 1024, ..ServeLimits::default() };
    let addr = start(limits).await;
    let padded = |n: usize| format!("{PAID}{}", " ".repeat(n - PAID.len()));
    // One delivery announces 16,000 bytes, sends 10,000 and waits: its whole share is taken.
    let body = padded(16_000);
    let head = format!("POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", body.len());
    let mut holder = stalled(addr, format!("{head}{}", &body[..10_000]).as_bytes()).await;
    // Once the server has read that head, an 8,000-byte body does not fit beside it.
    let mut last = None;
    for _ in 0..500 {
        last = try_deliver(addr, padded(8_000)).await;
        if last == Some(503) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(last, Some(503));
    // The holder completes; its share comes back and the same delivery fits again.
    holder.write_all(&body.as_bytes()[10_000..]).await.unwrap();
    assert!(answer(&mut holder).await.starts_with("HTTP/1.1 200"));
    assert_eq!(deliver(addr, padded(8_000)).await, 200);
}

/// The status, or `None` when the connection broke first (a refusal may reset it).
async fn try_deliver(addr: SocketAddr, body: String) -> Option<u16> {
    let client = hooksim::http::builder(None, "hooksim-tests").unwrap().timeout(GUARD).build().unwrap();
    let response = client.post(format!("{}/webhook", base_url(addr))).body(body).send().await.ok()?;
    Some(response.status().as_u16())
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_408() {
    let limits = ServeLimits { body_read_timeout_ms: 200, ..ServeLimits::default() };
    let addr = start(limits).await;
    let mut stream = stalled(addr, b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"uuid\"").await;
    assert!(answer(&mut stream).await.starts_with("HTTP/1.1 408"));
}
