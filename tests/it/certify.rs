//! Certification against receivers served on loopback inside each test: the reference receivers,
//! and hostile ones (always 500, never answers, endless body, redirects).

use axum::Router;
use axum::http::StatusCode;
use hooksim::certify::{CertifyError, CertifyOptions, Group, Limits, Report, Verdict, certify};
use hooksim::receiver::{BODY_BYTES_MAX, ReceiverKind, ServeOptions, app, base_url, serve};
use std::collections::BTreeSet;
use std::future::Future;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Serves `router` on 127.0.0.1:0 until the test's runtime ends; returns `http://127.0.0.1:port`.
async fn serve_router(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = base_url(listener.local_addr().unwrap());
    tokio::spawn(serve(listener, router, std::future::pending()));
    base
}

async fn reference(kind: ReceiverKind, options: ServeOptions) -> String {
    serve_router(app(kind, options).0).await
}

fn options(base: &str, effects: bool, timeout_ms: u64) -> CertifyOptions {
    let mut opts = CertifyOptions::new(format!("{base}/webhook"));
    opts.effects_url = effects.then(|| format!("{base}/effects"));
    opts.limits = Limits { timeout_ms, ..Limits::default() };
    // Large enough to be a real invoice, small enough to keep the suite quick.
    opts.large_body_bytes = 256 * 1024;
    // These receivers record before they answer: the effects settle at once.
    opts.settle.quiet_ms = 150;
    opts
}

fn names_with(report: &Report, verdict: Verdict) -> BTreeSet<&'static str> {
    report.cases.iter().filter(|c| c.verdict == verdict).map(|c| c.name).collect()
}

fn all_names(report: &Report) -> BTreeSet<&'static str> {
    report.cases.iter().map(|c| c.name).collect()
}

#[tokio::test]
async fn dedup_passes_every_case() {
    let base = reference(ReceiverKind::Dedup, ServeOptions::default()).await;
    let report = certify(&options(&base, true, 5_000)).await.unwrap();
    assert_eq!(report.cases.len(), 13);
    assert_eq!(names_with(&report, Verdict::Passed), all_names(&report), "{}", report.to_table());
    assert!(!report.has_failures());
}

#[tokio::test]
async fn a_second_run_with_the_same_seed_still_passes_a_dedup_receiver() {
    let base = reference(ReceiverKind::Dedup, ServeOptions::default()).await;
    certify(&options(&base, true, 5_000)).await.unwrap();
    let again = certify(&options(&base, true, 5_000)).await.unwrap();
    assert!(!again.has_failures(), "{}", again.to_table());
}

#[tokio::test]
async fn naive_fails_exactly_the_dedup_and_stale_payload_cases() {
    let base = reference(ReceiverKind::Naive, ServeOptions::default()).await;
    let report = certify(&options(&base, true, 5_000)).await.unwrap();
    let expected: BTreeSet<&str> =
        report.cases.iter().filter(|c| matches!(c.group, Group::Dedup | Group::StalePayload)).map(|c| c.name).collect();
    assert_eq!(
        expected,
        BTreeSet::from([
            "redelivery-once",
            "redelivery-re-rendered",
            "concurrent-redelivery-once",
            "paid-carrying-cancelled",
            "out-of-order",
            "paid-failing-for-days",
            "lost-answer-redelivered-hours-later",
            "burst-while-retry-held",
        ])
    );
    assert_eq!(names_with(&report, Verdict::Failed), expected, "{}", report.to_table());
    assert_eq!(names_with(&report, Verdict::Failed).len() + names_with(&report, Verdict::Passed).len(), 13);
    let redelivery = report.case("redelivery-once").unwrap();
    assert!(redelivery.detail.contains("acted 2 such times"), "{}", redelivery.detail);
    assert!(!redelivery.fix.is_empty());
}

