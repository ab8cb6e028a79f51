//! `hooksim certify sender` against real senders on loopback: the reference Python sender
//! (`examples/senders/snapbill_sender.py`) passes, and each of its `--defect`s fails exactly the
//! check that names it. Time is scaled by 100 (snapbill's 10 s, 1 min become 100 ms, 600 ms) and
//! every run is bounded by its `--budget` and killed if the binary outlives a minute.
//!
//! Skipped, with a message, where python3 is not installed.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

const SENDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/senders/snapbill_sender.py");
const SCALE: &str = "100";
const BUDGET: &str = "8s";
/// Generous: the machine may be loaded; the defects are off by far more than this.
const TOLERANCE_MS: &str = "200";
const RUN_WALL_MAX: Duration = Duration::from_secs(60);

fn python() -> bool {
    let found = Command::new("python3").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipped: python3 is not installed (the senders under test are Python scripts)");
    }
    found
}

struct Outcome {
    exit: i32,
    verdicts: BTreeMap<String, String>,
    report: Value,
}

impl Outcome {
    fn failed(&self) -> Vec<&str> {
        self.verdicts.iter().filter(|(_, v)| *v == "failed").map(|(k, _)| k.as_str()).collect()
    }

    fn not_observed(&self) -> Vec<&str> {
        self.verdicts.iter().filter(|(_, v)| *v == "not_observed").map(|(k, _)| k.as_str()).collect()
    }
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("hooksim-certify-sender-{}-{name}.json", std::process::id()))
}

/// Runs the binary with a trigger that starts the reference sender (with `sender_args`).
fn certify(name: &str, harness_args: &[&str], sender_args: &str) -> Outcome {
    let json = temp(name);
    let trigger = format!("exec python3 {SENDER} --time-scale {SCALE} --give-up-after 30 {sender_args}");
    let mut args = vec!["certify", "sender", "--listen", "127.0.0.1:0", "--time-scale", SCALE, "--budget", BUDGET];
    args.extend(["--tolerance-ms", TOLERANCE_MS, "--trigger", &trigger, "--json", json.to_str().unwrap()]);
    args.extend(harness_args);
    let output = run_bounded(&args);
    let text = std::fs::read_to_string(&json)
        .unwrap_or_else(|e| panic!("{name}: no JSON report ({e}); stdout:\n{}", output.1));
    let _ = std::fs::remove_file(&json);
    let report: Value = serde_json::from_str(&text).unwrap();
    let verdicts = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["verdict"].as_str().unwrap().to_string()))
        .collect();
    println!("{name}:\n{}", output.1);
    Outcome { exit: output.0, verdicts, report }
}

/// Exit status and standard output; the process is killed past [`RUN_WALL_MAX`].
fn run_bounded(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hooksim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    support::process::wait_bounded(child, stdout, RUN_WALL_MAX)
}

#[test]
fn the_reference_sender_passes_every_check_it_can_be_seen_to_pass() {
    if !python() {
        return;
    }
    let out = certify("reference", &[], "");
    assert_eq!(out.failed(), Vec::<&str>::new());
    assert_eq!(out.not_observed(), ["signature"], "only the signature, as no --secret was given");
    assert_eq!(out.exit, 0);
    assert_eq!(out.report["ended"], "settled", "every event settled within the budget");
}

#[test]
fn a_signed_sender_passes_the_signature_check_and_a_wrong_secret_fails_only_it() {
    if !python() {
        return;
    }
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let other = "whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=";
    let signed = format!("--secret {secret}");
    // The delivery id read from the signature's own header this time.
    let ok =
        certify("signed", &["--secret", secret, "--scheme", "standard-webhooks", "--id", "header:webhook-id"], &signed);
    assert_eq!(ok.verdicts["signature"], "passed");
    assert_eq!(ok.failed(), Vec::<&str>::new());
    let wrong = certify("wrong-secret", &["--secret", other, "--scheme", "standard-webhooks"], &signed);
    assert_eq!(wrong.failed(), ["signature"]);
    assert_eq!(wrong.exit, 1);
}

/// Each defect, and the checks it must fail: those and no other.
fn defect(name: &str, profile: &str, expected_failures: &[&str]) {
    if !python() {
        return;
    }
    let out = certify(name, &["--profile", profile], &format!("--profile {profile} --defect {name}"));
    assert_eq!(out.failed(), expected_failures, "{name}");
    assert_eq!(out.exit, 1, "{name}");
}

