//! Properties of the dispatcher, over random timelines and receiver answers, through the model
//! engine (and, for panics, straight into the core).
//!
//! A property that fails on a world prints that world as a scenario file (`counterexample`):
//! proptest shrinks the inputs first, so the file in the final message is the shrunk
//! counterexample's, ready to save under `scenarios/` and run with `hooksim run`.

use hooksim::core::{Dispatcher, Input, Output};
use hooksim::domain::{Change, Client, Invoice, InvoiceState, PathFilter, Store, WebhookConfig, WebhookId};
use hooksim::explore::scenario_file::render;
use hooksim::model;
use hooksim::policy::{Backoff, Policy, PolicySpec, Profile, Schedule};
use hooksim::receiver::ReceiverKind;
use hooksim::time::{DAY_MS, HOUR_MS, MINUTE_MS, SimTime};
use hooksim::trace::{Outcome, Trace, TraceEvent};
use hooksim::world::{Action, Answer, Behaviour, ReceiverSpec, Reply, Step, World};
use proptest::prelude::*;
use std::collections::BTreeMap;

const CLIENTS: u64 = 3;

/// Raw material for a timeline: (delay after the previous step, what, which).
fn ops() -> impl Strategy<Value = Vec<(u64, u8, u8)>> {
    prop::collection::vec((0..6 * HOUR_MS, 0..4u8, any::<u8>()), 1..25)
}

/// Turns raw ops into valid changes: every change in the result applies cleanly in order.
fn timeline(ops: &[(u64, u8, u8)]) -> Vec<Step> {
    let mut steps = Vec::new();
    for id in 1..=CLIENTS {
        let client = Client { id, name: format!("client {id}"), email: format!("c{id}@example.com") };
        steps.push(Step { at: SimTime::ZERO, action: Action::Change(Change::AddClient(client)) });
    }
    let (mut at, mut invoices) = (0, 0u64);
    for &(delay, what, which) in ops {
        at += delay;
        let change = match what {
            0 | 1 if invoices == 0 || what == 0 => {
                invoices += 1;
                let client_id = 1 + which as u64 % CLIENTS;
                Change::AddInvoice(Invoice {
                    id: invoices,
                    number: format!("INV-{invoices}"),
                    client_id,
                    total_cents: which as i64 * 100,
                    state: InvoiceState::Unpaid,
                })
            }
            1 | 2 => Change::SetInvoiceState {
                id: 1 + which as u64 % invoices.max(1),
                state: InvoiceState::ALL[which as usize % 4],
            },
            _ => {
                let id = 1 + which as u64 % CLIENTS;
                Change::UpdateClient(Client {
                    id,
                    name: format!("renamed {which}"),
                    email: format!("c{id}@example.com"),
                })
            }
        };
        if invoices == 0 && matches!(change, Change::SetInvoiceState { .. }) {
            continue;
        }
        steps.push(Step { at: SimTime::from_millis(at), action: Action::Change(change) });
    }
    steps
}

fn reply() -> impl Strategy<Value = Reply> {
    let answer = prop_oneof![
        Just(Answer::Status(200)),
        Just(Answer::Status(204)),
        Just(Answer::Status(500)),
        Just(Answer::Status(503)),
        Just(Answer::Status(302)),
        Just(Answer::Drop),
        Just(Answer::ActThenDrop),
        Just(Answer::ActThenStatus(500)),
    ];
    (answer, prop_oneof![Just(0u64), 1..2_000u64, Just(45_000u64)])
        .prop_map(|(answer, latency_ms)| Reply { answer, latency_ms })
}

fn webhooks(filters: &[u8]) -> Vec<WebhookConfig> {
    filters
        .iter()
        .map(|f| WebhookConfig {
            url: "http://shop/webhook".into(),
            paths: match f % 3 {
                0 => vec![],
                1 => vec![PathFilter("/invoice/*".into())],
                _ => vec![PathFilter("/client/add".into()), PathFilter("/invoice/update/state".into())],
            },
            owner_email: "ops@shop.example".into(),
        })
        .collect()
}

fn world(
    seed: u64,
    policy: Policy,
    hooks: Vec<WebhookConfig>,
    steps: Vec<Step>,
    behaviour: Behaviour,
    run_for_ms: u64,
) -> World {
    World {
        name: "property".into(),
        seed,
        policy,
        webhooks: hooks,
        receivers: vec![ReceiverSpec { host: "shop".into(), kind: ReceiverKind::Dedup, behaviour }],
        timeline: steps,
        run_for_ms,
        latency_ms: (1, 20),
        signing: Default::default(),
        provider: Default::default(),
    }
}

