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

const HOOKSIM: &str = env!("CARGO_BIN_EXE_hooksim");

/// `hooksim certify receiver ARGS`, off the runtime's threads: exit status and stdout, stderr.
async fn certify_cli(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(HOOKSIM).args(["certify", "receiver"]).args(&args).output().unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    })
    .await
    .unwrap()
}

/// #6: an effects URL given but unreadable (a dead port, the webhook URL by mistake) made the
/// dedup cases "not verified" and exited 0: a receiver with no dedup at all turned CI green.
/// Now it is exit 2; `--require-effects` refuses a run without one; and a run that leaves cases
/// unchecked says so loudly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_effects_url_is_bad_input_and_unchecked_cases_are_loud() {
    let (router, _) = app(ReceiverKind::Naive, ServeOptions::default());
    let base = serve_router(router).await;
    let url = format!("{base}/webhook");
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    for effects in [format!("http://127.0.0.1:{dead_port}/effects"), url.clone(), format!("{base}/nothing-here")] {
        let (code, out, err) =
            certify_cli(vec!["--url".into(), url.clone(), "--effects-url".into(), effects.clone()]).await;
        assert_eq!(code, 2, "{effects}: {out}{err}");
        assert!(err.contains("the effects list at"), "{err}");
    }
    let (code, _, err) = certify_cli(vec!["--url".into(), url.clone(), "--require-effects".into()]).await;
    assert_eq!(code, 2, "{err}");
    // A settle window with no effects list would settle nothing: refused, naming the flag.
    let (code, _, err) =
        certify_cli(vec!["--url".into(), url.clone(), "--effects-quiet-ms".into(), "100".into()]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--effects-url"), "{err}");
    let (code, out, _) = certify_cli(vec!["--url".into(), url.clone()]).await;
    assert_eq!(code, 0, "only verified cases count: {out}");
    assert!(out.contains("NOT VERIFIED: 8 case(s) were not checked"), "{out}");
    let (code, out, _) =
        certify_cli(vec!["--url".into(), url.clone(), "--effects-url".into(), format!("{base}/effects")]).await;
    assert_eq!(code, 1, "with its effects read, the naive receiver fails: {out}");
    assert!(!out.contains("NOT VERIFIED"), "{out}");
}

/// #11: the request timeout was 5 s whatever the sender; now it is the profile's attempt
/// timeout (snapbill 30 s by default), and `--timeout-ms` still overrides it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_timeout_is_the_profiles_attempt_timeout() {
    assert_eq!(Limits::default().timeout_ms, 30_000);
    assert_eq!(Limits::for_profile(hooksim::policy::Profile::Shopify).timeout_ms, 5_000);
    let (router, _) = app(ReceiverKind::Dedup, ServeOptions::default());
    let base = serve_router(router).await;
    let url = format!("{base}/webhook");
    for (flags, says) in [
        (vec![], "timeout 30000 ms"),
        (vec!["--profile", "shopify"], "timeout 5000 ms"),
        (vec!["--profile", "shopify", "--timeout-ms", "1234"], "timeout 1234 ms"),
    ] {
        let mut args = vec!["--url".to_string(), url.clone()];
        args.extend(flags.iter().map(|f| f.to_string()));
        let (code, out, err) = certify_cli(args).await;
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.lines().next().unwrap_or_default().contains(says), "{flags:?}: {out}");
    }
    let (code, _, err) = certify_cli(vec!["--url".into(), url, "--profile".into(), "nosuch".into()]).await;
    assert_eq!(code, 2, "{err}");
}

/// Accepts every connection and resets it at once (SO_LINGER 0), before reading anything.
async fn resets_after_accept() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = base_url(listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            // Linger 0 makes the close a reset; it does not block with nothing left to send.
            #[allow(deprecated)]
            let _ = socket.set_linger(Some(std::time::Duration::ZERO));
            drop(socket);
        }
    });
    base
}

/// #13: a reset right after accept gave exit 2 on some runs (the reachability probe saw the
/// reset) and 1 on others. A listener that accepted is there: every run grades every case failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_right_after_accept_fails_every_case_every_run() {
    let base = resets_after_accept().await;
    let mut opts = options(&base);
    opts.effects_url = None;
    for run in 0..10 {
        let report = certify(&opts).await.unwrap_or_else(|e| panic!("run {run}: {e}"));
        assert_eq!(report.count(Verdict::Failed), report.cases.len(), "run {run}\n{}", report.to_table());
    }
}
