//! Issue targets for the core and the model engine, each beside a baseline measured in the same
//! run (the machines are shared and noisy: compare ratios, not absolute times across runs).
//!
//! - `core/steps`: input/output steps per second of the bare core (target: >= 2 million/s).
//!   Baseline: rendering the same envelope alone, the irreducible work of one attempt.
//! - `model/ten_days_failing`: 10 simulated days of a receiver answering 500, through the model
//!   engine (target: <= 200 us). Baseline: building the world alone.

use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use hooksim::core::{Dispatcher, Input, Output, render};
use hooksim::domain::{Change, Client, Event, EventPath, Invoice, InvoiceState};
use hooksim::model;
use hooksim::policy::Profile;
use hooksim::time::SimTime;
use hooksim::trace::{Outcome, TraceEvent};
use hooksim::world::sample::{failing_world, shop_webhook};
use std::hint::black_box;

const INVOICES: u64 = 1_000;

/// Creates, pays and delivers `INVOICES` invoices against a receiver that answers 200 at once.
/// Returns the number of steps: inputs handled plus outputs taken.
fn drive_core() -> u64 {
    let mut core = Dispatcher::new(Profile::Snapbill.policy(), vec![shop_webhook()], 7);
    let mut steps = 0;
    let client = Client { id: 1, name: "Ada".into(), email: "ada@example.com".into() };
    let mut feed = |core: &mut Dispatcher, now: SimTime, input: Input| {
        core.handle(now, input).unwrap();
        steps += 1;
        while let Some(out) = core.poll_output() {
            steps += 1;
            if let Output::Send(req) = out {
                core.handle(now, Input::Answer { attempt: req.attempt, outcome: Outcome::Status { code: 200 } })
                    .unwrap();
                steps += 1;
            }
        }
        core.drain_trace().for_each(drop);
    };
    feed(&mut core, SimTime::ZERO, Input::Change(Change::AddClient(client)));
    for id in 1..=INVOICES {
        let now = SimTime::from_millis(id);
        let inv =
            Invoice { id, number: format!("INV-{id}"), client_id: 1, total_cents: 100, state: InvoiceState::Unpaid };
        feed(&mut core, now, Input::Change(Change::AddInvoice(inv)));
        feed(&mut core, now, Input::Change(Change::SetInvoiceState { id, state: InvoiceState::Paid }));
    }
    steps
}

fn core_steps(c: &mut Criterion) {
    let steps = drive_core();
    let mut group = c.benchmark_group("core");
    group.throughput(Throughput::Elements(steps));
    group.bench_function("steps", |b| b.iter(|| black_box(drive_core())));
    // Baseline: the payload rendering alone for as many attempts (2 per invoice, 1 per client).
    let mut store = hooksim::domain::Store::default();
    let client = Client { id: 1, name: "Ada".into(), email: "ada@example.com".into() };
    Change::AddClient(client).apply(&mut store).unwrap();
    let inv = Invoice { id: 1, number: "INV-1".into(), client_id: 1, total_cents: 100, state: InvoiceState::Paid };
    Change::AddInvoice(inv).apply(&mut store).unwrap();
    let event = Event {
        id: 1,
        path: EventPath::InvoiceUpdateState,
        details: "paid",
        entity: hooksim::domain::EntityRef { kind: hooksim::domain::EntityKind::Invoice, id: 1 },
        at: SimTime::ZERO,
    };
    group.bench_function("render_only_baseline", |b| {
        b.iter(|| {
            for i in 0..(2 * INVOICES + 1) {
                black_box(render(uuid::Uuid::from_u128(i as u128), &event, &store));
            }
        })
    });
    group.finish();
}

fn ten_days_failing(c: &mut Criterion) {
    let world = failing_world(10, 0);
    let trace = model::run(&world).unwrap().trace;
    let attempts = trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::AttemptStarted { .. })).count();
    let disabled = trace.entries().iter().any(|e| matches!(e.event, TraceEvent::WebhookDisabled { .. }));
    let warned = trace.entries().iter().any(|e| matches!(e.event, TraceEvent::EmailReceived { .. }));
    assert!(attempts >= 200 && disabled && warned, "{attempts} attempts, warned {warned}, disabled {disabled}");
    eprintln!("model/ten_days_failing: {attempts} attempts, {} trace entries", trace.len());
    let mut group = c.benchmark_group("model");
    group.bench_function("ten_days_failing", |b| {
        b.iter_batched(|| failing_world(10, 0), |w| black_box(model::run(&w).unwrap()), BatchSize::SmallInput)
    });
    group.bench_function("build_world_baseline", |b| b.iter(|| black_box(failing_world(10, 0))));
    group.finish();
}

criterion_group!(benches, core_steps, ten_days_failing);
/// As the `hooksim` binary does first (`hooksim::allocator`): memory freed by one world is kept
/// for the next instead of being unmapped and mapped again.
fn main() {
    hooksim::allocator::keep_memory();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
