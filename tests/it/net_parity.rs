//! Both engines give the same verdicts on the same worlds: what was delivered, what receivers
//! acted on, which webhooks were disabled, which warnings reached the mail host. Traces differ in
//! timing (real HTTP costs ticks) but not in outcome.

use hooksim::domain::{Change, Client, WebhookConfig};
use hooksim::policy::{Policy, Profile};
use hooksim::receiver::ReceiverKind;
use hooksim::time::{HOUR_MS, MINUTE_MS, SECOND_MS, SimTime};
use hooksim::trace::{Trace, TraceEvent};
use hooksim::world::sample::{SHOP_HOST, failing_world, shop_webhook};
use hooksim::world::{Action, Answer, Behaviour, Host, ReceiverSpec, Reply, Step, World};
use std::collections::BTreeSet;

#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    delivered: BTreeSet<(u32, u64)>,
    acted_on: BTreeSet<(String, u64)>,
    disabled: BTreeSet<u32>,
    emails_received: usize,
    warnings: usize,
}

fn verdict(trace: &Trace) -> Verdict {
    let mut v = Verdict {
        delivered: BTreeSet::new(),
        acted_on: BTreeSet::new(),
        disabled: BTreeSet::new(),
        emails_received: 0,
        warnings: 0,
    };
    for e in trace.entries() {
        match &e.event {
            TraceEvent::Delivered { webhook, event, .. } => {
                v.delivered.insert((webhook.0, *event));
            }
            TraceEvent::ReceiverActed { receiver, event, .. } => {
                v.acted_on.insert((receiver.clone(), *event));
            }
            TraceEvent::WebhookDisabled { webhook, .. } => {
                v.disabled.insert(webhook.0);
            }
            TraceEvent::EmailReceived { .. } => v.emails_received += 1,
            TraceEvent::WarningSent { .. } => v.warnings += 1,
            _ => {}
        }
    }
    v
}

/// Both verdicts; the network engine runs twice and must give a byte-identical trace.
fn both(world: &World) -> (Verdict, Verdict) {
    let model = hooksim::model::run(world).expect("the model runs");
    let net = hooksim::net::run(world).expect("the network runs");
    let again = hooksim::net::run(world).expect("the network runs again");
    assert_eq!(net.trace.sha256(), again.trace.sha256(), "{}: same world, same trace", world.name);
    (verdict(&model.trace), verdict(&net.trace))
}

fn at(ms: u64, action: Action) -> Step {
    Step { at: SimTime::from_millis(ms), action }
}

fn client(id: u64) -> Action {
    Action::Change(Change::AddClient(Client { id, name: format!("c{id}"), email: format!("c{id}@x.example") }))
}

fn shop() -> Host {
    Host::Receiver(SHOP_HOST.into())
}

/// A short policy: retries after 10 s, 1 min, then every 5 min; warn at 10 min, disable at 30.
fn quick_policy() -> Policy {
    let mut spec = Profile::Snapbill.spec();
    spec.schedule.backoff =
        hooksim::policy::Backoff::List { delays_ms: vec![10 * SECOND_MS, MINUTE_MS, 5 * MINUTE_MS] };
    spec.warn_after_ms = Some(10 * MINUTE_MS);
    spec.disable_after_ms = Some(30 * MINUTE_MS);
    spec.attempt_timeout_ms = 5 * SECOND_MS;
    spec.build().expect("a valid policy")
}

fn world(kind: ReceiverKind, behaviour: Behaviour, timeline: Vec<Step>, run_for_ms: u64) -> World {
    World {
        name: "parity".into(),
        seed: 11,
        policy: quick_policy(),
        webhooks: vec![shop_webhook()],
        receivers: vec![ReceiverSpec { host: SHOP_HOST.into(), kind, behaviour }],
        timeline,
        run_for_ms,
        latency_ms: (1, 3),
        signing: Default::default(),
        provider: Default::default(),
    }
}

fn assert_same(name: &str, world: &World) -> Verdict {
    let (model, net) = both(world);
    assert_eq!(model, net, "{name}: model (left) and network (right) disagree");
    net
}

#[test]
fn failing_for_ten_days() {
    let v = assert_same("failing", &failing_world(10, 1));
    assert_eq!((v.disabled.len(), v.emails_received), (1, 1));
}

#[test]
fn act_then_fail_and_dropped_connections() {
    let replies = vec![
        Reply { answer: Answer::ActThenStatus(500), latency_ms: 0 },
        Reply { answer: Answer::ActThenDrop, latency_ms: 0 },
        Reply { answer: Answer::Drop, latency_ms: 0 },
    ];
    let behaviour = Behaviour { replies, then: Reply::OK };
    let timeline: Vec<Step> = (1..=3).map(|i| at(i * SECOND_MS, client(i))).collect();
    for kind in [ReceiverKind::Dedup, ReceiverKind::Naive] {
        let v = assert_same("act then fail", &world(kind, behaviour.clone(), timeline.clone(), HOUR_MS));
        assert_eq!(v.delivered.len(), 3);
    }
}

