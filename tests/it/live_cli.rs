//! `hooksim run FILE --receiver NAME=URL [--effects NAME=URL]` through the real binary, against
//! `hooksim receiver` started by the test: exit 0, 1 and 2, reports and trace files.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use support::private_ca::{self, PrivateCa};

const HOOKSIM: &str = env!("CARGO_BIN_EXE_hooksim");

/// A `hooksim receiver` on loopback; killed when dropped (and it stops by itself after a minute).
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(kind: &str) -> Served {
    let mut child = Command::new(HOOKSIM)
        .args(["receiver", "--listen", "127.0.0.1:0", "--kind", kind, "--serve-for-ms", "60000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // `hooksim certify receiver --url http://127.0.0.1:PORT/webhook --effects-url ...`
    let url = first.split_whitespace().nth(4).unwrap_or_default();
    let base = url.strip_suffix("/webhook").unwrap_or_else(|| panic!("{first}")).to_string();
    Served { child, base }
}

/// `examples/receivers/contract_receiver.py` with `args`; killed when dropped.
fn python(args: &[&str]) -> Served {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/receivers/contract_receiver.py");
    let mut child =
        Command::new("python3").arg(script).args(args).stdout(Stdio::piped()).spawn().expect("python3 runs");
    let mut base = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut base).unwrap();
    Served { child, base: base.trim().to_string() }
}

fn library(name: &str) -> String {
    format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-live-{name}", std::process::id()))
}

/// Exit status, stdout, stderr.
fn run(args: &[String]) -> (i32, String, String) {
    let out = Command::new(HOOKSIM).arg("run").args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn bound(name: &str, served: &Served, effects: bool) -> Vec<String> {
    let mut flags = vec!["--receiver".to_string(), format!("{name}={}/webhook", served.base)];
    if effects {
        flags.extend(["--effects".to_string(), format!("{name}={}/effects", served.base)]);
    }
    flags
}

#[test]
fn a_library_scenario_passes_against_hooksim_receiver_with_reports_and_a_trace() {
    let dedup = serve("dedup");
    let (json, junit, traces) = (tmp("report.json"), tmp("report.xml"), tmp("traces"));
    let mut args = vec![library("hold-and-release")];
    args.extend(bound("shop", &dedup, true));
    args.extend(["--json".into(), json.display().to_string(), "--junit".into(), junit.display().to_string()]);
    args.extend(["--trace".into(), traces.display().to_string()]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("PASS  live   hold-and-release"), "{out}");
    assert!(!out.contains("NOT VERIFIED"), "{out}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["scenarios"][0]["engine"], "live");
    assert_eq!(report["scenarios"][0]["not_verified"], serde_json::json!([]));
    assert!(std::fs::read_to_string(&junit).unwrap().contains("hold-and-release [live]"));
    let trace = std::fs::read_to_string(traces.join("hold-and-release.live.seed18.jsonl")).unwrap();
    let read = hooksim::trace::Trace::from_json_lines(&trace).unwrap();
    assert!(read.entries().iter().any(|e| matches!(e.event, hooksim::trace::TraceEvent::ReceiverActed { .. })));
}

/// The reproduce line repeats the bindings and the settle flags given, not those left at their
/// default (`--effects-wait-max-ms 10000` is the default).
#[test]
fn a_naive_receiver_fails_the_scenario_with_a_reproduce_line() {
    let naive = serve("naive");
    let mut args = vec![library("hold-and-release")];
    args.extend(bound("shop", &naive, true));
    args.extend(["--effects-quiet-ms", "100", "--effects-wait-max-ms", "10000"].map(String::from));
    let (code, out, err) = run(&args);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("FAIL  live"), "{out}");
    assert!(out.contains(&format!("reproduce: hooksim run {} --receiver shop=", library("hold-and-release"))), "{out}");
    let effects = format!("--effects shop={}/effects", naive.base);
    assert!(out.contains(&format!("{effects} --effects-quiet-ms 100 --seed 18\n")), "{out}");
    assert!(!out.contains("--effects-wait-max-ms"), "{out}");
}

#[test]
fn without_effects_the_acts_are_loudly_not_verified() {
    let dedup = serve("dedup");
    let json = tmp("not-verified.json");
    let mut args = vec![library("hold-and-release"), "--json".into(), json.display().to_string()];
    args.extend(bound("shop", &dedup, false));
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "every verified expectation passed: {out}{err}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let listed = &report["scenarios"][0]["not_verified"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{report}");
    assert!(listed[0]["why"].as_str().unwrap_or_default().contains("acted"), "{listed}");
    assert!(out.contains("(1 not verified)"), "{out}");
    assert!(out.contains("NOT VERIFIED: 1 expectation(s)"), "{out}");
}

/// A scenario whose every expectation is about acts nobody can see judged nothing: it fails
/// (exit 1) and says why, instead of passing on no evidence.
#[test]
fn a_scenario_with_nothing_verifiable_fails_never_passes() {
    let dedup = serve("dedup");
    let file = tmp("only-acts.toml");
    std::fs::write(
        &file,
        r#"name = "only-acts"
description = "Every expectation is about acts."
seed = 1
run_for = "1m"

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

[[expect]]
acted = "shop"
action = "fulfil invoice 4"
exactly = 1
"#,
    )
    .unwrap();
    let mut args = vec![file.display().to_string()];
    args.extend(bound("shop", &dedup, false));
    let (code, out, err) = run(&args);
    assert_eq!(code, 1, "nothing verified is not a pass: {out}{err}");
    assert!(out.contains("0 passed, 1 failed"), "{out}");
    assert!(out.contains("none could be seen"), "{out}");
    assert!(out.contains("--effects NAME=URL"), "{out}");
}

#[test]
fn binding_a_scripted_or_crashed_receiver_is_bad_input() {
    let dedup = serve("dedup");
    for (file, says) in [
        ("week-of-failure-disables", "scripts its replies (`behaviour = \"then 500\"`)"),
        ("receiver-crash", "hooksim cannot crash a real process"),
        ("path-filters", "receiver \"crm\" gets deliveries but is not bound"),
    ] {
        let first = if file == "path-filters" { "billing" } else { "shop" };
        let mut args = vec![library(file)];
        args.extend(bound(first, &dedup, false));
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{file}: {out}{err}");
        assert!(err.contains(says), "{file}: {err}");
        assert!(err.contains("nothing was run"), "{err}");
        assert!(out.is_empty(), "{out}");
    }
}

/// A bound receiver's `secret` in the file is refused (the endpoint verifies with its own key),
/// naming the receiver and the field; the same receiver URL with a file without it runs.
#[test]
fn a_bound_receiver_with_the_files_secret_is_bad_input() {
    let dedup = serve("dedup");
    let mut args = vec![library("signed-svix-verified")];
    args.extend(bound("shop", &dedup, false));
    let (code, out, err) = run(&args);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("receiver \"shop\" verifies signatures with the file's `secret`"), "{err}");
    assert!(err.contains("nothing was run"), "{err}");
}

