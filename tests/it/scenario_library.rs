//! Every scenario of the library meets its expectations on both engines, and gives the same
//! trace twice on each.
//! `SCENARIO_TRACE=<name>` prints that scenario's whole trace (for writing new scenarios).

use hooksim::scenario::{discover, evaluate, load_file, render_entry};
use hooksim::world::{EngineFailure, RunOutput, World};

#[test]
fn every_library_scenario_passes_on_the_model_engine() {
    passes_on(hooksim::model::run);
}

/// The network engine has the same semantics: every scenario passes there too.
#[test]
fn every_library_scenario_passes_on_the_network_engine() {
    passes_on(hooksim::net::run);
}

fn passes_on(engine: fn(&World) -> Result<RunOutput, EngineFailure>) {
    let files = discover(&["scenarios"]);
    let show = std::env::var("SCENARIO_TRACE").ok();
    let mut problems = Vec::new();
    for f in &files {
        let scenario = match load_file(f) {
            Ok(s) => s,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        let (out, again) = match (engine(&scenario.world), engine(&scenario.world)) {
            (Ok(out), Ok(again)) => (out, again),
            (Err(e), _) | (_, Err(e)) => {
                problems.push(format!("{}: the engine failed: {e}", f.display()));
                continue;
            }
        };
        if out.trace.sha256() != again.trace.sha256() {
            problems.push(format!("{}: two runs gave different traces", f.display()));
        }
        if show.as_deref() == Some(scenario.name.as_str()) {
            let names = scenario.names();
            for e in out.trace.entries() {
                println!("{}", render_entry(e, &names));
            }
        }
        for failure in evaluate(&scenario, &out.trace) {
            problems.push(failure.to_string());
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
    assert!(files.len() >= 15, "the library has {} scenarios", files.len());
}

/// The expectations are not vacuous: bumping any `exactly = N` of any library scenario to
/// `N + 1` makes that scenario fail, with a message that quotes the trace.
#[test]
fn every_exact_count_in_the_library_is_load_bearing() {
    for f in discover(&["scenarios"]) {
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(n) = line.strip_prefix("exactly = ") else {
                continue;
            };
            let n: u64 = n.trim().parse().unwrap();
            let mut mutated: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            mutated[i] = format!("exactly = {}", n + 1);
            let scenario = hooksim::scenario::load_str(&f, &mutated.join("\n")).unwrap();
            let out = hooksim::model::run(&scenario.world).unwrap();
            let failures = evaluate(&scenario, &out.trace);
            assert_eq!(
                failures.len(),
                1,
                "{}:{}: bumping the count to {} should fail exactly that expectation",
                f.display(),
                i + 1,
                n + 1
            );
            let shown = failures[0].to_string();
            assert!(shown.contains("expected"), "{shown}");
        }
    }
}

/// Seeds change delivery uuids, jitter and latencies, not the story: every expectation of the
/// library holds under any `--seed` (`hooksim run --seed` must not turn a pass into a failure).
/// `SCENARIO_SEEDS=N` sweeps seeds `0..N` instead of the default (for a deeper look).
#[test]
fn the_library_passes_under_hundreds_of_seeds_on_the_model_engine() {
    holds_under_seeds(hooksim::model::run, seed_count(300));
}

/// The network engine draws its latencies from the same seed: fewer seeds, since each run costs
/// more there.
#[test]
fn the_library_passes_under_other_seeds_on_the_network_engine() {
    holds_under_seeds(hooksim::net::run, seed_count(300) / 10);
}

fn seed_count(default: u64) -> u64 {
    std::env::var("SCENARIO_SEEDS").ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

/// Runs every scenario under seeds `0..count` and the extremes, and lists every failed
/// expectation with its seed.
fn holds_under_seeds(engine: fn(&World) -> Result<RunOutput, EngineFailure>, count: u64) {
    let seeds: Vec<u64> = (0..count).chain([0xdead_beef, u64::MAX]).collect();
    let mut problems = Vec::new();
    for f in discover(&["scenarios"]) {
        let mut scenario = load_file(&f).unwrap();
        for &seed in &seeds {
            scenario.world.seed = seed;
            match engine(&scenario.world) {
                Ok(out) => {
                    for failure in evaluate(&scenario, &out.trace) {
                        problems.push(format!("seed {seed}: {failure}"));
                    }
                }
                Err(e) => problems.push(format!("{} seed {seed}: the engine failed: {e}", f.display())),
            }
        }
    }
    assert!(problems.is_empty(), "{} failures:\n{}", problems.len(), problems.join("\n\n"));
}
