//! The network engine's targets (issue 3), measured in one run:
//! - `net/failing_10_days`: ten virtual days of a receiver answering 500, end to end over HTTP
//!   (target: at most 50 ms of wall time);
//! - `net/throughput/*`: deliveries per wall second through the engine against POSTs per wall
//!   second of a bare turmoil loop (one connection per POST, the same receiver router, the same
//!   concurrency, the same tick); target: the engine at least half the bare loop.
//!
//! - `net/idle_hosts/*`: the ten-day failing world with 10, 100 and 1,000 receivers nothing
//!   addresses beside the shop (issue 20: the cost per attempt should not follow idle hosts; the
//!   ratio to the 10-receiver world is the result).
//! - `net/latency/*`: a receiver failing for two days (100 attempts) with a fixed latency of 1 ms
//!   and of 2 s (issue 20: latency should cost no ticks; the ratio per attempt is the result,
//!   target at most 1.2).
//!
//! Run on one core: `taskset -c 0 cargo bench --features bench --bench net`.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group};
use hooksim::domain::{Change, Client};
use hooksim::policy::Profile;
use hooksim::receiver::{Book, ReceiverKind, ReceiverState, router};
use hooksim::time::{HOUR_MS, SimTime};
use hooksim::trace::{Outcome, TraceEvent};
use hooksim::world::sample::{SHOP_HOST, failing_world, shop_webhook};
use hooksim::world::{Action, Behaviour, ReceiverSpec, Step, World};
use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::Semaphore;

/// POSTs (or deliveries) per measured run.
const POSTS: u64 = 2_000;
/// Connections in flight at once, in both loops (the policy's in-flight limit for the engine).
const CONCURRENCY: u32 = 32;

/// Ten days of 500s with 3 events (a client, an invoice, its payment: `failing_world(10, 1)`),
/// the target world, and with 7 events (`failing_world(10, 3)`, the model engine's test world).
fn failing(c: &mut Criterion) {
    let mut group = c.benchmark_group("net");
    group.sample_size(20);
    for (name, invoices) in [("failing_10_days_3_events", 1), ("failing_10_days_7_events", 3)] {
        let world = failing_world(10, invoices);
        let out = hooksim::net::run(&world).expect("the failing world runs");
        let attempts =
            out.trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::AttemptStarted { .. })).count();
        println!("{name}: {attempts} attempts, {} trace entries", out.trace.len());
        group.bench_function(name, |b| b.iter(|| black_box(hooksim::net::run(&world).unwrap())));
    }
    group.finish();
}

/// `POSTS` events at once to one always-200 receiver, `CONCURRENCY` attempts in flight.
fn busy_world() -> World {
    let mut spec = Profile::Snapbill.spec();
    spec.in_flight_per_webhook_max = CONCURRENCY;
    spec.pending_per_webhook_max = POSTS as u32;
    let timeline = (1..=POSTS)
        .map(|id| Step {
            at: SimTime::ZERO,
            action: Action::Change(Change::AddClient(Client {
                id,
                name: format!("client {id}"),
                email: format!("c{id}@example.com"),
            })),
        })
        .collect();
    World {
        name: "busy".into(),
        seed: 3,
        policy: spec.build().expect("a valid policy"),
        webhooks: vec![shop_webhook()],
        receivers: vec![ReceiverSpec {
            host: SHOP_HOST.into(),
            kind: ReceiverKind::Dedup,
            behaviour: Behaviour::default(),
        }],
        timeline,
        run_for_ms: HOUR_MS,
        latency_ms: (1, 1),
        signing: Default::default(),
        provider: Default::default(),
    }
}

/// `POSTS` POSTs of distinct deliveries, `CONCURRENCY` at a time, each on its own connection,
/// to the reference router served the engine's way; no dispatcher core, no trace.
fn bare_loop() -> u64 {
    let mut sim = turmoil::Builder::new()
        .epoch(SystemTime::UNIX_EPOCH + Duration::from_secs(hooksim::net::EPOCH_UNIX_SECS))
        .rng_seed(3)
        .tick_duration(Duration::from_millis(1))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(1))
        .simulation_duration(Duration::from_secs(3_600))
        .build();
    sim.host(SHOP_HOST, || {
        let state = Arc::new(ReceiverState {
            name: SHOP_HOST.into(),
            kind: ReceiverKind::Dedup,
            book: Arc::new(Mutex::new(Book::default())),
            on_handled: None,
            provider: Default::default(),
            events: Arc::default(),
        });
        hooksim::net::serve_router(router(state))
    });
    let ok = Rc::new(Cell::new(0u64));
    let counted = ok.clone();
    sim.client("dispatcher", async move {
        // Let the server bind first, as the engine's warm-up tick does.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let slots = Arc::new(Semaphore::new(CONCURRENCY as usize));
        let mut tasks = Vec::new();
        for i in 0..POSTS {
            let permit = slots.clone().acquire_owned().await?;
            let counted = counted.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let body = format!(
                    r#"{{"uuid":"{}","body":{{"id":{i},"path":"/client/add","details":"","client":{{"id":{i}}}}}}}"#,
                    uuid::Uuid::from_u128(i as u128 + 1)
                );
                if hooksim::net::post(SHOP_HOST, "/webhook", Bytes::from(body)).await == (Outcome::Status { code: 200 })
                {
                    counted.set(counted.get() + 1);
                }
                drop(permit);
            }));
        }
        for task in tasks {
            task.await?;
        }
        Ok(())
    });
    sim.run().expect("the bare loop runs");
    ok.get()
}

