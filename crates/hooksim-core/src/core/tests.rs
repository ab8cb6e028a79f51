//! Unit tests of the dispatcher as a whole: ids, limits, timeouts, late answers, crashes.

use super::{Dispatcher, Input, Output};
use crate::domain::{Change, Client, WebhookConfig, WebhookId, WebhookStatus};
use crate::policy::{PolicySpec, Profile};
use crate::time::SimTime;
use crate::trace::DisableReason;
use crate::trace::{Outcome, RefusedReason, TraceEntry, TraceEvent};
use uuid::Uuid;

fn hook(name: &str) -> WebhookConfig {
    WebhookConfig { url: format!("http://{name}/webhook"), paths: vec![], owner_email: format!("ops@{name}") }
}

fn add_client(id: u64) -> Input {
    Input::Change(Change::AddClient(Client { id, name: format!("c{id}"), email: "c@example.com".into() }))
}

fn at(ms: u64) -> SimTime {
    SimTime::from_millis(ms)
}

fn sends(core: &mut Dispatcher) -> Vec<super::AttemptRequest> {
    std::iter::from_fn(|| core.poll_output())
        .filter_map(|o| match o {
            Output::Send(r) => Some(r),
            Output::Email(_) => None,
        })
        .collect()
}

fn trace(core: &mut Dispatcher) -> Vec<TraceEntry> {
    core.drain_trace().collect()
}

#[test]
fn delivery_uuids_come_from_the_seed_are_distinct_and_are_v4() {
    let run = |seed| {
        let mut core = Dispatcher::new(Profile::Snapbill.policy(), vec![hook("a"), hook("b")], seed);
        for id in 0..50 {
            core.handle(at(id), add_client(id)).unwrap();
        }
        let queued = trace(&mut core).into_iter().filter_map(|e| match e.event {
            TraceEvent::DeliveryQueued { delivery, .. } => Some(delivery),
            _ => None,
        });
        queued.collect::<Vec<Uuid>>()
    };
    let ids = run(7);
    assert_eq!(ids.len(), 100);
    assert_eq!(ids, run(7), "same seed, same ids");
    assert_ne!(ids, run(8));
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len());
    assert!(ids.iter().all(|u| u.get_version_num() == 4));
}

#[test]
fn one_event_gives_each_subscribed_webhook_its_own_uuid_and_the_same_event_id() {
    let mut core = Dispatcher::new(Profile::Snapbill.policy(), vec![hook("a"), hook("b")], 1);
    core.handle(at(0), add_client(1)).unwrap();
    let reqs = sends(&mut core);
    assert_eq!(reqs.len(), 2);
    assert_ne!(reqs[0].delivery, reqs[1].delivery);
    let body = |i: usize| serde_json::from_str::<serde_json::Value>(&reqs[i].body).unwrap();
    assert_eq!(body(0)["body"]["id"], body(1)["body"]["id"]);
    assert_eq!(body(0)["uuid"], reqs[0].delivery.to_string());
}

#[test]
fn the_core_times_attempts_out_and_ignores_a_late_answer() {
    let mut core = Dispatcher::new(Profile::Snapbill.policy(), vec![hook("a")], 1);
    core.handle(at(0), add_client(1)).unwrap();
    let req = sends(&mut core).remove(0);
    assert_eq!(core.poll_timeout(), Some(at(req.timeout_ms)));
    core.handle_timeout(at(req.timeout_ms));
    let late = Input::Answer { attempt: req.attempt, outcome: Outcome::Status { code: 200 } };
    core.handle(at(req.timeout_ms + 5), late).unwrap();
    let events: Vec<TraceEvent> = trace(&mut core).into_iter().map(|e| e.event).collect();
    assert!(events.contains(&TraceEvent::AttemptFinished {
        attempt: req.attempt,
        delivery: req.delivery,
        webhook: WebhookId(0),
        event: 1,
        outcome: Outcome::Timeout
    }));
    assert!(
        events
            .contains(&TraceEvent::LateAnswerIgnored { attempt: req.attempt, outcome: Outcome::Status { code: 200 } })
    );
    assert!(core.handle(at(99_999), Input::Answer { attempt: 999, outcome: Outcome::Timeout }).is_err());
}

#[test]
fn in_flight_limit_makes_due_attempts_wait_their_turn() {
    let spec = PolicySpec { in_flight_per_webhook_max: 2, ..Profile::Snapbill.spec() };
    let mut core = Dispatcher::new(spec.build().unwrap(), vec![hook("a")], 1);
    for id in 0..5 {
        core.handle(at(0), add_client(id)).unwrap();
    }
    let first = sends(&mut core);
    assert_eq!(first.len(), 2);
    core.handle(at(1), Input::Answer { attempt: first[0].attempt, outcome: Outcome::Status { code: 204 } }).unwrap();
    assert_eq!(sends(&mut core).len(), 1, "one slot freed, one attempt started");
    core.check_invariants();
}

