//! Negative control for explore and shrinking: a `naive` receiver acts again on a redelivery,
//! so a property context told that every receiver deduplicates (`--claim-dedup`) must report
//! `dedup-acted-twice`. It is found within 32 seeds, shrunk to at most 10 timeline steps that
//! fail with the same signature, and written as a scenario file whose `[[expect]]` fails.

use hooksim::explore::nemesis::Rates;
use hooksim::explore::search::Plan;
use hooksim::explore::{scenario_file, shrink};
use hooksim::runner::{Engine, run_scenario};
use std::process::Command;

const SEEDS_TO_FIND: u64 = 32;

fn plan() -> Plan {
    let template = hooksim::scenario::load_file("scenarios/naive-fulfils-cancelled-invoice.toml").unwrap().world;
    Plan {
        templates: vec![template],
        rates: Rates::default(),
        engine: Engine::Model,
        rerun_every: 0,
        claim_dedup: true,
        dispatcher: None,
        limits: hooksim::world::RunLimits::default(),
    }
}

#[test]
fn a_naive_receiver_held_to_dedup_is_found_and_shrunk_to_a_failing_scenario() {
    let plan = plan();
    let sig = "dedup-acted-twice";
    let seed = (0..SEEDS_TO_FIND)
        .find(|&s| plan.run_seed(s).signatures.iter().any(|x| x == sig))
        .unwrap_or_else(|| panic!("{sig} not found within {SEEDS_TO_FIND} seeds"));
    let world = plan.world(seed);
    let shrunk = shrink::shrink(&plan, world.clone(), sig);
    assert!(shrunk.world.timeline.len() <= 10, "{} steps: {:#?}", shrunk.world.timeline.len(), shrunk.world.timeline);
    assert!(shrunk.world.timeline.len() <= world.timeline.len());
    assert!(plan.verdict(&shrunk.world).1.iter().any(|s| s == sig), "the same signature after shrinking");

    let expect = shrink::expectation(&plan, &shrunk.world, sig).expect("acted at most once fits");
    let text = scenario_file::render(&shrunk.world, "shrunk", Some(&expect));
    let scenario = hooksim::scenario::load_str("shrunk.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let run = run_scenario(&scenario, Engine::Model, None);
    assert_eq!(run.trace.sha256(), Engine::Model.run(&shrunk.world).unwrap().trace.sha256(), "the file is the world");
    assert_eq!(run.failures.len(), 1, "the [[expect]] states the property and fails:\n{text}");
}

#[test]
fn explore_shrink_writes_the_scenario_and_its_commands() {
    let dir = std::env::temp_dir().join(format!("hooksim-explore-shrink-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_hooksim"))
        .args(["explore", "scenarios/naive-fulfils-cancelled-invoice.toml", "--seeds", "0..32", "--claim-dedup"])
        .arg("--shrink")
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("reproduce dedup-acted-twice: hooksim explore"), "{stdout}");
    let file = dir.join("dedup-acted-twice.seed3.toml");
    let page = std::fs::read_to_string(file.with_extension("html")).unwrap();
    assert!(page.contains("dedup-acted-twice: "), "the page marks the violation");
    assert!(stdout.contains(&format!("hooksim run {}", file.display())), "{stdout}");
    let run =
        Command::new(env!("CARGO_BIN_EXE_hooksim")).arg("run").arg(&file).args(["--engine", "model"]).output().unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The scenario writer is exact: every library scenario written back runs to the same trace.
#[test]
fn library_worlds_written_back_run_the_same() {
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let s = hooksim::scenario::load_file(&path).unwrap();
        let text = scenario_file::render(&s.world, "written back", None);
        let back = hooksim::scenario::load_str("back.toml", &text)
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
        let (a, b) = (Engine::Model.run(&s.world).unwrap(), Engine::Model.run(&back.world).unwrap());
        assert_eq!(a.trace.sha256(), b.trace.sha256(), "{}", path.display());
    }
}
