//! Bad input to every command that reads files or takes a bounded flag (run, check, explore, merge,
//! sign, dispatch, certify receiver): exit 2 with a message,
//! never a panic, an abort or a hang. Flags at their caps run; past them (just past, and far past)
//! they are refused naming the flag and the cap. Named pipes and devices are refused unread.
//! Corrupt shard files are refused naming `file:line`. Signing refuses header injection. Each
//! command runs under a wall-clock bound that only guards against a hang.

use crate::support;

use serde_json::{Value, json};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::scratch::Scratch;

const BIN: &str = env!("CARGO_BIN_EXE_hooksim");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// A hang guard only: every refusal here is immediate.
const WALL_MAX: Duration = Duration::from_secs(120);
/// The explore count flags, each capped at `RATE_MAX`.
const RATE_FLAGS: [&str; 6] =
    ["--faults-max", "--latency-changes-max", "--reply-mixes-max", "--invoices-max", "--enables-max", "--delays-max"];

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `hooksim ARGS` with `stdin`, killed after [`WALL_MAX`]. Asserts no panic text on stderr.
fn hooksim_with(args: &[&str], stdin: &[u8]) -> Ran {
    let mut child = Command::new(BIN)
        .current_dir(ROOT)
        .args(args)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("HOOKSIM_SHARD_INDEX")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A refused invocation may exit before reading its input.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr_pipe, &mut text);
        text
    });
    let stdout = child.stdout.take().unwrap();
    let (code, stdout) = support::process::wait_bounded(child, stdout, WALL_MAX);
    let stderr = stderr_reader.join().unwrap();
    assert_ne!(code, -1, "hooksim {args:?} was still running after {WALL_MAX:?}");
    for panic_text in ["panicked", "RUST_BACKTRACE", "memory allocation"] {
        assert!(!stderr.contains(panic_text), "hooksim {args:?}: {stderr}");
    }
    Ran { code, stdout, stderr }
}

fn hooksim(args: &[&str]) -> Ran {
    hooksim_with(args, b"")
}

/// Asserts exit 2 with every one of `says` in the message.
fn refused(args: &[&str], says: &[&str]) -> String {
    let ran = hooksim(args);
    assert_eq!(ran.code, 2, "hooksim {args:?}:\n{}\n{}", ran.stdout, ran.stderr);
    for part in says {
        assert!(ran.stderr.contains(part), "hooksim {args:?} should say {part:?}:\n{}", ran.stderr);
    }
    ran.stderr
}

