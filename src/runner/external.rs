//! Scenarios run with a dispatcher process (`hooksim run --dispatcher "CMD"`) in place of the
//! reference core: the same worlds, engines and expectations, the core's part of the trace derived
//! from what the process said (`crate::protocol::ProcessDispatcher`).

use super::{Engine, ScenarioRun, run_on};
use crate::properties::{self, PropertyContext};
use crate::protocol::{INPUTS_PER_RUN_MAX, ProcessConfig, ProcessDispatcher, ProtocolError, REPLY_TIMEOUT_MS};
use crate::scenario::Scenario;
use crate::time::SimTime;
use crate::world::{EngineError, EngineFailure, RunLimits, RunOutput, World};
use serde::Serialize;

/// The dispatcher command a run used, as given, and the limits it ran under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExternalDispatcher {
    /// Program and arguments split on whitespace (no shell, no quoting).
    pub command: String,
    /// How long to wait for each reply line, wall milliseconds (`--reply-timeout-ms`).
    pub reply_timeout_ms: u64,
    /// Inputs one run may send the process ([`INPUTS_PER_RUN_MAX`] by default).
    pub inputs_max: u64,
}

impl ExternalDispatcher {
    /// A dispatcher process running `command`, with the protocol's default limits.
    pub fn new(command: impl Into<String>) -> Self {
        ExternalDispatcher {
            command: command.into(),
            reply_timeout_ms: REPLY_TIMEOUT_MS,
            inputs_max: INPUTS_PER_RUN_MAX,
        }
    }

    /// A fresh state directory per run (`state_dir: None`: a temporary one, removed after it).
    fn config(&self) -> ProcessConfig {
        ProcessConfig {
            reply_timeout_ms: self.reply_timeout_ms,
            inputs_max: self.inputs_max,
            ..ProcessConfig::from_command_line(&self.command)
        }
    }
}

/// Runs `scenario` on `engine` with `dispatcher` in place of the reference core. A process that
/// cannot start, breaks the protocol or goes away stops the run like any engine error: the
/// scenario fails with the trace so far and the process's stderr.
pub fn run_scenario_dispatched(
    scenario: &Scenario,
    engine: Engine,
    seed: Option<u64>,
    limits: RunLimits,
    dispatcher: &ExternalDispatcher,
) -> ScenarioRun {
    let mut stderr_tail = String::new();
    let mut context = None;
    let mut run = run_on(scenario, engine, seed, limits, |world| {
        context = Some(PropertyContext::from_world(world));
        let (result, tail) = run_world_dispatched(world, engine, limits, dispatcher);
        stderr_tail = tail;
        result
    });
    run.dispatcher = Some(dispatcher.clone());
    run.stderr_tail = stderr_tail;
    if let (None, Some(context)) = (&run.error, &context) {
        run.violations = properties::check(&run.trace, context);
    }
    run
}

/// Runs `world` on `engine` with a fresh process of `dispatcher` in place of the reference core;
/// returns the run and the tail of the process's stderr. A process that cannot start fails the
/// run at its start, with an empty trace.
pub fn run_world_dispatched(
    world: &World,
    engine: Engine,
    limits: RunLimits,
    dispatcher: &ExternalDispatcher,
) -> (Result<RunOutput, EngineFailure>, String) {
    if let Some(error) = crate::protocol::refuses(world) {
        let trace = crate::trace::Trace::with_entries_max(limits.trace_entries_max);
        return (Err(EngineFailure { error, partial: RunOutput { trace, sim_elapsed_ms: 0 } }), String::new());
    }
    match ProcessDispatcher::spawn(dispatcher.config(), &world.policy, world.webhooks.clone(), world.seed) {
        Ok(mut process) => {
            let result = engine.run_dispatched(world, limits, &mut process).map_err(|failure| {
                // The harness's own budget is a limit of the run, like the trace's, not a
                // failure of the process: named as such.
                match process.failure() {
                    Some(ProtocolError::InputsSpent { max, .. }) => {
                        let at = SimTime::from_millis(failure.partial.sim_elapsed_ms);
                        EngineFailure { error: EngineError::InputsSpent { inputs_max: *max, at }, ..failure }
                    }
                    _ => failure,
                }
            });
            (result, process.stderr_tail())
            // `process` drops here: the process is ended and its state directory removed.
        }
        Err(error) => {
            let error = crate::world::EngineError::Dispatcher {
                at: crate::time::SimTime::ZERO,
                during: "start".to_string(),
                message: error.to_string(),
            };
            let trace = crate::trace::Trace::with_entries_max(limits.trace_entries_max);
            (Err(EngineFailure { error, partial: RunOutput { trace, sim_elapsed_ms: 0 } }), String::new())
        }
    }
}
