//! `hooksim run --dispatcher "CMD"`: every scenario runs with that process in place of the
//! reference core; a process that breaks the protocol fails its run (exit 1, the trace so far,
//! its stderr), never panics; the reproduce line names the command.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_hooksim");

fn served() -> String {
    format!("{BIN} dispatcher --stdio")
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hooksim-run-dispatcher-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_reference_core_over_the_protocol_passes_on_both_engines() {
    let json = temp("ok").join("report.json");
    let out = Command::new(BIN)
        .args(["run", "scenarios/retry-through-5xx.toml", "scenarios/dispatcher-crash.toml", "--engine", "both"])
        .args(["--dispatcher", &served(), "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("4 passed, 0 failed"), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for run in report["scenarios"].as_array().unwrap() {
        assert_eq!(run["dispatcher"]["command"], served().as_str(), "{run}");
    }
}

#[test]
fn a_protocol_error_fails_the_run_with_the_trace_so_far_and_the_stderr() {
    let script = temp("bad").join("bad.sh");
    // Answers hello, then says something that is not a protocol message to the first change.
    std::fs::write(
        &script,
        "read hello\necho '{\"type\":\"hello\",\"version\":1}'\nread change\necho 'about to misbehave' >&2\necho 'not json'\nsleep 1\n",
    )
    .unwrap();
    let command = format!("sh {}", script.display());
    let out = Command::new(BIN)
        .args(["run", "scenarios/retry-through-5xx.toml", "--engine", "model", "--dispatcher", &command])
        .args(["--reply-timeout-ms", "5000"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stdout.contains("the engine stopped at"), "{stdout}");
    assert!(stdout.contains("dispatcher line 2: not a protocol message"), "{stdout}");
    assert!(stdout.contains("about to misbehave"), "the stderr tail is quoted: {stdout}");
    assert!(stdout.contains("the trace so far: 1 entries"), "the change was recorded: {stdout}");
    let reproduce = format!("--dispatcher {command:?} --reply-timeout-ms 5000");
    assert!(stdout.contains(&reproduce), "{stdout}");
}

#[test]
fn a_dispatcher_that_cannot_start_fails_every_run() {
    let out = Command::new(BIN)
        .args(["run", "scenarios/retry-through-5xx.toml", "--engine", "both", "--dispatcher", "/no/such/program"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("0 passed, 2 failed"), "{stdout}");
    assert!(stdout.contains("could not start the dispatcher `/no/such/program`"), "{stdout}");
}
