//! [`Sim`]: a scenario run from Rust, with the caller's own receivers, in four lines.
//!
//! ```
//! # fn main() -> Result<(), hooksim::SimError> {
//! let run = hooksim::Sim::from_file("scenarios/lost-answers-dedup.toml")?.seed(11).run()?;
//! run.assert_passed();
//! assert_eq!(run.attempts(), 6);
//! # Ok(()) }
//! ```
//!
//! A receiver of the scenario can be the caller's own axum [`Router`]: it gets each delivery
//! on the simulated network (with the world's faults and its scripted behaviour in front), and
//! says what it acted on through the effects contract, `GET /effects` answering
//! `{"effects": [{"uuid": "<delivery uuid>"}, ...]}` (see `docs/certify.md`). Both simulated
//! engines run it: the network engine serves it over HTTP on the simulated network; the model
//! engine calls it in its own thread (a router that awaits a socket or a timer there is stopped,
//! and named: run it on the network engine).

use crate::core::Dispatch;
use crate::net::Apps;
use crate::net::RouterApp;
use crate::properties::PropertyContext;
use crate::protocol::{Speaks, Spoken};
use crate::runner::{Engine, ScenarioRun, run_on};
use crate::scenario::{Scenario, ScenarioErrors, load_file_all, load_str};
use crate::time::SimTime;
use crate::world::RunLimits;
use crate::world::{EngineError, EngineFailure, RunOutput, World};
use axum::Router;
use std::path::Path;

/// A scenario ready to run: loaded, with its engine, seed and receivers chosen.
#[derive(Clone)]
#[must_use = "a Sim does nothing until `run`"]
pub struct Sim {
    scenario: Scenario,
    engine: Engine,
    seed: Option<u64>,
    limits: RunLimits,
    apps: Apps,
}

/// Why a [`Sim`] could not run: the scenario's every error, or a choice that does not fit it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The scenario file's errors, each at its `file:line:column`.
    #[error("{0}")]
    Scenario(#[from] ScenarioErrors),
    /// A router was given for a host the scenario has no receiver for.
    #[error("no receiver {host:?} in scenario {scenario}: a router stands in for one of its receivers ({known})")]
    UnknownReceiver {
        /// The host the router was given for.
        host: String,
        /// The scenario's name.
        scenario: String,
        /// The receivers it has, for the message.
        known: String,
    },
    /// The chosen engine cannot run the caller's routers (the live shell's receivers are real).
    #[error("the {engine} engine's receivers are real endpoints; your router runs on the net or the model engine")]
    EngineCannotHostRouters {
        /// The engine chosen.
        engine: Engine,
    },
    /// The run's thread panicked (a panic in the caller's router).
    #[error("the run panicked: {0}")]
    Panicked(String),
}