fn quick_policy() -> Policy {
    PolicySpec {
        schedule: Schedule {
            backoff: Backoff::List { delays_ms: vec![MINUTE_MS, 5 * MINUTE_MS, 10 * MINUTE_MS] },
            jitter_percent: 10,
        },
        warn_after_ms: Some(HOUR_MS),
        disable_after_ms: Some(2 * HOUR_MS),
        attempt_timeout_ms: 30_000,
        attempts_max: None,
        retry_window_ms: None,
        in_flight_per_webhook_max: 2,
        pending_per_webhook_max: 1_000,
        disable_on_gone: false,
        retry_after_past_backoff_max_ms: None,
    }
    .build()
    .unwrap()
}

/// Runs `w` on the model engine and checks its trace; a failure's message ends with `w` as a
/// scenario file, named for `test`.
fn on_world(
    test: &str,
    w: &World,
    check: impl FnOnce(&Trace) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let trace = model::run(w).map_err(|e| counterexample(test, w, &format!("the engine stopped: {e}")))?.trace;
    check(&trace).map_err(|e| match e {
        TestCaseError::Fail(why) => counterexample(test, w, why.message()),
        reject => reject,
    })
}

/// `why`, then the world as a scenario file whose description says how to check it again.
fn counterexample(test: &str, w: &World, why: &str) -> TestCaseError {
    let description = format!(
        "A counterexample of the property `{test}`, shrunk by proptest. Check it again: \
         cargo test --test it core_props::{test}"
    );
    let mut named = w.clone();
    named.name = format!("{test} counterexample");
    TestCaseError::fail(format!(
        "{why}\n\n--- the counterexample as a scenario file (save it as scenarios/<name>.toml):\n{}",
        render(&named, &description, None)
    ))
}