#[test]
fn pending_limit_refuses_new_events_with_a_trace() {
    let spec = PolicySpec { pending_per_webhook_max: 3, ..Profile::Snapbill.spec() };
    let mut core = Dispatcher::new(spec.build().unwrap(), vec![hook("a")], 1);
    for id in 0..4 {
        core.handle(at(0), add_client(id)).unwrap();
    }
    let refused = trace(&mut core)
        .into_iter()
        .filter(|e| matches!(e.event, TraceEvent::DeliveryRefused { reason: RefusedReason::QueueFull, event: 4, .. }));
    assert_eq!(refused.count(), 1);
    assert_eq!(core.pending_deliveries(), 3);
}

#[test]
fn a_crash_loses_attempts_in_flight_and_a_restart_sends_them_again_with_the_same_uuid() {
    let mut core = Dispatcher::new(Profile::Snapbill.policy(), vec![hook("a")], 1);
    core.handle(at(0), add_client(1)).unwrap();
    let before = sends(&mut core).remove(0);
    core.handle(at(10), Input::Crash).unwrap();
    assert_eq!(core.poll_timeout(), None, "nothing runs while crashed");
    core.handle(at(20), add_client(2)).unwrap();
    assert!(sends(&mut core).is_empty(), "changes are recorded, nothing is sent");
    core.handle(at(30), Input::Restart).unwrap();
    let after = sends(&mut core);
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].delivery, before.delivery);
    assert!(trace(&mut core).iter().any(|e| matches!(e.event, TraceEvent::AttemptLost { .. })));
}

#[test]
fn attempts_lost_in_a_crash_are_resent_oldest_first_before_what_was_waiting() {
    let spec = PolicySpec { in_flight_per_webhook_max: 3, ..Profile::Snapbill.spec() };
    let mut core = Dispatcher::new(spec.build().unwrap(), vec![hook("a")], 1);
    for id in 0..4 {
        core.handle(at(id), add_client(id)).unwrap();
    }
    let in_flight: Vec<Uuid> = sends(&mut core).iter().map(|r| r.delivery).collect();
    assert_eq!(in_flight.len(), 3, "the fourth waits for a slot");
    core.handle(at(10), Input::Crash).unwrap();
    core.handle(at(20), Input::Restart).unwrap();
    let resent: Vec<Uuid> = sends(&mut core).iter().map(|r| r.delivery).collect();
    assert_eq!(resent, in_flight, "oldest first, and before the delivery that was waiting");
    let lost: Vec<u64> = trace(&mut core)
        .into_iter()
        .filter_map(|e| match e.event {
            TraceEvent::AttemptLost { attempt, .. } => Some(attempt),
            _ => None,
        })
        .collect();
    assert_eq!(lost, [1, 2, 3]);
    core.check_invariants();
}

#[test]
fn enabling_a_disabled_webhook_resumes_its_parked_deliveries() {
    let spec = PolicySpec { warn_after_ms: Some(1_000), disable_after_ms: Some(2_000), ..Profile::Snapbill.spec() };
    let mut core = Dispatcher::new(spec.build().unwrap(), vec![hook("a")], 1);
    core.handle(at(0), add_client(1)).unwrap();
    let mut now = 0;
    loop {
        for req in sends(&mut core) {
            core.handle(at(now), Input::Answer { attempt: req.attempt, outcome: Outcome::Status { code: 500 } })
                .unwrap();
        }
        if core.webhook_status(WebhookId(0)) == Some(WebhookStatus::Disabled) {
            break;
        }
        now = core.poll_timeout().expect("a failing webhook always has a retry due").as_millis();
        core.handle_timeout(at(now));
    }
    core.handle(at(now), add_client(2)).unwrap();
    assert!(sends(&mut core).is_empty());
    core.handle(at(now + 1), Input::Enable(WebhookId(0))).unwrap();
    assert_eq!(sends(&mut core).len(), 1, "the parked delivery resumes; the event refused while disabled does not");
    assert!(core.handle(at(now + 2), Input::Enable(WebhookId(9))).is_err());
}

/// Answers the one attempt in flight with `input(attempt)` at `now`; returns the trace since.
fn answer_first(core: &mut Dispatcher, now: u64, input: impl Fn(u64) -> Input) -> Vec<TraceEvent> {
    let req = sends(core).remove(0);
    core.handle(at(now), input(req.attempt)).unwrap();
    trace(core).into_iter().filter(|e| e.at == at(now)).map(|e| e.event).collect()
}

