//! The reference core in-process and the same core served over the protocol
//! (`hooksim dispatcher --stdio`, driven by `ProcessDispatcher`) give the same outputs and a
//! byte-identical trace for the same inputs: the protocol carries everything the trace needs.

use crate::support::protocol::*;
use hooksim::core::{Dispatcher, Input};
use hooksim::domain::InvoiceState;
use hooksim::time::{DAY_MS, HOUR_MS, MINUTE_MS};
use hooksim::trace::Outcome;
use proptest::prelude::*;

fn both(script: &Script) -> (Run, Run) {
    let mut core = Dispatcher::new(script.policy.clone(), script.webhooks.clone(), script.seed);
    let in_process = drive(&mut core, script);
    let mut process = reference_process(script, 0);
    let over_protocol = drive(&mut process, script);
    (in_process, over_protocol)
}

fn assert_same(script: &Script) -> Run {
    let (a, b) = both(script);
    assert!(!a.trace.is_empty());
    assert_eq!(a.log, b.log, "outputs differ");
    assert_eq!(a.trace, b.trace, "traces differ");
    a
}

#[test]
fn deliveries_retries_and_payloads_at_send_time() {
    let script = Script {
        seed: 7,
        policy: snapbill(),
        webhooks: vec![hook("shop", &[]), hook("books", &["/invoice/*"])],
        timeline: vec![
            (0, client(1)),
            (1_000, invoice(4, 1)),
            (2_000, set_state(4, InvoiceState::Paid)),
            (20_000, set_state(4, InvoiceState::Cancelled)),
            (30_000, rename(1, "Ada Lovelace")),
        ],
        replies: vec![vec![status(500), silent(), status(503), ok(5)], vec![ok(40_000), ok(3)]],
        run_for_ms: HOUR_MS,
    };
    let run = assert_same(&script);
    assert!(run.trace.contains("late_answer_ignored"), "a 40 s answer comes after the 30 s timeout");
    assert!(run.trace.contains("\\\"state\\\":\\\"cancelled\\\""), "a retry renders the invoice as it is then");
}

#[test]
fn a_week_of_failure_warns_then_disables_and_enable_resumes_parked_deliveries() {
    let script = Script {
        seed: 3,
        policy: snapbill(),
        webhooks: vec![hook("down", &[]), hook("up", &[])],
        timeline: vec![
            (0, client(1)),
            (HOUR_MS, client(2)),
            (9 * DAY_MS, client(3)),
            (9 * DAY_MS + HOUR_MS, Input::Enable(webhook(0))),
        ],
        replies: vec![vec![status(500)], vec![ok(1)]],
        run_for_ms: 10 * DAY_MS,
    };
    let run = assert_same(&script);
    for entry in ["warning_sent", "webhook_disabled", "delivery_refused", "webhook_enabled"] {
        assert!(run.trace.contains(entry), "{entry} in the trace");
    }
}

#[test]
fn crashes_lose_attempts_and_a_restarted_process_carries_on_from_its_state_directory() {
    let script = Script {
        seed: 11,
        policy: quick_policy(),
        webhooks: vec![hook("shop", &[])],
        timeline: vec![
            (0, client(1)),
            (1, client(2)),
            (2, Input::Crash),
            (MINUTE_MS, client(3)),
            (2 * MINUTE_MS, Input::Restart),
            (2 * MINUTE_MS + 1, Input::Restart),
            (3 * MINUTE_MS, Input::Crash),
            (3 * MINUTE_MS, Input::Crash),
            (4 * MINUTE_MS, Input::Restart),
        ],
        replies: vec![vec![Reply { latency_ms: 10, outcome: Some(Outcome::Status { code: 204 }) }]],
        run_for_ms: HOUR_MS,
    };
    let run = assert_same(&script);
    assert!(run.trace.contains("attempt_lost") && run.trace.contains("dispatcher_restarted"));
}

#[test]
fn impossible_inputs_are_refused_alike() {
    let script = Script {
        seed: 1,
        policy: quick_policy(),
        webhooks: vec![hook("shop", &[])],
        timeline: vec![(0, invoice(1, 99)), (1, client(1)), (2, client(1)), (3, Input::Enable(webhook(5)))],
        replies: vec![vec![ok(1)]],
        run_for_ms: MINUTE_MS,
    };
    let run = assert_same(&script);
    assert_eq!(run.log.iter().filter(|l| l.contains("error")).count(), 3, "{:#?}", run.log);
}

fn arb_input(max_id: u64) -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => (1..=max_id).prop_map(client),
        2 => (1..=max_id, 1..=max_id).prop_map(|(i, c)| invoice(i, c)),
        3 => (1..=max_id, 0..4usize).prop_map(|(i, s)| set_state(i, InvoiceState::ALL[s])),
        1 => (1..=max_id).prop_map(|i| rename(i, "renamed")),
        1 => (0..3u32).prop_map(|w| Input::Enable(webhook(w))),
        1 => Just(Input::Crash),
        1 => Just(Input::Restart),
    ]
}

fn arb_reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        3 => (0..40_000u64).prop_map(ok),
        2 => (0..40_000u64, prop::sample::select(vec![500u16, 503, 404, 302])).prop_map(|(l, code)| Reply {
            latency_ms: l,
            outcome: Some(Outcome::Status { code }),
        }),
        1 => Just(silent()),
        1 => (0..5_000u64, prop::sample::select(vec![Outcome::Refused, Outcome::Reset, Outcome::Timeout]))
            .prop_map(|(l, o)| Reply { latency_ms: l, outcome: Some(o) }),
    ]
}

fn arb_script() -> impl Strategy<Value = Script> {
    (
        any::<u64>(),
        prop::collection::vec((0..30 * MINUTE_MS, arb_input(6)), 1..40),
        prop::collection::vec(prop::collection::vec(arb_reply(), 1..8), 3),
    )
        .prop_map(|(seed, mut timeline, replies)| {
            timeline.sort_by_key(|(at, _)| *at);
            Script {
                seed,
                policy: quick_policy(),
                webhooks: vec![hook("a", &[]), hook("b", &["/invoice/*"]), hook("c", &["/client/add"])],
                timeline,
                replies,
                run_for_ms: 2 * HOUR_MS,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_worlds_give_identical_outputs_and_traces(script in arb_script()) {
        let (a, b) = both(&script);
        prop_assert_eq!(a.log, b.log);
        prop_assert_eq!(a.trace, b.trace);
    }
}

#[test]
fn the_comparison_catches_a_dispatcher_that_differs() {
    // Negative control: the same world served with another seed draws other uuids.
    let script = Script {
        seed: 5,
        policy: snapbill(),
        webhooks: vec![hook("shop", &[])],
        timeline: vec![(0, client(1))],
        replies: vec![vec![ok(1)]],
        run_for_ms: MINUTE_MS,
    };
    let mut core = Dispatcher::new(script.policy.clone(), script.webhooks.clone(), script.seed);
    let in_process = drive(&mut core, &script);
    let mut process = reference_process(&Script { seed: 6, ..script.clone() }, 0);
    let other = drive(&mut process, &script);
    assert_ne!(in_process.trace, other.trace);
}
