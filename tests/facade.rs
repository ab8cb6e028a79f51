//! hooksim as a Rust user meets it: only the root facade (`hooksim::Sim`, `hooksim::Engine`,
//! `hooksim::TraceEvent`) and the user's own axum receiver. A receiver with a dedup bug is caught
//! in a world whose answers get lost, in virtual time; the same receiver with the bug fixed
//! passes. Its own binary, so that it compiles against the facade alone.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use hooksim::{Engine, Sim, SimError, TraceEvent};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// A world where the shop's first two answers are lost after it acted (a reset, then a 500):
/// SnapBill sends the same delivery (same uuid) again, so a receiver must deduplicate.
const LOST_ANSWERS: &str = r#"
name = "lost-answers"
description = "The shop acts, then its answer is lost twice."
seed = 11
run_for = "1h"

[webhooks.shop]
url = "http://shop/webhook"
paths = ["/invoice/update/state"]

[receivers.shop]
kind = "dedup"
behaviour = { replies = ["act then drop", "act then 500"], then = "200" }

[[timeline]]
at = "0s"
add_client = { id = 1 }

[[timeline]]
at = "0s"
add_invoice = { id = 4, client = 1 }

[[timeline]]
at = "1m"
invoice_state = { id = 4, state = "paid" }
name = "paid"

[[expect]]
attempts = "shop"
event = "paid"
exactly = 3

[[expect]]
acted = "shop"
event = "paid"
exactly = 1
"#;

/// The user's receiver: fulfils a paid invoice, records it for `GET /effects`.
#[derive(Default)]
struct Shop {
    deduplicates: bool,
    seen: Mutex<BTreeSet<String>>,
    effects: Mutex<Vec<Value>>,
}

fn shop(deduplicates: bool) -> Router {
    let state = Arc::new(Shop { deduplicates, ..Shop::default() });
    Router::new().route("/webhook", post(delivery)).route("/effects", get(effects)).with_state(state)
}

async fn delivery(State(shop): State<Arc<Shop>>, Json(envelope): Json<Value>) -> StatusCode {
    let uuid = envelope["uuid"].as_str().unwrap_or_default().to_string();
    let first_time = shop.seen.lock().unwrap().insert(uuid.clone());
    // The bug: without `deduplicates`, a redelivery is fulfilled again.
    if first_time || !shop.deduplicates {
        shop.effects.lock().unwrap().push(json!({"uuid": uuid, "kind": "fulfil"}));
    }
    StatusCode::OK
}

async fn effects(State(shop): State<Arc<Shop>>) -> Json<Value> {
    Json(json!({ "effects": *shop.effects.lock().unwrap() }))
}

fn acts(run: &hooksim::ScenarioRun) -> usize {
    run.trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::ReceiverActed { .. })).count()
}

#[test]
fn a_receiver_without_dedup_is_caught_when_answers_are_lost() {
    let run = Sim::from_str("lost-answers.toml", LOST_ANSWERS).unwrap().receiver("shop", shop(false)).run().unwrap();
    run.assert_failed();
    assert_eq!(acts(&run), 3, "each of the three copies was fulfilled");
    let failure = run.failures.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n");
    assert!(failure.contains("lost-answers.toml:") && failure.contains("acted"), "{failure}");
}

#[test]
fn the_same_receiver_with_dedup_passes() {
    let run = Sim::from_str("lost-answers.toml", LOST_ANSWERS).unwrap().receiver("shop", shop(true)).run().unwrap();
    run.assert_passed();
    assert_eq!(acts(&run), 1);
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let once = Sim::from_str("lost-answers.toml", LOST_ANSWERS).unwrap().receiver("shop", shop(false)).run().unwrap();
    let again = Sim::from_str("lost-answers.toml", LOST_ANSWERS).unwrap().receiver("shop", shop(false)).run().unwrap();
    assert_eq!(once.trace.to_json_lines(), again.trace.to_json_lines());
}

#[tokio::test]
async fn inside_tokio_tests_run_async_and_run_both_work() {
    let sim = Sim::from_str("lost-answers.toml", LOST_ANSWERS).unwrap();
    sim.clone().receiver("shop", shop(true)).run_async().await.unwrap().assert_passed();
    // `run` inside a runtime moves to a thread of its own rather than panicking.
    sim.receiver("shop", shop(false)).run().unwrap().assert_failed();
}

