//! What a reference receiver on the real network spends, bounded: connections, the time to send
//! headers and a body, the bytes of one body and of every body being read at once.
//!
//! At each limit (the README's Limits table says the same):
//! - `connections_max`: no more connections are accepted; new ones wait in the kernel's accept
//!   queue (the sender sees a slow connect, not a refusal) until one closes.
//! - `header_read_timeout_ms`: a connection that has not sent a whole request head in time, idle
//!   keep-alive ones included, is closed without an answer.
//! - `header_bytes_max`: a longer request head is answered 431 and closed (hyper's read buffer).
//! - `body_read_timeout_ms`: a body not received in time is answered 408.
//! - `body_bytes_max`: a body declared longer is answered 413 before a byte of it is read; one
//!   that turns out longer is answered 413 once the limit is crossed, never read whole.
//! - `bodies_bytes_total_max`: bytes of bodies held at once, across connections, until the answer
//!   is sent (a body of announced length counts whole from its head on). A body that would pass
//!   it is answered 503 with `Retry-After: 1` at once: a webhook sender retries a 503, while
//!   waiting would hold a connection slot that other deliveries need. (A sender still writing
//!   that body may see the connection reset instead of the 503: a failed attempt either way.)

use super::BODY_BYTES_MAX;
use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What `hooksim receiver` spends at most; see the module for what happens at each limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeLimits {
    /// Connections served at once; more wait in the kernel's accept queue.
    pub connections_max: usize,
    /// Time to send a whole request head, in milliseconds; then the connection is closed.
    pub header_read_timeout_ms: u64,
    /// The longest request head, in bytes; a longer one is answered 431.
    pub header_bytes_max: usize,
    /// Time to send a whole body, in milliseconds; then 408.
    pub body_read_timeout_ms: u64,
    /// The longest body, in bytes; a longer one is answered 413.
    pub body_bytes_max: usize,
    /// Bytes of bodies held at once across connections; past it 503 with `Retry-After: 1`.
    pub bodies_bytes_total_max: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            connections_max: 256,
            header_read_timeout_ms: 10_000,
            header_bytes_max: 64 * 1024,
            body_read_timeout_ms: 30_000,
            body_bytes_max: BODY_BYTES_MAX,
            // Sixteen maximal bodies at once; real deliveries are a few kB.
            bodies_bytes_total_max: 64 * 1024 * 1024,
        }
    }
}

/// The bytes of bodies being held, shared by every connection of one server.
#[derive(Clone, Debug)]
pub(super) struct BodyBudget {
    bytes: Arc<Semaphore>,
    body_bytes_max: usize,
    read_timeout: Duration,
}

/// A body read whole, and its share of the budget, given back when this is dropped.
pub(super) struct HeldBody {
    pub bytes: Bytes,
    _share: Option<OwnedSemaphorePermit>,
}

/// Why a body was not read: the answer to give instead.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum BodyRefusal {
    TooLarge,
    OverBudget,
    TooSlow,
    Broken,
}

impl BodyBudget {
    pub(super) fn new(limits: &ServeLimits) -> Self {
        let total = limits.bodies_bytes_total_max.min(Semaphore::MAX_PERMITS);
        Self {
            bytes: Arc::new(Semaphore::new(total)),
            body_bytes_max: limits.body_bytes_max,
            read_timeout: Duration::from_millis(limits.body_read_timeout_ms),
        }
    }

    /// Reads `body` (of which `declared` bytes were announced, if any) within the limits.
    pub(super) async fn read<B>(&self, declared: Option<u64>, body: B) -> Result<HeldBody, BodyRefusal>
    where
        B: hyper::body::Body<Data = Bytes> + Unpin,
    {
        let declared = match declared {
            Some(n) if n > self.body_bytes_max as u64 => return Err(BodyRefusal::TooLarge),
            // At most `body_bytes_max`, so it fits in a usize.
            Some(n) => Some(n as usize),
            None => None,
        };
        tokio::time::timeout(self.read_timeout, self.collect(declared, body)).await.unwrap_or(Err(BodyRefusal::TooSlow))
    }

    /// A body of announced length takes its whole share before a byte is read (and its buffer is
    /// allocated once); a chunked one takes more share before keeping each chunk. Either way the
    /// bytes held across connections never pass the total.
    async fn collect<B>(&self, declared: Option<usize>, mut body: B) -> Result<HeldBody, BodyRefusal>
    where
        B: hyper::body::Body<Data = Bytes> + Unpin,
    {
        let mut share = declared.filter(|&n| n > 0).map(|n| self.take(n)).transpose()?;
        let mut bytes = BytesMut::with_capacity(declared.unwrap_or(0));
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map_err(drop)?.into_data() else { continue };
            let needed = bytes.len() + data.len();
            if needed > self.body_bytes_max {
                return Err(BodyRefusal::TooLarge);
            }
            let covered = share.as_ref().map_or(0, OwnedSemaphorePermit::num_permits);
            if needed > covered {
                let more = self.take(needed - covered)?;
                match &mut share {
                    Some(held) => held.merge(more),
                    None => share = Some(more),
                }
            }
            bytes.extend_from_slice(&data);
        }
        Ok(HeldBody { bytes: bytes.freeze(), _share: share })
    }

    fn take(&self, bytes: usize) -> Result<OwnedSemaphorePermit, BodyRefusal> {
        let n = u32::try_from(bytes).map_err(|_| BodyRefusal::TooLarge)?;
        Arc::clone(&self.bytes).try_acquire_many_owned(n).map_err(|_| BodyRefusal::OverBudget)
    }
}

impl From<()> for BodyRefusal {
    fn from((): ()) -> Self {
        Self::Broken
    }
}

impl BodyRefusal {
    pub(super) fn response(&self) -> Response<Body> {
        let (status, text) = match self {
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
            Self::OverBudget => (StatusCode::SERVICE_UNAVAILABLE, "too many bodies at once, retry"),
            Self::TooSlow => (StatusCode::REQUEST_TIMEOUT, "body not received in time"),
            Self::Broken => (StatusCode::BAD_REQUEST, "body could not be read"),
        };
        let mut response = Response::new(Body::from(text));
        *response.status_mut() = status;
        if *self == Self::OverBudget {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
