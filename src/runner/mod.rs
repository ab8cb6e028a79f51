//! Running scenarios: pick an engine, run the world, evaluate the expectations, and report
//! (human lines, JSON, JUnit XML, trace files).
//!
//! Wall-clock time is read here, and only here, to report how long a run took: it never reaches
//! the simulation or the trace.

mod conformance;
mod external;
mod human;
mod json;
mod junit;
#[cfg(feature = "live")]
mod live;
mod skipped;

pub use conformance::{PromiseRow, PromiseVerdict, conformance, conformance_kept, render_conformance};
pub use external::{ExternalDispatcher, run_scenario_dispatched, run_world_dispatched};
pub use human::{render_failures, render_line, reproduce_command};
pub use json::to_json;
pub use junit::to_junit;
#[cfg(feature = "live")]
pub use live::{run_scenario_live, run_scenario_live_with};
pub use skipped::SkippedScenario;

use crate::core::Dispatch;
use crate::scenario::{Failure, Scenario, evaluate, render_entry};
use crate::trace::{Trace, TraceEvent};
use crate::world::{EngineFailure, RunLimits, RunOutput, World};
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

/// Which shell runs a world. Non-exhaustive: a user's `match` keeps a wildcard arm, so another
/// engine is not a breaking change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Engine {
    /// Real HTTP over turmoil's simulated network.
    Net,
    /// The pure discrete-event model.
    Model,
    /// The live shell: receivers bound to real endpoints (`--receiver`); run it with
    /// [`run_scenario_live`], which carries the bindings.
    Live,
}

impl Engine {
    /// The name in flags and reports: `net`, `model` or `live`.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Net => "net",
            Engine::Model => "model",
            Engine::Live => "live",
        }
    }

    /// On an error, the failure keeps the trace up to it. [`Engine::Live`] needs its receivers
    /// bound: here it fails at once, and [`run_scenario_live`] runs it.
    pub fn run(self, world: &World) -> Result<RunOutput, EngineFailure> {
        self.run_within(world, RunLimits::default())
    }

    /// [`Engine::run`] within `limits`.
    pub fn run_within(self, world: &World, limits: RunLimits) -> Result<RunOutput, EngineFailure> {
        match self {
            Engine::Net => crate::net::run_with(world, limits),
            Engine::Model => crate::model::run_with(world, limits),
            #[cfg(feature = "live")]
            Engine::Live => crate::live::run_with(world, &crate::live::Bindings::default(), limits),
            #[cfg(not(feature = "live"))]
            Engine::Live => Err(crate::world::EngineError::Simulation(
                "this hooksim was built without its `live` feature, so it has no live shell".to_string(),
            )
            .into()),
        }
    }

    /// [`Engine::run_within`] with `dispatcher` in place of the reference core.
    pub fn run_dispatched<D: Dispatch>(
        self,
        world: &World,
        limits: RunLimits,
        dispatcher: D,
    ) -> Result<RunOutput, EngineFailure> {
        match self {
            Engine::Net => crate::net::run_dispatched(world, limits, dispatcher),
            Engine::Model => crate::model::run_dispatched(world, limits, dispatcher),
            // `--dispatcher` and `--receiver` do not mix (refused by the command line).
            Engine::Live => Err(crate::world::EngineError::Simulation(
                "the live shell runs the reference dispatcher only".to_string(),
            )
            .into()),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `--engine`: one engine, or both (each scenario runs on each, and both must pass).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineChoice {
    /// The network engine.
    Net,
    /// The model engine.
    Model,
    /// Each engine in turn; both must pass.
    Both,
}

impl EngineChoice {
    /// The engines it stands for.
    pub fn engines(self) -> &'static [Engine] {
        match self {
            EngineChoice::Net => &[Engine::Net],
            EngineChoice::Model => &[Engine::Model],
            EngineChoice::Both => &[Engine::Net, Engine::Model],
        }
    }
}

/// An `--engine` value that is not `net`, `model` or `both`.
#[derive(Debug, thiserror::Error)]
#[error("--engine: expected net, model or both, got {0:?}")]
pub struct BadEngine(String);

impl FromStr for EngineChoice {
    type Err = BadEngine;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "net" => Ok(EngineChoice::Net),
            "model" => Ok(EngineChoice::Model),
            "both" => Ok(EngineChoice::Both),
            other => Err(BadEngine(other.to_string())),
        }
    }
}

