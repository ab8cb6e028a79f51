//! The example dispatchers (`examples/dispatchers/`, Python, Node, Java) through the whole scenario
//! library with `--dispatcher`: they meet every expectation. Broken copies of the Python example,
//! one defect each, fail exactly the expectations meant to catch that defect and no other (the
//! library's negative controls for a dispatcher). Each test skips, saying so, where the language
//! is not installed.

use hooksim::runner::{Engine, ExternalDispatcher, run_scenario_dispatched};
use hooksim::scenario::{Scenario, discover, load_file};
use hooksim::world::RunLimits;
use std::collections::BTreeSet;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The command for `language`, or `None` (with a printed note) where it is not installed.
fn command(language: &str) -> Option<(String, String)> {
    if language == "java" {
        // Compiled once (support::java): its class path holds no space, so one string splits right.
        let argv = crate::support::java::available("the java example dispatcher")
            .then(|| crate::support::java::command("Dispatcher"))?;
        return Some((argv[0].clone(), argv[1..].join(" ")));
    }
    let (program, file) = match language {
        "python" => ("python3", "examples/dispatchers/python/dispatcher.py"),
        "node" => ("node", "examples/dispatchers/node/dispatcher.js"),
        other => panic!("no example in {other}"),
    };
    let found = std::process::Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        crate::support::skip::skipped(&format!(
            "`{program}` is not installed, so the {language} example dispatcher is not run"
        ));
        return None;
    }
    Some((program.to_string(), format!("{ROOT}/{file}")))
}

/// A dispatcher process renders SnapBill's envelope: the provider scenarios (`provider = ...`,
/// rendered by the reference core only) are not for it (`hooksim run --dispatcher` skips them).
fn snapbill_shaped(s: &Scenario) -> bool {
    s.world.provider == hooksim::provider::Provider::Snapbill
}

fn library() -> Vec<Scenario> {
    discover(&["scenarios"])
        .iter()
        .map(|f| load_file(f).unwrap_or_else(|e| panic!("{e}")))
        .filter(snapbill_shaped)
        .collect()
}

/// Every (scenario, expectation) that failed, or (scenario, "engine error: ...") for a run that
/// stopped.
fn failures(command: &str, engine: Engine) -> BTreeSet<(String, String)> {
    let failed = outcomes(command, engine).0;
    if std::env::var_os("PRINT_FAILURES").is_some() {
        for (scenario, expectation) in &failed {
            println!("        ({scenario:?}, {expectation:?}),");
        }
    }
    failed
}

/// (scenario, what) pairs.
type Pairs = BTreeSet<(String, String)>;

/// The failures as [`failures`] gives them, and every (scenario, broken property) of the runs
/// that finished: the conformance summary's input.
fn outcomes(command: &str, engine: Engine) -> (Pairs, Pairs) {
    let dispatcher = ExternalDispatcher::new(command);
    let (mut failed, mut broken) = (BTreeSet::new(), BTreeSet::new());
    for scenario in library() {
        let run = run_scenario_dispatched(&scenario, engine, None, RunLimits::default(), &dispatcher);
        if let Some(stop) = &run.error {
            failed.insert((scenario.name.clone(), format!("engine error: {}\n{}", stop.message, run.stderr_tail)));
        }
        for f in &run.failures {
            failed.insert((scenario.name.clone(), f.expected.clone()));
        }
        for v in &run.violations {
            broken.insert((scenario.name.clone(), v.to_string()));
        }
    }
    (failed, broken)
}

/// Every expectation met, and every promise of the conformance summary kept.
fn passes(language: &str, engine: Engine) {
    let Some((program, file)) = command(language) else { return };
    let (failed, broken) = outcomes(&format!("{program} {file}"), engine);
    assert!(failed.is_empty(), "the {language} example on {engine}: {failed:#?}");
    assert!(broken.is_empty(), "the {language} example on {engine} breaks a promise: {broken:#?}");
}

#[test]
fn the_python_example_passes_the_library_on_the_model_engine() {
    passes("python", Engine::Model);
}

#[test]
fn the_java_example_passes_the_library_on_the_model_engine() {
    passes("java", Engine::Model);
}

#[test]
fn the_node_example_passes_the_library_on_the_model_engine() {
    passes("node", Engine::Model);
}

#[test]
fn the_python_example_passes_the_library_on_the_network_engine() {
    passes("python", Engine::Net);
}

/// The Python example with `--no-facts` reports only its sends, emails and `done`: the harness
/// records the attempt ends the protocol fixes (an answer in flight, a timeout at a wake, a
/// crash) and the 2xx that delivers, and the properties judge the rest by what it sends. It
/// keeps every promise; the expectations it fails are exactly those that count a decision only
/// a fact says (a disable, a give-up).
#[test]
fn the_python_example_without_facts_keeps_every_promise() {
    let Some((program, file)) = command("python") else { return };
    let (failed, broken) = outcomes(&format!("{program} {file} --no-facts"), Engine::Model);
    assert!(broken.is_empty(), "the fact-less example breaks a promise: {broken:#?}");
    let expected: BTreeSet<(String, String)> = NO_FACTS.iter().map(|(s, e)| (s.to_string(), e.to_string())).collect();
    assert_eq!(failed, expected);
}

