//! `hooksim certify sender` certifies `hooksim dispatch`, the reference dispatcher as a real
//! sender: every check it can observe passes, under snapbill and under standard-webhooks (which
//! honours Retry-After and stops at a 410). Both sides run at time scale 100, the README's
//! (snapbill's 10 s, 1 min, 5 min become 100 ms, 600 ms, 3 s; its 30 s attempt timeout 300 ms,
//! which a loaded machine keeps), so each run takes about six seconds; each process is
//! killed if it outlives [`RUN_WALL_MAX`]. The negative control here: the same dispatcher on the
//! wrong profile fails exactly the checks that profile decides. The broken senders that fail
//! each check one by one are the Python sender's `--defect`s, in `tests/certify_sender.rs`.

use crate::support;

use serde_json::Value;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::loopback::contract_receiver;
use support::private_ca::{self, PrivateCa};

const BIN: &str = env!("CARGO_BIN_EXE_hooksim");
const SCALE: &str = "100";
const BUDGET: &str = "10s";
/// Generous: the machine may be loaded; a sender off its profile is off by far more.
const TOLERANCE_MS: &str = "200";
const RUN_WALL_MAX: Duration = Duration::from_secs(60);

fn example(name: &str) -> String {
    format!("{}/examples/senders/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("hooksim-dispatch-certify-{}-{name}", std::process::id()))
}

/// [`support::process::wait_bounded`] within [`RUN_WALL_MAX`].
fn wait_bounded(child: Child, stdout: impl std::io::Read + Send + 'static) -> (i32, String) {
    support::process::wait_bounded(child, stdout, RUN_WALL_MAX)
}

struct Certified {
    certify_exit: i32,
    report: Value,
    dispatch_exit: i32,
    dispatch_stdout: String,
}

impl Certified {
    fn verdicts(&self, verdict: &str) -> Vec<&str> {
        let checks = self.report["checks"].as_array().unwrap();
        checks.iter().filter(|c| c["verdict"] == verdict).map(|c| c["name"].as_str().unwrap()).collect()
    }
}

/// The secret `six-events-standard-webhooks.toml` signs with (its `[signing]` table).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Another secret of the same scheme: every signature checked with it fails.
const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// `certify sender --profile PROFILE` first (with `certify_args`); `dispatch SCENARIO` pointed
/// at the URL it prints, with `dispatch_args` added.
fn certify_dispatch(
    name: &str,
    profile: &str,
    scenario: &str,
    (certify_args, dispatch_args): (&[&str], &[&str]),
) -> Certified {
    let json = temp(&format!("{name}.json"));
    let mut certify = Command::new(BIN)
        .args(["certify", "sender", "--listen", "127.0.0.1:0", "--profile", profile, "--time-scale", SCALE])
        .args(["--budget", BUDGET, "--tolerance-ms", TOLERANCE_MS, "--json", json.to_str().unwrap()])
        .args(certify_args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("certify sender starts");
    let mut certify_out = BufReader::new(certify.stdout.take().unwrap());
    let mut url = String::new();
    certify_out.read_line(&mut url).unwrap();
    let url = url.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "certify sender prints its URL first: {url:?}");
    let mut dispatch = Command::new(BIN)
        .args(["dispatch", &example(scenario), "--receiver", &format!("shop={url}"), "--time-scale", SCALE])
        .args(dispatch_args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("dispatch starts");
    let dispatch_out = dispatch.stdout.take().unwrap();
    let (certify_exit, certify_stdout) = wait_bounded(certify, certify_out);
    let (dispatch_exit, dispatch_stdout) = wait_bounded(dispatch, dispatch_out);
    println!("{name}: certify sender:\n{certify_stdout}\n{name}: dispatch:\n{dispatch_stdout}");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("{name}: no JSON report: {e}"));
    let _ = std::fs::remove_file(&json);
    Certified { certify_exit, report: serde_json::from_str(&text).unwrap(), dispatch_exit, dispatch_stdout }
}

#[test]
fn the_reference_dispatcher_passes_certify_sender_under_snapbill() {
    let run = certify_dispatch("snapbill", "snapbill", "six-events.toml", (&[], &[]));
    assert_eq!(run.verdicts("failed"), Vec::<&str>::new());
    assert_eq!(run.verdicts("not_observed"), ["signature"], "only the signature: no --secret was given");
    assert_eq!(run.report["ended"], "settled", "every event settled within the budget");
    assert_eq!(run.certify_exit, 0);
    assert!(run.dispatch_stdout.contains("time scale 100:"), "the report says the scale");
    assert_eq!(run.dispatch_exit, 0, "every event delivered exactly once, after its failures");
}

#[test]
fn the_reference_dispatcher_passes_certify_sender_under_standard_webhooks() {
    let certify = ["--secret", SECRET];
    let run = certify_dispatch(
        "standard-webhooks",
        "standard-webhooks",
        "six-events-standard-webhooks.toml",
        (&certify, &[]),
    );
    assert_eq!(run.verdicts("failed"), Vec::<&str>::new());
    assert_eq!(run.verdicts("not_observed"), Vec::<&str>::new(), "with --secret every check is observed");
    for check in
        ["retried", "same-id", "distinct-ids", "redirect-not-followed", "retry-after", "gone", "timeout", "signature"]
    {
        assert!(run.verdicts("passed").contains(&check), "{check} observed and passed");
    }
    assert_eq!(run.certify_exit, 0);
    assert_eq!(run.dispatch_exit, 0, "{}", run.dispatch_stdout);
    assert!(run.dispatch_stdout.contains("disabled"), "the 410 disabled the webhook");
}

#[test]
fn a_dispatcher_on_another_profile_fails_what_the_declared_profile_decides() {
    // The endpoint expects standard-webhooks; the dispatcher retries on snapbill's rules: a 410
    // retried, Retry-After ignored, snapbill's delays (100 ms, 600 ms against 50 ms, 3 s: the
    // second is off by 2.4 s, far past the tolerance).
    let args = ["--profile", "snapbill"];
    let run = certify_dispatch("wrong-profile", "standard-webhooks", "six-events-standard-webhooks.toml", (&[], &args));
    assert_eq!(run.verdicts("failed"), ["retry-after", "gone", "schedule"], "in the catalogue's order");
    assert_eq!(run.certify_exit, 1);
}

/// The signature check's control: the endpoint holds another key, so every attempt's signature
/// fails it, and nothing else does.
#[test]
fn signatures_checked_with_another_key_fail_the_signature_check_only() {
    let certify = ["--secret", OTHER_SECRET];
    let run = certify_dispatch("other-key", "standard-webhooks", "six-events-standard-webhooks.toml", (&certify, &[]));
    assert_eq!(run.verdicts("failed"), ["signature"]);
    assert_eq!(run.certify_exit, 1);
}

#[test]
fn the_shipped_scenarios_pass_on_the_simulated_engines_too() {
    let status =
        Command::new(BIN).args(["run", &example(""), "--engine", "both"]).stdout(Stdio::null()).status().unwrap();
    assert!(status.success());
}

#[test]
fn dispatch_refuses_bad_input_and_sends_nothing() {
    let six = example("six-events.toml");
    for args in [
        // No receiver bound.
        vec!["dispatch", six.as_str()],
        // A name the scenario does not have.
        vec!["dispatch", &six, "--receiver", "nope=http://127.0.0.1:9/webhook"],
        // Nothing listens there (port 9, discard, is closed on loopback).
        vec!["dispatch", &six, "--receiver", "shop=http://127.0.0.1:9/webhook"],
        vec!["dispatch", &six, "--receiver", "shop=http://127.0.0.1:9/webhook", "--time-scale", "0"],
        vec!["dispatch", "no-such-file.toml", "--receiver", "shop=http://127.0.0.1:9/webhook"],
    ] {
        let child = Command::new(BIN).args(&args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut child = child;
        let out = child.stdout.take().unwrap();
        let (exit, _) = wait_bounded(child, out);
        assert_eq!(exit, 2, "{args:?}");
    }
}

/// Exit status and stderr of `hooksim dispatch` with `args` (each run bounded).
fn dispatch_refused(args: &[&str]) -> (i32, String) {
    let mut child =
        Command::new(BIN).arg("dispatch").args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let err = child.stderr.take().unwrap();
    let out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(err), &mut text);
        text
    });
    let (exit, _) = wait_bounded(child, out);
    (exit, reader.join().unwrap())
}