#[tokio::test]
async fn without_effects_the_side_effect_cases_are_not_verified_never_passed() {
    let base = reference(ReceiverKind::Naive, ServeOptions::default()).await;
    let report = certify(&options(&base, false, 5_000)).await.unwrap();
    assert_eq!(
        names_with(&report, Verdict::NotVerified),
        BTreeSet::from([
            "redelivery-once",
            "redelivery-re-rendered",
            "concurrent-redelivery-once",
            "paid-carrying-cancelled",
            "out-of-order",
            "paid-failing-for-days",
            "lost-answer-redelivered-hours-later",
            "burst-while-retry-held",
        ])
    );
    assert!(!report.has_failures(), "{}", report.to_table());
    let junit = report.to_junit().unwrap();
    assert!(junit.contains(r#"skipped="8""#), "{junit}");
}

#[tokio::test]
async fn picky_fails_only_the_unhandled_path_case() {
    let base = reference(ReceiverKind::Picky, ServeOptions::default()).await;
    let report = certify(&options(&base, true, 5_000)).await.unwrap();
    assert_eq!(names_with(&report, Verdict::Failed), BTreeSet::from(["unhandled-path"]));
    assert!(report.case("unhandled-path").unwrap().detail.contains("500"));
}

#[tokio::test]
async fn brittle_fails_only_the_unknown_fields_and_malformed_json_cases() {
    let base = reference(ReceiverKind::Brittle, ServeOptions::default()).await;
    let report = certify(&options(&base, true, 5_000)).await.unwrap();
    assert_eq!(
        names_with(&report, Verdict::Failed),
        BTreeSet::from(["unknown-fields", "malformed-json"]),
        "{}",
        report.to_table()
    );
}

#[tokio::test]
async fn a_receiver_answering_500_to_everything_fails_the_2xx_cases() {
    let router = Router::new().fallback(|| async { StatusCode::INTERNAL_SERVER_ERROR });
    let base = serve_router(router).await;
    // Its effects URL answers 500 too: given, it is bad input (#6), not unverified cases.
    let error = certify(&options(&base, true, 5_000)).await.unwrap_err();
    assert!(matches!(error, CertifyError::EffectsUnreadable { .. }), "{error}");
    let report = certify(&options(&base, false, 5_000)).await.unwrap();
    assert_eq!(
        names_with(&report, Verdict::Failed),
        all_names(&report),
        "every case needs a 2xx or a non-5xx answer: {}",
        report.to_table()
    );
    assert!(report.case("valid-delivery").unwrap().detail.contains("500"));
    assert!(report.case("malformed-json").unwrap().detail.contains("500"));
}

/// Serves raw TCP on 127.0.0.1:0 until the test's runtime ends, each connection handed to `conn`
/// on its own task; returns `http://127.0.0.1:port`. For receivers too broken for a router.
async fn raw_server<F, Fut>(conn: F) -> String
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = base_url(listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(conn(socket));
        }
    });
    base
}

/// Accepts connections and reads them, but never writes a byte back.
async fn never_answers() -> String {
    raw_server(|mut socket| async move {
        let mut sink = [0u8; 4096];
        while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
        std::future::pending::<()>().await;
    })
    .await
}

/// A receiver that answers nothing fails its first case, reason first; the run stops there and
/// the cases it never reached are not run (one timeout, not one per case).
#[tokio::test]
async fn a_receiver_that_never_answers_fails_on_time_and_the_run_ends() {
    let base = never_answers().await;
    let report = certify(&options(&base, false, 200)).await.unwrap();
    assert_eq!(names_with(&report, Verdict::Failed), BTreeSet::from(["valid-delivery"]), "{}", report.to_table());
    let valid = report.case("valid-delivery").unwrap();
    assert!(valid.detail.starts_with("the receiver answered nothing in 200 ms"), "{}", valid.detail);
    assert!(valid.detail.contains("no answer within 200 ms"), "{}", valid.detail);
    assert_eq!(report.count(Verdict::NotRun), report.cases.len() - 1, "{}", report.to_table());
    assert!(report.stopped.as_deref().unwrap().starts_with("the receiver answered nothing in 200 ms"));
    assert!(report.to_table().contains("STOPPED: the receiver answered nothing"), "{}", report.to_table());
}