/// The expectations that read a decision only its fact reports.
const NO_FACTS: &[(&str, &str)] = &[
    ("disabled-then-reenabled", "exactly 1 disable of shop at or before 8d 01:00:00.000"),
    ("explicit-policy", "exactly 1 disable of shop between 0d 03:00:00.000 and 0d 03:03:00.000"),
    ("gone-disables-standard-webhooks", "exactly 1 disable of shop at or before 0d 00:00:01.000"),
    ("gone-disables-svix", "exactly 1 disable of shop at or before 0d 00:00:01.000"),
    ("picky-receiver-disabled", "exactly 1 disable of shop at or after 8d 01:00:00.000"),
    ("signing-wrong-secret-warned", "exactly 1 abandoned delivery to shop of event 1 \"client\""),
    (
        "stripe-profile-gives-up",
        "exactly 1 abandoned delivery to shop of event 1 \"client\" at or before 3d 00:00:00.000",
    ),
    ("warning-grace-after-outage", "exactly 1 disable of shop between 9d 12:00:00.000 and 9d 13:00:00.000"),
    ("week-of-failure-disables", "exactly 1 disable of shop between 8d 00:00:00.000 and 8d 01:00:00.000"),
];

/// A text replacement in the example's source.
type Edit<'a> = (&'a str, &'a str);

/// A copy of the Python example with `edits` applied: a defective dispatcher.
fn broken_python(name: &str, edits: &[Edit]) -> Option<(String, std::path::PathBuf)> {
    let (program, file) = command("python")?;
    let mut source = std::fs::read_to_string(file).unwrap();
    for (from, to) in edits {
        assert!(source.contains(from), "{from:?} is in the example");
        source = source.replacen(from, to, 1);
    }
    let path = std::env::temp_dir().join(format!("hooksim-library-broken-{name}-{}.py", std::process::id()));
    std::fs::write(&path, source).unwrap();
    Some((format!("{program} {}", path.display()), path))
}

/// What each defect must fail: (scenario, expectation) pairs, exactly.
fn caught(name: &str, edits: &[Edit], expected: &[(&str, &str)]) {
    let Some((command, path)) = broken_python(name, edits) else { return };
    let failed = failures(&command, Engine::Model);
    let _ = std::fs::remove_file(path);
    let expected: BTreeSet<(String, String)> = expected.iter().map(|(s, e)| (s.to_string(), e.to_string())).collect();
    assert_eq!(failed, expected, "the {name} defect");
}

#[test]
fn renders_the_payload_when_the_event_happens() {
    let edits = [
        ("dict(event, at=now)", "dict(event, at=now, entity=message[\"entity\"])"),
        (
            "event[\"kind\"]: self.entities.get((event[\"kind\"], event[\"entity_id\"]))",
            "event[\"kind\"]: event[\"entity\"]",
        ),
    ];
    caught("event-time", &edits, EVENT_TIME);
}

#[test]
fn a_new_uuid_on_every_retry() {
    let edits = [
        (
            "        d[\"attempts\"] += 1\n",
            "        d[\"attempts\"] += 1\n        d[\"uuid\"] = d[\"uuid\"][:-4] + \"%04x\" % d[\"attempts\"]\n",
        ),
        // Consistent with itself: it says each uuid was delivered at its first (and only) attempt.
        (
            "                       \"attempts\": d[\"attempts\"]})\n            was_warned",
            "                       \"attempts\": 1})\n            was_warned",
        ),
        ("\"attempts\": d[\"attempts\"], \"reason\": reason", "\"attempts\": 1, \"reason\": reason"),
    ];
    caught("uuid", &edits, NEW_UUID);
}

#[test]
fn gives_up_after_three_days() {
    let edits = [(
        "        reason = None\n        if p.get(\"attempts_max\")",
        "        reason = \"retry_window_expired\" if at - event_at > 3 * 86400000 else None\n        if p.get(\"attempts_max\")",
    )];
    caught("three-days", &edits, THREE_DAYS);
}

#[test]
fn disables_without_a_warning() {
    caught("no-warning", &[("self.emit({\"type\": \"email\"", "(lambda m: None)({\"type\": \"email\"")], NO_WARNING);
}

#[test]
fn ignores_retry_after() {
    let edits = [("past_max_ms = policy.get(\"retry_after_past_backoff_max_ms\")", "past_max_ms = None")];
    caught("retry-after", &edits, IGNORES_RETRY_AFTER);
}

