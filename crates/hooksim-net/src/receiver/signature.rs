//! Reference receivers that verify signatures: a delivery whose signature is missing, forged,
//! of another version, truncated or outside the time tolerance is answered 400/401 before the
//! receiver's logic sees it, so it is never acted on, and never a 5xx, which a sender would retry.
//! Verification runs over the raw body bytes as received, never a re-serialised body.

use super::{BODY_BYTES_MAX, Decision, Handled, OnHandled, RefuseReason};
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use hooksim_core::signing::{Headers, Verifier, VerifyError};
use std::sync::Arc;

/// The receiver's clock, unix seconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A verifier and the clock its timestamps are checked against.
#[derive(Clone)]
pub struct SignatureCheck {
    verifier: Verifier,
    now_s: Clock,
}

impl SignatureCheck {
    /// `now_s` is the receiver's "now": in a simulation, the world's virtual time.
    pub fn new(verifier: Verifier, now_s: Clock) -> Self {
        Self { verifier, now_s }
    }

    /// On the real network the wall clock is the legitimate "now": the sender stamped the request
    /// with its own wall clock, and the tolerance exists to absorb the skew between the two.
    pub fn wall_clock(verifier: Verifier) -> Self {
        let now_s = || {
            // A receiver on the real network judges timestamps by the machine's clock; simulated
            // engines pass their virtual time through `SignatureCheck::new` instead.
            let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
        };
        Self::new(verifier, Arc::new(now_s))
    }

    /// Pure: `Ok` to hand the delivery to the receiver's logic, or the refusal to answer instead.
    /// The one decision every shell uses (a served router here; engines with virtual time).
    pub fn check<H: Headers + ?Sized>(&self, headers: &H, body: &[u8], now_s: i64) -> Result<(), Handled> {
        self.verifier.verify(headers, body, now_s).map_err(|e| refusal(&e))
    }
}

/// `app` with `check` in front of every POST; a refusal is told to `on_handled` like any answer.
pub fn verifying(app: Router, check: SignatureCheck, on_handled: Option<OnHandled>) -> Router {
    let state = Arc::new((check, on_handled));
    app.layer(middleware::from_fn(move |request: Request, next: Next| verify(Arc::clone(&state), request, next)))
}

async fn verify(state: Arc<(SignatureCheck, Option<OnHandled>)>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (check, on_handled) = &*state;
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_BYTES_MAX).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if let Err(e) = check.verifier.verify(&parts.headers, &bytes, (check.now_s)()) {
        if let Some(on_handled) = on_handled {
            on_handled(&refusal(&e));
        }
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        return (status, format!("signature rejected: {e}")).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// A refusal as the receiver's logic writes one; no ids, since an unverified body is not read.
pub(super) fn refusal(e: &VerifyError) -> Handled {
    Handled {
        uuid: None,
        event: None,
        decision: Decision::Refuse {
            status: e.status(),
            reason: RefuseReason::RejectedSignature,
            why: format!("signature rejected: {e}"),
        },
    }
}