#[test]
fn a_router_for_an_unknown_host_or_on_the_live_shell_is_refused() {
    let sim = Sim::from_str("lost-answers.toml", LOST_ANSWERS).unwrap();
    let unknown = sim.clone().receiver("warehouse", shop(true)).run().unwrap_err();
    assert!(matches!(unknown, SimError::UnknownReceiver { .. }), "{unknown}");
    assert!(unknown.to_string().contains("shop"), "names the receivers there are: {unknown}");
    let live = sim.receiver("shop", shop(true)).engine(Engine::Live).run().unwrap_err();
    assert!(matches!(live, SimError::EngineCannotHostRouters { .. }), "{live}");
}

#[test]
fn the_model_engine_runs_the_same_router_to_the_same_verdicts() {
    let sim = Sim::from_str("lost-answers.toml", LOST_ANSWERS).unwrap().engine(Engine::Model);
    let buggy = sim.clone().receiver("shop", shop(false)).run().unwrap();
    buggy.assert_failed();
    assert_eq!(acts(&buggy), 3);
    let fixed = sim.clone().receiver("shop", shop(true)).run().unwrap();
    fixed.assert_passed();
    assert_eq!(acts(&fixed), 1);
    // A router that waits on a timer cannot finish in the model engine's thread: stopped, named.
    let sleepy = Router::new().route(
        "/webhook",
        post(|| async {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            StatusCode::OK
        }),
    );
    let run = sim.receiver("shop", sleepy).run().unwrap();
    run.assert_failed();
    assert!(run.error.as_ref().unwrap().message.contains("net engine"), "{:?}", run.error);
}

#[test]
fn a_receiver_without_an_effects_list_stops_the_run_rather_than_passing() {
    let no_effects = Router::new().route("/webhook", post(|| async { StatusCode::OK }));
    let run = Sim::from_str("lost-answers.toml", LOST_ANSWERS).unwrap().receiver("shop", no_effects).run().unwrap();
    run.assert_failed();
    let stop = run.error.as_ref().expect("the engine stopped");
    assert!(stop.message.contains("effects contract"), "{}", stop.message);
}

/// A dispatcher written in Rust: the reference core speaking the protocol in the process, and
/// the same with a defect (it never says `done` after a change), which stops the run.
#[test]
fn a_rust_dispatcher_runs_through_the_ledger_and_a_defective_one_is_stopped() {
    use hooksim::Speaks;
    use hooksim::protocol::ReferenceSpeaker;
    use hooksim::protocol::message::{FromDispatcher, ToDispatcher};

    let sim = Sim::from_str("lost-answers.toml", LOST_ANSWERS).unwrap();
    sim.clone().receiver("shop", shop(true)).run_spoken(ReferenceSpeaker::default()).unwrap().assert_passed();

    struct NoDone(ReferenceSpeaker);
    impl Speaks for NoDone {
        fn answer(&mut self, message: &ToDispatcher) -> Vec<FromDispatcher> {
            let mut said = self.0.answer(message);
            if matches!(message, ToDispatcher::Change { .. }) {
                said.retain(|s| !matches!(s, FromDispatcher::Done { .. }));
            }
            said
        }
    }
    let run = sim.engine(Engine::Model).run_spoken(NoDone(ReferenceSpeaker::default())).unwrap();
    run.assert_failed();
    assert!(run.error.as_ref().unwrap().message.contains("without `done`"), "{:?}", run.error);
}

/// The same world as Stripe delivers it: each attempt is a Stripe Event, deduplicated on its `id`.
fn as_stripe() -> String {
    format!("provider = \"stripe\"\n{LOST_ANSWERS}")
}

/// A receiver of Stripe's events: fulfils once per event `id`, filing the act under that id (the
/// effects contract reads it back as the delivery's uuid).
fn stripe_shop() -> Router {
    async fn delivery(State(shop): State<Arc<Shop>>, Json(event): Json<Value>) -> StatusCode {
        let id = event["id"].as_str().unwrap_or_default().to_string();
        if shop.seen.lock().unwrap().insert(id.clone()) && event["type"] == "invoice.paid" {
            shop.effects.lock().unwrap().push(json!({"uuid": id, "kind": "fulfil"}));
        }
        StatusCode::OK
    }
    let state = Arc::new(Shop::default());
    Router::new().route("/webhook", post(delivery)).route("/effects", get(effects)).with_state(state)
}

#[test]
fn a_receiver_of_stripes_shape_has_its_acts_named_for_their_events_on_both_engines() {
    let sim = Sim::from_str("lost-answers-stripe.toml", &as_stripe()).unwrap();
    for engine in [Engine::Net, Engine::Model] {
        let run = sim.clone().receiver("shop", stripe_shop()).engine(engine).run().unwrap();
        run.assert_passed();
        assert_eq!(acts(&run), 1, "{engine:?}");
    }
}
