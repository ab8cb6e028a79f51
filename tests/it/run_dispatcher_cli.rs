//! `hooksim run --dispatcher "CMD"`: every scenario runs with that process in place of the
//! reference core; a process that breaks the protocol fails its run (exit 1, the trace so far,
//! its stderr), never panics; the reproduce line names the command.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_hooksim");

fn served() -> String {
    format!("{BIN} dispatcher --stdio")
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hooksim-run-dispatcher-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_reference_core_over_the_protocol_passes_on_both_engines() {
    let json = temp("ok").join("report.json");
    let out = Command::new(BIN)
        .args(["run", "scenarios/retry-through-5xx.toml", "scenarios/dispatcher-crash.toml", "--engine", "both"])
        .args(["--dispatcher", &served(), "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("4 passed, 0 failed"), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for run in report["scenarios"].as_array().unwrap() {
        assert_eq!(run["dispatcher"]["command"], served().as_str(), "{run}");
    }
}

#[test]
fn a_protocol_error_fails_the_run_with_the_trace_so_far_and_the_stderr() {
    let script = temp("bad").join("bad.sh");
    // Answers hello, then says something that is not a protocol message to the first change
    // (its stderr line written a moment before, so the harness has read it when it quotes it).
    std::fs::write(
        &script,
        "read hello\necho '{\"type\":\"hello\",\"version\":1}'\nread change\necho 'about to misbehave' >&2\nsleep 0.5\necho 'not json'\nsleep 1\n",
    )
    .unwrap();
    let command = format!("sh {}", script.display());
    let out = Command::new(BIN)
        .args(["run", "scenarios/retry-through-5xx.toml", "--engine", "model", "--dispatcher", &command])
        .args(["--reply-timeout-ms", "5000"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stdout.contains("the engine stopped at"), "{stdout}");
    assert!(stdout.contains("dispatcher line 2: not a protocol message"), "{stdout}");
    assert!(stdout.contains("about to misbehave"), "the stderr tail is quoted: {stdout}");
    assert!(stdout.contains("the trace so far: 1 entries"), "the change was recorded: {stdout}");
    let reproduce = format!("--dispatcher {command:?} --reply-timeout-ms 5000");
    assert!(stdout.contains(&reproduce), "{stdout}");
}

#[test]
fn a_dispatcher_that_cannot_start_fails_every_run() {
    let out = Command::new(BIN)
        .args(["run", "scenarios/retry-through-5xx.toml", "--engine", "both", "--dispatcher", "/no/such/program"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("0 passed, 2 failed"), "{stdout}");
    assert!(stdout.contains("could not start the dispatcher `/no/such/program`"), "{stdout}");
}

/// The library on the model engine through `command`: stdout, the JSON report, the JUnit XML.
fn conformance(command: &str, name: &str) -> (String, serde_json::Value, String) {
    let (stdout, report, junit, _) = conformance_of(&["scenarios"], command, name);
    (stdout, report, junit)
}

/// [`conformance`] of the scenarios under `paths`, and the exit status.
fn conformance_of(paths: &[&str], command: &str, name: &str) -> (String, serde_json::Value, String, Option<i32>) {
    let dir = temp(name);
    let (json, junit) = (dir.join("report.json"), dir.join("report.xml"));
    let out = Command::new(BIN)
        .arg("run")
        .args(paths)
        .args(["--engine", "model", "--dispatcher", command, "--json"])
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let junit = std::fs::read_to_string(&junit).unwrap();
    (String::from_utf8_lossy(&out.stdout).into_owned(), report, junit, out.status.code())
}

/// The promises of the summary, one JUnit case and one JSON row each.
const PROMISES: usize = 10;

/// The JUnit suite `conformance`: one case per promise, a failure for each broken one.
fn junit_failures(junit: &str) -> Vec<String> {
    let suite = junit.split("<testsuite name=\"conformance\"").nth(1).expect("a conformance suite");
    assert_eq!(suite.matches("<testcase ").count(), PROMISES, "{junit}");
    suite
        .split("<testcase ")
        .filter(|case| case.contains("<failure"))
        .map(|case| case.split('"').nth(1).unwrap().to_string())
        .collect()
}

fn python_with(edits: &[(&str, &str)], name: &str) -> Option<String> {
    if !Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success()) {
        crate::support::skip::skipped("`python3` is not installed, so the broken example dispatcher is not run");
        return None;
    }
    let mut source = std::fs::read_to_string("examples/dispatchers/python/dispatcher.py").unwrap();
    for (from, to) in edits {
        assert!(source.contains(from), "{from:?} is in the example");
        source = source.replacen(from, to, 1);
    }
    let script = temp(name).join("dispatcher.py");
    std::fs::write(&script, source).unwrap();
    Some(format!("python3 {}", script.display()))
}

fn broken(report: &serde_json::Value) -> Vec<String> {
    let rows = report["conformance"].as_array().expect("a conformance section");
    assert_eq!(rows.len(), PROMISES, "{report}");
    rows.iter().filter(|r| r["kept"] == false).map(|r| r["promise"].as_str().unwrap().to_string()).collect()
}

#[test]
fn the_conformance_summary_of_the_reference_core_keeps_every_promise() {
    let (stdout, report, junit) = conformance(&served(), "kept");
    assert!(stdout.contains("conformance of `"), "{stdout}");
    assert!(!stdout.contains("BROKEN"), "{stdout}");
    assert!(broken(&report).is_empty(), "{report}");
    assert!(junit_failures(&junit).is_empty(), "{junit}");
}

/// The negative control: a dispatcher that renders the payload when the event happens breaks
/// that promise, and only that one.
#[test]
fn the_conformance_summary_names_the_broken_promise() {
    let edits = [
        ("dict(event, at=now)", "dict(event, at=now, entity=message[\"entity\"])"),
        (
            "event[\"kind\"]: self.entities.get((event[\"kind\"], event[\"entity_id\"]))",
            "event[\"kind\"]: event[\"entity\"]",
        ),
    ];
    let Some(command) = python_with(&edits, "event-time") else { return };
    let (stdout, report, junit) = conformance(&command, "broken");
    assert_eq!(broken(&report), ["payload at send time"], "{stdout}");
    assert!(stdout.contains("BROKEN      payload at send time"), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.contains("BROKEN      payload at send time") && l.contains(" judged runs  first: ")),
        "{stdout}"
    );
    assert_eq!(junit_failures(&junit), ["payload at send time"], "{junit}");
}

/// A dispatcher that forgets what it parked when a webhook is enabled again breaks the promise
/// that parked deliveries resume, and only that one.
#[test]
fn a_dispatcher_that_drops_parked_deliveries_breaks_that_promise() {
    let edits = [("hook[\"ready\"].extend(hook[\"parked\"])", "pass")];
    let Some(command) = python_with(&edits, "drops-parked") else { return };
    let (stdout, report, junit) = conformance(&command, "drops-parked");
    let promise = "parked deliveries resume when the webhook is enabled again";
    assert_eq!(broken(&report), [promise], "{stdout}");
    assert_eq!(junit_failures(&junit), [promise], "{junit}");
}

/// The negative control of the summary itself: a dispatcher whose every run stops on a protocol
/// error (a send with `timeout_ms` 0) has nothing judged. No promise reads as kept: each is
/// NOT JUDGED, `kept: false` with no run judged in the JSON, skipped in JUnit, and the exit is 1.
#[test]
fn a_summary_with_nothing_judged_keeps_no_promise_and_fails() {
    let edits = [("\"timeout_ms\": timeout_ms})", "\"timeout_ms\": 0})")];
    let Some(command) = python_with(&edits, "nothing-judged") else { return };
    let paths = ["scenarios/retry-through-5xx.toml", "scenarios/week-of-failure-disables.toml"];
    let (stdout, report, junit, code) = conformance_of(&paths, &command, "nothing-judged");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(!stdout.contains("KEPT"), "{stdout}");
    assert_eq!(stdout.matches("NOT JUDGED").count(), PROMISES, "{stdout}");
    assert!(stdout.contains("nothing was judged"), "{stdout}");
    let rows = report["conformance"].as_array().expect("a conformance section");
    assert_eq!(rows.len(), PROMISES, "{report}");
    for row in rows {
        assert_eq!(row["kept"], false, "{row}");
        assert_eq!(row["verdict"], "not_judged", "{row}");
        assert_eq!(row["runs_judged"], 0, "{row}");
    }
    let suite = junit.split("<testsuite name=\"conformance\"").nth(1).expect("a conformance suite");
    assert_eq!(suite.matches("<skipped").count(), PROMISES, "{junit}");
    assert!(!suite.contains("<failure"), "{junit}");
}

/// The counts say what they count: runs broken of runs judged, never kept of judged.
#[test]
fn a_broken_promise_counts_the_runs_that_broke_it_and_fails_the_run() {
    let edits = [("hook[\"ready\"].extend(hook[\"parked\"])", "pass")];
    let Some(command) = python_with(&edits, "counts") else { return };
    let paths = ["scenarios/disabled-then-reenabled.toml", "scenarios/retry-through-5xx.toml"];
    let (stdout, report, _, code) = conformance_of(&paths, &command, "counts");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("in 1 of 2 judged runs"), "{stdout}");
    assert!(stdout.contains("in all 2 judged runs"), "{stdout}");
    let rows = report["conformance"].as_array().unwrap();
    let row = rows.iter().find(|r| r["verdict"] == "broken").expect("a broken promise");
    let counts = (row["runs_judged"].as_u64(), row["runs_broken"].as_u64(), row["runs_kept"].as_u64());
    assert_eq!(counts, (Some(2), Some(1), Some(1)), "{row}");
}

/// Over-delivery is filed under the promise it breaks: a dispatcher that sends a delivery once
/// more after its 2xx breaks "at most once after success", and "at least once" stays kept.
#[test]
fn an_attempt_after_the_delivery_ended_is_filed_under_at_most_once() {
    let edits = [(
        "            was_warned = hook[\"status\"] == \"warned\"\n",
        "            if not d.get(\"again\"):\n                d[\"again\"] = True\n                hook[\"ready\"].append(index)\n            was_warned = hook[\"status\"] == \"warned\"\n",
    )];
    let Some(command) = python_with(&edits, "again") else { return };
    let paths = ["scenarios/retry-through-5xx.toml"];
    let (stdout, report, junit, code) = conformance_of(&paths, &command, "again");
    assert_eq!(code, Some(1), "{stdout}");
    let promise = "at most once after success (no attempt after its delivery ended)";
    assert_eq!(broken(&report), [promise], "{stdout}");
    assert_eq!(junit_failures(&junit), [promise], "{junit}");
    assert!(stdout.contains("attempt-after-delivery-ended"), "{stdout}");
}

/// A Python dispatcher that mints a new uuid for every retry (the negative control of the identity
/// promise). Consistent with itself, it says each uuid was delivered at its first attempt: the
/// identity promise is broken, and only it (the event was delivered at least once, under
/// another uuid). Reporting the true count instead is a protocol error that says which uuid
/// replaced which.
const NEW_UUID_ON_RETRY: (&str, &str) = (
    "        d[\"attempts\"] += 1\n",
    "        d[\"attempts\"] += 1\n        d[\"uuid\"] = d[\"uuid\"][:-4] + \"%04x\" % d[\"attempts\"]\n",
);

#[test]
fn a_uuid_that_changes_on_every_retry_breaks_the_identity_promise_only() {
    let edits = [
        NEW_UUID_ON_RETRY,
        (
            "                       \"attempts\": d[\"attempts\"]})\n            was_warned",
            "                       \"attempts\": 1})\n            was_warned",
        ),
        ("\"attempts\": d[\"attempts\"], \"reason\": reason", "\"attempts\": 1, \"reason\": reason"),
    ];
    let Some(command) = python_with(&edits, "new-uuid") else { return };
    let paths = ["scenarios/retry-through-5xx.toml", "scenarios/lost-answers-dedup.toml"];
    let (stdout, report, junit, code) = conformance_of(&paths, &command, "new-uuid");
    assert_eq!(code, Some(1), "{stdout}");
    let promise = "one uuid per delivery across retries, a different one per webhook";
    assert_eq!(broken(&report), [promise], "{stdout}");
    assert_eq!(junit_failures(&junit), [promise], "{junit}");
    assert!(stdout.contains("uuid-changed-on-retry"), "{stdout}");
}

#[test]
fn the_protocol_error_of_a_changed_uuid_says_which_replaced_which() {
    let Some(command) = python_with(&[NEW_UUID_ON_RETRY], "new-uuid-counted") else { return };
    let out = Command::new(BIN)
        .args(["run", "scenarios/retry-through-5xx.toml", "--engine", "model", "--dispatcher", &command])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("had 1 attempts, not 4; the uuid changed on a retry:"), "{stdout}");
    assert!(stdout.contains(" replaced "), "{stdout}");
    assert!(stdout.contains("(1 sent) -> "), "{stdout}");
}

