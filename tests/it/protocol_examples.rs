//! The example dispatchers (`examples/dispatchers/`, Python, Node and Java) run under the harness
//! through `ProcessDispatcher` and keep SnapBill's key promises: retries until a 2xx with one
//! uuid, payloads at send time, a uuid per webhook, a warning then a disable, nothing sent while
//! disabled, parked deliveries resumed, a restart carried on from the state directory. Each test
//! skips, saying so, where the language (or, for Java, the Gson jar) is not installed.

use crate::support::protocol::*;
use hooksim::core::Input;
use hooksim::domain::InvoiceState;
use hooksim::time::{DAY_MS, HOUR_MS, MINUTE_MS};
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The command for `language`, or `None` (with a printed note) where it is not installed.
fn command(language: &str) -> Option<Vec<String>> {
    if language == "java" {
        // Compiled once (support::java): the source launcher would compile in every process.
        return crate::support::java::available("the java example dispatcher")
            .then(|| crate::support::java::command("Dispatcher"));
    }
    let (program, file) = match language {
        "python" => ("python3", "examples/dispatchers/python/dispatcher.py"),
        "node" => ("node", "examples/dispatchers/node/dispatcher.js"),
        other => panic!("no example in {other}"),
    };
    let found = std::process::Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        crate::support::skip::skipped(&format!(
            "`{program}` is not installed, so the {language} example dispatcher is not tested"
        ));
        return None;
    }
    Some(vec![program.into(), format!("{ROOT}/{file}")])
}

fn entries(run: &Run) -> Vec<Value> {
    assert!(!run.log.iter().any(|l| l.contains("failed") || l.contains("error")), "{:#?}", run.log);
    run.trace.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn of_type<'a>(trace: &'a [Value], kind: &str) -> Vec<&'a Value> {
    trace.iter().filter(|e| e["type"] == kind).collect()
}

fn body(attempt: &Value) -> Value {
    serde_json::from_str(attempt["body"].as_str().unwrap()).unwrap()
}

fn run_example(command: &[String], script: &Script) -> Option<Vec<Value>> {
    let mut d = process(command.to_vec(), script);
    let run = drive(&mut d, script);
    Some(entries(&run))
}

fn retries_until_2xx_with_one_uuid_and_the_payload_at_send_time(command: &[String]) {
    let script = Script {
        seed: 4,
        policy: snapbill(),
        webhooks: vec![hook("shop", &[]), hook("books", &["/invoice/*"])],
        timeline: vec![
            (0, client(1)),
            (1, invoice(4, 1)),
            (2_000, set_state(4, InvoiceState::Paid)),
            (20_000, set_state(4, InvoiceState::Cancelled)),
        ],
        // Webhook 0 sees events 1, 2, 3, (4: the cancel, at 20 s, between the retries of 3).
        replies: vec![
            vec![ok(1), ok(1), status(500), silent(), ok(1), status(503), ok(5)],
            vec![ok(1), status(500), ok(2)],
        ],
        run_for_ms: HOUR_MS,
    };
    let Some(trace) = run_example(command, &script) else { return };
    let started = of_type(&trace, "attempt_started");
    let paid: Vec<_> = started.iter().filter(|a| a["event"] == 3 && a["webhook"] == 0).collect();
    assert_eq!(paid.len(), 4, "500, timeout, 503, then 200: {paid:#?}");
    let uuid = &paid[0]["delivery"];
    for a in &paid {
        assert_eq!(&a["delivery"], uuid, "one uuid across retries");
        assert_eq!(&body(a)["uuid"], uuid, "the envelope carries the delivery uuid");
        assert_eq!(body(a)["body"]["id"], 3, "body.id is the event id");
    }
    assert_eq!(body(paid[0])["body"]["invoice"]["state"], "paid", "the first attempt, before the cancel");
    assert_eq!(body(paid[3])["body"]["invoice"]["state"], "cancelled", "a retry renders the invoice as it is then");
    assert!(
        of_type(&trace, "delivered").iter().any(|d| &d["delivery"] == uuid && d["attempts"] == 4),
        "delivered after the 2xx"
    );
    let other = started.iter().find(|a| a["event"] == 3 && a["webhook"] == 1).expect("the other webhook's delivery");
    assert_ne!(&other["delivery"], uuid, "a different uuid for another webhook");
    assert_eq!(body(other)["body"]["id"], 3);
}