/// `--ca-cert` is read before anything is sent: a missing file, or one with no PEM certificate
/// in it, is bad input naming the flag and the file. The settle window needs `--effects` (it
/// is the effects lists' wait).
#[test]
fn dispatch_names_a_bad_ca_cert_and_a_settle_window_without_effects() {
    let six = example("six-events.toml");
    let missing = temp("no-such-ca.pem").display().to_string();
    for (file, says) in [(missing.as_str(), "--ca-cert "), (six.as_str(), "no PEM certificate")] {
        let (exit, err) = dispatch_refused(&[&six, "--receiver", "shop=http://127.0.0.1:9/webhook", "--ca-cert", file]);
        assert_eq!(exit, 2, "{file}: {err}");
        assert!(err.contains(&format!("error: --ca-cert {file}")) && err.contains(says), "{err}");
        assert!(err.contains("nothing was sent"), "{err}");
    }
    let (exit, err) =
        dispatch_refused(&[&six, "--receiver", "shop=http://127.0.0.1:9/webhook", "--effects-quiet-ms", "100"]);
    assert_eq!(exit, 2, "{err}");
    assert!(err.contains("--effects <NAME=URL>"), "{err}");
}

/// One invoice paid, delivered and acted on once: short enough to play at time scale 10 (1 s of
/// wall time) with a real attempt timeout of 3 s.
const ONE_PAYMENT: &str = r#"
name = "one-payment"
description = "An invoice paid, for an https receiver behind a private certificate authority."
seed = 3
run_for = "10s"
latency = "0ms"