/// A Python dispatcher that warns but never disables keeps retrying a webhook failing past the
/// thresholds: it breaks the promise that such a webhook is disabled, and only that one.
#[test]
fn a_dispatcher_that_never_disables_breaks_that_promise() {
    let edits = [("if failing_ms >= disable_ms and now - hook[\"warned_at\"] >= grace_ms:", "if False:")];
    let Some(command) = python_with(&edits, "never-disables") else { return };
    let paths = ["scenarios/week-of-failure-disables.toml", "scenarios/retry-through-5xx.toml"];
    let (stdout, report, junit, code) = conformance_of(&paths, &command, "never-disables");
    assert_eq!(code, Some(1), "{stdout}");
    let promise = "a webhook failing past the thresholds is warned, then disabled";
    assert_eq!(broken(&report), [promise], "{stdout}");
    assert_eq!(junit_failures(&junit), [promise], "{junit}");
    assert!(stdout.contains("not-disabled-past-threshold"), "{stdout}");
}

/// Python dispatchers that ignore the in-flight limit, or the pending limit, break the limits
/// promise, and only it.
#[test]
fn a_dispatcher_that_ignores_a_limit_breaks_the_limits_promise() {
    let paths = ["scenarios/in-flight-limit.toml", "scenarios/pending-limit-refuses.toml"];
    let in_flight = ("and hook[\"in_flight\"] < self.policy[\"in_flight_per_webhook_max\"]):", "):");
    let pending = ("elif hook[\"pending\"] >= self.policy[\"pending_per_webhook_max\"]:", "elif False:");
    for (edit, name, signature) in
        [(in_flight, "in-flight", "in-flight-past-limit"), (pending, "pending", "queued-past-limit")]
    {
        let Some(command) = python_with(&[edit], name) else { return };
        let (stdout, report, junit, code) = conformance_of(&paths, &command, name);
        assert_eq!(code, Some(1), "{stdout}");
        let promise = "limits kept (in flight and pending per webhook)";
        assert_eq!(broken(&report), [promise], "{stdout}");
        assert_eq!(junit_failures(&junit), [promise], "{junit}");
        assert!(stdout.contains(signature), "{stdout}");
    }
}

