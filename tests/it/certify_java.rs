//! Certification of webhook code written in Java, on an HTTP stack and a JSON library nobody here
//! wrote: `examples/receivers/java/SnapbillReceiver.java` (the JDK's `com.sun.net.httpserver`,
//! Gson) and `examples/senders/java/SnapbillSender.java` (`java.net.http.HttpClient`, Gson). Each
//! correct one passes every case it is sent (every check it can be seen to pass); each `--defect`,
//! a bug Java users write, fails exactly the cases named beside it (negative controls).
//!
//! Both are compiled once per test run (`support::java`, with the dispatcher) and run from their classes:
//! the source launcher the docs show compiles again in every JVM, a second or more of CPU each,
//! and this module starts sixteen JVMs at once on two cores. The sender is served (`--serve`: one
//! JVM for the run, as a product runs, its client warmed on its own endpoint first) and each event
//! is asked of it by a curl to its API. A cold JVM's first request spends class loading inside
//! HttpClient's request timeout, which runs from `send()`: at time scale 100 (300 ms) such
//! requests hung up 9 ms after they reached the endpoint, or before their bytes were written at
//! all (an attempt the endpoint cannot see, which shifted every measured delay by one).
//! Skipped, saying so, where `java` and `javac` (JDK 17 or later), Debian's Gson
//! (`/usr/share/java/gson.jar`, `apt-get install libgoogle-gson-java`, which `.ci/run` installs)
//! or curl is missing.

use crate::certify_receivers::{names_with, options};
use crate::certify_sender::{Outcome, certify_trigger};
use crate::support::process::{Process, start};
use hooksim::certify::signature::Signing;
use hooksim::certify::{CertifyOptions, Report, Verdict, certify};
use hooksim::signing::Scheme;
use std::collections::BTreeSet;
use std::process::Command;

const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Whether the JDK and Gson are here; says SKIPPED (and why) when not.
fn java() -> bool {
    crate::support::java::available("the Java receiver and sender")
}

/// `class` with `args`, until the test ends; its first line of stdout is its base URL. C1 alone
/// and one GC thread: short runs, a dozen JVMs on two cores.
fn run_java(class: &str, args: &[&str]) -> Process {
    let command = crate::support::java::command(class);
    let mut all: Vec<&str> = command[1..].iter().map(String::as_str).collect();
    all.extend(args);
    start("java", &all)
}

/// The receiver with `args`, on a free port.
fn receiver(args: &[&str]) -> Process {
    let mut all = vec!["--port", "0"];
    all.extend(args);
    run_java("SnapbillReceiver", &all)
}

/// The receiver started with `args`, certified (with `--secret` when `signed`); a case passed
/// only on answers it observed.
async fn certify_receiver(args: &[&str], signed: bool, tune: impl FnOnce(&mut CertifyOptions)) -> Report {
    let java = receiver(args);
    let mut opts = options(&java.base);
    if signed {
        opts.signing = Some(Signing { scheme: Scheme::StandardWebhooks, secret: WHSEC.to_string() });
    }
    tune(&mut opts);
    let report = certify(&opts).await.unwrap();
    for case in report.cases.iter().filter(|c| c.verdict == Verdict::Passed) {
        assert!(case.observed.answers > 0, "{} passed on no answer: {}", case.name, report.to_table());
    }
    report
}

/// Every case passed: none failed, none left not verified.
fn passes_every_case(report: &Report) {
    let table = report.to_table();
    assert_eq!(names_with(report, Verdict::Passed).len(), report.cases.len(), "{table}");
    assert!(!table.contains("NOT VERIFIED"), "{table}");
}

#[tokio::test]
async fn the_java_receiver_passes_every_case() {
    if !java() {
        return;
    }
    passes_every_case(&certify_receiver(&[], false, |_| {}).await);
}

#[tokio::test]
async fn the_java_receiver_verifying_signatures_passes_every_case() {
    if !java() {
        return;
    }
    let report = certify_receiver(&["--secret", WHSEC], true, |_| {}).await;
    assert!(report.case("signature-raw-bytes").is_some(), "{}", report.to_table());
    passes_every_case(&report);
}