/// One scenario on one engine.
#[derive(Clone, Debug)]
pub struct ScenarioRun {
    /// The scenario's name.
    pub name: String,
    /// The scenario file.
    pub file: PathBuf,
    /// The engine it ran on.
    pub engine: Engine,
    /// The world's seed.
    pub seed: u64,
    /// The limits it ran within.
    pub limits: RunLimits,
    /// The virtual time covered, in milliseconds.
    pub sim_elapsed_ms: u64,
    /// How long the run took on the wall clock, in microseconds.
    pub wall_us: u64,
    /// Everything that happened (up to the stop, if the engine stopped).
    pub trace: Trace,
    /// The expectations the trace did not meet.
    pub failures: Vec<Failure>,
    /// The engine stopped before the world's end (the scenario fails). `trace` then holds what
    /// was recorded until it stopped, and `sim_elapsed_ms` the virtual time reached.
    pub error: Option<EngineStop>,
    /// Expectations that could not be checked, so neither passed nor failed (the live shell:
    /// acts of a receiver without an effects URL). Empty on the simulated engines.
    pub not_verified: Vec<NotVerified>,
    /// The `--receiver`/`--effects` flags of a live run (for the reproduce line).
    pub bindings: Vec<String>,
    /// The other flags a live run was given that change how it connects or waits (the effects
    /// settle window, `--ca-cert`), for the reproduce line; the command line knows them, not the
    /// runner. Empty when defaulted.
    pub live_flags: Vec<String>,
    /// The dispatcher process that ran in place of the reference core (`--dispatcher`), if any.
    pub dispatcher: Option<ExternalDispatcher>,
    /// The tail of that process's stderr (empty for the reference core).
    pub stderr_tail: String,
    /// The trace properties it broke (judged for `--dispatcher` runs that finished; else empty).
    pub violations: Vec<crate::properties::Violation>,
}

/// An expectation that was not checked, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotVerified {
    /// The scenario file.
    pub file: PathBuf,
    /// The `[[expect]]` entry's line.
    pub line: usize,
    /// Its column.
    pub column: usize,
    /// Why it could not be checked, in words.
    pub why: String,
}

impl fmt::Display for NotVerified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: not verified: {}", self.file.display(), self.line, self.column, self.why)
    }
}

/// Why an engine stopped early, and the last entries it recorded, readable (the evidence).
#[derive(Clone, Debug)]
pub struct EngineStop {
    /// The engine's error, in words.
    pub message: String,
    /// The last (at most [`STOP_EXCERPT_ENTRIES`]) entries of the partial trace, as
    /// `render_entry` writes them.
    pub excerpt: Vec<String>,
}

/// Trace entries a report shows before an engine error.
pub const STOP_EXCERPT_ENTRIES: usize = 8;

impl ScenarioRun {
    /// Whether the engine ran to the world's end and every expectation held.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.failures.is_empty()
    }

    /// Panics with the failures, each at its `file:line:column`, unless the run passed: for a
    /// user's `#[test]`.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "\n{}", render_failures(self));
    }

    /// Panics unless the run failed: for a test that shows a defect is caught.
    #[track_caller]
    pub fn assert_failed(&self) {
        assert!(
            !self.passed(),
            "{} on {} (seed {}) passed; it was expected to fail",
            self.name,
            self.engine,
            self.seed
        );
    }

    /// How many attempts were started.
    pub fn attempts(&self) -> usize {
        self.trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::AttemptStarted { .. })).count()
    }
}

