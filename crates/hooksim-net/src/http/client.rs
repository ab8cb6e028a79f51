//! The bounded HTTP client: a receiver under test may be hostile, so every exchange has a
//! deadline, a cap on the bytes read back, and never follows a redirect.

use super::Limits;
use bytes::Bytes;
use std::time::{Duration, Instant};

/// How one request ended, as a sender would see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A status line arrived and the whole body was read within the deadline (kept up to the
    /// cap).
    Status {
        /// The HTTP status.
        code: u16,
        /// The start of the body, at most [`Limits::response_bytes_max`] bytes.
        body: Bytes,
        /// The receiver sent more than the cap; the rest was read and dropped.
        truncated: bool,
    },
    /// No whole answer within the deadline.
    Timeout,
    /// A status line came, and the body did not end within the deadline: no whole answer
    /// either, but the receiver is answering.
    Unfinished {
        /// The HTTP status that came before the body stalled.
        code: u16,
    },
    /// The connection could not be made, or broke before a whole answer came back, or what came
    /// back was not HTTP: how, and in words.
    Broken(super::wire::WireFailure, String),
}

impl Answer {
    /// A whole answer with a 2xx status.
    pub fn is_2xx(&self) -> bool {
        matches!(self, Answer::Status { code, .. } if (200..300).contains(code))
    }

    /// A whole answer with a 5xx status.
    pub fn is_5xx(&self) -> bool {
        matches!(self, Answer::Status { code, .. } if *code >= 500)
    }

    /// A short human description: `200`, `500 "boom"`, `no answer within 5000 ms`.
    pub fn describe(&self, limits: &Limits) -> String {
        match self {
            Answer::Status { code, body, truncated } => {
                let text = String::from_utf8_lossy(&body[..body.len().min(80)]);
                let text = text.trim();
                let quoted = if text.is_empty() { String::new() } else { format!(" {text:?}") };
                let cut = if *truncated { format!(" (body cut at {} bytes)", body.len()) } else { String::new() };
                format!("{code}{quoted}{cut}")
            }
            Answer::Timeout => format!("no answer within {} ms", limits.timeout_ms),
            Answer::Unfinished { code } => {
                format!("no whole answer within {} ms (a {code} whose body did not end)", limits.timeout_ms)
            }
            Answer::Broken(_, why) => format!("connection failed: {why}"),
        }
    }
}

/// A reqwest client with the harness's limits built in.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    limits: Limits,
}

impl Client {
    /// A client bounded by `limits`, trusting the built-in certificate roots.
    pub fn new(limits: Limits) -> Result<Client, reqwest::Error> {
        Client::trusting(limits, None)
    }

    /// A client that also trusts the PEM certificates in `ca_cert_pem` (`--ca-cert`, a private CA).
    pub fn trusting(limits: Limits, ca_cert_pem: Option<&[u8]>) -> Result<Client, reqwest::Error> {
        let timeout = Duration::from_millis(limits.timeout_ms);
        let http = super::builder(ca_cert_pem, "hooksim-certify")?
            // Wall-clock timeouts: this talks to a real receiver, not the simulation.
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Client { http, limits })
    }

    /// The deadline and byte cap every request runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// POSTs `body` as JSON to `url`, like one SnapBill delivery attempt.
    pub async fn post(&self, url: &str, body: Bytes) -> Answer {
        let request = self.http.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        self.exchange(request, self.limits.response_bytes_max, Past::ReadToEnd).await
    }

    /// POSTs `body` with extra `headers` (a signature).
    pub async fn post_with(&self, url: &str, body: Bytes, headers: &[(String, String)]) -> Answer {
        let mut request = self.http.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        self.exchange(request, self.limits.response_bytes_max, Past::ReadToEnd).await
    }

    /// GETs `url`, reading at most `bytes_max` bytes of the answer.
    pub async fn get(&self, url: &str, bytes_max: usize) -> Answer {
        self.exchange(self.http.get(url), bytes_max, Past::Stop).await
    }

    /// Sends a request of any `method` (a provider's endpoint verification: a GET, an OPTIONS)
    /// with `headers` and, when given, a JSON `body`; the answer's headers come back beside it
    /// (empty when no status line arrived).
    pub async fn exchange_with(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: &[(String, String)],
        body: Option<Bytes>,
    ) -> (Answer, reqwest::header::HeaderMap) {
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        }
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let head = std::sync::Mutex::new(None);
        let answer = self.exchange_keeping(request, self.limits.response_bytes_max, Past::ReadToEnd, &head).await;
        let headers = head.into_inner().unwrap_or_else(|p| p.into_inner()).map(|(_, h)| h).unwrap_or_default();
        (answer, headers)
    }

    async fn exchange(&self, request: reqwest::RequestBuilder, bytes_max: usize, past: Past) -> Answer {
        self.exchange_keeping(request, bytes_max, past, &std::sync::Mutex::new(None)).await
    }

    /// `head` keeps the status line and headers once they arrive.
    async fn exchange_keeping(
        &self,
        request: reqwest::RequestBuilder,
        bytes_max: usize,
        past: Past,
        head: &std::sync::Mutex<Option<(u16, reqwest::header::HeaderMap)>>,
    ) -> Answer {
        let deadline = Duration::from_millis(self.limits.timeout_ms);
        // reqwest's timeout covers the body too; this outer one also bounds our own reading loop.
        match tokio::time::timeout(deadline, send_and_read(request, bytes_max, past, head)).await {
            Ok(Answer::Timeout) | Err(_) => match &*head.lock().unwrap_or_else(|p| p.into_inner()) {
                Some((code, _)) => Answer::Unfinished { code: *code },
                None => Answer::Timeout,
            },
            Ok(answer) => answer,
        }
    }
}

/// What to do with an answer's bytes past the cap.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Past {
    /// A delivery's answer: read and drop them, the answer counts only once it has ended.
    ReadToEnd,
    /// A document (the effects list): stop at once, it is too large to use.
    Stop,
}

/// `head` is told the status code and headers as soon as they arrive.
async fn send_and_read(
    request: reqwest::RequestBuilder,
    bytes_max: usize,
    past: Past,
    head: &std::sync::Mutex<Option<(u16, reqwest::header::HeaderMap)>>,
) -> Answer {
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) => return from_error(&e),
    };
    let code = response.status().as_u16();
    *head.lock().unwrap_or_else(|p| p.into_inner()) = Some((code, response.headers().clone()));
    let mut body = Vec::new();
    let mut truncated = false;
    // The answer counts only when it ends within the deadline, as a sender sees it: past the
    // cap the rest is read and dropped (memory stays bounded), and a body that never ends runs
    // into the deadline and is a timeout, not a 200.
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = bytes_max - body.len();
                truncated |= chunk.len() > room;
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if truncated && past == Past::Stop {
                    return Answer::Status { code, body: body.into(), truncated };
                }
            }
            Ok(None) => {
                return Answer::Status { code, body: body.into(), truncated };
            }
            Err(e) => return from_error(&e),
        }
    }
}

fn from_error(e: &reqwest::Error) -> Answer {
    if e.is_timeout() {
        return Answer::Timeout;
    }
    let (failure, what) = super::wire::describe(e);
    Answer::Broken(failure, what)
}

/// Elapsed wall-clock milliseconds since `start`, for reports.
pub fn elapsed_ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}
