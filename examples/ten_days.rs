//! Runs the 10-day failing world (a receiver answering 500 throughout) and prints what happened:
//! a quick way to profile an engine, e.g.
//! `valgrind --tool=callgrind target/release/examples/ten_days net 1 1`.
//!
//! Arguments: engine (`model` or `net`, default `model`), runs (default 1), invoices (default 0:
//! one event, the client's creation).

use hooksim::runner::Engine;
use hooksim::world::sample::failing_world;

fn main() {
    let mut args = std::env::args().skip(1);
    let engine = match args.next().as_deref() {
        Some("net") => Engine::Net,
        _ => Engine::Model,
    };
    let runs: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let invoices: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut entries = 0;
    for _ in 0..runs {
        entries = engine.run(&failing_world(10, invoices)).expect("the sample world runs").trace.len();
    }
    println!("{runs} run(s) on {engine}, {entries} trace entries each");
}