/// Runs `scenario` on `engine`, with `seed` in place of the file's when given.
pub fn run_scenario(scenario: &Scenario, engine: Engine, seed: Option<u64>) -> ScenarioRun {
    run_scenario_within(scenario, engine, seed, RunLimits::default())
}

/// [`run_scenario`] within `limits`.
pub fn run_scenario_within(scenario: &Scenario, engine: Engine, seed: Option<u64>, limits: RunLimits) -> ScenarioRun {
    run_on(scenario, engine, seed, limits, |world| engine.run_within(world, limits))
}

/// Runs `scenario` (with `seed` in place of the file's) through `run`, timed, and judges it.
pub(crate) fn run_on(
    scenario: &Scenario,
    engine: Engine,
    seed: Option<u64>,
    limits: RunLimits,
    run: impl FnOnce(&World) -> Result<RunOutput, EngineFailure>,
) -> ScenarioRun {
    let world = seeded_world(scenario, seed);
    // Wall clock for the report's `wall_us` only; the run itself sees virtual time.
    let started = Instant::now();
    let result = run(&world);
    let wall_us = started.elapsed().as_micros() as u64;
    finish(scenario, engine, world.seed, limits, wall_us, result)
}

fn seeded_world(scenario: &Scenario, seed: Option<u64>) -> World {
    let mut world = scenario.world.clone();
    if let Some(seed) = seed {
        world.seed = seed;
    }
    world
}

/// A finished run judged: its expectations evaluated, or the engine's stop kept as evidence.
fn finish(
    scenario: &Scenario,
    engine: Engine,
    seed: u64,
    limits: RunLimits,
    wall_us: u64,
    result: Result<RunOutput, EngineFailure>,
) -> ScenarioRun {
    let (trace, sim_elapsed_ms, error) = match result {
        Ok(out) => (out.trace, out.sim_elapsed_ms, None),
        Err(EngineFailure { error, partial }) => {
            let stop = EngineStop { message: error.to_string(), excerpt: last_entries(scenario, &partial.trace) };
            (partial.trace, partial.sim_elapsed_ms, Some(stop))
        }
    };
    let failures = if error.is_none() { evaluate(scenario, &trace) } else { Vec::new() };
    ScenarioRun {
        name: scenario.name.clone(),
        file: scenario.file.clone(),
        engine,
        seed,
        limits,
        sim_elapsed_ms,
        wall_us,
        trace,
        failures,
        error,
        not_verified: Vec::new(),
        bindings: Vec::new(),
        live_flags: Vec::new(),
        dispatcher: None,
        stderr_tail: String::new(),
        violations: Vec::new(),
    }
}

fn last_entries(scenario: &Scenario, trace: &Trace) -> Vec<String> {
    let names = scenario.names();
    let entries = trace.entries();
    entries[entries.len().saturating_sub(STOP_EXCERPT_ENTRIES)..].iter().map(|e| render_entry(e, &names)).collect()
}

/// File names for the runs' traces under `--trace DIR`, in the order of `runs`:
/// `<file stem>.<engine>.seed<seed>.jsonl`. Two scenario files may share a `name`, and files in
/// different folders a stem: a name already taken gets `-2`, `-3`, ... after the stem, so no trace
/// overwrites another.
pub fn trace_file_names(runs: &[ScenarioRun]) -> Vec<String> {
    let mut taken = std::collections::BTreeSet::new();
    runs.iter()
        .map(|run| {
            let stem = run.file.file_stem().map_or_else(|| run.name.clone(), |s| s.to_string_lossy().into_owned());
            let safe: String = stem
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
                .collect();
            let name_for = |suffix: String| format!("{safe}{suffix}.{}.seed{}.jsonl", run.engine, run.seed);
            let mut name = name_for(String::new());
            let mut n = 1;
            while !taken.insert(name.clone()) {
                n += 1;
                name = name_for(format!("-{n}"));
            }
            name
        })
        .collect()
}