#[test]
fn a_sender_that_never_retries_fails_retried() {
    // Under snapbill a 410 is retried like any failure, so it fails `gone` as well; under
    // standard-webhooks, which stops at a 410, it fails `retried` alone.
    defect("no-retry", "snapbill", &["gone", "retried"]);
    defect("no-retry", "standard-webhooks", &["retried"]);
}

#[test]
fn a_sender_with_a_new_id_per_retry_fails_same_id() {
    defect("new-id-per-retry", "snapbill", &["same-id"]);
}

#[test]
fn a_sender_that_follows_redirects_fails_redirect_not_followed() {
    defect("follow-redirects", "snapbill", &["redirect-not-followed"]);
}

#[test]
fn a_sender_that_ignores_retry_after_fails_retry_after() {
    defect("ignore-retry-after", "standard-webhooks", &["retry-after"]);
}

#[test]
fn a_sender_that_retries_too_fast_fails_schedule() {
    defect("too-fast", "snapbill", &["schedule"]);
}

#[test]
fn the_standard_webhooks_reference_stops_at_410_and_honours_retry_after() {
    if !python() {
        return;
    }
    let out = certify("reference-sw", &["--profile", "standard-webhooks"], "--profile standard-webhooks");
    assert_eq!(out.failed(), Vec::<&str>::new());
    assert_eq!(out.verdicts["gone"], "passed");
    assert_eq!(out.verdicts["retry-after"], "passed");
    assert_eq!(out.exit, 0);
}

#[test]
fn events_sent_by_the_sender_on_its_own_are_certified_too() {
    if !python() {
        return;
    }
    // No --trigger: the test plays the product, sending six events once it knows the URL.
    let json = temp("own");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hooksim"))
        .args(["certify", "sender", "--listen", "127.0.0.1:0", "--time-scale", SCALE, "--budget", BUDGET])
        .args(["--tolerance-ms", TOLERANCE_MS, "--json", json.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    let url = url.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/webhook"), "the URL comes first: {url:?}");
    let send = |event: u32| {
        Command::new("python3")
            .args([
                SENDER,
                "--url",
                &url,
                "--event",
                &event.to_string(),
                "--time-scale",
                SCALE,
                "--give-up-after",
                "30",
            ])
            .spawn()
            .unwrap()
    };
    let mut first: Vec<_> = (1..=5).map(send).collect();
    for c in &mut first {
        c.wait().unwrap();
    }
    send(6).wait().unwrap();
    let status = child.wait().unwrap();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    let failed: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] == "failed")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, Vec::<&str>::new());
    assert_eq!(status.code(), Some(0));
}

#[test]
fn bad_flags_and_an_address_that_cannot_listen_exit_2() {
    for args in [
        &["certify", "sender", "--listen", "127.0.0.1:0", "--id", "uuid"][..],
        &["certify", "sender", "--listen", "127.0.0.1:0", "--profile", "nope"],
        &["certify", "sender", "--listen", "127.0.0.1:0", "--budget", "0s"],
        &["certify", "sender", "--listen", "127.0.0.1:0", "--secret", "whsec_", "--scheme", "standard-webhooks"],
        // TEST-NET-1: not an address of this machine, so it cannot be bound (nothing is sent).
        &["certify", "sender", "--listen", "192.0.2.1:8090"],
    ] {
        let (exit, _) = run_bounded(args);
        assert_eq!(exit, 2, "{args:?}");
    }
}

#[test]
fn a_failing_trigger_is_noted_and_what_did_not_arrive_is_not_observed() {
    let (exit, stdout) =
        run_bounded(&["certify", "sender", "--listen", "127.0.0.1:0", "--budget", "1s", "--trigger", "exit 3"]);
    assert!(stdout.contains("note: trigger for event 1 exited with exit status: 3"), "{stdout}");
    assert!(stdout.contains("note: the budget (1000 ms) ended the run"), "{stdout}");
    assert!(stdout.contains("0 passed, 0 failed, 11 not observed"), "{stdout}");
    assert_eq!(exit, 0, "nothing observed failed");
}
