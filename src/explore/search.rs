//! One seed: its world, a run, every property checked, and (on a sample of seeds) a second run
//! whose trace must hash the same.

use super::fingerprint::trace_hash;
use super::nemesis::{self, Rates};
use crate::properties::{PropertyContext, check};
use crate::runner::{Engine, ExternalDispatcher, run_world_dispatched};
use crate::world::{EngineFailure, RunLimits, RunOutput, World};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;

/// Signature of a seed whose second run gave another trace.
pub const NONDETERMINISTIC: &str = "nondeterministic-trace";
/// Signature of a seed whose engine stopped before the world's end (a limit, an error).
pub const ENGINE_STOPPED: &str = "engine-stopped";

/// Most threads one explore runs its seeds on (`--jobs`).
pub const JOBS_MAX: usize = 256;

/// Stack of each seed thread: the main thread's usual 8 MiB, not a spawned thread's 2 MiB, so a
/// world runs on a seed thread as it would on the main thread.
const SEED_THREAD_STACK_BYTES: usize = 8 * 1024 * 1024;

/// What is explored, the same for every seed of a run (and every shard of it).
#[derive(Clone, Debug)]
pub struct Plan {
    /// Scenario worlds used as templates, seed `s` taking `templates[s % len]`; empty: the
    /// built-in random world.
    pub templates: Vec<World>,
    /// How often the nemesis draws each fault.
    pub rates: Rates,
    /// The engine every seed runs on.
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
    /// The seed its world was drawn from.
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
    /// The trace's fingerprint (XXH3-128, hex).
    pub trace_hash: String,
    /// The signatures of what failed, as found (not yet sorted).
    pub signatures: Vec<String>,
    /// The engine's error, when it stopped before the world's end.
    pub stopped: Option<String>,
    /// Its kind ([`crate::world::EngineError::kind`]).
    pub stop_kind: Option<&'static str>,
}

impl SeedResult {
    /// Whether it kept every property.
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

    /// Runs every seed of `seeds` on up to `jobs` threads, each taking the next seed no thread has
    /// taken. On the calling thread: `finished` with each result as it comes (in any order: for
    /// progress), then `in_order` with it once every seed before it has been passed on, so
    /// `in_order` sees the seeds in order whatever `jobs` is. A seed's result depends on the plan
    /// and the seed only (its world is built from its seed), not on the thread that ran it.
    ///
    /// The first error of `in_order` stops the search (the threads end after their current seed)
    /// and is returned; so is an error starting the first thread (a later one that cannot start
    /// leaves its seeds to the others).
    pub fn run_seeds<E: From<std::io::Error>>(
        &self,
        seeds: Range<u64>,
        jobs: usize,
        mut finished: impl FnMut(&SeedResult),
        mut in_order: impl FnMut(SeedResult) -> Result<(), E>,
    ) -> Result<(), E> {
        let count = seeds.end.saturating_sub(seeds.start);
        let threads = jobs.clamp(1, JOBS_MAX).min(usize::try_from(count).unwrap_or(usize::MAX)).max(1);
        let next = AtomicU64::new(seeds.start);
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel::<SeedResult>();
            let mut started = 0;
            for i in 0..threads {
                let (tx, next, end) = (tx.clone(), &next, seeds.end);
                let spawned = std::thread::Builder::new()
                    .name(format!("explore-{i}"))
                    .stack_size(SEED_THREAD_STACK_BYTES)
                    .spawn_scoped(scope, move || {
                        loop {
                            let seed = next.fetch_add(1, Ordering::Relaxed);
                            // A closed channel: the caller stopped; end here.
                            if seed >= end || tx.send(self.run_seed(seed)).is_err() {
                                return;
                            }
                        }
                    });
                match spawned {
                    Ok(_) => started += 1,
                    Err(e) if started == 0 => return Err(E::from(e)),
                    Err(_) => break,
                }
            }
            drop(tx);
            // Results ahead of a seed still running wait here: at most the seeds the other
            // threads finish meanwhile, a few dozen bytes each.
            let mut waiting = BTreeMap::new();
            let mut due = seeds.start;
            for r in rx {
                finished(&r);
                waiting.insert(r.seed, r);
                while let Some(r) = waiting.remove(&due) {
                    in_order(r)?;
                    due += 1;
                }
            }
            Ok(())
        })
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

/// `f` of each item on up to `jobs` threads (each taking the next item no thread has taken), the
/// results in the items' order: the same for every `jobs` when `f` depends on its item only. A
/// thread that cannot start leaves its items to the others; none at all: `f` runs here.
pub fn each_on_threads<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = jobs.clamp(1, JOBS_MAX).min(items.len());
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let work = || {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                match items.get(i) {
                    Some(item) => mine.push((i, f(item))),
                    None => return mine,
                }
            }
        };
        let handles: Vec<_> = (0..threads)
            .map_while(|i| {
                std::thread::Builder::new()
                    .name(format!("explore-{i}"))
                    .stack_size(SEED_THREAD_STACK_BYTES)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        // No thread started: the items are all still here to take.
        let mut done = if handles.is_empty() { work() } else { Vec::new() };
        for h in handles {
            match h.join() {
                Ok(mine) => done.extend(mine),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
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

    #[test]
    fn seeds_come_back_in_order_and_the_same_on_any_number_of_threads() {
        let plan = Plan {
            templates: vec![],
            rates: Rates::default(),
            engine: Engine::Model,
            rerun_every: 4,
            claim_dedup: true,
            dispatcher: None,
            limits: RunLimits::default(),
        };
        let run = |jobs| {
            let (mut finished, mut rows) = (0, Vec::new());
            plan.run_seeds::<std::io::Error>(
                10..70,
                jobs,
                |_| finished += 1,
                |r| {
                    rows.push(r);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(finished, 60);
            rows
        };
        let one = run(1);
        assert_eq!(one.iter().map(|r| r.seed).collect::<Vec<_>>(), (10..70).collect::<Vec<_>>());
        assert!(one.iter().any(|r| !r.passed()), "claim_dedup makes naive receivers fail somewhere");
        assert_eq!(one, (10..70).map(|s| plan.run_seed(s)).collect::<Vec<_>>());
        assert_eq!(run(3), one);
        assert_eq!(run(JOBS_MAX + 1), one, "more threads than seeds, or than the cap, run the same");

        // An error passing a result on stops the search and comes back.
        let mut seen = 0;
        let err = plan.run_seeds(
            0..1000,
            3,
            |_| {},
            |_| {
                seen += 1;
                if seen == 5 { Err(std::io::Error::other("full")) } else { Ok(()) }
            },
        );
        assert_eq!(err.unwrap_err().to_string(), "full");
        assert_eq!(seen, 5);
        assert!(plan.run_seeds::<std::io::Error>(5..5, 2, |_| {}, |_| unreachable!()).is_ok());
    }

    #[test]
    fn each_on_threads_keeps_the_items_order() {
        let items: Vec<u64> = (0..50).collect();
        let one = each_on_threads(&items, 1, |&s| s * s);
        assert_eq!(one, items.iter().map(|s| s * s).collect::<Vec<_>>());
        assert_eq!(each_on_threads(&items, 3, |&s| s * s), one);
        assert_eq!(each_on_threads(&items, JOBS_MAX + 9, |&s| s * s), one);
        assert!(each_on_threads(&[] as &[u64], 4, |&s| s).is_empty());
    }
}
