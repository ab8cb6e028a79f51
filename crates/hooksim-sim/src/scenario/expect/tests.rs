//! Evaluation against hand-built traces.

use super::*;
use crate::scenario::load_str;
use hooksim_core::domain::WebhookId;
use hooksim_core::domain::{EntityKind, EntityRef, EventPath};
use hooksim_core::time::SimTime;
use hooksim_core::trace::{Outcome, Trace, TraceEvent};
use uuid::Uuid;

const HEAD: &str = r#"
name = "t"
description = "hand-built traces"
run_for = "10d"
[webhooks.shop]
url = "http://shop/webhook"
[receivers.shop]
[[timeline]]
at = "0s"
add_client = { id = 1 }
[[timeline]]
at = "0s"
add_invoice = { id = 4, client = 1 }
name = "inv"
"#;

fn scenario(expect: &str) -> Scenario {
    load_str("t.toml", &format!("{HEAD}\n[[expect]]\n{expect}\n")).unwrap_or_else(|e| panic!("{e}"))
}

const W: WebhookId = WebhookId(0);

fn at(ms: u64) -> SimTime {
    SimTime::from_millis(ms)
}

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn attempt(t: &mut Trace, ms: u64, attempt: u64, delivery: u128, event: u64, state: &str, outcome: Outcome) {
    let body = format!(
        r#"{{"uuid":"{}","body":{{"id":{event},"path":"/invoice/add","details":"","invoice":{{"id":4,"state":"{state}"}}}}}}"#,
        uuid(delivery)
    );
    t.push(
        at(ms),
        TraceEvent::AttemptStarted {
            attempt,
            delivery: uuid(delivery),
            webhook: W,
            event,
            number: 1,
            body: body.into(),
        },
    );
    t.push(at(ms + 1), TraceEvent::AttemptFinished { attempt, delivery: uuid(delivery), webhook: W, event, outcome });
    if outcome.is_success() {
        t.push(at(ms + 1), TraceEvent::Delivered { delivery: uuid(delivery), webhook: W, event, attempts: 1 });
    }
}

fn trace() -> Trace {
    let mut t = Trace::default();
    t.push(
        at(0),
        TraceEvent::EventRecorded {
            event: 2,
            path: EventPath::InvoiceAdd,
            details: "unpaid",
            entity: EntityRef { kind: EntityKind::Invoice, id: 4 },
        },
    );
    attempt(&mut t, 10, 1, 1, 2, "unpaid", Outcome::Status { code: 500 });
    attempt(&mut t, 100, 2, 1, 2, "cancelled", Outcome::Status { code: 200 });
    t.push(at(200), TraceEvent::WebhookDisabled { webhook: W, failing_since: at(10), reason: Default::default() });
    attempt(&mut t, 300, 3, 2, 1, "x", Outcome::Timeout);
    t.push(at(400), TraceEvent::WebhookEnabled { webhook: W });
    attempt(&mut t, 500, 4, 3, 1, "x", Outcome::Status { code: 200 });
    t
}

fn failures(expect: &str) -> Vec<Failure> {
    evaluate(&scenario(expect), &trace())
}

#[test]
fn counts_and_bodies_of_deliveries() {
    assert!(failures("delivered = \"shop\"\nexactly = 2").is_empty());
    assert!(failures("delivered = \"shop\"\nevent = \"inv\"\nbody.invoice.state = \"cancelled\"").is_empty());
    let f = failures("delivered = \"shop\"\nevent = \"inv\"\nbody.invoice.state = \"unpaid\"");
    assert_eq!(f.len(), 1);
    assert!(f[0].found.contains("invoice.state = \"cancelled\""), "{}", f[0]);
    assert!(f[0].expected.contains("event 2 \"inv\""), "{}", f[0]);
    assert!(!f[0].excerpt.is_empty());
    assert!(failures("never_delivered = \"shop\"\nevent = 1\nbefore = \"100ms\"").is_empty());
    assert_eq!(failures("never_delivered = \"shop\"").len(), 1);
}

