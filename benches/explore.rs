//! `hooksim explore`'s cost per seed beside the plain model run of the same worlds, measured in
//! the same run (the machines are shared and noisy: compare the ratio, not absolute times).
//!
//! - `explore/seed`: one seed as `hooksim explore` runs it: the nemesis builds the world from the
//!   10-day failing template, the model engine runs it, every property is checked, the trace is
//!   hashed, and every 16th seed runs twice (target: >= 5,000 seeds/s per core, 200 us a seed).
//! - `explore/model_run_baseline`: the model engine alone over the very same worlds, built in
//!   advance: the irreducible part of a seed.
//! - `explore/seed_json_hash_before`: a seed as it was before its trace hash was
//!   `explore::fingerprint` (the trace's JSON-lines SHA-256), for the before/after ratio.
//!
//! - `explore/jobs/*`: `JOBS_SEEDS` seeds as `hooksim explore --jobs N` runs them, on 1 thread and
//!   on every core the process may use (issue 20: `--jobs 2` at least 1.8x `--jobs 1` on 2 cores;
//!   the speed-up, measured in the same run, is printed).
//!
//! Both cycle through the same `SEEDS` seeds, so their means are over the same worlds.
//! `cargo bench --features bench --bench explore -- --measurement-time 5` prints both; the ratio is
//! `explore/seed / explore/model_run_baseline`.

use criterion::{Criterion, criterion_group};
use hooksim::explore::nemesis::Rates;
use hooksim::explore::search::Plan;
use hooksim::runner::Engine;
use hooksim::world::World;
use hooksim::world::sample::failing_world;
use std::hint::black_box;

const SEEDS: u64 = 64;

fn plan() -> Plan {
    Plan {
        templates: vec![failing_world(10, 0)],
        rates: Rates::default(),
        engine: Engine::Model,
        rerun_every: 16,
        claim_dedup: false,
        dispatcher: None,
        limits: hooksim::world::RunLimits::default(),
    }
}

fn explore_seed(c: &mut Criterion) {
    let plan = plan();
    let worlds: Vec<World> = (0..SEEDS).map(|s| plan.world(s)).collect();
    let failed = (0..SEEDS).filter(|&s| !plan.run_seed(s).passed()).count();
    assert_eq!(failed, 0, "every seed of the bench passes");
    let mut group = c.benchmark_group("explore");
    let mut seed = 0;
    group.bench_function("seed", |b| {
        b.iter(|| {
            seed = (seed + 1) % SEEDS;
            black_box(plan.run_seed(seed))
        })
    });
    let mut before = 0;
    group.bench_function("seed_json_hash_before", |b| {
        b.iter(|| {
            before = (before + 1) % SEEDS;
            black_box(seed_as_before(&plan, before))
        })
    });
    let mut i = 0;
    group.bench_function("model_run_baseline", |b| {
        b.iter(|| {
            i = (i + 1) % worlds.len();
            black_box(hooksim::model::run(&worlds[i]).map(|o| o.trace.len()).ok())
        })
    });
    group.finish();
}

/// What a seed cost before: the same run and checks, the trace hashed as JSON lines.
fn seed_as_before(plan: &Plan, seed: u64) -> (String, usize) {
    let world = plan.world(seed);
    let out = hooksim::model::run(&world).expect("the bench's worlds run");
    let violations = hooksim::properties::check(&out.trace, &plan.context(&world)).len();
    let sha = out.trace.sha256();
    if seed.is_multiple_of(plan.rerun_every) {
        assert_eq!(hooksim::model::run(&world).expect("runs").trace.sha256(), sha);
    }
    (sha, violations)
}

/// Seeds per measured search in `explore/jobs`.
const JOBS_SEEDS: u64 = 256;

/// One search over `JOBS_SEEDS` seeds on `jobs` threads, as `hooksim explore` runs it; returns the
/// failed seeds (none).
fn search(plan: &Plan, jobs: usize) -> usize {
    let mut failed = 0;
    plan.run_seeds(
        0..JOBS_SEEDS,
        jobs,
        |_| {},
        |r| -> Result<(), std::io::Error> {
            failed += usize::from(!r.passed());
            Ok(())
        },
    )
    .expect("the search runs");
    failed
}

fn explore_jobs(c: &mut Criterion) {
    let plan = plan();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut group = c.benchmark_group("explore/jobs");
    group.sample_size(10);
    let mut wall = Vec::new();
    for jobs in [1, cores] {
        let started = std::time::Instant::now();
        for _ in 0..5 {
            assert_eq!(search(&plan, jobs), 0, "every seed of the bench passes");
        }
        wall.push(started.elapsed().as_secs_f64());
        group.bench_function(format!("{jobs}"), |b| b.iter(|| black_box(search(&plan, jobs))));
    }
    group.finish();
    println!(
        "explore/jobs: {cores} threads run {JOBS_SEEDS} seeds {:.2}x as fast as 1 (target at least 1.8x on 2 cores)",
        wall[0] / wall[1]
    );
}

criterion_group!(benches, explore_seed, explore_jobs);
/// As the `hooksim` binary does first (`hooksim::allocator`): memory freed by one world is kept
/// for the next instead of being unmapped and mapped again.
fn main() {
    hooksim::allocator::keep_memory();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
