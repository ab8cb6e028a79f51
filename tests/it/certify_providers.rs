//! `certify receiver --provider P`: receivers of each provider's own deliveries, built on its
//! official verification library (examples/receivers/providers), pass; a copy of each that
//! verifies a re-serialised body, one whose dedup window is shorter than the provider's
//! redelivery window, and (Slack) one that refuses the `url_verification` handshake fail exactly
//! the cases meant for them (negative controls). Where hooksim simulates the provider's API
//! (Stripe, GitHub, Shopify, Slack), the correct receiver reads the invoice as it is now from it
//! before fulfilling a `paid` snapshot and passes `paid-carrying-cancelled` and
//! `paid-failing-for-days`; a copy that trusts the snapshot (`trusts-snapshot`) fails exactly
//! `paid-carrying-cancelled`. Standard Webhooks defines no API: those two are not run there.
//!
//! `.ci/run` installs the libraries (pip: `stripe`, `standardwebhooks`, `slack_sdk`; npm:
//! `@octokit/webhooks-methods` in examples/receivers/providers); where one is missing its test
//! says SKIPPED and passes. Shopify publishes no library: its receiver is the check its
//! documentation shows, in Python's standard library.

use crate::support::process::{python_has, start};
use hooksim::certify::signature::Signing;
use hooksim::certify::{CertifyOptions, Limits, Report, Verdict, certify};
use hooksim::provider::Provider;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const PROVIDERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/receivers/providers");
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The cases every provider's run plays: hand-sent, and the scenario cases in the provider's shape.
const PLAYED: [&str; 12] = [
    "redelivery-re-rendered",
    "unknown-fields",
    "large-body",
    "malformed-json",
    "redelivery-across-retry-window",
    "valid-delivery",
    "unhandled-path",
    "redelivery-once",
    "concurrent-redelivery-once",
    "out-of-order",
    "lost-answer-redelivered-hours-later",
    "burst-while-retry-held",
];

/// The scenario cases judged on the invoice as it is now: played where hooksim simulates the
/// provider's API, not run where the provider has none (Standard Webhooks).
const NOW: [&str; 2] = ["paid-carrying-cancelled", "paid-failing-for-days"];

/// A loopback port free a moment ago, for the simulated API: the receiver is started pointed at
/// it before the run listens there.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn certify_as(provider: Provider, base: &str, secret: &str, api_port: u16) -> Report {
    let mut opts = CertifyOptions::new(format!("{base}/webhook"));
    opts.api_port = api_port;
    opts.effects_url = Some(format!("{base}/effects"));
    opts.limits = Limits { timeout_ms: 5_000, ..Limits::default() };
    opts.large_body_bytes = 256 * 1024;
    opts.settle.quiet_ms = 150;
    opts.provider = provider;
    opts.signing = Some(Signing { scheme: provider.scheme().unwrap(), secret: secret.to_string() });
    certify(&opts).await.unwrap()
}

fn with(report: &Report, verdict: Verdict) -> BTreeSet<&'static str> {
    report.cases.iter().filter(|c| c.verdict == verdict).map(|c| c.name).collect()
}

/// The receiver started with `args` plus each defect: the correct one passes every case it is
/// sent; each defective copy fails exactly the cases named beside its defect.
/// Where the provider has an API, every receiver is started with `--api-url` and the run serves
/// the API there.
async fn controls(provider: Provider, secret: &str, program: &str, args: &[&str], defects: &[(&str, &[&str])]) {
    let port = if provider.has_api() { free_port() } else { 0 };
    let api_url = format!("http://127.0.0.1:{port}");
    let api_args: &[&str] = if port == 0 { &[] } else { &["--api-url", &api_url] };
    let args = &[args, api_args].concat();
    let correct = start(program, args);
    let report = certify_as(provider, &correct.base, secret, port).await;
    let table = report.to_table();
    assert!(report.certified(), "{provider}: {table}");
    assert!(table.lines().next().unwrap().contains(&format!("; as {provider} delivers")), "{table}");
    assert!(report.to_json().contains(&format!("\"provider\": \"{provider}\"")), "{}", report.to_json());
    let passed = with(&report, Verdict::Passed);
    assert!(PLAYED.iter().all(|c| passed.contains(c)), "{provider}: {table}");
    assert!(passed.contains("signature-valid") && passed.contains("signature-raw-bytes"), "{table}");
    if provider.has_api() {
        assert!(table.lines().next().unwrap().contains(&format!("provider API: {api_url}")), "{table}");
        assert!(NOW.iter().all(|c| passed.contains(c)), "{provider}: {table}");
        assert!(with(&report, Verdict::NotRun).is_empty(), "{table}");
    } else {
        assert_eq!(with(&report, Verdict::NotRun), NOW.into_iter().collect(), "{table}");
    }
    let trusts: (&str, &[&str]) = ("trusts-snapshot", &["paid-carrying-cancelled"]);
    let api_defects = provider.has_api().then_some(trusts);
    for (defect, cases) in defects.iter().copied().chain(api_defects) {
        let defective = start(program, &[args, &["--defect", defect][..]].concat());
        let report = certify_as(provider, &defective.base, secret, port).await;
        let expected: BTreeSet<&str> = cases.iter().copied().collect();
        assert_eq!(with(&report, Verdict::Failed), expected, "{provider} --defect {defect}: {}", report.to_table());
        if defect == "trusts-snapshot" {
            let fix = &report.case("paid-carrying-cancelled").unwrap().fix;
            assert!(fix.contains(&format!("from {provider}'s API")), "{fix}");
        }
    }
}

