//! One run's timeline page, with its failed expectations marked (for `hooksim run --html`).

use crate::runner::ScenarioRun;
use crate::time::SimTime;
use crate::timeline::{TimelineOptions, render};
use crate::world::World;

/// The page of `run` of `world`. A failed expectation has no instant of its own (it is judged
/// over the whole trace), so it is marked at the run's end, with its message; an engine that
/// stopped early is marked where it stopped.
pub fn run_page(run: &ScenarioRun, world: &World) -> String {
    let mut options = TimelineOptions::for_world(world);
    let end = SimTime::from_millis(run.sim_elapsed_ms);
    for f in &run.failures {
        options.failures.push((end, format!("line {}: expected {}; found {}", f.line, f.expected, f.found)));
    }
    if let Some(stop) = &run.error {
        options.failures.push((end, format!("engine stopped: {}", stop.message)));
    }
    render(&run.trace, &options)
}

/// The page's file name beside its trace's: `<file stem>.<engine>.seed<N>.html`.
pub fn page_file_name(trace_file_name: &str) -> String {
    format!("{}.html", trace_file_name.strip_suffix(".jsonl").unwrap_or(trace_file_name))
}
