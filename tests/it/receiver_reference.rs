//! The reference receivers over loopback: `naive` acts twice where `dedup` acts once, and their
//! side effects reach the trace through `on_handled`.

use hooksim::receiver::{OnHandled, ReceiverKind, ServeOptions, app, base_url, serve, trace_event};
use hooksim::trace::TraceEvent;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

const PAID: &str = r#"{"uuid":"6f1c2a4e-0000-4000-8000-000000000001","body":{"id":41,"path":"/invoice/update/state","details":"paid","invoice":{"id":9,"number":"INV-9","client_id":1,"total_cents":100,"state":"paid"}}}"#;

/// Serves `kind` on loopback, posts the same delivery twice, and returns the trace events its
/// `on_handled` saw and the effects list it serves.
async fn deliver_twice(kind: ReceiverKind) -> (Vec<TraceEvent>, serde_json::Value) {
    let seen: Arc<Mutex<Vec<TraceEvent>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let on_handled: OnHandled = Arc::new(move |h| {
        if let Some(e) = trace_event(kind.as_str(), h) {
            sink.lock().unwrap().push(e);
        }
    });
    let options = ServeOptions { on_handled: Some(on_handled), ..ServeOptions::default() };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = base_url(listener.local_addr().unwrap());
    tokio::spawn(serve(listener, app(kind, options).0, std::future::pending()));
    let http = hooksim::http::builder(None, "hooksim-tests").unwrap().build().unwrap();
    for _ in 0..2 {
        let r = http.post(format!("{base}/webhook")).body(PAID).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let effects = http.get(format!("{base}/effects")).send().await.unwrap().json().await.unwrap();
    let events = seen.lock().unwrap().clone();
    (events, effects)
}

fn acted(events: &[TraceEvent]) -> usize {
    events.iter().filter(|e| matches!(e, TraceEvent::ReceiverActed { .. })).count()
}

#[tokio::test]
async fn naive_acts_twice_where_dedup_acts_once() {
    let (dedup, dedup_effects) = deliver_twice(ReceiverKind::Dedup).await;
    let (naive, naive_effects) = deliver_twice(ReceiverKind::Naive).await;
    assert_eq!((acted(&dedup), acted(&naive)), (1, 2));
    assert!(matches!(
        &dedup[1],
        TraceEvent::ReceiverSkipped { why, event: 41, .. } if why.contains("already acted")
    ));
    assert_eq!(dedup_effects["effects"].as_array().unwrap().len(), 1);
    assert_eq!(naive_effects["effects"].as_array().unwrap().len(), 2);
    assert_eq!(
        dedup_effects["effects"][0],
        serde_json::json!({
            "uuid": "6f1c2a4e-0000-4000-8000-000000000001",
            "event": 41,
            "action": "fulfil invoice 9",
            "kind": "fulfil"
        })
    );
}

mod scenarios {
    //! The same stories through the model engine, as scenarios tell them: side effects are
    //! `receiver_acted` trace entries.

    use hooksim::domain::{Change, InvoiceState};
    use hooksim::model;
    use hooksim::receiver::ReceiverKind;
    use hooksim::time::{HOUR_MS, MINUTE_MS, SimTime};
    use hooksim::trace::{Trace, TraceEvent};
    use hooksim::world::sample::failing_world;
    use hooksim::world::{Action, Answer, Behaviour, Reply, Step, World};

    fn fulfilled(trace: &Trace, invoice: u64) -> usize {
        let action = format!("fulfil invoice {invoice}");
        trace
            .entries()
            .iter()
            .filter(|e| matches!(&e.event, TraceEvent::ReceiverActed { action: a, .. } if *a == action))
            .count()
    }

    fn world(kind: ReceiverKind, behaviour: Behaviour) -> World {
        let mut world = failing_world(1, 1);
        world.receivers[0].kind = kind;
        world.receivers[0].behaviour = behaviour;
        world
    }

    #[test]
    fn an_answer_lost_after_acting_makes_naive_fulfil_twice_and_dedup_once() {
        // Requests: client add, invoice add, then the paid event, whose answer is lost.
        let lost = Reply { answer: Answer::ActThenDrop, latency_ms: 0 };
        let behaviour = Behaviour { replies: vec![Reply::OK, Reply::OK, lost], then: Reply::OK };
        let dedup = model::run(&world(ReceiverKind::Dedup, behaviour.clone())).unwrap().trace;
        let naive = model::run(&world(ReceiverKind::Naive, behaviour)).unwrap().trace;
        assert_eq!((fulfilled(&dedup, 1), fulfilled(&naive, 1)), (1, 2));
    }

    #[test]
    fn a_paid_event_delivered_after_the_cancel_fulfils_only_for_naive() {
        // The receiver is down (500) for the first hours; the invoice is paid, then cancelled,
        // before the paid event gets through: it then carries the cancelled invoice.
        let down = Behaviour::always(Reply::status(500));
        let run = |kind| {
            let mut w = world(kind, down.clone());
            let cancel_at = SimTime::from_millis(HOUR_MS + 30 * MINUTE_MS);
            let cancel = Change::SetInvoiceState { id: 1, state: InvoiceState::Cancelled };
            w.timeline.push(Step { at: cancel_at, action: Action::Change(cancel) });
            let up = Action::Behave { receiver: w.receivers[0].host.clone(), behaviour: Behaviour::default() };
            w.timeline.push(Step { at: SimTime::from_millis(3 * HOUR_MS), action: up });
            w.timeline.sort_by_key(|s| s.at);
            model::run(&w).unwrap().trace
        };
        let (dedup, naive) = (run(ReceiverKind::Dedup), run(ReceiverKind::Naive));
        assert_eq!((fulfilled(&dedup, 1), fulfilled(&naive, 1)), (0, 1));
        let stale = |t: &Trace| {
            t.entries()
                .iter()
                .any(|e| matches!(&e.event, TraceEvent::ReceiverSkipped { why, .. } if why.contains("stale paid")))
        };
        assert!(stale(&dedup));
    }
}