[webhooks.shop]
url = "http://shop/webhook"
paths = ["/invoice/update/state"]
owner = "ops@shop.example"

[receivers.shop]
kind = "dedup"

[[timeline]]
at = "0s"
add_client = { id = 1 }

[[timeline]]
at = "0s"
add_invoice = { id = 4, client = 1 }

[[timeline]]
at = "1s"
invoice_state = { id = 4, state = "paid" }
name = "paid"

[[expect]]
delivered = "shop"
event = "paid"
exactly = 1

[[expect]]
acted = "shop"
event = "paid"
exactly = 1
"#;

/// An https receiver behind a private CA: without `--ca-cert` its effects list cannot be read
/// and nothing is sent; with it, the check before the run and the run itself trust the CA, and
/// the payment is delivered and acted on.
#[test]
fn dispatch_trusts_a_private_ca_with_ca_cert() {
    if !private_ca::openssl_installed() {
        crate::support::skip::skipped(
            "`openssl` is not installed, so no private CA can be made for the https receiver",
        );
        return;
    }
    let dir = temp("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let PrivateCa { ca, leaf, leaf_key } = private_ca::make(&dir);
    let scenario = dir.join("one-payment.toml");
    std::fs::write(&scenario, ONE_PAYMENT).unwrap();
    let https = contract_receiver(&["--tls", &leaf, &leaf_key]);
    assert!(https.base.starts_with("https://"), "{}", https.base);
    let (receiver, effects) = (format!("shop={}/webhook", https.base), format!("shop={}/effects", https.base));
    let bound = [scenario.to_str().unwrap(), "--receiver", &receiver, "--effects", &effects, "--time-scale", "10"];
    let (exit, err) = dispatch_refused(&bound);
    assert_eq!(exit, 2, "untrusted: {err}");
    assert!(err.contains("the effects of receiver \"shop\" cannot be read"), "{err}");
    let mut child =
        Command::new(BIN).arg("dispatch").args(bound).args(["--ca-cert", &ca]).stdout(Stdio::piped()).spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let (exit, out) = wait_bounded(child, out);
    assert_eq!(exit, 0, "{out}");
    assert!(out.contains("PASS  live   one-payment"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