/// A status line, then a body that never ends: every case fails on time, but the receiver is
/// answering, so the run does not stop as if it were silent.
#[tokio::test]
async fn a_receiver_whose_bodies_never_end_is_not_taken_for_a_silent_one() {
    let base = raw_server(|mut socket| async move {
        let mut head = [0u8; 4096];
        let _ = socket.read(&mut head).await;
        let start = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n";
        let _ = socket.write_all(start.as_bytes()).await;
        std::future::pending::<()>().await;
    })
    .await;
    let report = certify(&options(&base, false, 200)).await.unwrap();
    assert!(report.stopped.is_none(), "{}", report.to_table());
    assert_eq!(names_with(&report, Verdict::Failed), all_names(&report), "{}", report.to_table());
    let valid = report.case("valid-delivery").unwrap();
    assert!(valid.detail.contains("a 200 whose body did not end"), "{}", valid.detail);
}

#[tokio::test]
async fn a_slow_reference_receiver_fails_on_time() {
    let slow = ServeOptions { answer_delay_ms: 1_000, ..ServeOptions::default() };
    let base = reference(ReceiverKind::Dedup, slow).await;
    let report = certify(&options(&base, false, 150)).await.unwrap();
    let valid = report.case("valid-delivery").unwrap();
    assert_eq!(valid.verdict, Verdict::Failed);
    assert!(valid.detail.contains("no answer within 150 ms"), "{}", valid.detail);
    assert!(valid.fix.contains("answer within 150 ms"), "{}", valid.fix);
}

/// Answers every request with a 200 and a body that never ends, as fast as the socket takes it.
async fn endless_body() -> String {
    raw_server(|mut socket| async move {
        let mut head = [0u8; 1024];
        let _ = socket.read(&mut head).await;
        let header = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
        if socket.write_all(header.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
        while socket.write_all(chunk.as_bytes()).await.is_ok() {}
    })
    .await
}

/// #5: a 200 whose body never ends is no answer: the attempt fails at the deadline (it was
/// graded passed when the body was cut at the cap), and memory stays at the cap.
#[tokio::test]
async fn an_endless_body_is_a_failed_attempt_at_the_deadline() {
    let base = endless_body().await;
    let mut opts = options(&base, false, 300);
    opts.limits.response_bytes_max = 1024;
    let report = certify(&opts).await.unwrap();
    let valid = report.case("valid-delivery").unwrap();
    assert_eq!(valid.verdict, Verdict::Failed, "{}", report.to_table());
    // Through the live shell, the answer is dropped at its byte cap (a reset, at once).
    assert!(valid.detail.contains("went past"), "{}", valid.detail);
    let hand_sent = report.case("unknown-fields").unwrap();
    assert_eq!(hand_sent.verdict, Verdict::Failed, "{}", report.to_table());
    assert!(hand_sent.detail.contains("no whole answer within 300 ms (a 200 whose body"), "{}", hand_sent.detail);
}

/// #6: an effects URL that was given and cannot be read (here: larger than the cap) is bad
/// input, not a run whose dedup cases quietly go unverified.
#[tokio::test]
async fn an_endless_effects_list_is_bad_input() {
    let base = endless_body().await;
    let mut opts = options(&base, true, 5_000);
    opts.limits.effects_bytes_max = 4096;
    let error = certify(&opts).await.unwrap_err();
    assert!(matches!(error, CertifyError::EffectsUnreadable { .. }), "{error}");
    assert!(error.to_string().contains("larger than 4096 bytes"), "{error}");
}

#[tokio::test]
async fn redirects_are_answers_not_places_to_go() {
    let router = Router::new()
        .route("/webhook", axum::routing::post(|| async { (StatusCode::TEMPORARY_REDIRECT, [("location", "/ok")]) }))
        .route("/ok", axum::routing::post(|| async { StatusCode::OK }));
    let base = serve_router(router).await;
    let report = certify(&options(&base, false, 5_000)).await.unwrap();
    let valid = report.case("valid-delivery").unwrap();
    assert_eq!(valid.verdict, Verdict::Failed);
    assert!(valid.detail.contains("307") && valid.detail.contains("/ok"), "{}", valid.detail);
    // #12: the advice is about the redirect, not the case's own (a queue).
    assert!(valid.fix.contains("never follow redirects"), "{}", valid.fix);
}

#[tokio::test]
async fn nothing_listening_or_a_bad_url_is_an_error_not_a_report() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = base_url(listener.local_addr().unwrap());
    drop(listener);
    let err = certify(&options(&base, false, 1_000)).await.unwrap_err();
    assert!(matches!(err, CertifyError::Unreachable { .. }), "{err}");
    let err = certify(&CertifyOptions::new("ftp://127.0.0.1/x")).await.unwrap_err();
    assert!(matches!(err, CertifyError::BadUrl { .. }), "{err}");
    let mut huge = options(&base, false, 1_000);
    huge.large_body_bytes = usize::MAX;
    assert!(matches!(certify(&huge).await, Err(CertifyError::Limit(_))));
}