/// `sendResponseHeaders(200, 0)` is the JDK's "chunked, length unknown", not "no body"; closed
/// at once it is an empty chunked answer, a whole HTTP answer: it passes.
#[tokio::test]
async fn an_empty_chunked_answer_passes() {
    if !java() {
        return;
    }
    passes_every_case(&certify_receiver(&["--defect", "chunked-empty"], false, |_| {}).await);
}

/// Each receiver defect, and exactly the cases it fails.
async fn receiver_defect(defect: &str, signed: bool, expected: &[&str]) -> Report {
    let args = if signed { vec!["--defect", defect, "--secret", WHSEC] } else { vec!["--defect", defect] };
    let report = certify_receiver(&args, signed, |_| {}).await;
    let table = report.to_table();
    assert_eq!(names_with(&report, Verdict::Failed), expected.iter().copied().collect(), "{defect}: {table}");
    assert!(names_with(&report, Verdict::NotVerified).is_empty(), "{defect}: {table}");
    report
}

#[tokio::test]
async fn verifying_a_signature_over_gson_to_json_fails_the_raw_bytes_cases() {
    if !java() {
        return;
    }
    let report = receiver_defect("reparses", true, &["large-body", "signature-raw-bytes"]).await;
    for name in ["large-body", "signature-raw-bytes"] {
        let fix = &report.case(name).unwrap().fix;
        assert!(fix.starts_with("verify the raw bytes you received, not a re-serialised body"), "{name}: {fix}");
    }
}

/// A synchronized set whose `contains` and `add` are each atomic, the pair not: copies of one
/// uuid released at once all pass the check (10 ms between check and add; the Python control's
/// 1 ms is for a quiet machine, `certify_receivers.rs`).
#[tokio::test]
async fn a_check_then_act_on_a_synchronized_set_fails_the_concurrent_cases() {
    if !java() {
        return;
    }
    receiver_defect("check-then-act", false, &["burst-while-retry-held", "concurrent-redelivery-once"]).await;
}

#[tokio::test]
async fn a_set_made_inside_the_handler_fails_every_dedup_case() {
    if !java() {
        return;
    }
    let dedup = [
        "burst-while-retry-held",
        "concurrent-redelivery-once",
        "lost-answer-redelivered-hours-later",
        "redelivery-once",
        "redelivery-re-rendered",
    ];
    receiver_defect("dedup-in-handler", false, &dedup).await;
}

#[tokio::test]
async fn trusting_the_snapshot_in_the_body_fails_out_of_order() {
    if !java() {
        return;
    }
    receiver_defect("trusts-snapshot", false, &["out-of-order"]).await;
}

/// An IllegalStateException escaping the handler: the JDK's server closes the connection without
/// an answer (not a 500), and the case says the connection broke, not what the status was.
#[tokio::test]
async fn an_exception_escaping_the_handler_fails_malformed_json_as_a_broken_connection() {
    if !java() {
        return;
    }
    let report = receiver_defect("catches-syntax-only", false, &["malformed-json"]).await;
    let case = report.case("malformed-json").unwrap();
    assert!(case.detail.contains("empty body: connection failed: the connection broke"), "{}", case.detail);
    assert!(case.detail.contains("JSON without an envelope: connection failed"), "{}", case.detail);
    // The detail names the bodies that failed: a syntax error is still caught and answered 400.
    assert!(!case.detail.contains("truncated JSON"), "{}", case.detail);
    assert!(case.fix.contains("always send a complete HTTP answer"), "{}", case.fix);
}

/// `sendResponseHeaders(200, 0)` and no `close()`: the status line goes out, the chunked body
/// never ends. Every case with a readable delivery fails, each saying so; only the 400s (sent
/// with a length) are whole answers. A short attempt timeout keeps the run to seconds.
#[tokio::test]
async fn a_chunked_answer_never_closed_fails_as_a_body_that_did_not_end() {
    if !java() {
        return;
    }
    let report = certify_receiver(&["--defect", "chunked-unclosed"], false, |o| o.limits.timeout_ms = 1_000).await;
    let table = report.to_table();
    assert_eq!(names_with(&report, Verdict::Passed), BTreeSet::from(["malformed-json"]), "{table}");
    let valid = report.case("valid-delivery").unwrap();
    assert!(valid.detail.contains("(a 200 whose body did not end)"), "{table}");
    assert!(valid.fix.contains("a body that never ends is no answer either"), "{}", valid.fix);
}

