//! One seed: its world, a run, every property checked, and (on a sample of seeds) a second run
//! whose trace must hash the same.

use super::fingerprint::trace_hash;
use super::nemesis::{self, Rates};
use crate::properties::{PropertyContext, check};
use crate::runner::{Engine, ExternalDispatcher, run_world_dispatched};
use crate::world::{EngineFailure, RunLimits, RunOutput, World};
use serde::{Deserialize, Serialize};

/// Signature of a seed whose second run gave another trace.
pub const NONDETERMINISTIC: &str = "nondeterministic-trace";
/// Signature of a seed whose engine stopped before the world's end (a limit, an error).
pub const ENGINE_STOPPED: &str = "engine-stopped";

/// What is explored, the same for every seed of a run (and every shard of it).
#[derive(Clone, Debug)]
pub struct Plan {
    /// Scenario worlds used as templates, seed `s` taking `templates[s % len]`; empty: the
    /// built-in random world.
    pub templates: Vec<World>,
    pub rates: Rates,
    pub engine: Engine,
    /// Every `rerun_every`-th seed runs twice and the trace hashes are compared; 0: never.
    pub rerun_every: u64,
    /// Hold every receiver, `naive` ones too, to acting once per delivery uuid: a negative
    /// control (a naive receiver acts again on a redelivery, so `dedup-acted-twice` must show).
    pub claim_dedup: bool,
    /// A dispatcher process in place of the reference core (`--dispatcher`), a fresh one per
    /// run; `None`: the core, in process.
    pub dispatcher: Option<ExternalDispatcher>,
    /// What one run may cost (`--trace-entries-max`); a run at a limit stops as
    /// [`ENGINE_STOPPED`], its reason kept.
    pub limits: RunLimits,
}

/// One seed's result: one JSON line of an explore out file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedResult {
    pub seed: u64,
    /// `pass` or `fail`.
    pub verdict: String,
    /// [`super::fingerprint::trace_hash`] of its trace.
    pub trace_hash: String,
    /// The distinct signatures of its failures, sorted; empty when it passed.
    pub signatures: Vec<String>,
    /// Why the engine stopped before the world's end (with [`ENGINE_STOPPED`]): the error, the
    /// limit it names if it was one. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// One world run and judged (see [`Plan::judge`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judged {
    pub trace_hash: String,
    /// The signatures of what failed, as found (not yet sorted).
    pub signatures: Vec<String>,
    /// The engine's error, when it stopped before the world's end.
    pub stopped: Option<String>,
    /// Its kind ([`crate::world::EngineError::kind`]).
    pub stop_kind: Option<&'static str>,
}

impl SeedResult {
    pub fn passed(&self) -> bool {
        self.signatures.is_empty()
    }
}

impl Plan {
    /// The world of `seed`.
    pub fn world(&self, seed: u64) -> World {
        let template =
            (!self.templates.is_empty()).then(|| &self.templates[(seed % self.templates.len() as u64) as usize]);
        nemesis::world(seed, template, &self.rates)
    }

    /// What the properties are told about `world`.
    pub fn context(&self, world: &World) -> PropertyContext {
        let mut ctx = PropertyContext::from_world(world);
        if self.claim_dedup {
            ctx.dedup_receivers = world.receivers.iter().map(|r| r.host.clone()).collect();
        }
        ctx
    }

    /// Runs `seed` and checks it.
    pub fn run_seed(&self, seed: u64) -> SeedResult {
        let world = self.world(seed);
        let judged = self.judge(&world);
        let (sha, mut signatures) = (judged.trace_hash, judged.signatures);
        if self.rerun_every > 0 && seed.is_multiple_of(self.rerun_every) && self.trace_sha(&world) != sha {
            signatures.push(NONDETERMINISTIC.to_string());
        }
        signatures.sort();
        signatures.dedup();
        let verdict = if signatures.is_empty() { "pass" } else { "fail" };
        SeedResult { seed, verdict: verdict.into(), trace_hash: sha, signatures, stopped: judged.stopped }
    }

    /// Runs `world` on the plan's engine, with its dispatcher, within the plan's limits.
    pub fn run(&self, world: &World) -> Result<RunOutput, EngineFailure> {
        match &self.dispatcher {
            None => self.engine.run_within(world, self.limits),
            Some(d) => run_world_dispatched(world, self.engine, self.limits, d).0,
        }
    }

    /// The trace's hash and the signatures of what failed on `world`.
    pub fn verdict(&self, world: &World) -> (String, Vec<String>) {
        let judged = self.judge(world);
        (judged.trace_hash, judged.signatures)
    }

    /// Runs `world` and judges it: [`Plan::verdict`], and why the engine stopped if it did.
    pub fn judge(&self, world: &World) -> Judged {
        match self.run(world) {
            Ok(out) => {
                let sigs = check(&out.trace, &self.context(world)).iter().map(|v| v.signature().to_string()).collect();
                Judged { trace_hash: trace_hash(&out.trace), signatures: sigs, stopped: None, stop_kind: None }
            }
            Err(EngineFailure { partial, error }) => Judged {
                trace_hash: trace_hash(&partial.trace),
                signatures: vec![ENGINE_STOPPED.to_string()],
                stopped: Some(error.to_string()),
                stop_kind: Some(error.kind()),
            },
        }
    }

    fn trace_sha(&self, world: &World) -> String {
        match self.run(world) {
            Ok(out) => trace_hash(&out.trace),
            Err(EngineFailure { partial, .. }) => trace_hash(&partial.trace),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_worlds_keep_every_property_and_rerun_the_same() {
        let plan = Plan {
            templates: vec![],
            rates: Rates::default(),
            engine: Engine::Model,
            rerun_every: 1,
            claim_dedup: false,
            dispatcher: None,
            limits: RunLimits::default(),
        };
        for seed in 0..40 {
            let r = plan.run_seed(seed);
            assert!(r.passed(), "seed {seed}: {:?}", r.signatures);
        }
    }
}