#[test]
fn gone_disables_at_once_where_the_profile_says_and_snapbill_keeps_retrying() {
    let gone = |attempt| Input::Answer { attempt, outcome: Outcome::Status { code: 410 } };
    let mut svix = Dispatcher::new(Profile::Svix.policy(), vec![hook("a")], 1);
    svix.handle(at(0), add_client(1)).unwrap();
    let events = answer_first(&mut svix, 7, gone);
    assert!(matches!(events[0], TraceEvent::AttemptFinished { outcome: Outcome::Status { code: 410 }, .. }));
    assert_eq!(
        events[1],
        TraceEvent::WebhookDisabled { webhook: WebhookId(0), failing_since: at(7), reason: DisableReason::Gone }
    );
    assert_eq!(events.len(), 2, "no warning and no retry: {events:?}");
    assert_eq!(svix.webhook_status(WebhookId(0)), Some(WebhookStatus::Disabled));
    assert_eq!(svix.poll_timeout(), None, "the delivery is parked");

    let mut snapbill = Dispatcher::new(Profile::Snapbill.policy(), vec![hook("a")], 1);
    snapbill.handle(at(0), add_client(1)).unwrap();
    let events = answer_first(&mut snapbill, 7, gone);
    assert!(matches!(events[1], TraceEvent::RetryScheduled { .. }), "{events:?}");
    assert_eq!(snapbill.webhook_status(WebhookId(0)), Some(WebhookStatus::Active));
}

/// The retry's due time after a `status` answer asking to wait `retry_after_ms`, under `profile`.
fn retry_after(profile: Profile, status: u16, retry_after_ms: u64) -> u64 {
    let mut core = Dispatcher::new(profile.policy(), vec![hook("a")], 1);
    core.handle(at(0), add_client(1)).unwrap();
    let events = answer_first(&mut core, 100, |attempt| Input::AnswerRetryAfter { attempt, status, retry_after_ms });
    assert!(
        matches!(events[0], TraceEvent::AttemptFinished { outcome: Outcome::Status { code }, .. } if code == status)
    );
    match events[1] {
        TraceEvent::RetryScheduled { at: due, .. } => due.as_millis() - 100,
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn retry_after_is_honoured_as_a_minimum_capped_per_profile() {
    use crate::time::{HOUR_MS, SECOND_MS};
    assert_eq!(retry_after(Profile::Svix, 429, HOUR_MS), HOUR_MS);
    assert_eq!(retry_after(Profile::Svix, 503, HOUR_MS), HOUR_MS);
    let capped = retry_after(Profile::Svix, 429, 100 * HOUR_MS);
    assert!((2 * HOUR_MS + 4 * SECOND_MS..=2 * HOUR_MS + 6 * SECOND_MS).contains(&capped), "{capped}");
    let backoff = retry_after(Profile::Svix, 429, 1);
    assert!((4 * SECOND_MS..=6 * SECOND_MS).contains(&backoff), "the backoff when longer: {backoff}");
    let other = retry_after(Profile::Svix, 500, HOUR_MS);
    assert!(other <= 6 * SECOND_MS, "only 429 and 503 ask to wait: {other}");
    assert_eq!(retry_after(Profile::Snapbill, 429, HOUR_MS), 10 * SECOND_MS, "snapbill ignores Retry-After");
}

/// A provider that sends a snapshot: the body is rendered when the event is recorded and resent
/// by the retry though the entity changed since (SnapBill's would be rendered again); the
/// attempt's shape names the pack's dedup id, and Slack's retry carries its retry number.
#[test]
fn a_providers_attempts_resend_the_events_snapshot_with_the_packs_id_and_retry_headers() {
    use crate::provider::Provider;
    let mut core =
        Dispatcher::new(Profile::Snapbill.policy(), vec![hook("a")], 3).with_provider(Provider::Slack, 1_000);
    core.handle(at(2_000), add_client(1)).unwrap();
    let first = sends(&mut core).remove(0);
    let shape = first.shape.clone().expect("a provider's attempt has a shape");
    assert_eq!(shape.id, Provider::Slack.dedup_id(first.delivery));
    assert!(first.body.contains(r#""event_time":1002"#), "{}", first.body);
    assert!(shape.headers.iter().all(|(n, _)| *n != "x-slack-retry-num"));
    let renamed = Client { id: 1, name: "renamed".into(), email: "c@example.com".into() };
    core.handle(at(3_000), Input::Change(Change::UpdateClient(renamed))).unwrap();
    let _ = sends(&mut core);
    core.handle(at(4_000), Input::Answer { attempt: first.attempt, outcome: Outcome::Status { code: 500 } }).unwrap();
    core.handle_timeout(at(60_000));
    let retry = sends(&mut core).into_iter().find(|r| r.delivery == first.delivery).expect("the retry");
    assert_eq!(retry.body, first.body, "the snapshot, not the renamed client");
    let headers = &retry.shape.as_ref().unwrap().headers;
    assert!(headers.contains(&("x-slack-retry-num", "1".to_string())), "{headers:?}");
    let mut snapbill = Dispatcher::new(Profile::Snapbill.policy(), vec![hook("a")], 3);
    snapbill.handle(at(0), add_client(1)).unwrap();
    assert!(sends(&mut snapbill)[0].shape.is_none(), "SnapBill's envelope has no shape");
}