const RESERIALISES: (&str, &[&str]) = ("reserialises", &["large-body", "signature-raw-bytes"]);
const SHORT_WINDOW: (&str, &[&str]) = ("short-dedup-window", &["redelivery-across-retry-window"]);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stripe_receiver_on_the_stripe_library_is_certified_as_stripe_delivers() {
    if !python_has("stripe") {
        crate::support::skip::skipped("the `stripe` Python package is not installed (pip install stripe)");
        return;
    }
    let script = format!("{PROVIDERS}/stripe_receiver.py");
    controls(Provider::Stripe, WHSEC, "python3", &[&script, "--secret", WHSEC], &[RESERIALISES, SHORT_WINDOW]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standard_webhooks_receiver_on_its_library_is_certified_as_the_spec_delivers() {
    if !python_has("standardwebhooks") {
        crate::support::skip::skipped(
            "the `standardwebhooks` Python package is not installed (pip install standardwebhooks)",
        );
        return;
    }
    let script = format!("{PROVIDERS}/standardwebhooks_receiver.py");
    let args = [script.as_str(), "--secret", WHSEC];
    controls(Provider::StandardWebhooks, WHSEC, "python3", &args, &[RESERIALISES, SHORT_WINDOW]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_receiver_on_slack_sdk_is_certified_as_slack_delivers() {
    if !python_has("slack_sdk") {
        crate::support::skip::skipped("the `slack_sdk` Python package is not installed (pip install slack_sdk)");
        return;
    }
    let script = format!("{PROVIDERS}/slack_receiver.py");
    // Slack's documented example secret.
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let handshake: (&str, &[&str]) = ("rejects-handshake", &["url-verification"]);
    let args = [script.as_str(), "--provider", "--secret", secret];
    controls(Provider::Slack, secret, "python3", &args, &[RESERIALISES, SHORT_WINDOW, handshake]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopify_receiver_with_the_documented_check_is_certified_as_shopify_delivers() {
    let script = format!("{PROVIDERS}/shopify_receiver.py");
    let secret = "my_client_secret";
    let args = [script.as_str(), "--provider", "--secret", secret];
    controls(Provider::Shopify, secret, "python3", &args, &[RESERIALISES, SHORT_WINDOW]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_receiver_on_octokit_is_certified_as_github_delivers() {
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !node || !Path::new(PROVIDERS).join("node_modules/@octokit/webhooks-methods/package.json").is_file() {
        crate::support::skip::skipped(
            "node or @octokit/webhooks-methods is missing (npm ci --prefix examples/receivers/providers)",
        );
        return;
    }
    let script = format!("{PROVIDERS}/github_receiver.mjs");
    let secret = "it's a secret";
    controls(Provider::Github, secret, "node", &[&script, "--secret", secret], &[RESERIALISES, SHORT_WINDOW]).await;
}

#[test]
fn a_scheme_other_than_the_providers_is_bad_input() {
    let (code, _, stderr) = crate::support::process::output_bounded(
        Command::new(env!("CARGO_BIN_EXE_hooksim")).args([
            "certify",
            "receiver",
            "--url",
            "http://127.0.0.1:9/webhook",
            "--provider",
            "stripe",
            "--secret",
            "whsec_x",
            "--scheme",
            "github",
        ]),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--scheme github conflicts with --provider stripe, which signs with stripe"), "{stderr}");
    let (code, _, stderr) = crate::support::process::output_bounded(
        Command::new(env!("CARGO_BIN_EXE_hooksim")).args([
            "certify",
            "receiver",
            "--url",
            "http://x/",
            "--provider",
            "paypal",
        ]),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unknown provider \"paypal\""), "{stderr}");
    let (code, _, stderr) = crate::support::process::output_bounded(
        Command::new(env!("CARGO_BIN_EXE_hooksim")).args([
            "certify",
            "receiver",
            "--url",
            "http://127.0.0.1:9/webhook",
            "--provider",
            "standard-webhooks",
            "--api-port",
            "45678",
        ]),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--api-port: hooksim simulates no API of standard-webhooks"), "{stderr}");
}

/// The `large-body` case sends what the provider may send: its published size cap, else 1 MiB.
#[test]
fn the_large_body_is_the_providers_size_cap_where_it_publishes_one() {
    use hooksim::certify::{LARGE_BODY_BYTES_DEFAULT, large_body_bytes};
    assert_eq!(large_body_bytes(Provider::Github), 25 * 1024 * 1024);
    assert_eq!(large_body_bytes(Provider::StandardWebhooks), 20 * 1024);
    assert_eq!(large_body_bytes(Provider::Stripe), LARGE_BODY_BYTES_DEFAULT);
    assert_eq!(large_body_bytes(Provider::Snapbill), LARGE_BODY_BYTES_DEFAULT);
}