#[test]
fn engine_and_receiver_flags_do_not_mix_and_bad_values_are_named() {
    let (code, _, err) = run(&[
        library("partition-heals"),
        "--engine".into(),
        "model".into(),
        "--receiver".into(),
        "shop=http://127.0.0.1:9/".into(),
    ]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&[library("partition-heals"), "--receiver".into(), "shop".into()]);
    assert_eq!(code, 2);
    assert!(err.contains("--receiver \"shop\": expected NAME=URL"), "{err}");
}

/// `--effects-quiet-ms` and `--effects-wait-max-ms` are the live run's settle window: a receiver
/// that answers at once and acts from a queue 200 ms later is seen to act within a 2 s quiet
/// window, and not at all when the lists are read once, at once (negative control).
#[test]
fn the_effects_settle_window_is_the_run_flags() {
    let queue = python(&["--defect", "queue"]);
    let mut args = vec![library("hold-and-release")];
    args.extend(bound("shop", &queue, true));
    let flags = |quiet: &str, max: &str| {
        ["--effects-quiet-ms".to_string(), quiet.into(), "--effects-wait-max-ms".into(), max.into()]
    };
    let (code, out, err) = run(&[args.clone(), flags("0", "0").to_vec()].concat());
    assert_eq!(code, 1, "read at once, the queued act is not seen: {out}{err}");
    assert!(out.contains("acted"), "{out}");
    let fresh = python(&["--defect", "queue"]);
    let mut args = vec![library("hold-and-release")];
    args.extend(bound("shop", &fresh, true));
    let (code, out, err) = run(&[args, flags("2000", "20000").to_vec()].concat());
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn bad_settle_and_ca_flags_are_named() {
    let (code, _, err) = run(&[
        library("hold-and-release"),
        "--receiver".into(),
        "shop=http://127.0.0.1:9/".into(),
        "--effects-quiet-ms".into(),
        "soon".into(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("'--effects-quiet-ms <EFFECTS_QUIET_MS>'"), "{err}");
    let (code, _, err) = run(&[library("hold-and-release"), "--effects-wait-max-ms".into(), "100".into()]);
    assert_eq!(code, 2, "a settle flag without --effects: {err}");
    assert!(err.contains("--effects"), "{err}");
    let bound_only = [library("hold-and-release"), "--receiver".into(), "shop=http://127.0.0.1:9/".into()];
    let (code, _, err) = run(&[bound_only.to_vec(), vec!["--effects-quiet-ms".into(), "100".into()]].concat());
    assert_eq!(code, 2, "a settle flag with --receiver but no --effects settles nothing: {err}");
    assert!(err.contains("--effects <NAME=URL>"), "{err}");
    let (code, _, err) = run(&[library("hold-and-release"), "--ca-cert".into(), "ca.pem".into()]);
    assert_eq!(code, 2, "--ca-cert without --receiver: {err}");
    assert!(err.contains("--receiver"), "{err}");
    let not_pem = library("hold-and-release");
    for (file, says) in
        [(tmp("no-such.pem").display().to_string(), "--ca-cert "), (not_pem.clone(), "no PEM certificate")]
    {
        let (code, out, err) = run(&[
            library("hold-and-release"),
            "--receiver".into(),
            "shop=http://127.0.0.1:9/".into(),
            "--ca-cert".into(),
            file.clone(),
        ]);
        assert_eq!(code, 2, "{file}: {out}{err}");
        assert!(err.contains(&format!("--ca-cert {file}")) && err.contains(says), "{err}");
        assert!(err.contains("nothing was run"), "{err}");
    }
}

/// `--ca-cert` is trusted by the run: an https receiver behind a private CA passes with it, and
/// without it its effects list cannot be read (bad input, nothing runs). Run again with the same
/// seed, the receiver skips the uuids it has seen and the scenario fails: its reproduce line
/// carries `--ca-cert`.
#[test]
fn a_private_ca_receiver_runs_with_ca_cert() {
    if !private_ca::openssl_installed() {
        crate::support::skip::skipped(
            "`openssl` is not installed, so no private CA can be made for the https receiver",
        );
        return;
    }
    let dir = tmp("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let PrivateCa { ca, leaf, leaf_key } = private_ca::make(&dir);
    let https = python(&["--tls", &leaf, &leaf_key]);
    assert!(https.base.starts_with("https://"), "{}", https.base);
    let mut args = vec![library("hold-and-release")];
    args.extend(bound("shop", &https, true));
    let (code, out, err) = run(&args);
    assert_eq!(code, 2, "untrusted: {out}{err}");
    assert!(err.contains("the effects of receiver \"shop\" cannot be read"), "{err}");
    args.extend(["--ca-cert".into(), ca.clone()]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("PASS  live   hold-and-release"), "{out}");
    let (code, out, err) = run(&args);
    assert_eq!(code, 1, "the same uuids again are skipped: {out}{err}");
    assert!(out.contains(&format!("/effects --ca-cert {ca} --seed 18\n")), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