fn warns_after_a_week_then_disables_then_resumes_parked_deliveries(command: &[String]) {
    let script = Script {
        seed: 5,
        policy: snapbill(),
        webhooks: vec![hook("down", &[])],
        timeline: vec![
            (0, client(1)),
            (HOUR_MS, client(2)),
            (9 * DAY_MS, client(3)),
            (10 * DAY_MS, Input::Enable(webhook(0))),
        ],
        replies: vec![vec![status(500)]],
        run_for_ms: 10 * DAY_MS + HOUR_MS,
    };
    let Some(trace) = run_example(command, &script) else { return };
    let warned = of_type(&trace, "warning_sent");
    assert_eq!(warned.len(), 1, "one warning per streak");
    let warned_at = warned[0]["at"].as_u64().unwrap();
    assert!(warned_at >= 7 * DAY_MS, "a week of failure first");
    let disabled = of_type(&trace, "webhook_disabled");
    assert_eq!(disabled.len(), 1);
    let disabled_at = disabled[0]["at"].as_u64().unwrap();
    assert!(disabled_at >= 8 * DAY_MS && disabled_at - warned_at >= DAY_MS, "the grace after the warning");
    let enabled_at = 10 * DAY_MS;
    let started = of_type(&trace, "attempt_started");
    let at = |a: &&Value| a["at"].as_u64().unwrap();
    assert!(!started.iter().any(|a| at(a) > disabled_at && at(a) < enabled_at), "nothing sent while disabled");
    assert!(of_type(&trace, "delivery_refused").iter().any(|r| r["event"] == 3), "an event while disabled is refused");
    let resumed: Vec<_> = started.iter().filter(|a| at(a) == enabled_at).collect();
    assert_eq!(resumed.len(), 2, "both parked deliveries resume on enable");
    let first_uuid = started.iter().find(|a| a["event"] == 1).unwrap()["delivery"].clone();
    assert!(resumed.iter().any(|a| a["delivery"] == first_uuid), "with their uuids");
}

fn a_restart_carries_on_from_the_state_directory(command: &[String]) {
    let script = Script {
        seed: 6,
        policy: quick_policy(),
        webhooks: vec![hook("shop", &[])],
        timeline: vec![(0, client(1)), (1, Input::Crash), (MINUTE_MS, client(2)), (2 * MINUTE_MS, Input::Restart)],
        replies: vec![vec![ok(10)]],
        run_for_ms: HOUR_MS,
    };
    let Some(trace) = run_example(command, &script) else { return };
    let lost = of_type(&trace, "attempt_lost");
    assert_eq!(lost.len(), 1);
    assert_eq!(of_type(&trace, "dispatcher_restarted").len(), 1);
    let delivered = of_type(&trace, "delivered");
    assert_eq!(delivered.len(), 2, "both events delivered after the restart: {trace:#?}");
    assert!(delivered.iter().any(|d| d["delivery"] == lost[0]["delivery"] && d["attempts"] == 2), "the lost one again");
}

fn the_same_seed_gives_the_same_trace(command: &[String]) {
    let script = Script {
        seed: 8,
        policy: quick_policy(),
        webhooks: vec![hook("a", &[]), hook("b", &["/client/*"])],
        timeline: (1..=6).map(|i| (i * MINUTE_MS, client(i))).collect(),
        replies: vec![vec![silent(), status(503), ok(2)], vec![ok(1)]],
        run_for_ms: 2 * HOUR_MS,
    };
    // The two runs at once, on two threads: each is its own process with its own state directory.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run_example(command, &script));
        let b = run_example(command, &script);
        (a.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), b)
    });
    let (Some(a), Some(b)) = (a, b) else { return };
    assert_eq!(a, b);
}

#[test]
fn python_retries_until_2xx_with_one_uuid_and_the_payload_at_send_time() {
    if let Some(c) = command("python") {
        retries_until_2xx_with_one_uuid_and_the_payload_at_send_time(&c);
    }
}

#[test]
fn python_warns_after_a_week_then_disables_then_resumes_parked_deliveries() {
    if let Some(c) = command("python") {
        warns_after_a_week_then_disables_then_resumes_parked_deliveries(&c);
    }
}

#[test]
fn python_restart_carries_on_from_the_state_directory() {
    if let Some(c) = command("python") {
        a_restart_carries_on_from_the_state_directory(&c);
    }
}

#[test]
fn python_same_seed_same_trace() {
    if let Some(c) = command("python") {
        the_same_seed_gives_the_same_trace(&c);
    }
}

