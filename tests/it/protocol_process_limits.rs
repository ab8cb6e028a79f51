//! A dispatcher process cannot outlast its run: a runaway one (retries every second, for ever) is
//! stopped by a named budget in `run` and `explore`, with the reason carried to every report;
//! a process's own children end with it. Negative controls in Python
//! (`tests/fixtures/dispatchers/hostile.py`); each test skips, saying so, without python3.

use crate::support;

use std::process::Command;
use std::time::Duration;
use support::scratch::Scratch;

const BIN: &str = env!("CARGO_BIN_EXE_hooksim");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Fails for nine days: a dispatcher that never gives up sends an attempt a second.
const FAILING: &str = "scenarios/week-of-failure-disables.toml";
/// A hang guard only: the runaway ends in seconds.
const WALL_MAX: Duration = Duration::from_secs(600);

fn hostile(habit: &str) -> Option<String> {
    let found = Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        crate::support::skip::skipped("python3 is not installed, so no hostile dispatcher runs");
        return None;
    }
    Some(format!("python3 {ROOT}/tests/fixtures/dispatchers/hostile.py {habit}"))
}

fn scratch(name: &str) -> Scratch {
    support::scratch::scratch("process-limits", name)
}

/// `hooksim ARGS` in the crate's root, killed after [`WALL_MAX`]: (exit code, stdout, stderr).
fn hooksim(args: &[&str]) -> (i32, String, String) {
    let mut command = Command::new(BIN);
    command.current_dir(ROOT).args(args).env_remove("JOB_COMPLETION_INDEX");
    let (code, out, err) = support::process::output_bounded(&mut command, WALL_MAX);
    assert_ne!(code, -1, "hooksim {args:?} was still running after {WALL_MAX:?}");
    assert!(!err.contains("panicked"), "{err}");
    (code, out, err)
}

