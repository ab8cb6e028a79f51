//! One HTTP/1.1 request per connection, read within limits, and the endpoint's answers on the
//! socket itself. Written on a bare `TcpStream` rather than a server library because the script
//! needs what those hide: holding a request while noticing the sender hang up, and a reset.

use super::limits::{BODY_BYTES_MAX, BODY_READ_TIMEOUT_MS, HEADER_BYTES_MAX, HEADER_READ_TIMEOUT_MS};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A request as read.
#[derive(Debug)]
pub(super) struct Request {
    pub path: String,
    /// Names in lower case.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

/// Why a request could not be read; the endpoint answers the status, if any, and closes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Unread {
    /// The peer closed or went quiet before a whole request: nothing to answer.
    Gone,
    Refused(u16),
}

/// Reads one request: the head within [`HEADER_READ_TIMEOUT_MS`] and [`HEADER_BYTES_MAX`], a
/// body of `Content-Length` or chunked within [`BODY_READ_TIMEOUT_MS`] and [`BODY_BYTES_MAX`].
pub(super) async fn read_request(stream: &mut TcpStream) -> Result<Request, Unread> {
    let mut buf = Vec::with_capacity(4096);
    let head = tokio::time::timeout(ms(HEADER_READ_TIMEOUT_MS), read_head(stream, &mut buf)).await;
    let (head_len, path, headers) = head.map_err(|_| Unread::Gone)??;
    let rest = buf.split_off(head_len);
    // curl and libcurl-based senders wait (a second, for curl) for this before sending a body
    // over 1 KiB: without it every attempt would start a second late.
    if header(&headers, "expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) && rest.is_empty() {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
    }
    let body = tokio::time::timeout(ms(BODY_READ_TIMEOUT_MS), read_body(stream, &headers, rest))
        .await
        .map_err(|_| Unread::Refused(408))??;
    Ok(Request { path, headers, body })
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

type Head = (usize, String, Vec<(String, Vec<u8>)>);

async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Head, Unread> {
    loop {
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut slots);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(len)) => {
                let path = req.path.unwrap_or("/").split('?').next().unwrap_or("/").to_string();
                let headers = req.headers.iter().map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec())).collect();
                return Ok((len, path, headers));
            }
            Ok(httparse::Status::Partial) if buf.len() >= HEADER_BYTES_MAX => return Err(Unread::Refused(431)),
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => return Err(Unread::Refused(431)),
            Err(_) => return Err(Unread::Refused(400)),
        }
        if read_more(stream, buf).await? == 0 {
            return Err(Unread::Gone);
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<usize, Unread> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await.map_err(|_| Unread::Gone)?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).and_then(|(_, v)| std::str::from_utf8(v).ok())
}

async fn read_body(stream: &mut TcpStream, headers: &[(String, Vec<u8>)], mut buf: Vec<u8>) -> Result<Vec<u8>, Unread> {
    if header(headers, "transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
        return read_chunked(stream, buf).await;
    }
    let length = match header(headers, "content-length") {
        None => 0,
        Some(text) => text.trim().parse::<usize>().map_err(|_| Unread::Refused(400))?,
    };
    if length > BODY_BYTES_MAX {
        return Err(Unread::Refused(413));
    }
    while buf.len() < length {
        if read_more(stream, &mut buf).await? == 0 {
            return Err(Unread::Gone);
        }
    }
    buf.truncate(length);
    Ok(buf)
}

/// Decodes a chunked body as it arrives; trailers are read and dropped.
async fn read_chunked(stream: &mut TcpStream, mut buf: Vec<u8>) -> Result<Vec<u8>, Unread> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(line_end) = find_crlf(&buf[at..]) else {
            if buf.len() - at > HEADER_BYTES_MAX {
                return Err(Unread::Refused(400));
            }
            if read_more(stream, &mut buf).await? == 0 {
                return Err(Unread::Gone);
            }
            continue;
        };
        let line = std::str::from_utf8(&buf[at..at + line_end]).map_err(|_| Unread::Refused(400))?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| Unread::Refused(400))?;
        if body.len() + size > BODY_BYTES_MAX {
            return Err(Unread::Refused(413));
        }
        let data = at + line_end + 2;
        if size == 0 {
            // Trailers end with an empty line; wait for it, but no longer than the deadline.
            while !buf[data..].windows(2).any(|w| w == b"\r\n") {
                if read_more(stream, &mut buf).await? == 0 {
                    break;
                }
            }
            return Ok(body);
        }
        while buf.len() < data + size + 2 {
            if read_more(stream, &mut buf).await? == 0 {
                return Err(Unread::Gone);
            }
        }
        body.extend_from_slice(&buf[data..data + size]);
        at = data + size + 2;
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

/// Writes a bodiless answer and closes: one request per connection.
pub(super) async fn answer(stream: &mut TcpStream, status: u16, headers: &[(String, String)]) {
    answer_with_body(stream, status, headers, "").await;
}

/// An answer carrying `body` as plain text (a handshake's challenge).
pub(super) async fn answer_with_body(stream: &mut TcpStream, status: u16, headers: &[(String, String)], body: &str) {
    let reason = axum::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
    let length = body.len();
    let mut text = format!("HTTP/1.1 {status} {reason}\r\ncontent-length: {length}\r\nconnection: close\r\n");
    if length > 0 {
        text.push_str("content-type: text/plain\r\n");
    }
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    // A sender that hung up meanwhile is its own business.
    let _ = stream.write_all(text.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// After an answer: whether the peer read it, judged by how it closes within `watch_ms`. A client
/// that read the answer closes in order (FIN); one that gave up first (its timeout) closes with
/// the answer unread, and its kernel resets the connection. `false` only for a reset: a peer
/// still quiet at the end of the watch is taken to have read it.
pub(super) async fn answer_read(stream: &mut TcpStream, watch_ms: u64) -> bool {
    let closed = async {
        let mut sink = [0u8; 1024];
        loop {
            match stream.read(&mut sink).await {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) => return e.kind() != std::io::ErrorKind::ConnectionReset,
            }
        }
    };
    tokio::time::timeout(ms(watch_ms), closed).await.unwrap_or(true)
}

/// Says nothing until the peer closes its side (true: it gave up) or `cap_ms` passes (false).
pub(super) async fn hold(stream: &mut TcpStream, cap_ms: u64) -> bool {
    let wait = async {
        let mut sink = [0u8; 1024];
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // bytes after the request (a pipelined one): not answered either
            }
        }
    };
    tokio::time::timeout(ms(cap_ms), wait).await.is_ok()
}

/// Closes with a reset (RST), without answering.
pub(super) fn reset(stream: TcpStream) {
    // SO_LINGER 0 makes close send a reset. tokio deprecates set_linger because a *non-zero*
    // linger blocks the thread on drop; zero never does.
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}