#[tokio::test]
async fn the_same_seed_sends_the_same_deliveries() {
    use hooksim::certify::payload::Deck;
    use hooksim::domain::InvoiceState;
    let run = |seed| {
        let mut deck = Deck::new(seed);
        let inv = deck.invoice();
        let paid = deck.set_state(inv, InvoiceState::Paid);
        deck.deliver(&paid).body
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[tokio::test]
async fn the_json_report_names_each_case_with_what_it_checks_and_why() {
    let base = reference(ReceiverKind::Naive, ServeOptions::default()).await;
    let report = certify(&options(&base, true, 5_000)).await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 13);
    for c in cases {
        for key in ["name", "checks", "why", "verdict", "detail"] {
            assert!(c[key].as_str().is_some_and(|s| !s.is_empty()), "{key} in {c}");
        }
    }
    let failed: Vec<&str> =
        cases.iter().filter(|c| c["verdict"] == "failed").map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(failed.len(), 8);
    let table = report.to_table();
    assert!(table.contains("FAILED") && table.contains("HOW TO FIX"), "{table}");
}

/// A third-party receiver written to the effects contract: dedups on `body.id` (the docs allow
/// it), fulfils only invoices whose state in the body is `paid`. With `racy`, it checks, pauses,
/// then records: two concurrent deliveries both pass the check.
fn contract_receiver(racy: bool) -> Router {
    use axum::Json;
    use axum::routing::{get, post};
    use serde_json::{Value, json};
    use std::sync::{Arc, Mutex};
    let effects: Arc<Mutex<Vec<Value>>> = Arc::default();
    let listed = Arc::clone(&effects);
    let webhook = move |body: axum::body::Bytes| {
        let effects = Arc::clone(&effects);
        async move {
            let Ok(v) = serde_json::from_slice::<Value>(&body) else {
                return StatusCode::BAD_REQUEST;
            };
            let b = &v["body"];
            if b["path"] != "/invoice/update/state" || b["invoice"]["state"] != "paid" {
                return StatusCode::OK;
            }
            let seen = |e: &Vec<Value>| e.iter().any(|x| x["event"] == b["id"]);
            if racy {
                if seen(&effects.lock().unwrap()) {
                    return StatusCode::OK;
                }
                // Long enough for the concurrent twin to pass the check too.
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                effects.lock().unwrap().push(json!({"uuid": v["uuid"], "event": b["id"], "kind": "fulfil"}));
            } else {
                let mut e = effects.lock().unwrap();
                if !seen(&e) {
                    // `kind` lets the stale-payload cases judge it (without, they are not judged).
                    e.push(json!({"uuid": v["uuid"], "event": b["id"], "kind": "fulfil", "extra": 1}));
                }
            }
            StatusCode::NO_CONTENT
        }
    };
    Router::new().route("/webhook", post(webhook)).route(
        "/effects",
        get(move || {
            let all = listed.lock().unwrap().clone();
            async move { Json(json!({ "effects": all })) }
        }),
    )
}

#[tokio::test]
async fn a_receiver_written_to_the_contract_fails_only_the_reordering_and_a_racy_one_the_concurrent_cases_too() {
    let base = serve_router(contract_receiver(false)).await;
    let report = certify(&options(&base, true, 5_000)).await.unwrap();
    // It trusts the state in the body: a `paid` attempt delayed past the `cancelled` update
    // still says paid, and only the order of events could tell.
    assert_eq!(names_with(&report, Verdict::Failed), BTreeSet::from(["out-of-order"]), "{}", report.to_table());
    let base = serve_router(contract_receiver(true)).await;
    let report = certify(&options(&base, true, 5_000)).await.unwrap();
    assert_eq!(
        names_with(&report, Verdict::Failed),
        BTreeSet::from(["concurrent-redelivery-once", "burst-while-retry-held", "out-of-order"]),
        "{}",
        report.to_table()
    );
}

#[tokio::test]
async fn a_body_above_the_receivers_limit_fails_the_large_body_case_only() {
    let base = reference(ReceiverKind::Dedup, ServeOptions::default()).await;
    let mut opts = options(&base, true, 5_000);
    opts.large_body_bytes = BODY_BYTES_MAX + 1;
    let report = certify(&opts).await.unwrap();
    assert_eq!(names_with(&report, Verdict::Failed), BTreeSet::from(["large-body"]));
    let detail = &report.case("large-body").unwrap().detail;
    assert!(detail.contains(&format!("{} byte delivery", BODY_BYTES_MAX + 1)), "{detail}");
}

#[test]
fn the_large_body_is_the_same_envelope_padded_to_size() {
    use hooksim::certify::payload::{Deck, with_size};
    use hooksim::domain::InvoiceState;
    let mut deck = Deck::new(1);
    let inv = deck.invoice();
    let paid = deck.set_state(inv, InvoiceState::Paid);
    let d = deck.deliver(&paid);
    let big = with_size(&d, 100_000);
    assert_eq!(big.body.len(), 100_000);
    let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).unwrap();
    assert_eq!(parse(&big.body), parse(&d.body));
}

