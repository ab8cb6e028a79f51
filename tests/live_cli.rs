//! `hooksim run FILE --receiver NAME=URL [--effects NAME=URL]` through the real binary, against
//! `hooksim receiver` started by the test: exit 0, 1 and 2, reports and trace files.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

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

#[test]
fn a_naive_receiver_fails_the_scenario_with_a_reproduce_line() {
    let naive = serve("naive");
    let mut args = vec![library("hold-and-release")];
    args.extend(bound("shop", &naive, true));
    let (code, out, err) = run(&args);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("FAIL  live"), "{out}");
    assert!(out.contains(&format!("reproduce: hooksim run {} --receiver shop=", library("hold-and-release"))), "{out}");
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