/// Without facts, a dispatcher is judged by what it sends: the fact-less Python example keeps
/// every promise on the retry and disable scenarios, and a fact-less copy that never retries a
/// failed attempt breaks at least once (nothing it reported, nor the policy, explains the
/// silence).
#[test]
fn a_dispatcher_without_facts_is_judged_by_what_it_sends() {
    let paths = ["scenarios/retry-through-5xx.toml", "scenarios/week-of-failure-disables.toml"];
    let Some(correct) = python_with(&[], "no-facts") else { return };
    let (stdout, report, _, code) = conformance_of(&paths, &format!("{correct} --no-facts"), "no-facts");
    assert!(broken(&report).is_empty(), "{stdout}");
    assert_eq!(code, Some(1), "the disable expectation reads the fact: {stdout}");
    let never_retries = ("self.schedule_retry(now, index, retry_after_ms if asked else None)", "pass");
    let Some(broken_copy) = python_with(&[never_retries], "no-facts-no-retry") else { return };
    let (stdout, report, junit, _) = conformance_of(&paths, &format!("{broken_copy} --no-facts"), "no-facts-no-retry");
    let promise = "at least once (every event delivered, parked, refused or abandoned by the policy)";
    assert_eq!(broken(&report), [promise], "{stdout}");
    assert_eq!(junit_failures(&junit), [promise], "{junit}");
    assert!(stdout.contains("delivery-lost"), "{stdout}");
}