#[test]
fn a_runaway_dispatcher_is_stopped_by_the_inputs_budget_in_run() {
    let Some(dispatcher) = hostile("--retry-every-second") else { return };
    let json = scratch("run").join("report.json");
    let (code, out, err) = hooksim(&[
        "run",
        FAILING,
        "--engine",
        "both",
        "--dispatcher",
        &dispatcher,
        "--inputs-per-run-max",
        "20000",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(
        out.matches("the run sent the dispatcher process its budget of 20000 inputs").count(),
        2,
        "each engine stops: {out}"
    );
    assert!(out.contains("INPUTS_PER_RUN_MAX"), "the limit is named: {out}");
    assert!(out.contains("--inputs-per-run-max 20000"), "the reproduce line keeps the budget: {out}");
    let report = std::fs::read_to_string(&json).unwrap();
    assert!(report.contains("INPUTS_PER_RUN_MAX") && report.contains(r#""inputs_max": 20000"#), "{report}");
}

#[test]
fn a_runaway_dispatcher_is_stopped_in_explore_and_every_report_says_why() {
    let Some(dispatcher) = hostile("--retry-every-second") else { return };
    let dir = scratch("explore");
    let out_file = dir.join("out.jsonl");
    // The default budget: one seed ends in seconds, not minutes.
    let (code, out, err) = hooksim(&[
        "explore",
        FAILING,
        "--seeds",
        "0..1",
        "--faults-max",
        "0",
        "--dispatcher",
        &dispatcher,
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    let budget = "the run sent the dispatcher process its budget of 100000 inputs at ";
    assert!(out.contains("engine-stopped: 1 seed(s)") && out.contains(budget), "the summary says why: {out}");
    let lines = std::fs::read_to_string(&out_file).unwrap();
    assert!(lines.contains(r#""stopped":"#) && lines.contains("INPUTS_PER_RUN_MAX"), "the out file says why: {lines}");
    // The merged report keeps the reason of the first seed that stopped.
    let (code, out, err) = hooksim(&["merge", out_file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("seed 0: ") && out.contains("INPUTS_PER_RUN_MAX"), "{out}");
}

#[test]
fn a_shrunk_runaway_stops_the_same_way_and_its_files_say_why() {
    let Some(dispatcher) = hostile("--retry-every-second") else { return };
    let shrunk = scratch("shrink");
    let (code, out, err) = hooksim(&[
        "explore",
        FAILING,
        "--seeds",
        "0..1",
        "--faults-max",
        "0",
        "--dispatcher",
        &dispatcher,
        "--inputs-per-run-max",
        "2000",
        "--shrink",
        shrunk.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("--inputs-per-run-max 2000"), "the reproduce line keeps the budget: {out}");
    // Not a world cut until its invoice names no client (which stops too, for another reason).
    let toml = std::fs::read_to_string(shrunk.join("engine-stopped.seed0.toml")).unwrap();
    assert!(toml.contains("INPUTS_PER_RUN_MAX") && !toml.contains("no client"), "the shrunk file says why: {toml}");
    let page = std::fs::read_to_string(shrunk.join("engine-stopped.seed0.html")).unwrap();
    assert!(page.contains("INPUTS_PER_RUN_MAX"), "the shrunk page says why");
}

/// How many pids `file` lists, when each names a process that is gone (or a zombie waiting to be
/// reaped by whoever adopted it: it runs no more). A child that outlived its run is killed here
/// (by its own pid), so that a failing test leaves nothing behind.
fn all_gone(file: &std::path::Path) -> Result<usize, String> {
    let pids = std::fs::read_to_string(file).map_err(|e| format!("no pid file: {e}"))?;
    let outlived: Vec<String> = pids
        .lines()
        .filter(|pid| !support::process::gone_within(pid, std::time::Duration::from_secs(5)))
        .map(str::to_string)
        .collect();
    if outlived.is_empty() {
        Ok(pids.lines().count())
    } else {
        Err(format!("the dispatcher's children {outlived:?} outlived the run"))
    }
}

#[test]
fn a_dispatchers_own_children_end_with_the_run() {
    let dir = scratch("children");
    let pids = dir.join("pids");
    let Some(dispatcher) = hostile(&format!("--spawn-sleep {}", pids.display())) else { return };
    // A run that passes: the process ends with it.
    let (code, out, err) =
        hooksim(&["run", "scenarios/retry-through-5xx.toml", "--engine", "both", "--dispatcher", &dispatcher]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(all_gone(&pids), Ok(2), "one child per run, none left");
    // A run that stops (its budget spent at once): the process ends with the failure.
    let (code, out, err) = hooksim(&[
        "run",
        "scenarios/retry-through-5xx.toml",
        "--engine",
        "model",
        "--dispatcher",
        &dispatcher,
        "--inputs-per-run-max",
        "3",
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(all_gone(&pids), Ok(3));
    // Explore: one process per seed, none left.
    let (code, out, err) = hooksim(&[
        "explore",
        "scenarios/retry-through-5xx.toml",
        "--seeds",
        "0..3",
        "--rerun-every",
        "0",
        "--dispatcher",
        &dispatcher,
    ]);
    assert!(code == 0 || code == 1, "{out}\n{err}");
    assert_eq!(all_gone(&pids), Ok(6));
}

/// Without python3 too: a `sh` dispatcher that ignores SIGTERM and leaves a `sleep` running is
/// ended with its child by the SIGKILL that follows, when the dispatcher is dropped.
#[test]
fn a_dispatcher_that_ignores_sigterm_is_killed_with_its_children() {
    use hooksim::domain::WebhookConfig;
    use hooksim::policy::Profile;
    use hooksim::protocol::{ProcessConfig, ProcessDispatcher};
    let dir = scratch("sigterm");
    let pids = dir.join("pids");
    let script = format!(
        "trap '' TERM; sleep 600 & echo $! > {}; read h; echo '{{\"type\":\"hello\",\"version\":1}}'; \
         while read i; do echo '{{\"type\":\"done\",\"wake_at\":null}}'; done",
        pids.display()
    );
    let config = ProcessConfig::new(vec!["sh".into(), "-c".into(), script]);
    let hooks = vec![WebhookConfig { url: "http://shop/webhook".into(), paths: vec![], owner_email: "o@shop".into() }];
    let dispatcher = ProcessDispatcher::spawn(config, &Profile::Snapbill.policy(), hooks, 1).expect("it says hello");
    drop(dispatcher);
    assert_eq!(all_gone(&pids), Ok(1));
}