fn entries(trace: &Trace) -> impl Iterator<Item = (SimTime, &TraceEvent)> {
    trace.entries().iter().map(|e| (e.at, &e.event))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// 1. Every event routed to a never-disabled webhook is delivered with a 2xx at least once,
    ///    when the receiver eventually answers 2xx.
    #[test]
    fn every_routed_event_is_delivered_when_the_receiver_recovers(
        seed in any::<u64>(), ops in ops(), filters in prop::collection::vec(any::<u8>(), 1..4),
        replies in prop::collection::vec(reply(), 0..30),
    ) {
        let steps = timeline(&ops);
        let end = steps.last().unwrap().at.as_millis() + 3 * DAY_MS;
        let w = world(seed, Profile::Snapbill.policy(), webhooks(&filters), steps, Behaviour { replies, then: Reply::OK }, end);
        on_world("every_routed_event_is_delivered_when_the_receiver_recovers", &w, |trace| {
            let mut queued = BTreeMap::new();
            for (_, e) in entries(trace) {
                match e {
                    TraceEvent::DeliveryQueued { delivery, .. } => { queued.insert(*delivery, false); }
                    TraceEvent::Delivered { delivery, .. } => { queued.insert(*delivery, true); }
                    TraceEvent::WebhookDisabled { .. } => prop_assert!(false, "nothing disables within 3 days"),
                    _ => {}
                }
            }
            prop_assert!(queued.values().all(|d| *d), "undelivered: {:?}", queued.iter().filter(|(_, d)| !**d).collect::<Vec<_>>());
            Ok(())
        })?;
    }

    /// 2. No attempt goes to a disabled webhook; a warning comes only after `warn_after` of
    ///    continuous failure, at most once per streak, and precedes every disable by at least
    ///    the grace (`disable_after - warn_after`).
    #[test]
    fn health_follows_the_streak(
        seed in any::<u64>(), ops in ops(), filters in prop::collection::vec(any::<u8>(), 1..3),
        replies in prop::collection::vec(reply(), 0..60), then in reply(),
        enable_at in prop::collection::vec(0..2 * DAY_MS, 0..3),
    ) {
        let mut steps = timeline(&ops);
        for (i, at) in enable_at.iter().enumerate() {
            steps.push(Step { at: SimTime::from_millis(*at), action: Action::EnableWebhook(WebhookId(i as u32 % filters.len() as u32)) });
        }
        steps.sort_by_key(|s| s.at);
        let policy = quick_policy();
        let w = world(seed, policy.clone(), webhooks(&filters), steps, Behaviour { replies, then }, 2 * DAY_MS);
        on_world("health_follows_the_streak", &w, |trace| {
            #[derive(Default)]
            struct Shadow { disabled: bool, since: Option<SimTime>, warned_at: Option<SimTime> }
            let mut hooks: BTreeMap<WebhookId, Shadow> = BTreeMap::new();
            for (at, e) in entries(trace) {
                match e {
                    TraceEvent::AttemptStarted { webhook, .. } => {
                        prop_assert!(!hooks.entry(*webhook).or_default().disabled, "attempt to disabled {webhook} at {at}");
                    }
                    TraceEvent::AttemptFinished { webhook, outcome, .. } => {
                        let h = hooks.entry(*webhook).or_default();
                        if outcome.is_success() { h.since = None; h.warned_at = None; }
                        else if !h.disabled { h.since.get_or_insert(at); }
                    }
                    TraceEvent::WarningSent { webhook, failing_since, .. } => {
                        let h = hooks.entry(*webhook).or_default();
                        prop_assert_eq!(h.since, Some(*failing_since));
                        prop_assert!(at.ms_since(*failing_since) >= policy.warn_after_ms().unwrap());
                        prop_assert!(h.warned_at.is_none(), "two warnings in one streak");
                        h.warned_at = Some(at);
                    }
                    TraceEvent::WebhookDisabled { webhook, failing_since, .. } => {
                        let h = hooks.entry(*webhook).or_default();
                        let warned_at = h.warned_at.ok_or_else(|| TestCaseError::fail("disabled without a warning"))?;
                        prop_assert!(at.ms_since(warned_at) >= policy.disable_grace_ms().unwrap(),
                            "disabled at {} only {} ms after the warning", at, at.ms_since(warned_at));
                        prop_assert_eq!(h.since, Some(*failing_since));
                        prop_assert!(at.ms_since(*failing_since) >= policy.disable_after_ms().unwrap());
                        h.disabled = true;
                    }
                    TraceEvent::WebhookEnabled { webhook } => {
                        *hooks.entry(*webhook).or_default() = Shadow::default();
                    }
                    _ => {}
                }
            }
            Ok(())
        })?;
    }

    /// 3. Every attempt's payload carries the entity as it is at that attempt's time.
    #[test]
    fn every_payload_is_rendered_at_send_time(
        seed in any::<u64>(), ops in ops(), replies in prop::collection::vec(reply(), 0..30),
    ) {
        let steps = timeline(&ops);
        let changes: Vec<Change> = steps.iter().filter_map(|s| match &s.action { Action::Change(c) => Some(c.clone()), _ => None }).collect();
        let end = steps.last().unwrap().at.as_millis() + DAY_MS;
        let w = world(seed, Profile::Snapbill.policy(), webhooks(&[0]), steps, Behaviour { replies, then: Reply::OK }, end);
        on_world("every_payload_is_rendered_at_send_time", &w, |trace| {
            let mut store = Store::default();
            let mut next_change = changes.iter();
            let mut checked = 0;
            for (_, e) in entries(trace) {
                match e {
                    TraceEvent::EventRecorded { .. } => { next_change.next().unwrap().apply(&mut store).unwrap(); }
                    TraceEvent::AttemptStarted { body, .. } => {
                        let body: serde_json::Value = serde_json::from_str(body).unwrap();
                        let inner = &body["body"];
                        let (kind, entity) = if inner.get("invoice").is_some() { ("invoice", &inner["invoice"]) } else { ("client", &inner["client"]) };
                        let id = entity["id"].as_u64().unwrap();
                        let now = match kind {
                            "invoice" => serde_json::to_value(store.invoice(id).unwrap()).unwrap(),
                            _ => serde_json::to_value(store.client(id).unwrap()).unwrap(),
                        };
                        prop_assert_eq!(entity, &now);
                        checked += 1;
                    }
                    _ => {}
                }
            }
            prop_assert!(checked > 0);
            Ok(())
        })?;
    }

    /// 4. The same seed and inputs give an identical trace.
    #[test]
    fn same_seed_same_trace(seed in any::<u64>(), ops in ops(), replies in prop::collection::vec(reply(), 0..20)) {
        let steps = timeline(&ops);
        let w = world(seed, quick_policy(), webhooks(&[0, 1]), steps, Behaviour { replies, then: Reply::status(500) }, DAY_MS);
        on_world("same_seed_same_trace", &w, |a| {
            let b = model::run(&w).unwrap().trace;
            prop_assert_eq!(a.to_json_lines(), b.to_json_lines());
            Ok(())
        })?;
    }

    /// 5. No input sequence makes the core panic, and its bookkeeping holds after every step.
    #[test]
    fn no_input_sequence_panics(
        seed in any::<u64>(), inputs in prop::collection::vec((0..3 * HOUR_MS, 0..9u8, any::<u16>(), any::<u64>()), 0..200),
    ) {
        let mut core = Dispatcher::new(quick_policy(), webhooks(&[0, 1, 2]), seed);
        let mut sent: Vec<u64> = Vec::new();
        for (at, what, n, big) in inputs {
            // Times may go backwards: the core must clamp, not panic.
            let now = SimTime::from_millis(at);
            let input = match what {
                0 => Input::Change(Change::AddClient(Client { id: n as u64 % 4, name: "c".into(), email: "e".into() })),
                1 => Input::Change(Change::AddInvoice(Invoice { id: n as u64 % 6, number: "n".into(), client_id: big % 5, total_cents: -1, state: InvoiceState::Draft })),
                2 => Input::Change(Change::SetInvoiceState { id: n as u64 % 7, state: InvoiceState::Paid }),
                3 | 4 => {
                    let attempt = if sent.is_empty() || what == 4 { big } else { sent[n as usize % sent.len()] };
                    let outcome = match n % 5 { 0 => Outcome::Timeout, 1 => Outcome::Refused, 2 => Outcome::Reset, _ => Outcome::Status { code: n } };
                    Input::Answer { attempt, outcome }
                }
                5 => Input::Enable(WebhookId(n as u32 % 5)),
                6 => Input::Crash,
                7 => Input::Restart,
                _ => { core.handle_timeout(now); core.check_invariants(); continue; }
            };
            let _ = core.handle(now, input);
            while let Some(out) = core.poll_output() {
                if let Output::Send(req) = out { sent.push(req.attempt); }
            }
            core.drain_trace().for_each(drop);
            core.check_invariants();
        }
    }
}