/// Whether curl is here (the served sender's trigger); says SKIPPED when not.
fn curl() -> bool {
    let found = Command::new("curl").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        crate::support::skip::skipped("curl is not installed (the trigger that asks the Java sender for an event)");
    }
    found
}

/// The least tolerance on a measured delay here. None of these defects is about timing (the
/// Python sender's `too-fast` and `late` are, `certify_sender.rs`), and with a dozen JVMs on two
/// cores the correct sender's first retry was seen 268 ms late, past the Python tests' 200.
const TOLERANCE_MS: &str = "600";

/// `certify sender` at time scale 100 against the sender served with `sender_args` (one warm
/// JVM, as a product runs), each event asked of it by a curl to its API. The budget bounds a run
/// that stalls; a run that settles ends first (about five seconds).
fn certify_sender(name: &str, harness_args: &[&str], sender_args: &[&str]) -> Option<Outcome> {
    if !java() || !curl() {
        return None;
    }
    let mut args = vec!["--serve", "--time-scale", "100", "--give-up-after", "30"];
    args.extend(sender_args);
    let sender = run_java("SnapbillSender", &args);
    let trigger =
        format!(r#"curl -sf -d "{{\"event\": $HOOKSIM_EVENT, \"url\": \"$HOOKSIM_URL\"}}" {}/events"#, sender.base);
    let harness = [harness_args, &["--tolerance-ms", TOLERANCE_MS]].concat();
    Some(certify_trigger(&format!("java-{name}"), ("100", "20s"), &harness, &trigger))
}

#[test]
fn the_java_sender_passes_every_check_it_can_be_seen_to_pass() {
    let Some(out) = certify_sender("reference", &[], &[]) else { return };
    assert_eq!(out.failed(), Vec::<&str>::new(), "{}", out.table);
    assert_eq!(out.not_observed(), ["signature"], "only the signature, as no --secret was given: {}", out.table);
    assert_eq!(out.report["ended"], "settled", "{}", out.table);
    assert_eq!(out.exit, 0);
}

#[test]
fn the_java_sender_signing_passes_the_signature_check_under_standard_webhooks() {
    let harness = ["--profile", "standard-webhooks", "--secret", WHSEC, "--id", "header:webhook-id"];
    let sender = ["--profile", "standard-webhooks", "--secret", WHSEC];
    let Some(out) = certify_sender("signed", &harness, &sender) else { return };
    assert_eq!(out.failed(), Vec::<&str>::new(), "{}", out.table);
    assert_eq!(out.not_observed(), Vec::<&str>::new(), "{}", out.table);
    for check in ["signature", "gone", "retry-after"] {
        assert_eq!(out.verdicts[check], "passed", "{check}: {}", out.detail(check));
    }
    assert_eq!(out.exit, 0);
}

/// Each sender defect under `profile`, and exactly the checks it fails.
fn sender_defect(defect: &str, profile: &str, expected: &[&str]) {
    let sender = ["--profile", profile, "--defect", defect];
    let Some(out) = certify_sender(defect, &["--profile", profile], &sender) else { return };
    assert_eq!(out.failed(), expected, "{defect}: {}", out.table);
    assert_eq!(out.exit, 1, "{defect}");
}

#[test]
fn a_java_sender_that_never_retries_fails_retried_and_gone() {
    sender_defect("no-retry", "snapbill", &["gone", "retried"]);
}

#[test]
fn a_java_sender_with_a_new_uuid_per_retry_fails_same_id() {
    sender_defect("new-id-per-retry", "snapbill", &["same-id"]);
}

/// `HttpClient.Redirect.NORMAL` re-POSTs a 307's body to its Location.
#[test]
fn a_java_sender_on_redirect_normal_fails_redirect_not_followed() {
    sender_defect("follows-redirects", "snapbill", &["redirect-not-followed"]);
}

/// HttpClient's default request timeout is none at all.
#[test]
fn a_java_sender_without_a_request_timeout_fails_timeout() {
    sender_defect("no-timeout", "snapbill", &["timeout"]);
}

#[test]
fn a_java_sender_that_ignores_retry_after_fails_retry_after() {
    sender_defect("ignores-retry-after", "standard-webhooks", &["retry-after"]);
}
