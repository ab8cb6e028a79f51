//! Defects of `hooksim certify receiver` found from outside, each shown on a receiver served on
//! loopback: the correct receiver now passes, or the defective one is now caught.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hooksim::certify::{CertifyOptions, Limits, Verdict, certify};
use hooksim::receiver::{ReceiverKind, ServeOptions, app, base_url, serve};
use tokio::net::TcpListener;

async fn serve_router(router: axum::Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = base_url(listener.local_addr().unwrap());
    tokio::spawn(serve(listener, router, std::future::pending()));
    base
}

fn options(base: &str) -> CertifyOptions {
    let mut opts = CertifyOptions::new(format!("{base}/webhook"));
    opts.effects_url = Some(format!("{base}/effects"));
    opts.limits = Limits { timeout_ms: 5_000, ..Limits::default() };
    opts.large_body_bytes = 256 * 1024;
    opts
}

/// Refuses (400) a delivery whose `uuid` is not an RFC 4122 version 4 uuid, as receivers that
/// validate their input do; readable deliveries go on to the dedup receiver.
async fn v4_only(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, 8 * 1024 * 1024).await else { return StatusCode::PAYLOAD_TOO_LARGE.into_response() };
    let uuid = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("uuid").and_then(|u| u.as_str()).map(str::to_string));
    if let Some(uuid) = uuid {
        let parsed = uuid::Uuid::parse_str(&uuid).ok();
        if parsed.and_then(|u| u.get_version()) != Some(uuid::Version::Random) {
            return (StatusCode::BAD_REQUEST, "uuid is not a version 4 uuid").into_response();
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// #10: delivery uuids were `Uuid::from_u128(random)`, not version 4: a receiver validating
/// them failed 8 of 9 cases. Now every case passes.
#[tokio::test]
async fn a_receiver_that_validates_uuid_v4_passes() {
    let (router, _) = app(ReceiverKind::Dedup, ServeOptions::default());
    let base = serve_router(router.layer(middleware::from_fn(v4_only))).await;
    let report = certify(&options(&base)).await.unwrap();
    let failed: Vec<&str> = report.cases.iter().filter(|c| c.verdict != Verdict::Passed).map(|c| c.name).collect();
    assert!(failed.is_empty(), "{failed:?}\n{}", report.to_table());
}