fn throughput(c: &mut Criterion) {
    let world = busy_world();
    let out = hooksim::net::run(&world).expect("the busy world runs");
    let delivered = out.trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::Delivered { .. })).count();
    assert_eq!(delivered as u64, POSTS, "every event delivered once");
    assert_eq!(bare_loop(), POSTS, "every bare POST answered 200");
    let mut group = c.benchmark_group("net/throughput");
    group.sample_size(20);
    group.throughput(Throughput::Elements(POSTS));
    group.bench_function("bare_turmoil_posts", |b| b.iter(|| black_box(bare_loop())));
    group.bench_function("engine_deliveries", |b| b.iter(|| black_box(hooksim::net::run(&world).unwrap())));
    group.finish();
}

/// The ten-day failing world with `idle` more receivers that no webhook and no timeline step
/// names: each costs nothing if the engine makes hosts only of addressed receivers.
fn idle_hosts(c: &mut Criterion) {
    let mut group = c.benchmark_group("net/idle_hosts");
    group.sample_size(20);
    let mut per_attempt = Vec::new();
    for idle in [10, 100, 1_000] {
        let mut world = failing_world(10, 1);
        for i in 0..idle {
            let host = format!("idle-{i}");
            world.receivers.push(ReceiverSpec { host, kind: ReceiverKind::Dedup, behaviour: Behaviour::default() });
        }
        per_attempt.push(per_attempt_s(&world, 10));
        group.bench_function(format!("{idle}"), |b| b.iter(|| black_box(hooksim::net::run(&world).unwrap())));
    }
    group.finish();
    println!(
        "net/idle_hosts: per attempt, 100 receivers {:.2}x and 1,000 receivers {:.2}x the 10-receiver world \
         (target at most 1.5x)",
        per_attempt[1] / per_attempt[0],
        per_attempt[2] / per_attempt[0]
    );
}

/// A receiver answering 500 for two days (a client added: 100 attempts) with a fixed one-way
/// latency of `latency_ms`.
fn failing_two_days(latency_ms: u64) -> World {
    let mut world = failing_world(2, 0);
    world.latency_ms = (latency_ms, latency_ms);
    world
}

fn attempts(world: &World) -> usize {
    let out = hooksim::net::run(world).expect("the world runs");
    out.trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::AttemptStarted { .. })).count()
}

/// Wall seconds per attempt of `world`, over `runs` runs (for the ratios printed beside the
/// criterion groups: both sides measured in the same run of the bench).
fn per_attempt_s(world: &World, runs: usize) -> f64 {
    let n = attempts(world);
    let started = std::time::Instant::now();
    for _ in 0..runs {
        black_box(hooksim::net::run(world).unwrap());
    }
    started.elapsed().as_secs_f64() / (runs * n) as f64
}

/// The same world with 1 ms and with 2 s of latency; prints the ratio per attempt.
fn latency(c: &mut Criterion) {
    let mut group = c.benchmark_group("net/latency");
    group.sample_size(20);
    let mut per_attempt = Vec::new();
    for (name, latency_ms) in [("1ms", 1), ("2s", 2_000)] {
        let world = failing_two_days(latency_ms);
        println!("net/latency/{name}: {} attempts", attempts(&world));
        per_attempt.push(per_attempt_s(&world, 50));
        group.bench_function(name, |b| b.iter(|| black_box(hooksim::net::run(&world).unwrap())));
    }
    group.finish();
    println!(
        "net/latency: 2 s costs {:.2}x per attempt of 1 ms ({:.1} us against {:.1} us; target at most 1.2x)",
        per_attempt[1] / per_attempt[0],
        per_attempt[1] * 1e6,
        per_attempt[0] * 1e6
    );
}

criterion_group!(benches, failing, idle_hosts, latency, throughput);
/// As the `hooksim` binary does first (`hooksim::allocator`): memory freed by one world is kept
/// for the next instead of being unmapped and mapped again.
fn main() {
    hooksim::allocator::keep_memory();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