#[tokio::test]
async fn a_receiver_that_hangs_up_fails_every_case_with_the_connection_error() {
    let base = raw_server(|socket| async move { drop(socket) }).await;
    let report = certify(&options(&base, false, 5_000)).await.unwrap();
    assert_eq!(names_with(&report, Verdict::Failed), all_names(&report));
    let detail = &report.case("valid-delivery").unwrap().detail;
    assert!(detail.contains("the connection broke"), "{detail}");
    let hand_sent = &report.case("unknown-fields").unwrap().detail;
    assert!(hand_sent.contains("connection failed"), "{hand_sent}");
}

/// Answers 200 at once, then trickles its body a byte at a time, forever.
async fn trickle() -> String {
    raw_server(|mut socket| async move {
        let mut head = [0u8; 1024];
        let _ = socket.read(&mut head).await;
        let header = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
        let mut ok = socket.write_all(header.as_bytes()).await.is_ok();
        while ok {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            ok = socket.write_all(b"1\r\nx\r\n").await.is_ok();
        }
    })
    .await
}

#[tokio::test]
async fn a_receiver_that_answers_forever_fails_on_time() {
    let base = trickle().await;
    let report = certify(&options(&base, false, 200)).await.unwrap();
    let valid = report.case("valid-delivery").unwrap();
    assert_eq!(valid.verdict, Verdict::Failed);
    assert!(valid.detail.contains("no whole answer within 200 ms (a 200 whose body"), "{}", valid.detail);
    assert_eq!(report.count(Verdict::Passed), 0, "{}", report.to_table());
}