#[test]
fn answers_slower_than_the_timeout() {
    // 8 s answers against a 5 s timeout for ten minutes, then prompt answers.
    let slow = Behaviour::always(Reply { answer: Answer::Status(200), latency_ms: 8 * SECOND_MS });
    let mut timeline: Vec<Step> = (1..=2).map(|i| at(i * SECOND_MS, client(i))).collect();
    timeline.push(at(10 * MINUTE_MS, Action::Behave { receiver: SHOP_HOST.into(), behaviour: Behaviour::default() }));
    let v = assert_same("slow", &world(ReceiverKind::Dedup, slow, timeline, HOUR_MS));
    assert_eq!(v.delivered.len(), 2);
    assert_eq!(v.acted_on.len(), 2, "the receiver acted although the sender had given up");
}

#[test]
fn a_receiver_crash_and_restart() {
    let mut timeline = vec![at(0, Action::Crash(shop()))];
    timeline.extend((1..=3).map(|i| at(i * SECOND_MS, client(i))));
    timeline.push(at(3 * MINUTE_MS, Action::Restart(shop())));
    let v = assert_same("receiver crash", &world(ReceiverKind::Dedup, Behaviour::default(), timeline, HOUR_MS));
    assert_eq!(v.delivered.len(), 3);
}

#[test]
fn a_one_way_partition_loses_answers_not_requests() {
    let mut timeline = vec![at(0, Action::Partition { from: shop(), to: Host::Dispatcher, one_way: true })];
    timeline.extend((1..=3).map(|i| at(i * SECOND_MS, client(i))));
    timeline.push(at(4 * MINUTE_MS, Action::Repair { a: shop(), b: Host::Dispatcher }));
    let v = assert_same("one way", &world(ReceiverKind::Dedup, Behaviour::default(), timeline, HOUR_MS));
    assert_eq!(v.delivered.len(), 3);
    assert_eq!(v.acted_on.len(), 3);
}

#[test]
fn a_partition_and_a_dispatcher_crash() {
    let mut timeline = vec![at(0, Action::Partition { from: Host::Dispatcher, to: shop(), one_way: false })];
    timeline.extend((1..=4).map(|i| at(i * SECOND_MS, client(i))));
    timeline.push(at(2 * MINUTE_MS, Action::Repair { a: Host::Dispatcher, b: shop() }));
    timeline.push(at(2 * MINUTE_MS + 5 * SECOND_MS, Action::Crash(Host::Dispatcher)));
    timeline.push(at(20 * MINUTE_MS, Action::Restart(Host::Dispatcher)));
    let v = assert_same("partition and crash", &world(ReceiverKind::Dedup, Behaviour::default(), timeline, HOUR_MS));
    assert_eq!(v.delivered.len(), 4);
}

#[test]
fn a_warning_email_waits_for_the_mail_host() {
    let failing = Behaviour::always(Reply::status(503));
    let timeline = vec![
        at(0, Action::Partition { from: Host::Dispatcher, to: Host::Mail, one_way: false }),
        at(SECOND_MS, client(1)),
        at(20 * MINUTE_MS, Action::Repair { a: Host::Dispatcher, b: Host::Mail }),
    ];
    let w = world(ReceiverKind::Dedup, failing, timeline, HOUR_MS);
    let v = assert_same("mail partition", &w);
    assert_eq!((v.warnings, v.emails_received, v.disabled.len()), (1, 1, 1));
    let net = hooksim::net::run(&w).unwrap().trace;
    let received = net.entries().iter().find(|e| matches!(e.event, TraceEvent::EmailReceived { .. })).unwrap();
    assert!(received.at.as_millis() >= 20 * MINUTE_MS, "the email went out after the repair");
    assert!(net.entries().iter().any(|e| matches!(e.event, TraceEvent::EmailDeferred { .. })));
}

#[test]
fn held_messages_arrive_on_release() {
    let timeline = vec![
        at(0, Action::Hold { a: Host::Dispatcher, b: shop() }),
        at(SECOND_MS, client(1)),
        at(3 * SECOND_MS, Action::Release { a: Host::Dispatcher, b: shop() }),
    ];
    let v = assert_same("hold", &world(ReceiverKind::Naive, Behaviour::default(), timeline, HOUR_MS));
    assert_eq!(v.delivered.len(), 1);
}

#[test]
fn two_receivers_and_a_latency_change() {
    let mut w = world(ReceiverKind::Dedup, Behaviour::default(), vec![], HOUR_MS);
    w.receivers.push(ReceiverSpec {
        host: "books".into(),
        kind: ReceiverKind::Picky,
        behaviour: Behaviour { replies: vec![Reply::status(502)], then: Reply::OK },
    });
    w.webhooks.push(WebhookConfig {
        url: "http://books/webhook".into(),
        paths: vec![],
        owner_email: "ops@books.example".into(),
    });
    w.webhooks.push(WebhookConfig {
        url: "http://nowhere/webhook".into(),
        paths: vec![],
        owner_email: "ops@nowhere.example".into(),
    });
    w.timeline =
        vec![at(0, Action::Latency { min_ms: 5, max_ms: 50 }), at(SECOND_MS, client(1)), at(2 * SECOND_MS, client(2))];
    let v = assert_same("two receivers", &w);
    assert_eq!(v.delivered.len(), 4, "{v:?}");
    assert_eq!(v.disabled, BTreeSet::from([2]), "the webhook to no host is disabled");
}
