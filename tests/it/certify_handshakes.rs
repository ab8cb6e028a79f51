//! `certify receiver --handshake meta|zoom|cloudevents`: a receiver answering the three senders'
//! endpoint verifications as documented (examples/receivers/providers/handshake_receiver.py,
//! Python's standard library) passes the three cases; each defective copy fails exactly the
//! case meant for it (negative controls): one echoing Meta's challenge whatever the verify token,
//! one answering Zoom's validation in base64, one consenting to the CloudEvents OPTIONS without
//! `WebHook-Allowed-Origin`, and one whose signature check in front of every method refuses the
//! unsigned GET and OPTIONS. Runs with `--handshakes-only` (three cases, a few requests), and once
//! beside the whole library.

use hooksim::certify::handshake::Handshake;
use hooksim::certify::{CertifyError, CertifyOptions, Limits, Report, Verdict, certify};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const RECEIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/receivers/providers/handshake_receiver.py");
const TOKEN: &str = "meatyhamhock";
const ALL: [Handshake; 3] = [Handshake::Meta, Handshake::Zoom, Handshake::CloudEvents];

/// The receiver process, killed when the test ends; `base` is `http://127.0.0.1:PORT`.
struct Receiver {
    child: Child,
    base: String,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The receiver with `defect`, or `None` (said SKIPPED) without python3.
fn start(defect: Option<&str>) -> Option<Receiver> {
    let mut args = vec![RECEIVER, "--secret", TOKEN];
    args.extend(defect.map(|d| ["--defect", d]).into_iter().flatten());
    let Ok(mut child) = Command::new("python3").args(&args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn() else {
        crate::support::skip::skipped("python3 is not installed");
        return None;
    };
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    Some(Receiver { child, base: line.trim().to_string() })
}

fn options(base: &str, only: bool) -> CertifyOptions {
    let mut opts = CertifyOptions::new(format!("{base}/webhook"));
    opts.limits = Limits { timeout_ms: 5_000, ..Limits::default() };
    opts.large_body_bytes = 256 * 1024;
    opts.handshakes = ALL.to_vec();
    opts.handshake_secret = Some(TOKEN.to_string());
    opts.handshakes_only = only;
    opts
}

fn with(report: &Report, verdict: Verdict) -> BTreeSet<&'static str> {
    report.cases.iter().filter(|c| c.verdict == verdict).map(|c| c.name).collect()
}

const CASES: [&str; 3] = ["handshake-meta", "handshake-zoom", "handshake-cloudevents"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_answering_each_verification_as_documented_passes_and_each_defect_fails_its_case() {
    let Some(correct) = start(None) else { return };
    let report = certify(&options(&correct.base, true)).await.unwrap();
    let table = report.to_table();
    assert!(report.certified(), "{table}");
    assert_eq!(with(&report, Verdict::Passed), CASES.into_iter().collect(), "{table}");
    assert_eq!(report.cases.len(), 3, "{table}");
    let defects: [(&str, &[&str]); 4] = [
        ("echoes-any-token", &["handshake-meta"]),
        ("wrong-zoom-hash", &["handshake-zoom"]),
        ("no-allowed-origin", &["handshake-cloudevents"]),
        ("signature-middleware", &["handshake-meta", "handshake-cloudevents"]),
    ];
    for (defect, failed) in defects {
        let Some(defective) = start(Some(defect)) else { return };
        let report = certify(&options(&defective.base, true)).await.unwrap();
        let table = report.to_table();
        assert!(!report.certified(), "--defect {defect}: {table}");
        assert_eq!(with(&report, Verdict::Failed), failed.iter().copied().collect(), "--defect {defect}: {table}");
        let passed = CASES.into_iter().filter(|c| !failed.contains(c)).collect();
        assert_eq!(with(&report, Verdict::Passed), passed, "--defect {defect}: {table}");
        if defect == "signature-middleware" {
            // The case's own advice, not a failed delivery's.
            let fix = &report.case("handshake-meta").unwrap().fix;
            assert!(fix.starts_with("a 401 refuses the verification: route GET"), "{fix}");
        }
    }
}

/// Beside the library, the handshake cases come last; the receiver takes SnapBill's deliveries
/// with a 2xx, and nothing else fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_cases_run_after_the_library() {
    let Some(correct) = start(None) else { return };
    let report = certify(&options(&correct.base, false)).await.unwrap();
    let table = report.to_table();
    let last: Vec<&str> = report.cases.iter().rev().take(3).rev().map(|c| c.name).collect();
    assert_eq!(last, CASES, "{table}");
    assert!(report.cases.len() > 3 && with(&report, Verdict::Failed).is_empty(), "{table}");
    assert!(CASES.iter().all(|c| with(&report, Verdict::Passed).contains(c)), "{table}");
}

/// Meta's and Zoom's cases need the receiver's token; `--handshakes-only` needs a handshake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_without_its_token_is_bad_input() {
    let mut opts = options("http://127.0.0.1:9", true);
    opts.handshake_secret = None;
    let e = certify(&opts).await.unwrap_err();
    assert!(matches!(&e, CertifyError::Limit(why) if why.contains("--handshake meta needs --handshake-secret")), "{e}");
    opts.handshakes = vec![];
    let e = certify(&opts).await.unwrap_err();
    assert!(matches!(&e, CertifyError::Limit(why) if why.contains("--handshakes-only needs")), "{e}");
    let unknown = "twilio".parse::<Handshake>().unwrap_err().to_string();
    assert!(unknown.contains("known: meta, zoom, cloudevents"), "{unknown}");
}

/// `certify sender --provider slack`: a sender that verifies the Request URL (`url_verification`,
/// signed, answered with its challenge) before its first event passes `url-verification-first`;
/// one that sends the event first fails it. The run is short (its budget): only that check is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_claiming_slack_verifies_the_url_before_its_first_delivery() {
    use hooksim::certify::sender::{Envelope, IdSource, SenderOptions, Verdict as Graded, bind};
    use hooksim::provider::Provider;
    use hooksim::signing::{Scheme, Verifier};
    const SENDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/senders/slack_handshake_sender.py");
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    for (defect, expected) in [(None, Graded::Passed), (Some("skips-handshake"), Graded::Failed)] {
        let mut opts = SenderOptions::new("127.0.0.1:0".parse().unwrap());
        opts.budget_ms = 2_000;
        opts.envelope = Envelope::Provider(Provider::Slack);
        opts.id = IdSource::of_provider(Provider::Slack);
        opts.verifier = Some(Verifier::new(Scheme::Slack, &[SECRET]).unwrap());
        let bound = bind(opts).await.unwrap();
        let mut args = vec![SENDER.to_string(), bound.url().to_string(), SECRET.to_string()];
        args.extend(defect.map(|d| ["--defect".to_string(), d.to_string()]).into_iter().flatten());
        let Ok(mut sender) = Command::new("python3").args(&args).stdout(Stdio::null()).spawn() else {
            crate::support::skip::skipped("python3 is not installed");
            return;
        };
        let report = bound.run().await;
        let _ = sender.kill();
        let _ = sender.wait();
        let check = report.checks.iter().find(|c| c.name == "url-verification-first").expect("added for Slack");
        assert_eq!(check.verdict, expected, "--defect {defect:?}: {}", check.detail);
    }
}
