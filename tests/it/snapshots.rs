//! One trace snapshot per scenario file (in `snapshots/`, committed). A change of behaviour shows
//! up as a snapshot diff to review with `cargo insta review`; in CI (`CI=true`) an unreviewed
//! change or a missing snapshot fails the test.
//!
//! Each snapshot holds, per engine, the trace's SHA-256 (so that any byte of change shows) and
//! the trace rendered one readable line per entry (so that the change can be read).

use hooksim::runner::{Engine, run_scenario};
use hooksim::scenario::{load_file, render_entry};

/// The engines whose traces are snapshotted: the network engine (the default) and the model.
const ENGINES: [Engine; 2] = [Engine::Net, Engine::Model];

#[test]
fn trace() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        // Every depth: `scenarios/providers/` too (named `providers__<file>`).
        insta::glob!("../../scenarios", "**/*.toml", |path| {
            let scenario = load_file(path).unwrap_or_else(|e| panic!("{e}"));
            let mut text = String::new();
            for engine in ENGINES {
                let run = run_scenario(&scenario, engine, None);
                assert!(run.error.is_none(), "{:?}", run.error);
                text.push_str(&format!(
                    "## {} on {} (seed {}): {} entries, sha256 {}\n",
                    scenario.name,
                    engine,
                    run.seed,
                    run.trace.len(),
                    run.trace.sha256()
                ));
                let names = scenario.names();
                for entry in run.trace.entries() {
                    text.push_str(&render_entry(entry, &names));
                    text.push('\n');
                }
            }
            insta::assert_snapshot!(text);
        });
    });
}