impl Sim {
    /// Loads a scenario file; every error of the file at once.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Sim, SimError> {
        Ok(Sim::of(load_file_all(path)?))
    }

    /// A scenario from text; `name` is where its errors point.
    ///
    /// ```
    /// let text = r#"
    /// name = "one-payment"
    /// description = "A new client, delivered once."
    /// run_for = "1h"
    /// [webhooks.shop]
    /// url = "http://shop/webhook"
    /// [receivers.shop]
    /// kind = "dedup"
    /// [[timeline]]
    /// at = "0s"
    /// add_client = { id = 1 }
    /// [[expect]]
    /// delivered = "shop"
    /// exactly = 1
    /// "#;
    /// hooksim::Sim::from_str("one-payment.toml", text).unwrap().run().unwrap().assert_passed();
    /// let broken = hooksim::Sim::from_str("broken.toml", "run_for = 3").unwrap_err();
    /// assert!(broken.to_string().starts_with("broken.toml:1:"), "{broken}");
    /// ```
    pub fn from_str(name: impl AsRef<Path>, text: &str) -> Result<Sim, SimError> {
        Ok(Sim::of(load_str(name, text)?))
    }

    /// A scenario already loaded.
    pub fn of(scenario: Scenario) -> Sim {
        Sim { scenario, engine: Engine::Net, seed: None, limits: RunLimits::default(), apps: Apps::new() }
    }

    /// The engine (default [`Engine::Net`], real HTTP on a simulated network; [`Engine::Model`] is
    /// the pure model, faster, reference receivers only).
    pub fn engine(mut self, engine: Engine) -> Sim {
        self.engine = engine;
        self
    }

    /// The world's seed, in place of the scenario's.
    pub fn seed(mut self, seed: u64) -> Sim {
        self.seed = Some(seed);
        self
    }

    /// What the run may cost (trace entries, network ticks, dispatcher inputs).
    pub fn limits(mut self, limits: RunLimits) -> Sim {
        self.limits = limits;
        self
    }

    /// The scenario's receiver `host` played by `router`: the caller's own code.
    pub fn receiver(mut self, host: &str, router: Router) -> Sim {
        self.apps.insert(host.to_string(), router);
        self
    }

    /// Runs the scenario and judges its expectations. Blocks until the world's end (virtual time:
    /// milliseconds of wall time for days of world). Inside a tokio runtime it runs on a thread
    /// of its own (the simulated network cannot start within a runtime); prefer
    /// [`Sim::run_async`] there.
    pub fn run(self) -> Result<ScenarioRun, SimError> {
        self.check()?;
        off_runtime(|| self.run_here())
    }

    /// [`Sim::run`] for async code (`#[tokio::test]`): the run goes to tokio's blocking pool.
    pub async fn run_async(self) -> Result<ScenarioRun, SimError> {
        self.check()?;
        tokio::task::spawn_blocking(move || self.run_here()).await.map_err(|e| {
            if e.is_panic() { panicked(e.into_panic()) } else { SimError::Panicked("the run was cancelled".into()) }
        })
    }

    /// Runs the scenario with `speaker`, a dispatcher written in Rust that speaks the protocol's
    /// messages ([`Speaks`]), in place of the reference core. Its trace is derived and checked
    /// by the protocol's ledger, and the properties of every world are judged over it
    /// (`ScenarioRun::violations`) as for a dispatcher process; a run that broke one fails.
    ///
    /// ```
    /// use hooksim::protocol::ReferenceSpeaker;
    /// let run = hooksim::Sim::from_file("scenarios/lost-answers-dedup.toml")?.run_spoken(ReferenceSpeaker::default())?;
    /// run.assert_passed();
    /// # Ok::<(), hooksim::SimError>(())
    /// ```
    pub fn run_spoken<S: Speaks + Send>(self, speaker: S) -> Result<ScenarioRun, SimError> {
        self.check()?;
        off_runtime(move || self.run_spoken_here(speaker))
    }

    fn run_spoken_here<S: Speaks>(&self, speaker: S) -> ScenarioRun {
        let (engine, limits) = (self.engine, self.limits);
        let mut speaker = Some(speaker);
        let mut context = None;
        let mut run = run_on(&self.scenario, engine, self.seed, limits, |world| {
            context = Some(PropertyContext::from_world(world));
            if let Some(error) = crate::protocol::refuses(world) {
                return Err(EngineFailure::from(error));
            }
            let speaker = speaker.take().expect("one run, one speaker");
            let spoken = Spoken::new(speaker, &world.policy, world.webhooks.clone(), world.seed).map_err(|e| {
                EngineError::Dispatcher { at: SimTime::ZERO, during: "hello".into(), message: e.to_string() }
            })?;
            self.run_world(world, spoken)
        });
        if let (None, Some(context)) = (&run.error, &context) {
            run.violations = crate::properties::check(&run.trace, context);
            for violation in &run.violations {
                run.failures.push(violation_failure(&run.file, violation));
            }
        }
        run
    }

    fn check(&self) -> Result<(), SimError> {
        if !self.apps.is_empty() && self.engine == Engine::Live {
            return Err(SimError::EngineCannotHostRouters { engine: self.engine });
        }
        for host in self.apps.keys() {
            if self.scenario.world.receiver(host).is_none() {
                let known: Vec<&str> = self.scenario.world.receivers.iter().map(|r| r.host.as_str()).collect();
                return Err(SimError::UnknownReceiver {
                    host: host.clone(),
                    scenario: self.scenario.name.clone(),
                    known: if known.is_empty() { "it has none".into() } else { known.join(", ") },
                });
            }
        }
        Ok(())
    }

    fn run_here(&self) -> ScenarioRun {
        let (engine, limits) = (self.engine, self.limits);
        run_on(&self.scenario, engine, self.seed, limits, |world| {
            let core = world.reference_core(crate::shell::signing::EPOCH_S);
            self.run_world(world, core)
        })
    }

    /// `world` on the chosen engine with `core`, the caller's routers in place.
    fn run_world<D: Dispatch>(&self, world: &World, core: D) -> Result<RunOutput, EngineFailure> {
        match self.engine {
            _ if self.apps.is_empty() => self.engine.run_dispatched(world, self.limits, core),
            Engine::Net => crate::net::run_dispatched_with_apps(world, self.limits, core, &self.apps),
            Engine::Model => crate::model::run_dispatched_with_apps(world, self.limits, core, self.model_apps()),
            // Refused by `check`.
            Engine::Live => self.engine.run_dispatched(world, self.limits, core),
        }
    }

    /// The routers as the model engine runs them: polled to their end in its thread.
    fn model_apps(&self) -> crate::model::Apps<'static> {
        self.apps.iter().map(|(host, router)| (host.clone(), Box::new(RouterApp(router.clone())) as _)).collect()
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("scenario", &self.scenario.name)
            .field("engine", &self.engine)
            .field("seed", &self.seed)
            .field("routers", &self.apps.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A broken property as a failure of the run, at the top of the scenario file.
fn violation_failure(file: &Path, violation: &crate::properties::Violation) -> crate::scenario::Failure {
    crate::scenario::Failure {
        file: file.to_path_buf(),
        line: 1,
        column: 1,
        expected: "every property of every world kept".into(),
        found: violation.to_string(),
        excerpt: Vec::new(),
    }
}

/// Runs `run` here, or, inside a tokio runtime (where the simulated network cannot start), on a
/// thread of its own.
fn off_runtime<T: Send>(run: impl FnOnce() -> T + Send) -> Result<T, SimError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(run());
    }
    std::thread::scope(|scope| scope.spawn(run).join()).map_err(panicked)
}

fn panicked(payload: Box<dyn std::any::Any + Send>) -> SimError {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    SimError::Panicked(text)
}
