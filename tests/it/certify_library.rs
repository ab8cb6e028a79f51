//! The certification library is made of ordinary scenarios: each passes on both simulated
//! engines with the reference `dedup` receiver, and gives the same verdict through the live
//! shell against `hooksim receiver --kind dedup` on loopback.

use hooksim::certify::library;
use hooksim::live::Bindings;
use hooksim::receiver::{ReceiverKind, ServeOptions, app, base_url, serve};
use hooksim::runner::{Engine, run_scenario, run_scenario_live};
use hooksim::trace::{Outcome, TraceEvent};
use hooksim::world::RunLimits;
use tokio::sync::oneshot;

/// `hooksim receiver --kind dedup` on 127.0.0.1, on a thread of its own (the live shell drives
/// its own runtime); stopped by the returned sender.
fn serve_dedup() -> (String, oneshot::Sender<()>, std::thread::JoinHandle<()>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(base_url(listener.local_addr().unwrap())).unwrap();
            let (router, _) = app(ReceiverKind::Dedup, ServeOptions::default());
            serve(listener, router, async move { drop(stopped.await) }).await.unwrap();
        });
    });
    (rx.recv().unwrap(), stop, thread)
}

#[test]
fn every_certification_scenario_gives_the_same_verdict_on_every_engine() {
    for (file, _) in library::FILES {
        let scenario = library::load(file).unwrap();
        for engine in [Engine::Model, Engine::Net] {
            let run = run_scenario(&scenario, engine, None);
            assert!(run.passed(), "{file} on {engine}: {}", hooksim::runner::render_failures(&run));
        }
        let (base, stop, thread) = serve_dedup();
        let bindings = Bindings::parse(&[format!("shop={base}/webhook")], &[format!("shop={base}/effects")]).unwrap();
        let live = run_scenario_live(&scenario, &bindings, None, RunLimits::default());
        let _ = stop.send(());
        thread.join().unwrap();
        assert!(live.passed(), "{file} on live: {}", hooksim::runner::render_failures(&live));
        assert!(live.not_verified.is_empty(), "{file}");
    }
}

/// The live shell reports an answer lost after the act (a one-way partition) as the reset a
/// sender sees, at once, not as a timeout.
#[test]
fn a_lost_answer_is_a_reset_on_the_live_shell() {
    let scenario = library::load("redelivery-once.toml").unwrap();
    let (base, stop, thread) = serve_dedup();
    let bindings = Bindings::parse(&[format!("shop={base}/webhook")], &[format!("shop={base}/effects")]).unwrap();
    let live = run_scenario_live(&scenario, &bindings, None, RunLimits::default());
    let _ = stop.send(());
    thread.join().unwrap();
    let outcomes: Vec<Outcome> = live
        .trace
        .entries()
        .iter()
        .filter_map(|e| match e.event {
            TraceEvent::AttemptFinished { outcome, .. } => Some(outcome),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, [Outcome::Reset, Outcome::Status { code: 200 }]);
}
