//! Certification of signature verification (`--secret K --scheme S`): a verifying receiver
//! passes every signature case, one that does not verify fails the forgeries, and one that
//! verifies a re-serialised body fails the raw-bytes case.

use crate::support::process::{Process, start};
use hooksim::certify::signature::Signing;
use hooksim::certify::{CertifyOptions, Group, Limits, Report, Verdict, certify};
use hooksim::signing::Scheme;
use std::collections::BTreeSet;

const HOOKSIM: &str = env!("CARGO_BIN_EXE_hooksim");
const PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/receivers/contract_receiver.py");
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn hooksim_receiver(secret: Option<(&str, Scheme)>) -> Process {
    let mut args = vec!["receiver", "--listen", "127.0.0.1:0", "--kind", "dedup"];
    let scheme;
    if let Some((k, s)) = secret {
        scheme = s.to_string();
        args.extend(["--secret", k, "--scheme", scheme.as_str()]);
    }
    start(HOOKSIM, &args)
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

fn failed(report: &Report) -> BTreeSet<&'static str> {
    report.cases.iter().filter(|c| c.verdict == Verdict::Failed).map(|c| c.name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifying_receiver_passes_every_case_in_every_scheme() {
    for (scheme, secret) in [
        (Scheme::StandardWebhooks, WHSEC),
        (Scheme::Stripe, WHSEC),
        (Scheme::Github, "it's a secret"),
        (Scheme::Shopify, "it's a secret"),
        (Scheme::Slack, "it's a secret"),
    ] {
        let receiver = hooksim_receiver(Some((secret, scheme)));
        let report = certify_signed(&receiver.base, scheme, secret).await;
        assert!(failed(&report).is_empty(), "{scheme}: {}", report.to_table());
        let signature_cases = report.cases.iter().filter(|c| c.group == Group::Signature).count();
        // GitHub and Shopify sign no timestamp (no stale case); only Standard Webhooks and Stripe
        // carry a signature per secret (a rotation case).
        let expected = match scheme {
            Scheme::Github | Scheme::Shopify => 3,
            Scheme::Slack => 4,
            Scheme::StandardWebhooks | Scheme::Stripe => 5,
        };
        assert_eq!(signature_cases, expected, "{scheme}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_does_not_verify_fails_the_forgeries_and_the_stale_timestamp() {
    let receiver = hooksim_receiver(None);
    let report = certify_signed(&receiver.base, Scheme::StandardWebhooks, WHSEC).await;
    assert_eq!(
        failed(&report),
        BTreeSet::from(["signature-forgeries", "signature-stale-timestamp"]),
        "{}",
        report.to_table()
    );
    let forgeries = report.case("signature-forgeries").unwrap();
    assert!(forgeries.detail.contains("unsigned delivery: 200"), "{}", forgeries.detail);
    assert!(forgeries.fix.contains("verify the signature"), "{}", forgeries.fix);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifying_a_re_serialised_body_fails_the_raw_bytes_case() {
    let correct = start("python3", &[PYTHON, "--secret", WHSEC]);
    let report = certify_signed(&correct.base, Scheme::StandardWebhooks, WHSEC).await;
    assert!(failed(&report).is_empty(), "{}", report.to_table());
    let reserialises = start("python3", &[PYTHON, "--secret", WHSEC, "--defect", "reserialises"]);
    let report = certify_signed(&reserialises.base, Scheme::StandardWebhooks, WHSEC).await;
    let table = report.to_table();
    assert_eq!(failed(&report), BTreeSet::from(["large-body", "signature-raw-bytes"]), "{table}");
    // Both for the same reason, and both say it: not the generic 401 advice.
    for name in ["signature-raw-bytes", "large-body"] {
        let fix = &report.case(name).unwrap().fix;
        assert!(fix.starts_with("verify the raw bytes you received, not a re-serialised body"), "{name}: {fix}");
    }
}
