//! Real delivery throughput (issue 12): the reference dispatcher over loopback (the live shell,
//! `hooksim run --receiver`'s engine) to the reference receiver (`hooksim receiver`'s router,
//! served in-process by `receiver::serve` on its own thread), with N attempts in flight, beside
//! the ceiling measured in the same run against the same receiver: a bare reqwest loop with the
//! same concurrency.
//!
//! The dispatcher opens a new connection per attempt (issue 9: a retry days later must not ride
//! an old keep-alive connection), so the bare loop is measured under the same rule
//! (`bare_new_conn`, the ceiling the goal is stated against: at least 0.5) and, for scale, with
//! keep-alive (`bare_keepalive`).
//!
//! Before criterion's timing, a summary pass prints per N: deliveries per second, the ratio to
//! the bare loop, p50/p99 latency per delivery, and CPU microseconds per delivery (the sending
//! thread alone, `getrusage(RUSAGE_THREAD)`, and the whole process with the receiver,
//! `RUSAGE_SELF`). The dispatcher's latency is read from its trace (attempt started to attempt
//! finished, in the live shell's virtual time, which runs at wall speed while attempts are in
//! flight): whole milliseconds, and including the shared shell's least link latency
//! (`LATENCY_MIN_MS`, 1 ms each way: virtual, so free while nothing else is in flight, waited
//! for in wall time while something is). The bare loop's is measured per request in
//! microseconds.
//!
//! The same receiver under `wrk` (`benches/wrk_post.lua`, its own process) is the outside
//! ceiling; the README gives both.
//!
//! Short settings: `cargo bench --features bench --bench throughput -- --warm-up-time 1 --measurement-time 5`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hooksim::domain::{Change, Client};
use hooksim::live::Bindings;
use hooksim::policy::Profile;
use hooksim::receiver::{ReceiverKind, ServeOptions, app, serve};
use hooksim::time::{HOUR_MS, SimTime};
use hooksim::trace::TraceEvent;
use hooksim::world::sample::{SHOP_HOST, shop_webhook};
use hooksim::world::{Action, Behaviour, ReceiverSpec, RunLimits, Step, World};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Deliveries per measured run.
const DELIVERIES: u64 = 1_000;
/// Attempts in flight at once (the policy's `in_flight_per_webhook_max`; the bare loop's permits).
const IN_FLIGHT: [u32; 3] = [1, 16, 64];
/// Runs of each loop in the summary pass (the median run is printed).
const SUMMARY_RUNS: usize = 3;

/// The reference receiver on loopback, on a thread of its own, serving until the process ends.
fn start_receiver() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let (router, _book) = app(ReceiverKind::Dedup, ServeOptions::default());
            serve(listener, router, std::future::pending()).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// `DELIVERIES` events at once for one always-200 receiver, `in_flight` attempts at a time. A
/// new seed per run gives new delivery ids, so the receiver acts on each (no dedup shortcut).
fn busy_world(in_flight: u32, seed: u64) -> World {
    let mut spec = Profile::Snapbill.spec();
    spec.in_flight_per_webhook_max = in_flight;
    spec.pending_per_webhook_max = DELIVERIES as u32;
    let timeline = (1..=DELIVERIES)
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
        seed,
        policy: spec.build().expect("a valid policy"),
        webhooks: vec![shop_webhook()],
        receivers: vec![ReceiverSpec {
            host: SHOP_HOST.into(),
            kind: ReceiverKind::Dedup,
            behaviour: Behaviour::default(),
        }],
        timeline,
        run_for_ms: HOUR_MS,
        latency_ms: (0, 0),
        signing: Default::default(),
        provider: Default::default(),
    }
}

/// What one run measured.
struct Measured {
    wall: Duration,
    /// Per delivery, in microseconds.
    latencies_us: Vec<u64>,
    thread_cpu_us: u64,
    process_cpu_us: u64,
}

/// CPU time (user + system) of this thread and of the whole process, in microseconds.
fn cpu_us() -> (u64, u64) {
    let read = |who| {
        // SAFETY: getrusage only writes the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut usage) };
        let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
        us(usage.ru_utime) + us(usage.ru_stime)
    };
    (read(libc::RUSAGE_THREAD), read(libc::RUSAGE_SELF))
}

fn measure(run: impl FnOnce() -> Vec<u64>) -> Measured {
    let (thread0, process0) = cpu_us();
    let started = Instant::now();
    let latencies_us = run();
    let wall = started.elapsed();
    let (thread1, process1) = cpu_us();
    Measured { wall, latencies_us, thread_cpu_us: thread1 - thread0, process_cpu_us: process1 - process0 }
}

/// One run of the reference dispatcher; the latency of each delivered attempt from its trace.
fn dispatcher_run(world: &World, bindings: &Bindings) -> Vec<u64> {
    let out = hooksim::live::run_with(world, bindings, RunLimits::default()).expect("the busy world runs");
    let mut started = BTreeMap::new();
    let mut latencies = Vec::new();
    for entry in out.trace.entries() {
        match &entry.event {
            TraceEvent::AttemptStarted { attempt, .. } => {
                started.insert(*attempt, entry.at);
            }
            TraceEvent::AttemptFinished { attempt, outcome, .. } if outcome.is_success() => {
                let from = started[attempt];
                latencies.push(entry.at.ms_since(from) * 1_000);
            }
            _ => {}
        }
    }
    assert_eq!(latencies.len() as u64, DELIVERIES, "every event delivered once");
    latencies
}

