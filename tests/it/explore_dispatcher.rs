//! `hooksim explore --dispatcher CMD`: a dispatcher process explored in place of the core. A
//! copy of the Python example with one defect (each attempt carries the invoice as it was when
//! its event happened, not as it is when the attempt is sent) is found within
//! [`SEEDS_TO_FIND`] seeds of the paid-then-cancelled scenario's worlds with faults, and shrunk
//! to at most 10 timeline steps that fail with the same signature, `body-stale`. The example as
//! it is passes the same seeds (the positive control). Skips, saying so, where python3 is not
//! installed.

use hooksim::explore::nemesis::Rates;
use hooksim::explore::search::Plan;
use hooksim::explore::{scenario_file, shrink};
use hooksim::runner::{Engine, ExternalDispatcher};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TEMPLATE: &str = "scenarios/paid-carries-cancelled-invoice.toml";
const SIGNATURE: &str = "body-stale";
/// The defect shows on the first seed; a few more keep the test honest and still short (each
/// run starts a Python process).
const SEEDS_TO_FIND: u64 = 4;

/// `python3 <the example>`, or `python3 <a copy with the defect>` (named for the test `name`,
/// removed by [`remove`]); `None` without python3.
fn dispatcher(broken: bool, name: &str) -> Option<String> {
    let found = Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        crate::support::skip::skipped("python3 is not installed, so no dispatcher process is explored");
        return None;
    }
    let example = format!("{ROOT}/examples/dispatchers/python/dispatcher.py");
    if !broken {
        return Some(format!("python3 {example}"));
    }
    let edits = [
        ("dict(event, at=now)", "dict(event, at=now, entity=message[\"entity\"])"),
        (
            "event[\"kind\"]: self.entities.get((event[\"kind\"], event[\"entity_id\"]))",
            "event[\"kind\"]: event[\"entity\"]",
        ),
    ];
    let mut source = std::fs::read_to_string(&example).unwrap();
    for (from, to) in edits {
        assert!(source.contains(from), "{from:?} is in the example");
        source = source.replacen(from, to, 1);
    }
    let path = std::env::temp_dir().join(format!("hooksim-explore-{name}-{}.py", std::process::id()));
    std::fs::write(&path, source).unwrap();
    Some(format!("python3 {}", path.display()))
}

/// Removes the copy `command` runs.
fn remove(command: &str) {
    if let Some(path) = command.strip_prefix("python3 ") {
        let _ = std::fs::remove_file(path);
    }
}

fn plan(command: &str) -> Plan {
    Plan {
        templates: vec![hooksim::scenario::load_file(format!("{ROOT}/{TEMPLATE}")).unwrap().world],
        rates: Rates::default(),
        engine: Engine::Model,
        rerun_every: 0,
        claim_dedup: false,
        dispatcher: Some(ExternalDispatcher::new(command)),
        limits: hooksim::world::RunLimits::default(),
    }
}

#[test]
fn a_dispatcher_rendering_at_event_time_is_found_and_shrunk() {
    let Some(command) = dispatcher(true, "found") else { return };
    let plan = plan(&command);
    let seed = (0..SEEDS_TO_FIND)
        .find(|&s| plan.run_seed(s).signatures.iter().any(|x| x == SIGNATURE))
        .unwrap_or_else(|| panic!("{SIGNATURE} not found within {SEEDS_TO_FIND} seeds"));
    let world = plan.world(seed);
    let shrunk = shrink::shrink(&plan, world.clone(), SIGNATURE);
    let steps = shrunk.world.timeline.len();
    assert!(steps <= 10, "{steps} steps: {:#?}", shrunk.world.timeline);
    assert!(steps < world.timeline.len() || world.timeline.len() <= 10);
    assert!(plan.verdict(&shrunk.world).1.iter().any(|s| s == SIGNATURE), "the same signature after shrinking");
    // The file says how to check it again, and loads back to a world that fails the same way.
    let text = scenario_file::render(&shrunk.world, "shrunk", None);
    let scenario = hooksim::scenario::load_str("shrunk.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(plan.verdict(&scenario.world).1.iter().any(|s| s == SIGNATURE), "the file fails the same way:\n{text}");
    println!("found at seed {seed}, shrunk in {} runs to {steps} steps:\n{text}", shrunk.runs);
    remove(&command);
}

/// Through the binary: the defect fails (exit 1, its signature in the summary), the example as
/// it is passes the same seeds (exit 0).
#[test]
fn explore_with_a_dispatcher_process_exits_by_its_verdict() {
    let (Some(broken), Some(good)) = (dispatcher(true, "exits"), dispatcher(false, "exits")) else { return };
    let explore = |command: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_hooksim"))
            .current_dir(ROOT)
            .args(["explore", TEMPLATE, "--seeds", "0..2", "--dispatcher", command])
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, stdout) = explore(&broken);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains(&format!("{SIGNATURE}:")), "{stdout}");
    assert!(stdout.contains("--dispatcher"), "the reproduce command names the dispatcher: {stdout}");
    remove(&broken);
    let (code, stdout) = explore(&good);
    assert_eq!(code, Some(0), "{stdout}");
}

/// `--jobs 3` runs three dispatcher processes at once, each on its own state directory (none
/// left behind): the out file is the bytes of `--jobs 1`'s.
#[test]
fn dispatcher_processes_on_three_threads_write_what_one_thread_writes() {
    let Some(broken) = dispatcher(true, "jobs") else { return };
    let dir = std::env::temp_dir().join(format!("hooksim-explore-jobs-{}", std::process::id()));
    let explore = |jobs: &str| {
        let out = dir.join(format!("jobs{jobs}.jsonl"));
        let child = Command::new(env!("CARGO_BIN_EXE_hooksim"))
            .current_dir(ROOT)
            .args(["explore", TEMPLATE, "--seeds", "0..9", "--rerun-every", "4", "--dispatcher", &broken])
            .args(["--jobs", jobs, "--out"])
            .arg(&out)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let run = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
        assert_eq!(run.status.code(), Some(1), "{stdout}");
        let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&format!("hooksim-dispatcher-{pid}-")))
            .collect();
        assert!(left.is_empty(), "state directories left behind: {left:?}");
        (std::fs::read_to_string(&out).unwrap(), stdout)
    };
    let (one, three) = (explore("1"), explore("3"));
    assert!(one.1.contains(&format!("{SIGNATURE}:")), "{}", one.1);
    assert_eq!(one, three);
    let _ = std::fs::remove_dir_all(&dir);
    remove(&broken);
}