#[test]
fn attempts_filter_by_outcome_body_and_window() {
    assert!(failures("attempts = \"shop\"\nexactly = 4").is_empty());
    assert!(failures("attempts = \"shop\"\noutcome = \"failure\"\nexactly = 2").is_empty());
    assert!(failures("attempts = \"shop\"\noutcome = \"500\"\nexactly = 1").is_empty());
    assert!(failures("attempts = \"shop\"\noutcome = \"timeout\"\nexactly = 1").is_empty());
    assert!(failures("attempts = \"shop\"\nbody.invoice.state = \"x\"\nexactly = 2").is_empty());
    assert!(failures("attempts = \"shop\"\nafter = \"50ms\"\nbefore = \"300ms\"\nexactly = 2").is_empty());
    assert_eq!(failures("attempts = \"shop\"\nat_most = 3").len(), 1);
}

#[test]
fn an_attempt_while_disabled_is_caught_with_the_disable_in_the_excerpt() {
    let f = failures("no_attempt_after_disable = \"shop\"");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].found, "1 attempt after the disable");
    assert!(f[0].excerpt[0].contains("shop disabled"), "{:?}", f[0].excerpt);
    assert!(f[0].excerpt[1].contains("attempt 3 to shop"), "{:?}", f[0].excerpt);
    assert!(failures("disabled = \"shop\"\nafter = \"100ms\"\nbefore = \"200ms\"").is_empty());
    assert_eq!(failures("not_disabled = \"shop\"").len(), 1);
    assert!(failures("not_warned = \"shop\"").is_empty());
}

#[test]
fn order_of_first_deliveries() {
    assert!(failures("delivered_in_order = [\"inv\", 1]\nwebhook = \"shop\"").is_empty());
    let f = failures("delivered_in_order = [1, \"inv\"]\nwebhook = \"shop\"");
    assert_eq!(f.len(), 1);
    assert!(f[0].found.contains("event 2 \"inv\", then event 1"), "{}", f[0]);
}

#[test]
fn failures_display_position_expectation_and_excerpt() {
    let f = failures("delivered = \"shop\"\nexactly = 5");
    let text = f[0].to_string();
    assert!(text.starts_with("t.toml:16:1: expected exactly 5 successful deliveries to shop\n"), "{text}");
    assert!(text.contains("but the trace shows 2 such deliveries"), "{text}");
    assert!(text.contains("0d 00:00:00.101  delivery 00000000 of event 2 \"inv\" delivered to shop"), "{text}");
}

#[test]
fn a_receiver_that_never_acted_shows_what_reached_it() {
    let f = failures("acted = \"shop\"\nevent = 1");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].found, "it acted 0 such times");
    assert!(f[0].excerpt.iter().any(|l| l.contains("attempt 3 to shop: timeout")), "{:?}", f[0].excerpt);
}

#[test]
fn counts_read_as_words() {
    assert_eq!(Count::NONE.to_string(), "no");
    assert_eq!(Count { min: 2, max: Some(2) }.to_string(), "exactly 2");
    assert_eq!(Count { min: 1, max: None }.to_string(), "at least 1");
    assert_eq!(Count { min: 0, max: Some(3) }.to_string(), "at most 3");
    assert_eq!(Count { min: 1, max: Some(3) }.to_string(), "between 1 and 3");
}

#[test]
fn rejections_are_counted_by_receiver_and_event_and_a_missing_one_fails() {
    let mut t = trace();
    let why = "signature rejected: none of the 1 signature(s) matches".to_string();
    let rejected =
        TraceEvent::ReceiverRejected { receiver: "shop".into(), delivery: Some(uuid(1)), event: Some(2), why };
    t.push(at(600), rejected);
    let check = |expect: &str| evaluate(&scenario(expect), &t);
    assert!(check("rejected = \"shop\"\nevent = \"inv\"\nexactly = 1").is_empty());
    assert!(check("rejected = \"shop\"\nevent = 1\nexactly = 0").is_empty());
    // The negative control: the same expectation on a trace without the rejection fails.
    let f = failures("rejected = \"shop\"\nevent = \"inv\"\nat_least = 1");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].found, "it rejected 0 such requests");
    let f = check("rejected = \"shop\"\nbefore = \"500ms\"\nat_least = 1");
    assert_eq!(f.len(), 1, "a rejection outside the window is not counted");
    assert!(f[0].excerpt.iter().any(|l| l.contains("receiver shop rejected event 2")), "{:?}", f[0].excerpt);
}
