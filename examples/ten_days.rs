//! Runs the 10-day failing world once through the model engine and prints what happened: a quick
//! way to profile the engine (`valgrind --tool=callgrind target/release/examples/ten_days`).

use hooksim::model;
use hooksim::world::sample::failing_world;

fn main() {
    let runs: u32 = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(1);
    let mut entries = 0;
    for _ in 0..runs {
        entries = model::run(&failing_world(10, 0)).expect("the sample world runs").trace.len();
    }
    println!("{runs} run(s), {entries} trace entries each");
}