#[test]
fn keeps_sending_after_the_disable() {
    let edits = [
        (
            "if hook[\"status\"] == \"disabled\":\n                hook[\"parked\"]",
            "if False:\n                hook[\"parked\"]",
        ),
        ("hook[\"status\"] != \"disabled\" and hook[\"ready\"]", "hook[\"ready\"]"),
        (
            "if hook[\"status\"] == \"disabled\":\n                    hook[\"parked\"]",
            "if False:\n                    hook[\"parked\"]",
        ),
    ];
    caught("sends-disabled", &edits, SENDS_DISABLED);
}

#[test]
fn ignores_the_in_flight_limit() {
    let edits = [("and hook[\"in_flight\"] < self.policy[\"in_flight_per_webhook_max\"]):", "):")];
    caught("in-flight", &edits, IGNORES_IN_FLIGHT);
}

#[test]
fn ignores_the_pending_limit() {
    let edits = [("elif hook[\"pending\"] >= self.policy[\"pending_per_webhook_max\"]:", "elif False:")];
    caught("pending", &edits, IGNORES_PENDING);
}

/// Payload at send time: the bodies the payload scenarios read. (The dedup receiver judges by
/// event order too, so a `paid` body rendered at event time and delivered after the `cancelled`
/// one fulfils nothing there: only the bodies show this defect.)
const EVENT_TIME: &[(&str, &str)] = &[
    (
        "delayed-paid-overtaken",
        "exactly 1 attempt to careful of event 3 \"paid\" with a body containing invoice.state = \"paid\"",
    ),
    (
        "naive-fulfils-cancelled-invoice",
        "at least 1 successful delivery to legacy of event 3 \"paid\" with a body containing invoice.state = \"cancelled\"",
    ),
    (
        "out-of-order",
        "exactly 1 successful delivery to shop of event 3 \"paid\" with a body containing invoice.state = \"cancelled\"",
    ),
    (
        "paid-carries-cancelled-invoice",
        "exactly 1 successful delivery to shop of event 3 \"paid\" with a body containing details = \"paid\", invoice.state = \"cancelled\"",
    ),
    (
        "paid-carries-cancelled-invoice",
        "no successful deliveries to shop of event 3 \"paid\" with a body containing invoice.state = \"paid\"",
    ),
    (
        "signed-svix-verified",
        "exactly 1 successful delivery to shop of event 1 \"client\" with a body containing client.name = \"Ada Lovelace\"",
    ),
];
/// `Retry-After` honoured where the profile says: the retries that come too soon.
const IGNORES_RETRY_AFTER: &[(&str, &str)] = &[
    (
        "retry-after-429-svix",
        "exactly 1 successful delivery to shop of event 1 \"client\" between 0d 00:30:00.000 and 0d 00:30:01.000",
    ),
    ("retry-after-429-svix", "no attempts to shop of event 1 \"client\" between 0d 00:00:01.000 and 0d 00:30:00.000"),
    (
        "retry-after-503-date-svix",
        "exactly 1 successful delivery to shop of event 1 \"client\" between 0d 00:01:59.000 and 0d 00:02:01.000",
    ),
    (
        "retry-after-capped-svix",
        "exactly 1 successful delivery to shop of event 1 \"client\" between 0d 02:00:00.000 and 0d 02:01:00.000",
    ),
];
/// One uuid across retries: every deduplicating receiver that sees a retry acts twice.
const NEW_UUID: &[(&str, &str)] = &[
    ("dispatcher-crash", "receiver shop to act exactly 1 time on event 3 \"paid\""),
    ("dispatcher-crash", "receiver shop to skip at least 1 delivery of event 3 \"paid\""),
    ("hold-and-release", "receiver shop to act exactly 1 time on event 3 \"paid\" at or after 0d 00:06:00.000"),
    ("lost-answers-dedup", "receiver shop to act exactly 1 time on event 3 \"paid\""),
    ("lost-answers-dedup", "receiver shop to skip exactly 2 deliveries of event 3 \"paid\""),
    ("lost-answers-one-way-partition", "receiver shop to act exactly 1 time on event 3 \"paid\""),
    ("lost-answers-one-way-partition", "receiver shop to skip at least 3 deliveries of event 3 \"paid\""),
    ("retry-through-timeouts", "receiver shop to act exactly 1 time with \"fulfil invoice 4\""),
    ("retry-through-timeouts", "receiver shop to skip at least 1 delivery of event 3 \"paid\""),
    (
        "slow-network-timeouts",
        "receiver shop to act exactly 1 time on event 3 \"paid\" with \"fulfil invoice 4\" at or before 0d 00:03:00.000",
    ),
    ("slow-network-timeouts", "receiver shop to skip at least 1 delivery of event 3 \"paid\""),
];
/// Retried for a week: no warning, no disable, no late delivery once deliveries are dropped at 3 days.
const THREE_DAYS: &[(&str, &str)] = &[
    ("disabled-then-reenabled", "exactly 1 disable of shop at or before 8d 01:00:00.000"),
    (
        "disabled-then-reenabled",
        "exactly 1 successful delivery to shop of event 2 \"before-disable\" between 8d 04:00:00.000 and 8d 04:00:01.000",
    ),
    ("disabled-then-reenabled", "no attempts to shop between 8d 01:00:00.000 and 8d 03:59:00.000"),
    ("disabled-then-reenabled", "no successful deliveries to shop of event 3 \"while-disabled\""),
    (
        "mail-outage-delays-warning",
        "exactly 1 warning email about shop received by the mail host for ops@shop.example between 7d 12:00:00.000 and 7d 12:02:00.000",
    ),
    (
        "mail-outage-delays-warning",
        "exactly 1 warning email about shop to ops@shop.example between 7d 00:00:00.000 and 7d 01:00:00.000",
    ),
    ("picky-receiver-disabled", "exactly 1 disable of shop at or after 8d 01:00:00.000"),
    (
        "recovers-after-warning",
        "exactly 1 successful delivery to shop of event 2 \"invoice\" between 7d 06:00:00.000 and 7d 06:31:00.000",
    ),
    ("recovers-after-warning", "exactly 1 warning email about shop between 7d 00:00:00.000 and 7d 01:00:00.000"),
    (
        "recovers-before-week",
        "exactly 1 successful delivery to shop of event 2 \"invoice\" between 6d 00:00:00.000 and 6d 00:31:00.000",
    ),
    ("week-of-failure-disables", "exactly 1 disable of shop between 8d 00:00:00.000 and 8d 01:00:00.000"),
    (
        "week-of-failure-disables",
        "exactly 1 warning email about shop to ops@shop.example between 7d 00:00:00.000 and 7d 01:00:00.000",
    ),
];
/// A warning before the disable: every expected warning email (the disables themselves still happen).
const NO_WARNING: &[(&str, &str)] = &[
    (
        "explicit-policy",
        "exactly 1 warning email about shop to dev@shop.example between 0d 01:00:00.000 and 0d 01:03:00.000",
    ),
    (
        "mail-outage-delays-warning",
        "exactly 1 warning email about shop received by the mail host for ops@shop.example between 7d 12:00:00.000 and 7d 12:02:00.000",
    ),
    (
        "mail-outage-delays-warning",
        "exactly 1 warning email about shop to ops@shop.example between 7d 00:00:00.000 and 7d 01:00:00.000",
    ),
    ("picky-receiver-disabled", "exactly 1 warning email about shop"),
    ("recovers-after-warning", "exactly 1 warning email about shop between 7d 00:00:00.000 and 7d 01:00:00.000"),
    ("signing-wrong-secret-warned", "exactly 1 warning email about shop at or after 0d 00:35:00.000"),
    ("stripe-profile-gives-up", "exactly 1 warning email about shop at or after 2d 00:00:00.000"),
    (
        "warning-grace-after-outage",
        "exactly 1 warning email about shop received by the mail host for ops@shop.example between 8d 12:00:00.000 and 8d 12:01:00.000",
    ),
    (
        "warning-grace-after-outage",
        "exactly 1 warning email about shop to ops@shop.example between 8d 12:00:00.000 and 8d 12:01:00.000",
    ),
    (
        "week-of-failure-disables",
        "exactly 1 warning email about shop to ops@shop.example between 7d 00:00:00.000 and 7d 01:00:00.000",
    ),
];
/// Nothing sent while disabled: the scenario that retries into a disabled webhook.
const SENDS_DISABLED: &[(&str, &str)] = &[("warning-grace-after-outage", "no attempt to shop while it is disabled")];
/// At most `in_flight_per_webhook_max` attempts in flight: the events that went out at once.
const IGNORES_IN_FLIGHT: &[(&str, &str)] = &[
    ("in-flight-limit", "exactly 1 attempt to shop at or before 0d 00:00:19.000"),
    ("in-flight-limit", "no attempts to shop of event 2 \"invoice\" at or before 0d 00:00:19.000"),
    ("in-flight-limit", "exactly 1 successful delivery to shop of event 2 \"invoice\" at or after 0d 00:00:20.000"),
    (
        "in-flight-limit",
        "first deliveries to shop in the order event 1 \"client\", then event 2 \"invoice\", then event 3 \"paid\"",
    ),
];
/// Past `pending_per_webhook_max` a new event is refused: the event that went out anyway.
const IGNORES_PENDING: &[(&str, &str)] = &[
    ("pending-limit-refuses", "no attempts to shop of event 3 \"paid\""),
    ("pending-limit-refuses", "no successful deliveries to shop of event 3 \"paid\""),
];