/// `DELIVERIES` POSTs of distinct deliveries, `in_flight` at a time, no dispatcher, no trace.
fn bare_run(client: &reqwest::Client, url: &str, in_flight: u32, round: u64) -> Vec<u64> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let slots = Arc::new(Semaphore::new(in_flight as usize));
        let ok = std::rc::Rc::new(Cell::new(0u64));
        let local = tokio::task::LocalSet::new();
        let latencies = std::rc::Rc::new(std::cell::RefCell::new(Vec::with_capacity(DELIVERIES as usize)));
        local
            .run_until(async {
                let mut tasks = Vec::new();
                for i in 1..=DELIVERIES {
                    let permit = slots.clone().acquire_owned().await.unwrap();
                    let (client, url, ok, latencies) = (client.clone(), url.to_string(), ok.clone(), latencies.clone());
                    tasks.push(tokio::task::spawn_local(async move {
                        let id = uuid::Uuid::from_u128(((round as u128) << 64) | i as u128);
                        let body = format!(
                            r#"{{"uuid":"{id}","body":{{"id":{i},"path":"/client/add","details":"","client":{{"id":{i},"name":"client {i}","email":"c{i}@example.com"}}}}}}"#
                        );
                        let sent = Instant::now();
                        let response = client
                            .post(&url)
                            .header(reqwest::header::CONTENT_TYPE, "application/json")
                            .body(body)
                            .send()
                            .await;
                        if let Ok(r) = response
                            && r.status().is_success()
                            && r.bytes().await.is_ok()
                        {
                            ok.set(ok.get() + 1);
                            latencies.borrow_mut().push(sent.elapsed().as_micros() as u64);
                        }
                        drop(permit);
                    }));
                }
                for task in tasks {
                    task.await.unwrap();
                }
            })
            .await;
        assert_eq!(ok.get(), DELIVERIES, "every bare POST answered 200");
        latencies.take()
    })
}

/// The client the live shell uses for deliveries (no idle connection kept), or keep-alive.
fn client(keep_alive: bool) -> reqwest::Client {
    let builder = hooksim::http::builder(None, "hooksim-bench").unwrap();
    // The shared builder keeps no idle connection; keep-alive puts reqwest's default back.
    let builder = if keep_alive { builder.pool_max_idle_per_host(usize::MAX) } else { builder };
    builder.build().unwrap()
}

fn percentile(sorted: &[u64], p: usize) -> u64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// The median of `SUMMARY_RUNS` runs by wall time, as a table row; returns deliveries per second.
fn row(name: &str, in_flight: u32, mut runs: Vec<Measured>, ceiling: Option<f64>) -> f64 {
    runs.sort_by_key(|m| m.wall);
    let m = &runs[runs.len() / 2];
    let per_s = DELIVERIES as f64 / m.wall.as_secs_f64();
    let mut lat = m.latencies_us.clone();
    lat.sort_unstable();
    let ratio = ceiling.map_or_else(|| "-".to_string(), |c| format!("{:.2}", per_s / c));
    println!(
        "| {name:<15} | {in_flight:>3} | {per_s:>9.0} | {ratio:>5} | {:>7} | {:>7} | {:>6.1} | {:>6.1} |",
        percentile(&lat, 50),
        percentile(&lat, 99),
        m.thread_cpu_us as f64 / DELIVERIES as f64,
        m.process_cpu_us as f64 / DELIVERIES as f64,
    );
    per_s
}

/// The summary table: per N, the bare loops and the dispatcher, each the median of its runs.
fn summary(url: &str, bindings: &Bindings) {
    println!("\nthroughput over loopback, {DELIVERIES} deliveries per run, median of {SUMMARY_RUNS} runs");
    println!("ratio: to bare_new_conn (one connection per POST, as the dispatcher)");
    println!("| loop            |   N |  per sec  | ratio | p50 us  | p99 us  | cpu/d  | +recv  |");
    println!("|-----------------|-----|-----------|-------|---------|---------|--------|--------|");
    let (fresh, kept) = (client(false), client(true));
    let mut round = 0;
    for n in IN_FLIGHT {
        let mut bare = |c: &reqwest::Client| {
            (0..SUMMARY_RUNS)
                .map(|_| {
                    round += 1;
                    measure(|| bare_run(c, url, n, round))
                })
                .collect::<Vec<_>>()
        };
        let ceiling = row("bare_new_conn", n, bare(&fresh), None);
        row("bare_keepalive", n, bare(&kept), None);
        let runs = (0..SUMMARY_RUNS)
            .map(|i| {
                let world = busy_world(n, 1_000 + i as u64);
                measure(|| dispatcher_run(&world, bindings))
            })
            .collect();
        row("dispatcher", n, runs, Some(ceiling));
    }
    println!("(dispatcher latency from its trace: whole milliseconds; cpu/d: CPU us per delivery on the");
    println!(" sending thread; +recv: the whole process, the in-process receiver included)\n");
}

fn throughput(c: &mut Criterion) {
    let addr = start_receiver();
    let url = format!("{}/webhook", hooksim::receiver::base_url(addr));
    let bindings = Bindings::parse(&[format!("{SHOP_HOST}={url}")], &[]).expect("a valid binding");
    summary(&url, &bindings);
    let mut group = c.benchmark_group("throughput");
    group.sample_size(10);
    group.throughput(Throughput::Elements(DELIVERIES));
    let fresh = client(false);
    let mut round = 1_000_000;
    let mut seed = 0;
    for n in IN_FLIGHT {
        group.bench_function(format!("bare_new_conn/{n}"), |b| {
            b.iter(|| {
                round += 1;
                black_box(bare_run(&fresh, &url, n, round))
            })
        });
        group.bench_function(format!("dispatcher/{n}"), |b| {
            b.iter(|| {
                seed += 1;
                black_box(dispatcher_run(&busy_world(n, seed), &bindings))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
