//! The whole scenario library run with the reference core served over the protocol
//! (`hooksim dispatcher --stdio`, driven by `ProcessDispatcher`) in place of the in-process core,
//! on both engines, gives the same trace hash as in-process: the proof that the protocol carries
//! everything the scenarios see. No scenario in SnapBill's shape is left out.

use hooksim::protocol::{ProcessConfig, ProcessDispatcher};
use hooksim::scenario::{Scenario, discover, evaluate, load_file};
use hooksim::world::{EngineFailure, RunLimits, RunOutput, World};

type InProcess = fn(&World) -> Result<RunOutput, EngineFailure>;
type Dispatched = fn(&World, RunLimits, &mut ProcessDispatcher) -> Result<RunOutput, EngineFailure>;

fn served(world: &World) -> ProcessDispatcher {
    let command = vec![env!("CARGO_BIN_EXE_hooksim").to_string(), "dispatcher".into(), "--stdio".into()];
    ProcessDispatcher::spawn(ProcessConfig::new(command), &world.policy, world.webhooks.clone(), world.seed)
        .expect("the reference server starts")
}

/// A dispatcher process renders SnapBill's envelope: the provider scenarios (`provider = ...`,
/// rendered by the reference core only) are not for it (`hooksim run --dispatcher` skips them).
fn snapbill_shaped(s: &Scenario) -> bool {
    s.world.provider == hooksim::provider::Provider::Snapbill
}

fn library() -> Vec<Scenario> {
    let files = discover(&["scenarios"]);
    assert!(files.len() >= 20, "the library has {} scenarios", files.len());
    files.iter().map(|f| load_file(f).unwrap_or_else(|e| panic!("{e}"))).filter(snapbill_shaped).collect()
}

fn same_traces(engine: &str, in_process: InProcess, dispatched: Dispatched) {
    let mut problems = Vec::new();
    for scenario in library() {
        let world = &scenario.world;
        let expected = in_process(world).unwrap_or_else(|e| panic!("{}: {}", scenario.name, e.error));
        let mut process = served(world);
        match dispatched(world, RunLimits::default(), &mut process) {
            Ok(out) if out.trace.sha256() == expected.trace.sha256() => {
                // Same trace, so the same verdicts; checked all the same, cheaply.
                assert!(evaluate(&scenario, &out.trace).is_empty(), "{} passes over the protocol", scenario.name);
            }
            Ok(out) => problems.push(format!("{} on {engine}: {}", scenario.name, first_difference(&expected, &out))),
            Err(e) => {
                problems.push(format!("{} on {engine}: {}\nstderr: {}", scenario.name, e.error, process.stderr_tail()))
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

fn first_difference(a: &RunOutput, b: &RunOutput) -> String {
    let line = |e: Option<&hooksim::trace::TraceEntry>| e.map_or("(none)".to_string(), |e| format!("{e:?}"));
    let (a, b) = (a.trace.entries(), b.trace.entries());
    let i = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    format!("entry {i} differs:\n  in-process: {}\n  protocol:   {}", line(a.get(i)), line(b.get(i)))
}

#[test]
fn the_library_over_the_protocol_gives_the_model_engines_traces() {
    same_traces("model", hooksim::model::run, |w, l, d| hooksim::model::run_dispatched(w, l, d));
}

#[test]
fn the_library_over_the_protocol_gives_the_network_engines_traces() {
    same_traces("net", hooksim::net::run, |w, l, d| hooksim::net::run_dispatched(w, l, d));
}
