//! Every scenario of the library meets its expectations on the network engine too: real HTTP
//! over turmoil gives the verdicts the model engine gives; and each gives the same trace twice.

use hooksim::scenario::{discover, evaluate, load_file};

#[test]
fn every_library_scenario_passes_on_the_network_engine() {
    let files = discover(&["scenarios"]);
    let mut problems = Vec::new();
    for f in &files {
        let scenario = match load_file(f) {
            Ok(s) => s,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        match (hooksim::net::run(&scenario.world), hooksim::net::run(&scenario.world)) {
            (Ok(out), Ok(again)) => {
                problems.extend(evaluate(&scenario, &out.trace).iter().map(|f| f.to_string()));
                if out.trace.sha256() != again.trace.sha256() {
                    problems.push(format!("{}: two runs gave different traces", f.display()));
                }
            }
            (Err(e), _) | (_, Err(e)) => problems.push(format!("{}: the network engine failed: {e}", f.display())),
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
    assert!(files.len() >= 15, "the library has {} scenarios", files.len());
}
