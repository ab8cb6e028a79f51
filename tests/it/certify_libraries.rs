//! Receivers whose signature check is an official library, certified with `--secret`:
//! `standardwebhooks` and `stripe` (PyPI) and `@octokit/webhooks-methods` (npm) pass the
//! signature cases (positive controls: hooksim signs as the schemes' own libraries verify), and
//! each library handed a re-serialised body instead of the bytes received fails
//! `signature-raw-bytes` and `large-body`, both with the raw-bytes advice (negative controls).
//!
//! The same pair for Slack (`slack_sdk`'s `SignatureVerifier`, PyPI) and Shopify (no library:
//! the check its documentation shows, in Python's standard library), in examples/receivers/providers.
//!
//! `.ci/run` installs the libraries (pip; `npm ci` in examples/receivers/octokit); where one is
//! missing its test says SKIPPED and passes.

use crate::support::process::{Process, python_has, start};
use hooksim::certify::case::CaseId;
use hooksim::certify::signature::Signing;
use hooksim::certify::{CertifyOptions, Group, Limits, Report, Verdict, certify};
use hooksim::signing::Scheme;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/receivers/library_receiver.py");
const OCTOKIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/receivers/octokit");
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn octokit_installed() -> bool {
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    node && Path::new(OCTOKIT).join("node_modules/@octokit/webhooks-methods/package.json").is_file()
}

async fn certify_signed(base: &str, scheme: Scheme, secret: &str) -> Report {
    let mut opts = CertifyOptions::new(format!("{base}/webhook"));
    opts.effects_url = Some(format!("{base}/effects"));
    opts.limits = Limits { timeout_ms: 5_000, ..Limits::default() };
    opts.large_body_bytes = 256 * 1024;
    opts.settle.quiet_ms = 150;
    opts.signing = Some(Signing { scheme, secret: secret.to_string() });
    certify(&opts).await.unwrap()
}

fn with(report: &Report, verdict: Verdict) -> BTreeSet<&'static str> {
    report.cases.iter().filter(|c| c.verdict == verdict).map(|c| c.name).collect()
}

/// The correct receiver passes every signature case; its re-serialising twin fails exactly
/// `signature-raw-bytes` and `large-body`, each with the raw-bytes advice.
async fn control(correct: Process, reserialising: Process, scheme: Scheme, secret: &str) {
    let report = certify_signed(&correct.base, scheme, secret).await;
    let table = report.to_table();
    let signature: Vec<_> = report.cases.iter().filter(|c| c.group == Group::Signature).collect();
    assert!(signature.len() >= 3, "{table}");
    assert!(signature.iter().all(|c| c.verdict == Verdict::Passed), "{scheme}: {table}");
    assert!(with(&report, Verdict::Failed).is_empty(), "{scheme}: {table}");
    let report = certify_signed(&reserialising.base, scheme, secret).await;
    let table = report.to_table();
    assert_eq!(with(&report, Verdict::Failed), BTreeSet::from(["large-body", "signature-raw-bytes"]), "{table}");
    for name in ["signature-raw-bytes", "large-body"] {
        let fix = &report.case(name).unwrap().fix;
        assert!(fix.starts_with("verify the raw bytes you received, not a re-serialised body"), "{name}: {fix}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standardwebhooks_from_pypi_verifies_what_hooksim_signs() {
    if !python_has("standardwebhooks") {
        crate::support::skip::skipped(
            "the `standardwebhooks` Python package is not installed (pip install standardwebhooks)",
        );
        return;
    }
    let args = ["--library", "standardwebhooks", "--secret", WHSEC];
    let correct = start("python3", &[&[PYTHON][..], &args].concat());
    let reserialising = start("python3", &[&[PYTHON][..], &args, &["--defect", "reserialises"]].concat());
    control(correct, reserialising, Scheme::StandardWebhooks, WHSEC).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_from_pypi_verifies_what_hooksim_signs() {
    if !python_has("stripe") {
        crate::support::skip::skipped("the `stripe` Python package is not installed (pip install stripe)");
        return;
    }
    let args = ["--library", "stripe", "--secret", WHSEC];
    let correct = start("python3", &[&[PYTHON][..], &args].concat());
    let reserialising = start("python3", &[&[PYTHON][..], &args, &["--defect", "reserialises"]].concat());
    control(correct, reserialising, Scheme::Stripe, WHSEC).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn octokit_webhooks_methods_from_npm_verifies_what_hooksim_signs() {
    if !octokit_installed() {
        crate::support::skip::skipped(
            "node or @octokit/webhooks-methods is missing (npm ci --prefix examples/receivers/octokit)",
        );
        return;
    }
    let script = format!("{OCTOKIT}/receiver.mjs");
    let secret = "it's a secret";
    let correct = start("node", &[&script, "--secret", secret]);
    let reserialising = start("node", &[&script, "--secret", secret, "--defect", "reserialises"]);
    control(correct, reserialising, Scheme::Github, secret).await;
}

const PROVIDERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/receivers/providers");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_sdk_from_pypi_verifies_what_hooksim_signs() {
    if !python_has("slack_sdk") {
        crate::support::skip::skipped("the `slack_sdk` Python package is not installed (pip install slack_sdk)");
        return;
    }
    let script = format!("{PROVIDERS}/slack_receiver.py");
    // Slack's documented example secret (the published policies).
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    // Valid, forgeries, stale and raw bytes: Slack sends one signature, so no rotation case.
    assert_eq!(CaseId::signed(Scheme::Slack).len(), 4);
    let correct = start("python3", &[&script, "--secret", secret]);
    let reserialising = start("python3", &[&script, "--secret", secret, "--defect", "reserialises"]);
    control(correct, reserialising, Scheme::Slack, secret).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_documented_check_verifies_what_hooksim_signs() {
    if !python_has("hmac") {
        crate::support::skip::skipped("python3 is not installed");
        return;
    }
    let script = format!("{PROVIDERS}/shopify_receiver.py");
    let secret = "my_client_secret";
    // Valid, forgeries and raw bytes: no timestamp is signed and one signature is sent.
    assert_eq!(CaseId::signed(Scheme::Shopify).len(), 3);
    let correct = start("python3", &[&script, "--secret", secret]);
    let reserialising = start("python3", &[&script, "--secret", secret, "--defect", "reserialises"]);
    control(correct, reserialising, Scheme::Shopify, secret).await;
}