#[test]
fn a_provider_file_is_skipped_for_a_process_and_counted_apart_never_as_a_pass() {
    let provider_file = "scenarios/providers/stripe-paid-snapshot-after-cancel.toml";
    let out = Command::new(BIN).args(["run", provider_file, "--dispatcher", &served()]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("SKIP  stripe-paid-snapshot-after-cancel: provider = \"stripe\""), "{stdout}");
    assert!(stdout.contains("0 passed, 0 failed, 1 skipped (SKIP lines above)"), "{stdout}");
    // Nothing was judged: not a success.
    assert_eq!(out.status.code(), Some(1), "{stdout}");

    let dir = temp("skipped");
    let (json, junit) = (dir.join("report.json"), dir.join("report.xml"));
    let mixed = Command::new(BIN)
        .args(["run", provider_file, "scenarios/retry-through-5xx.toml", "--dispatcher", &served(), "--json"])
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&mixed.stdout);
    assert!(stdout.contains("1 passed, 0 failed, 1 skipped"), "{stdout}");
    assert_eq!(mixed.status.code(), Some(0), "{stdout}");
    // The reports list it too, so a CI system shows what was not run.
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!((report["passed"].as_u64(), report["failed"].as_u64()), (Some(1), Some(0)), "{report}");
    assert_eq!(report["skipped"][0]["name"], "stripe-paid-snapshot-after-cancel", "{report}");
    assert_eq!(report["skipped"][0]["file"], provider_file, "{report}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testcase name=\"stripe-paid-snapshot-after-cancel\""), "{xml}");
    assert!(xml.contains("<skipped message=\"provider = &quot;stripe&quot; is rendered"), "{xml}");
}
