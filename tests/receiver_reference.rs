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
    let http = reqwest::Client::new();
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
            "action": "fulfil invoice 9"
        })
    );
}