/// A failing property's message ends with its shrunk counterexample as a scenario file that
/// loads and fails the same way. Shown with a mutant property, "no attempt ever fails", which
/// a receiver answering 500 breaks at once.
#[test]
fn a_failing_property_prints_its_shrunk_counterexample_as_a_scenario_file() {
    use proptest::test_runner::{TestError, TestRunner};
    let config =
        ProptestConfig { cases: 16, max_shrink_iters: 4_096, failure_persistence: None, ..ProptestConfig::default() };
    let failed = |trace: &Trace| {
        entries(trace).any(|(_, e)| matches!(e, TraceEvent::AttemptFinished { outcome, .. } if !outcome.is_success()))
    };
    let inputs = (any::<u64>(), ops(), prop::collection::vec(reply(), 0..30));
    let result = TestRunner::new(config).run(&inputs, |(seed, ops, replies)| {
        let behaviour = Behaviour { replies, then: Reply::status(500) };
        let w = world(seed, quick_policy(), webhooks(&[0]), timeline(&ops), behaviour, DAY_MS);
        on_world("no_attempt_ever_fails", &w, |trace| {
            prop_assert!(!failed(trace), "an attempt failed");
            Ok(())
        })
    });
    let Err(TestError::Fail(why, _)) = result else { panic!("the mutant property fails: {result:?}") };
    let why = why.to_string();
    assert!(why.starts_with("an attempt failed"), "{why}");
    let (_, file) = why.split_once("(save it as scenarios/<name>.toml):\n").expect("a scenario file in the message");
    let scenario = hooksim::scenario::load_str("counterexample.toml", file).unwrap_or_else(|e| panic!("{e}\n{file}"));
    // Shrunk: the three clients and the one op the generator always makes, no scripted replies.
    assert!(scenario.world.timeline.len() <= CLIENTS as usize + 1, "{file}");
    assert!(scenario.world.receivers[0].behaviour.replies.is_empty(), "{file}");
    assert!(file.contains("cargo test --test it core_props::no_attempt_ever_fails"), "{file}");
    assert!(failed(&model::run(&scenario.world).unwrap().trace), "the file fails the same way:\n{file}");
}
