//! `hooksim run` and `hooksim check` through the real binary: exit statuses, reports, traces.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hooksim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hooksim")).args(args).output().expect("the binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hooksim-run-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A library scenario with its `exactly = 1` delivery raised to 2: it must fail.
fn failing_copy(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string("scenarios/out-of-order.toml").unwrap();
    let broken = text.replacen("exactly = 1", "exactly = 2", 1);
    assert_ne!(text, broken, "the scenario has an exact count to break");
    let path = dir.join("broken.toml");
    std::fs::write(&path, broken).unwrap();
    path
}

#[test]
fn a_passing_run_exits_0_and_writes_json_junit_and_traces() {
    let dir = scratch("pass");
    let (json, junit, traces) = (dir.join("reports/r.json"), dir.join("reports/junit/r.xml"), dir.join("traces"));
    let out = hooksim(&[
        "run",
        "scenarios/out-of-order.toml",
        "scenarios/partition-heals.toml",
        "--engine",
        "both",
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--trace",
        traces.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert_eq!(stdout.lines().filter(|l| l.starts_with("PASS")).count(), 4, "{stdout}");
    assert!(stdout.trim_end().ends_with("4 passed, 0 failed"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!((report["passed"].as_u64(), report["failed"].as_u64()), (Some(4), Some(0)));
    let first = &report["scenarios"][0];
    for key in ["name", "file", "engine", "seed", "passed", "sim_elapsed_ms", "wall_us", "attempts", "trace_sha256"] {
        assert!(!first[key].is_null(), "{key} missing in {first}");
    }
    assert_eq!(first["trace_sha256"].as_str().unwrap().len(), 64);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase").count(), 4, "{xml}");
    let trace = std::fs::read_to_string(traces.join("out-of-order.net.seed13.jsonl")).unwrap();
    assert!(trace.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    assert!(traces.join("partition-heals.model.seed3.jsonl").exists());
}

#[test]
fn a_failed_expectation_exits_1_and_says_how_to_reproduce_it() {
    let dir = scratch("fail");
    let broken = failing_copy(&dir);
    let out = hooksim(&["run", broken.to_str().unwrap(), "--engine", "model", "--seed", "42"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  model"), "{stdout}");
    assert!(stdout.contains("expected exactly 2"), "{stdout}");
    let reproduce = format!("reproduce: hooksim run {} --engine model --seed 42", broken.display());
    assert!(stdout.contains(&reproduce), "{stdout}");
}

#[test]
fn bad_input_exits_2_and_runs_nothing() {
    let dir = scratch("bad");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nrun_for = \"soon\"\n").unwrap();
    let out = hooksim(&["run", bad.to_str().unwrap(), "scenarios/out-of-order.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("{}:2:11:", bad.display())), "{stderr}");
    assert!(stderr.contains("nothing was run"), "{stderr}");
    assert!(!text(&out.stdout).contains("PASS"), "a valid file beside a broken one does not run either");
    assert_eq!(hooksim(&["run", "--engine", "sometimes"]).status.code(), Some(2));
    assert_eq!(hooksim(&["check", bad.to_str().unwrap()]).status.code(), Some(2));
    assert_eq!(hooksim(&["check"]).status.code(), Some(0));
}

/// Trace files are named by file stem, engine and seed: two files that share a scenario `name`,
/// or a stem in two folders, each keep their trace.
#[test]
fn trace_files_never_overwrite_each_other() {
    let dir = scratch("trace-names");
    let scenario = std::fs::read_to_string("scenarios/out-of-order.toml").unwrap();
    for rel in ["a.toml", "b.toml", "one/c.toml", "two/c.toml"] {
        let path = dir.join("in").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &scenario).unwrap();
    }
    let traces = dir.join("traces");
    let out = hooksim(&[
        "run",
        dir.join("in").to_str().unwrap(),
        "--engine",
        "model",
        "--seed",
        "5",
        "--trace",
        traces.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    let mut names: Vec<String> =
        std::fs::read_dir(&traces).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        ["a.model.seed5.jsonl", "b.model.seed5.jsonl", "c-2.model.seed5.jsonl", "c.model.seed5.jsonl"],
        "one trace file per run"
    );
}

/// Runs the binary, killed if it has not finished after a minute: a hang is a failure, not a
/// test that never ends.
fn hooksim_bounded(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hooksim"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    for _ in 0..600 {
        if child.try_wait().expect("waiting works").is_some() {
            return child.wait_with_output().expect("the output is read");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("the output is read");
    panic!("hooksim {args:?} did not finish within a minute; stderr: {}", text(&out.stderr));
}

/// A folder is walked at every depth, a symbolic link that loops back is reported (not walked
/// forever), and every bad file is named, not just the first.
#[test]
fn folder_checks_walk_subfolders_survive_link_loops_and_name_every_bad_file() {
    let dir = scratch("walk");
    let good = std::fs::read_to_string("scenarios/out-of-order.toml").unwrap();
    std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    std::fs::write(dir.join("good.toml"), &good).unwrap();
    std::fs::write(dir.join("sub/deeper/nested.toml"), &good).unwrap();
    std::fs::write(dir.join("sub/bad.toml"), "name = \"x\"\nrun_for = \"soon\"\n").unwrap();
    std::fs::write(dir.join("sub/deeper/worse.toml"), "name = [\n").unwrap();
    std::os::unix::fs::symlink("..", dir.join("sub/deeper/up")).unwrap();
    let folder = dir.to_str().unwrap();
    let out = hooksim_bounded(&["check", folder]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for bad in ["sub/bad.toml", "sub/deeper/worse.toml"] {
        assert!(stderr.contains(&format!("  bad: {}", dir.join(bad).display())), "{bad} named in {stderr}");
    }
    assert!(stderr.contains("a symbolic link loops back to"), "{stderr}");
    assert!(stderr.contains("(4 scenario file(s) found)"), "the nested good file was found too: {stderr}");
    let out = hooksim_bounded(&["run", folder, "--engine", "model"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nothing was run"));
    let help = text(&hooksim(&["run", "--help"]).stdout);
    assert!(help.contains("at every depth"), "{help}");
}

/// What is not a regular file is refused before it is opened (a named pipe would block, a device
/// never end), alone or found in a folder; a regular file is read up to
/// `SCENARIO_FILE_BYTES_MAX` bytes and no further.
#[test]
fn special_and_oversized_files_are_refused_not_read_forever() {
    let dir = scratch("special");
    std::fs::create_dir_all(dir.join("folder")).unwrap();
    let pipe = dir.join("folder/pipe.toml");
    let made = Command::new("mkfifo").arg(&pipe).status().expect("mkfifo runs");
    assert!(made.success());
    for path in [pipe.to_str().unwrap(), "/dev/zero", "/dev/urandom"] {
        let out = hooksim_bounded(&["check", path]);
        assert_eq!(out.status.code(), Some(2), "{path}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("{path}:1:1: not a regular file")), "{stderr}");
    }
    let out = hooksim_bounded(&["check", dir.join("folder").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a regular file (a named pipe)"), "{}", text(&out.stderr));

    let big = dir.join("big.toml");
    let limit = hooksim::scenario::SCENARIO_FILE_BYTES_MAX as usize;
    std::fs::write(&big, format!("# {}\n", "x".repeat(limit))).unwrap();
    let out = hooksim_bounded(&["check", big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("larger than SCENARIO_FILE_BYTES_MAX"), "{}", text(&out.stderr));
}

/// Retries every millisecond against a receiver that always fails, for a month: without a
/// budget the trace grows until memory runs out.
const BLOW_UP: &str = r#"
name = "blow-up"
description = "Retries every millisecond against a receiver that always fails, for a month."
seed = 1
run_for = "30d"

[policy]
retries = ["1ms"]
warn_after = "365d"
disable_after = "366d"
attempt_timeout = "5s"
attempts_max = "never"
retry_window = "never"

[webhooks.shop]
url = "http://shop/webhook"
owner = "dev@shop.example"

[receivers.shop]
kind = "dedup"
behaviour = "500"

[[timeline]]
at = "0s"
add_client = { id = 1 }
"#;

/// The trace budget stops a run that would record without end, on both engines, with a clear
/// error; the reports and the trace file keep the trace up to the budget.
#[test]
fn the_trace_budget_stops_a_run_that_would_grow_without_end() {
    let dir = scratch("budget");
    let file = dir.join("blow-up.toml");
    std::fs::write(&file, BLOW_UP).unwrap();
    let (json, traces) = (dir.join("r.json"), dir.join("traces"));
    let out = hooksim_bounded(&[
        "run",
        file.to_str().unwrap(),
        "--engine",
        "both",
        "--trace-entries-max",
        "3000",
        "--json",
        json.to_str().unwrap(),
        "--trace",
        traces.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert_eq!(stdout.matches("the trace reached its budget of 3000 entries").count(), 2, "{stdout}");
    assert!(stdout.contains("--engine net --seed 1 --trace-entries-max 3000"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for run in report["scenarios"].as_array().unwrap() {
        assert_eq!(run["failures"][0]["trace_entries"].as_u64(), Some(3000), "{run}");
        assert!(run["attempts"].as_u64().unwrap() > 500, "{run}");
    }
    for engine in ["net", "model"] {
        let trace = std::fs::read_to_string(traces.join(format!("blow-up.{engine}.seed1.jsonl"))).unwrap();
        let back = hooksim::trace::Trace::from_json_lines(&trace).unwrap();
        assert_eq!(back.len(), 3000, "{engine}");
    }
}

/// `hooksim run | head`: the reader leaves early. The run goes on quietly, writes its reports
/// and exits as usual, never panicking on the closed pipe.
#[test]
fn a_reader_that_closes_the_pipe_early_costs_no_panic() {
    let dir = scratch("closed-pipe");
    let json = dir.join("report.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hooksim"))
        .args(["run", "scenarios", "--engine", "model", "--json"])
        .arg(&json)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(json.exists(), "the report is written though nobody read the lines");
}