fn scratch(name: &str) -> Scratch {
    support::scratch::scratch("bad-input", name)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A named pipe at `dir/name` (nobody ever writes it: a reader would wait for ever).
fn fifo(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let made = Command::new("mkfifo").arg(&path).status().expect("mkfifo runs");
    assert!(made.success());
    path
}

#[test]
fn run_and_check_refuse_pipes_devices_and_flags_out_of_range() {
    let dir = scratch("run");
    let pipe = fifo(&dir, "pipe.toml");
    for command in ["run", "check"] {
        refused(&[command, s(&pipe)], &["not a regular file (a named pipe)"]);
        refused(&[command, "/dev/zero"], &["not a regular file (a device)"]);
    }
    let file = "scenarios/retry-through-5xx.toml";
    refused(&["run", file, "--trace-entries-max", "0"], &["--trace-entries-max"]);
    refused(&["run", file, "--dispatcher", "x", "--reply-timeout-ms", "0"], &["--reply-timeout-ms"]);
    refused(&["run", file, "--dispatcher", "x", "--inputs-per-run-max", "0"], &["--inputs-per-run-max"]);
    refused(&["run", file, "--inputs-per-run-max", "5"], &["--dispatcher"]);
}

#[test]
fn commands_that_reach_real_endpoints_refuse_a_pipe_or_device_as_a_file() {
    let dir = scratch("live");
    let pipe = fifo(&dir, "pipe.toml");
    let ca = fifo(&dir, "ca.pem");
    let (file, shop) = ("scenarios/retry-through-5xx.toml", "shop=http://127.0.0.1:9/webhook");
    refused(&["dispatch", "--receiver", shop, s(&pipe)], &["not a regular file (a named pipe)"]);
    refused(&["dispatch", "--receiver", shop, "/dev/zero"], &["not a regular file (a device)"]);
    let not_read = ["--ca-cert", "not a regular file (a named pipe)"];
    refused(&["dispatch", "--receiver", shop, "--ca-cert", s(&ca), file], &not_read);
    refused(&["run", file, "--receiver", shop, "--ca-cert", s(&ca)], &not_read);
    refused(&["certify", "receiver", "--url", "http://127.0.0.1:9/webhook", "--ca-cert", s(&ca)], &not_read);
    refused(&["certify", "receiver", "--url", "http://127.0.0.1:9/webhook", "--ca-cert", "/dev/zero"], &["--ca-cert"]);
    // A tolerance past its cap (it overflowed the hold's length, a panic).
    let sender = ["certify", "sender", "--listen", "127.0.0.1:0", "--trigger", "true", "--tolerance-ms"];
    refused(&[&sender[..], &["18446744073709551615"]].concat(), &["--tolerance-ms", "0..=3600000"]);
}

#[test]
fn explore_caps_each_count_flag() {
    let cap = hooksim::explore::nemesis::RATE_MAX.to_string();
    let help = hooksim(&["explore", "--help"]).stdout;
    for flag in RATE_FLAGS {
        for past in [(hooksim::explore::nemesis::RATE_MAX + 1).to_string(), "100000000".to_string()] {
            refused(&["explore", "--seeds", "0..1", flag, &past], &[flag, &format!("0..={cap}")]);
        }
        // At the cap: accepted and run (a template world for --invoices-max, which adds invoices
        // only to built-in worlds: a thousand of them take a debug build half a minute).
        let at = ["explore", "scenarios/retry-through-5xx.toml", "--seeds", "0..1", "--rerun-every", "0", flag, &cap];
        let ran = hooksim(&at);
        assert!(ran.code == 0 || ran.code == 1, "{at:?}: {}", ran.stderr);
        assert!(ran.stdout.contains("seeds 0..1"), "{at:?}: {}", ran.stdout);
    }
    assert_eq!(help.matches(&format!("at most {cap}")).count(), RATE_FLAGS.len(), "--help names each cap: {help}");
    let docs = std::fs::read_to_string(format!("{ROOT}/docs/explore.md")).unwrap();
    assert!(
        docs.contains(&format!("at most {}", "1000")) && docs.contains("RATE_MAX"),
        "docs/explore.md names the cap"
    );
}

#[test]
fn explore_refuses_pipes_devices_and_other_bad_flags() {
    let dir = scratch("explore");
    let pipe = fifo(&dir, "pipe.toml");
    refused(&["explore", s(&pipe), "--seeds", "0..1"], &["not a regular file (a named pipe)", "nothing was run"]);
    refused(&["explore", "/dev/zero", "--seeds", "0..1"], &["not a regular file (a device)"]);
    refused(&["explore", s(&dir), "--seeds", "0..1"], &["not a regular file (a folder)"]);
    refused(&["explore", "--seeds", "5..5"], &["--seeds"]);
    refused(&["explore", "--seeds", "0..1", "--shard", "0/0"], &["--shard"]);
    refused(&["explore", "--seeds", "0..1", "--shard", "0/18446744073709551615"], &["--shard", "SHARDS_MAX"]);
    refused(&["explore", "--seeds", "0..1", "--trace-entries-max", "0"], &["--trace-entries-max"]);
    refused(
        &["explore", "--seeds", "0..1", "--dispatcher", "x", "--inputs-per-run-max", "0"],
        &["--inputs-per-run-max"],
    );
    refused(&["explore", "--seeds", "0..1", "--dispatcher", "x", "--reply-timeout-ms", "0"], &["--reply-timeout-ms"]);
    let jobs_max = hooksim::explore::search::JOBS_MAX;
    for jobs in ["0".to_string(), (jobs_max + 1).to_string(), "18446744073709551615".to_string()] {
        refused(&["explore", "--seeds", "0..1", "--jobs", &jobs], &["--jobs", &format!("1..={jobs_max}")]);
    }
}

/// A real out file of `explore --seeds 0..3` (one shard of one), as JSON values per line.
fn good_out_file(dir: &Path) -> Vec<Value> {
    let path = dir.join("good.jsonl");
    let ran = hooksim(&["explore", "--seeds", "0..3", "--out", s(&path)]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(hooksim(&["merge", s(&path)]).code, 0, "the good file merges");
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn write_lines(path: &Path, lines: &[Value]) {
    let text: String = lines.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(path, text).unwrap();
}

#[test]
fn merge_refuses_corrupt_shard_files_naming_the_line() {
    let dir = scratch("merge");
    let good = good_out_file(&dir);
    let bad = dir.join("bad.jsonl");
    let name = s(&bad);
    let with = |edit: &dyn Fn(&mut Vec<Value>)| {
        let mut lines = good.clone();
        edit(&mut lines);
        write_lines(&bad, &lines);
    };
    // The manifest (line 1).
    let manifest_cases: [(&str, Value, &str); 9] = [
        ("/manifest/shard/total", json!(0), "`shard` 0/0 is not a shard"),
        ("/manifest/shard/total", json!(u64::MAX), "is not a shard"),
        ("/manifest/shard/index", json!(5), "`shard` 5/1 is not a shard"),
        ("/manifest/rates/faults_max", json!(100_000_000), "--faults-max 100000000"),
        ("/manifest/engine", json!("quantum"), "`engine` is \"quantum\""),
        ("/manifest/binary_sha256", json!("abc"), "`binary_sha256`"),
        ("/manifest/seeds/end", json!(0), "`seeds` 0..0 is empty"),
        ("/manifest/shard_seeds/end", json!(99), "`shard_seeds`"),
        ("/manifest/trace_entries_max", json!(0), "a budget"),
    ];
    for (pointer, value, says) in manifest_cases {
        with(&|lines| {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            lines[0].pointer_mut(parent).unwrap()[key] = value.clone();
        });
        refused(&["merge", name], &[&format!("{name}:1: manifest: "), says, "nothing was merged"]);
    }
    with(&|lines| lines[0]["manifest"]["colour"] = json!("blue"));
    refused(&["merge", name], &[&format!("{name}:1: not an explore manifest"), "unknown field `colour`"]);

    // The seeds' lines (2 to 4): an unknown verdict, a fail without a signature, an unknown field
    // once merged as "3 passed, 0 failed".
    with(&|lines| {
        lines[1]["verdict"] = json!("maybe");
        lines[2]["verdict"] = json!("fail");
        lines[3]["mood"] = json!("fine");
    });
    refused(
        &["merge", name],
        &[
            &format!("{name}:2: seed 0: unknown verdict \"maybe\""),
            &format!("{name}:3: seed 1: verdict \"fail\" without a failure signature"),
            &format!("{name}:4: not a seed result: unknown field `mood`"),
        ],
    );
    let row_cases: [(&str, Value, &str); 5] = [
        ("signatures", json!(["body-stale"]), "verdict \"pass\" with failure signatures"),
        ("trace_hash", json!("xyz"), "`trace_hash` is not 32 hex digits"),
        ("stopped", json!("why"), "`stopped` without the engine-stopped signature"),
        ("seed", json!(-1), "not a seed result"),
        ("signatures", json!("body-stale"), "not a seed result"),
    ];
    for (field, value, says) in row_cases {
        with(&|lines| lines[2][field] = value.clone());
        refused(&["merge", name], &[&format!("{name}:3: "), says]);
    }
    with(&|lines| {
        lines[2]["verdict"] = json!("fail");
        lines[2]["signatures"] = json!(["z-last", "a-first"]);
    });
    refused(&["merge", name], &[&format!("{name}:3: seed 1: signatures not sorted and distinct")]);
    with(&|lines| {
        lines[2]["verdict"] = json!("fail");
        lines[2]["signatures"] = json!(["Body Stale"]);
    });
    refused(&["merge", name], &[&format!("{name}:3: seed 1: \"Body Stale\" is not a failure signature")]);

    // Whole files: empty, not JSON, not UTF-8, a missing seed.
    std::fs::write(&bad, "").unwrap();
    refused(&["merge", name], &["empty (no manifest)"]);
    std::fs::write(&bad, "{{{\n").unwrap();
    refused(&["merge", name], &[&format!("{name}:1: not an explore manifest")]);
    std::fs::write(&bad, b"\xff\xfe\n").unwrap();
    refused(&["merge", name], &["not UTF-8"]);
    with(&|lines| {
        lines.remove(2);
    });
    refused(&["merge", name], &["should hold seeds 0..3 once each"]);
}

#[test]
fn merge_refuses_pipes_and_devices_unread() {
    let dir = scratch("merge-special");
    let pipe = fifo(&dir, "shard.jsonl");
    refused(&["merge", s(&pipe)], &["not a regular file (a named pipe)"]);
    refused(&["merge", "/dev/zero"], &["not a regular file (a device)"]);
    refused(&["merge", s(&dir)], &["not a regular file (a folder)"]);
}

#[test]
fn sign_refuses_header_injection_and_bad_timestamps() {
    let secret = ["sign", "--scheme", "github", "--secret", "k"];
    let cases: [(&[&str], &str); 5] = [
        (&["--id", "d1\r\nx-injected: yes"], "control character"),
        (&["--id", "d1\nx"], "control character"),
        (&["--url", "http://a/\r\nx"], "control character"),
        (&["--timestamp", "-1"], "0..=253402300799"),
        (&["--timestamp", "99999999999999"], "0..=253402300799"),
    ];
    for (extra, says) in cases {
        let args = [&secret[..], extra].concat();
        let ran = hooksim_with(&args, b"{}");
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.contains(says) && ran.stdout.is_empty(), "{args:?}: {}", ran.stderr);
    }
}