#[test]
fn node_retries_until_2xx_with_one_uuid_and_the_payload_at_send_time() {
    if let Some(c) = command("node") {
        retries_until_2xx_with_one_uuid_and_the_payload_at_send_time(&c);
    }
}

#[test]
fn node_warns_after_a_week_then_disables_then_resumes_parked_deliveries() {
    if let Some(c) = command("node") {
        warns_after_a_week_then_disables_then_resumes_parked_deliveries(&c);
    }
}

#[test]
fn node_restart_carries_on_from_the_state_directory() {
    if let Some(c) = command("node") {
        a_restart_carries_on_from_the_state_directory(&c);
    }
}

#[test]
fn node_same_seed_same_trace() {
    if let Some(c) = command("node") {
        the_same_seed_gives_the_same_trace(&c);
    }
}

#[test]
fn java_retries_until_2xx_with_one_uuid_and_the_payload_at_send_time() {
    if let Some(c) = command("java") {
        retries_until_2xx_with_one_uuid_and_the_payload_at_send_time(&c);
    }
}

#[test]
fn java_warns_after_a_week_then_disables_then_resumes_parked_deliveries() {
    if let Some(c) = command("java") {
        warns_after_a_week_then_disables_then_resumes_parked_deliveries(&c);
    }
}

#[test]
fn java_restart_carries_on_from_the_state_directory() {
    if let Some(c) = command("java") {
        a_restart_carries_on_from_the_state_directory(&c);
    }
}

#[test]
fn java_same_seed_same_trace() {
    if let Some(c) = command("java") {
        the_same_seed_gives_the_same_trace(&c);
    }
}

/// A text replacement in the example's source.
type Edit<'a> = (&'a str, &'a str);
/// One of the behaviour checks above.
type Check = fn(&[String]);

/// A copy of the Python example with `edits` applied: a defective dispatcher.
fn broken_python(name: &str, edits: &[Edit]) -> Option<Vec<String>> {
    let mut c = command("python")?;
    let mut source = std::fs::read_to_string(&c[1]).unwrap();
    for (from, to) in edits {
        assert!(source.contains(from), "{from:?} is in the example");
        source = source.replace(from, to);
    }
    let path = std::env::temp_dir().join(format!("hooksim-broken-{name}-{}.py", std::process::id()));
    std::fs::write(&path, source).unwrap();
    c[1] = path.to_string_lossy().into_owned();
    Some(c)
}

fn caught(check: Check, command: &[String]) -> bool {
    let command = command.to_vec();
    std::panic::catch_unwind(move || check(&command)).is_err()
}

/// Negative controls: each defect fails the check meant for it (a new uuid per retry is caught
/// even earlier, by the harness: its `delivered` counts attempts of a uuid that has fewer). One
/// test per defect, so the four run at once.
fn the_check_catches(name: &str, edits: &[Edit], check: Check) {
    let Some(c) = broken_python(name, edits) else { return };
    assert!(caught(check, &c), "the {name} defect is caught");
    let _ = std::fs::remove_file(&c[1]);
}

#[test]
fn the_checks_catch_a_new_uuid_per_retry() {
    let edits =
        [("        d[\"attempts\"] += 1\n", "        d[\"attempts\"] += 1\n        d[\"uuid\"] = str(uuid.uuid4())\n")];
    the_check_catches("uuid", &edits, retries_until_2xx_with_one_uuid_and_the_payload_at_send_time);
}

#[test]
fn the_checks_catch_the_payload_at_event_time() {
    let edits = [
        ("dict(event, at=now)", "dict(event, at=now, entity=message[\"entity\"])"),
        (
            "event[\"kind\"]: self.entities.get((event[\"kind\"], event[\"entity_id\"]))",
            "event[\"kind\"]: event[\"entity\"]",
        ),
    ];
    the_check_catches("event-time", &edits, retries_until_2xx_with_one_uuid_and_the_payload_at_send_time);
}

#[test]
fn the_checks_catch_no_warning() {
    let edits = [("self.emit({\"type\": \"email\"", "(lambda m: None)({\"type\": \"email\"")];
    the_check_catches("no-warning", &edits, warns_after_a_week_then_disables_then_resumes_parked_deliveries);
}

#[test]
fn the_checks_catch_sends_while_disabled() {
    let edits = [
        ("if hook[\"status\"] == \"disabled\":", "if False:"),
        ("hook[\"status\"] != \"disabled\" and hook[\"ready\"]", "hook[\"ready\"]"),
    ];
    the_check_catches("sends-disabled", &edits, warns_after_a_week_then_disables_then_resumes_parked_deliveries);
}
