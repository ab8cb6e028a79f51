//! The dispatcher protocol's overhead (issue 10): the same 10-day world (a receiver answering
//! 500 for ten days, `failing_world(10, 1)`) on the model engine with the reference core
//! in-process, and with the same core served as a process over the protocol (`hooksim dispatcher
//! --stdio`, driven by `ProcessDispatcher`). Both give the same trace (checked before timing).
//!
//! - `protocol/in_process_10_days`: the baseline.
//! - `protocol/process_10_days`: through the protocol, the process spawned, greeted and ended
//!   within each iteration (what `hooksim run --dispatcher` pays per scenario).
//! - `protocol/process_spawn_only`: spawning the process and its `hello` exchange alone, so the
//!   per-line cost can be told from the start-up cost.
//!
//! The binary is the one cargo builds for benches beside this file (`CARGO_BIN_EXE_hooksim`,
//! set for benches as for integration tests: `target/release/hooksim` under `cargo bench`).
//! Short settings: `cargo bench --features bench --bench protocol -- --warm-up-time 1 --measurement-time 5`.

use criterion::{Criterion, criterion_group, criterion_main};
use hooksim::protocol::{ProcessConfig, ProcessDispatcher};
use hooksim::trace::TraceEvent;
use hooksim::world::sample::failing_world;
use hooksim::world::{RunLimits, RunOutput, World};
use std::hint::black_box;
use std::time::Instant;

fn process(world: &World) -> ProcessDispatcher {
    let config = ProcessConfig::new(vec![env!("CARGO_BIN_EXE_hooksim").into(), "dispatcher".into(), "--stdio".into()]);
    ProcessDispatcher::spawn(config, &world.policy, world.webhooks.clone(), world.seed).expect("the reference serves")
}

fn through_protocol(world: &World) -> RunOutput {
    hooksim::model::run_dispatched(world, RunLimits::default(), process(world)).expect("the world runs")
}

fn protocol(c: &mut Criterion) {
    let world = failing_world(10, 1);
    let in_process = hooksim::model::run(&world).expect("the world runs");
    let over = through_protocol(&world);
    assert_eq!(in_process.trace.sha256(), over.trace.sha256(), "the protocol carries the same trace");
    let attempts =
        in_process.trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::AttemptStarted { .. })).count();
    // One untimed look at the wall time, for the README (criterion's numbers follow).
    let started = Instant::now();
    black_box(through_protocol(&world));
    println!(
        "10 days, {attempts} attempts, {} trace entries: one run through the protocol took {:.1} ms",
        in_process.trace.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut group = c.benchmark_group("protocol");
    group.sample_size(20);
    group.bench_function("in_process_10_days", |b| b.iter(|| black_box(hooksim::model::run(&world).unwrap())));
    group.bench_function("process_10_days", |b| b.iter(|| black_box(through_protocol(&world))));
    group.bench_function("process_spawn_only", |b| b.iter(|| drop(black_box(process(&world)))));
    group.finish();
}

criterion_group!(benches, protocol);
criterion_main!(benches);
