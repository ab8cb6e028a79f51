//! The answers `docs/protocol.md` gives to the questions a newcomer asks (*Timing and edge
//! cases*), pinned against the reference dispatcher and the example dispatchers (Python, Node,
//! Java): each test types protocol lines at `hooksim dispatcher --stdio` (and at
//! `examples/dispatchers/`), as a newcomer would, and reads what it answers. If the reference
//! changes one of these answers, the specification must change with it; an example that answers
//! otherwise is wrong. An example whose language is not installed is skipped, saying so.

use crate::support;

use hooksim::core::{Dispatch, Dispatcher, Input, Output};
use hooksim::policy::Profile;
use hooksim::time::SimTime;
use hooksim::trace::{Outcome, Trace};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;
use support::scratch::{Scratch, scratch};

/// A hang guard for one line of the reference, never a timed assertion.
const LINE_WALL_MAX: Duration = Duration::from_secs(30);

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A dispatcher to type at: a name for messages and its command line.
struct Cmd {
    name: &'static str,
    argv: Vec<String>,
}

/// The reference, then each example whose language is installed.
fn dispatchers() -> Vec<Cmd> {
    let mut all = vec![Cmd {
        name: "reference",
        argv: vec![env!("CARGO_BIN_EXE_hooksim").into(), "dispatcher".into(), "--stdio".into()],
    }];
    for (name, program, file) in [
        ("python", "python3", "examples/dispatchers/python/dispatcher.py"),
        ("node", "node", "examples/dispatchers/node/dispatcher.js"),
    ] {
        if Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success()) {
            all.push(Cmd { name, argv: vec![program.into(), format!("{ROOT}/{file}")] });
        } else {
            crate::support::skip::skipped(&format!(
                "`{program}` is not installed, so the {name} example dispatcher is not checked"
            ));
        }
    }
    if crate::support::java::available("the java example dispatcher's protocol") {
        all.push(Cmd { name: "java", argv: crate::support::java::command("Dispatcher") });
    }
    all
}

/// Runs `check` against every dispatcher, each in its own state directory.
fn for_each_dispatcher(test: &str, check: impl Fn(&Cmd, &Scratch)) {
    for cmd in dispatchers() {
        let dir = scratch("protocol-spec", &format!("{test}-{}", cmd.name));
        println!("checking the {} dispatcher", cmd.name); // shown when the check fails
        check(&cmd, &dir);
    }
}

/// One `hooksim dispatcher --stdio` process, driven line by line.
struct Session {
    name: &'static str,
    argv: Vec<String>,
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    hello: Value,
    next_event: u64,
    /// The `wake_at` of the last `done`.
    wake_at: Option<u64>,
}

impl Session {
    fn start(cmd: &Cmd, policy: Value, webhooks: usize, dir: &Scratch) -> Session {
        let webhooks: Vec<Value> = (0..webhooks)
            .map(|w| json!({"url": format!("http://h{w}/webhook"), "paths": [], "owner_email": format!("ops@h{w}")}))
            .collect();
        let hello = json!({"type": "hello", "version": 1, "seed": 7, "policy": policy, "webhooks": webhooks,
                           "state_dir": dir.to_path_buf(), "resumed": false});
        Session::spawn(cmd.name, cmd.argv.clone(), hello, 0)
    }

    fn spawn(name: &'static str, argv: Vec<String>, hello: Value, next_event: u64) -> Session {
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .env("HOOKSIM_STATE_DIR", hello["state_dir"].as_str().unwrap())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut s = Session { name, argv, child, stdin, lines, hello: hello.clone(), next_event, wake_at: None };
        s.write(&hello);
        assert_eq!(s.read()["type"], "hello");
        s
    }

    /// Kills this process and starts another on the same state directory with `resumed: true`,
    /// as the harness does at a restart.
    fn replace(mut self) -> Session {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut hello = self.hello.clone();
        hello["resumed"] = json!(true);
        Session::spawn(self.name, self.argv.clone(), hello, self.next_event)
    }

    fn write(&mut self, line: &Value) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn read(&mut self) -> Value {
        let name = self.name;
        let line = self.lines.recv_timeout(LINE_WALL_MAX).unwrap_or_else(|_| panic!("{name} answers"));
        serde_json::from_str(&line).unwrap()
    }

    /// One input; its outputs up to (without) `done`, whose `wake_at` is kept.
    fn input(&mut self, line: Value) -> Vec<Value> {
        self.write(&line);
        let mut outputs = Vec::new();
        loop {
            let out = self.read();
            if out["type"] == "done" {
                self.wake_at = out["wake_at"].as_u64();
                return outputs;
            }
            outputs.push(out);
        }
    }

    /// A new client at `now`: one event.
    fn change(&mut self, now: u64) -> Vec<Value> {
        self.next_event += 1;
        let id = self.next_event;
        let (name, email) = (format!("c{id}"), format!("c{id}@example.com"));
        self.input(json!({"type": "change", "now": now,
            "event": {"id": id, "path": "/client/add", "details": "", "kind": "client", "entity_id": id},
            "entity": {"id": id, "name": name, "email": email},
            "change": {"change": "add_client", "id": id, "name": name, "email": email}}))
    }

    fn answer(&mut self, now: u64, attempt: u64, code: u16) -> Vec<Value> {
        self.input(json!({"type": "answer", "now": now, "attempt": attempt,
                          "outcome": {"kind": "status", "code": code}}))
    }

    fn answer_outcome(&mut self, now: u64, attempt: u64, outcome: Value) -> Vec<Value> {
        self.input(json!({"type": "answer", "now": now, "attempt": attempt, "outcome": outcome}))
    }

    fn wake(&mut self, now: u64) -> Vec<Value> {
        self.input(json!({"type": "wake", "now": now}))
    }

    fn plain(&mut self, kind: &str, now: u64) -> Vec<Value> {
        self.input(json!({"type": kind, "now": now}))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The snapbill policy with `edits` applied (field by field, as `hello` carries it).
fn policy(edits: Value) -> Value {
    let mut p = serde_json::to_value(Profile::Snapbill.policy().spec()).unwrap();
    for (k, v) in edits.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn list(delays_ms: &[u64]) -> Value {
    json!({"backoff": {"kind": "list", "delays_ms": delays_ms}, "jitter_percent": 0})
}

fn types(outputs: &[Value]) -> Vec<&str> {
    outputs.iter().map(|o| o["type"].as_str().unwrap()).collect()
}

fn only<'a>(outputs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = outputs.iter().filter(|o| o["type"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} in {outputs:#?}");
    found[0]
}

/// "An exponential backoff's delay after the n-th failure is `initial_ms × multiplier^(n-1)`,
/// at most `max_ms`", counted in failures of the delivery (`retry_scheduled.failures`).
#[test]
fn exponential_delays_grow_by_the_multiplier_per_failure_up_to_the_cap() {
    for_each_dispatcher("exponential", |cmd, dir| {
        let schedule = json!({"backoff": {"kind": "exponential", "initial_ms": 1000, "multiplier": 3, "max_ms": 20000},
                              "jitter_percent": 0});
        let mut s = Session::start(cmd, policy(json!({"schedule": schedule})), 1, dir);
        s.change(0);
        let mut now = 0;
        let mut delays = Vec::new();
        for attempt in 1..=5 {
            now += 7;
            let out = s.answer(now, attempt, 500);
            let retry = only(&out, "retry_scheduled");
            assert_eq!(retry["failures"], attempt);
            let at = retry["at"].as_u64().unwrap();
            delays.push(at - now);
            now = at;
            assert_eq!(only(&s.wake(now), "send")["attempt"], attempt + 1);
        }
        assert_eq!(delays, [1000, 3000, 9000, 20000, 20000]);
    });
}

/// "`retry_after_ms` is honoured on a 429 or 503 only: the delay is the larger of the backoff
/// and the wait, at most `retry_after_past_backoff_max_ms` past the backoff."
#[test]
fn retry_after_is_honoured_on_429_and_503_only_up_to_its_cap() {
    for_each_dispatcher("retry-after", |cmd, dir| {
        let p = policy(json!({"schedule": list(&[300_000]), "retry_after_past_backoff_max_ms": 7_200_000}));
        let mut s = Session::start(cmd, p, 1, dir);
        let hour = 3_600_000;
        let cases =
            [(429, hour, hour), (503, 100 * hour, 300_000 + 2 * hour), (429, 60_000, 300_000), (500, hour, 300_000)];
        let mut now = 0;
        s.change(now);
        for (i, (code, wait_ms, delay_ms)) in cases.into_iter().enumerate() {
            now += 5;
            let out = s.input(json!({"type": "answer", "now": now, "attempt": i + 1,
                                     "outcome": {"kind": "status", "code": code}, "retry_after_ms": wait_ms}));
            let at = only(&out, "retry_scheduled")["at"].as_u64().unwrap();
            assert_eq!(at - now, delay_ms, "{code} asking {wait_ms} ms");
            now = at;
            s.wake(now);
        }
    });
}

/// "A retry whose time is exactly `retry_window_ms` after the event is still made; later, the
/// delivery is abandoned (`>`)."
#[test]
fn a_retry_at_the_end_of_the_window_is_made_and_one_past_it_is_abandoned() {
    for_each_dispatcher("window", |cmd, dir| {
        let mut s = Session::start(cmd, policy(json!({"schedule": list(&[1000]), "retry_window_ms": 2000})), 1, dir);
        s.change(0);
        assert_eq!(only(&s.answer(1000, 1, 500), "retry_scheduled")["at"], 2000, "at the window's end");
        s.wake(2000);
        let out = s.answer(2001, 2, 500);
        assert_eq!(types(&out), ["attempt_finished", "delivery_abandoned"]);
        assert_eq!(out[1]["reason"], "retry_window_expired");
        assert_eq!(out[1]["attempts"], 2);
    });
}

/// "An answer whose `now` is the attempt's deadline still finishes it: the harness gives the
/// instant's answers before its `wake`." And after that wake, an answer is late.
#[test]
fn an_answer_at_the_deadline_counts_and_after_the_wake_it_is_late() {
    for_each_dispatcher("deadline", |cmd, dir| {
        let mut s = Session::start(cmd, policy(json!({})), 1, dir);
        s.change(0);
        assert_eq!(s.wake_at, Some(30_000), "the deadline is the send's now + timeout_ms");
        let out = s.answer(30_000, 1, 200);
        assert_eq!(types(&out), ["attempt_finished", "delivered"]);

        s.change(40_000);
        assert_eq!(only(&s.wake(70_000), "attempt_finished")["outcome"]["kind"], "timeout");
        assert_eq!(types(&s.answer(70_000, 2, 200)), ["late_answer_ignored"]);
    });
}

/// "`wake_at` may equal `now` in answer to any input but a `wake`": a change at the very instant
/// of a deadline is answered with that deadline; the wake then comes at the same `now`.
#[test]
fn wake_at_may_equal_now_except_in_answer_to_a_wake() {
    for_each_dispatcher("wake-now", |cmd, dir| {
        let mut s = Session::start(cmd, policy(json!({})), 1, dir);
        s.change(0);
        s.change(30_000);
        assert_eq!(s.wake_at, Some(30_000), "now, for a change at the deadline");
        let out = s.wake(30_000);
        assert_eq!(types(&out), ["attempt_finished", "retry_scheduled"]);
        assert!(s.wake_at.unwrap() > 30_000, "in answer to a wake: later");
    });
}

/// "The harness's own `timeout` answer (the network engine's, six hours after the deadline) is
/// ignored without a fact; any other answer for a finished attempt is `late_answer_ignored`."
#[test]
fn a_late_timeout_answer_is_ignored_without_a_fact() {
    for_each_dispatcher("late-timeout", |cmd, dir| {
        let mut s = Session::start(cmd, policy(json!({})), 1, dir);
        s.change(0);
        s.change(0);
        s.wake(30_000);
        let six_hours = 6 * 3_600_000;
        assert!(s.answer_outcome(30_000 + six_hours, 1, json!({"kind": "timeout"})).is_empty());
        assert_eq!(types(&s.answer_outcome(30_000 + six_hours, 2, json!({"kind": "reset"}))), ["late_answer_ignored"]);
    });
}

/// "A webhook's streak starts when its first failure is seen, not when that attempt was sent":
/// `failing_since` of the warning and of the disable is the failed answer's `now`.
#[test]
fn the_streak_starts_at_the_failure_not_at_the_send() {
    for_each_dispatcher("streak", |cmd, dir| {
        let minute = 60_000;
        let p =
            policy(json!({"schedule": list(&[minute]), "warn_after_ms": 5 * minute, "disable_after_ms": 10 * minute}));
        let mut s = Session::start(cmd, p, 1, dir);
        s.change(0);
        let (mut now, mut attempt) = (0, 1);
        let (mut warned, mut disabled) = (None, None);
        while disabled.is_none() {
            now += 1000; // each answer comes a second after its send
            let out = s.answer(now, attempt, 500);
            for o in &out {
                match o["type"].as_str().unwrap() {
                    "email" => warned = Some((now, o["failing_since"].as_u64().unwrap())),
                    "webhook_disabled" => disabled = Some((now, o["failing_since"].as_u64().unwrap())),
                    _ => {}
                }
            }
            if disabled.is_none() {
                now = s.wake_at.unwrap();
                s.wake(now);
                attempt += 1;
            }
        }
        // Failures at 1 s, 62 s, 123 s, ...: the first at least 5 min after 1 s warns.
        assert_eq!(warned, Some((306_000, 1000)));
        assert_eq!(disabled, Some((611_000, 1000)));
    });
}

/// "A 2xx for an attempt in flight when its webhook was disabled delivers the delivery; the
/// webhook stays disabled, without `webhook_recovered`. A failure then parks its delivery."
#[test]
fn an_attempt_in_flight_at_the_disable_still_delivers_but_does_not_recover_the_webhook() {
    for_each_dispatcher("in-flight-disable", |cmd, dir| {
        let mut s = Session::start(cmd, policy(json!({"disable_on_gone": true})), 1, dir);
        for now in 0..3 {
            s.change(now);
        }
        let out = s.answer(5, 1, 410);
        assert_eq!(types(&out), ["attempt_finished", "webhook_disabled"]);
        assert_eq!(out[1]["reason"], "gone");
        assert_eq!(types(&s.answer(6, 2, 200)), ["attempt_finished", "delivered"], "no webhook_recovered");
        assert_eq!(types(&s.answer(7, 3, 500)), ["attempt_finished"], "parked: no retry");
        assert_eq!(only(&s.change(8), "delivery_refused")["reason"], "webhook_disabled");
        let out = s.input(json!({"type": "enable", "now": 9, "webhook": 0}));
        assert_eq!(types(&out), ["webhook_enabled", "send", "send"], "the parked deliveries, at once");
        assert_eq!((out[1]["event"].as_u64(), out[2]["event"].as_u64()), (Some(1), Some(3)));
    });
}

/// "Enabling a webhook that is not disabled changes nothing and reports nothing."
#[test]
fn enabling_a_webhook_that_is_not_disabled_reports_nothing() {
    for_each_dispatcher("enable-active", |cmd, dir| {
        let mut s = Session::start(cmd, policy(json!({})), 1, dir);
        s.change(0);
        assert!(s.input(json!({"type": "enable", "now": 1, "webhook": 0})).is_empty());
    });
}

/// "Due deliveries wait for an in-flight slot first come, first served: in the order they became
/// due (queued, or their retry time came)."
#[test]
fn deliveries_waiting_for_a_slot_go_in_the_order_they_became_due() {
    for_each_dispatcher("slots", |cmd, dir| {
        let mut s = Session::start(cmd, policy(json!({"in_flight_per_webhook_max": 1})), 1, dir);
        for now in 0..3 {
            s.change(now);
        }
        let out = s.answer(10, 1, 500);
        assert_eq!(only(&out, "retry_scheduled")["at"], 10_010);
        assert_eq!(only(&out, "send")["event"], 2, "the slot goes to the next waiting at once");
        assert!(s.wake(10_010).is_empty(), "event 1's retry is due but the slot is taken");
        s.change(10_020); // event 4, due after event 1's retry
        assert_eq!(only(&s.answer(10_030, 2, 200), "send")["event"], 3);
        assert_eq!(only(&s.answer(10_040, 3, 200), "send")["event"], 1);
        assert_eq!(only(&s.answer(10_050, 4, 200), "send")["event"], 4);
    });
}

/// "An attempt lost in a crash is not a failed attempt: no `attempt_finished`, no failure
/// counted, no retry; it is sent again at the restart, first, with its uuid. Its send still
/// counts in `attempts`." The restart runs a new process that replays the journal.
#[test]
fn a_lost_attempt_is_not_a_failure_and_is_sent_again_first_at_the_restart() {
    for_each_dispatcher("crash", |cmd, dir| {
        let mut s = Session::start(cmd, policy(json!({})), 1, dir);
        let uuid = only(&s.change(0), "send")["delivery"].clone();
        s.change(1);
        let lost = s.plain("crash", 5);
        assert_eq!(types(&lost), ["attempt_lost", "attempt_lost"]);
        assert_eq!((&lost[0]["attempt"], &lost[1]["attempt"]), (&json!(1), &json!(2)), "oldest first");
        assert_eq!(s.wake_at, None, "nothing is due while down");
        assert_eq!(types(&s.change(6)), ["delivery_queued"], "queued, not sent, while down");
        assert!(s.plain("crash", 7).is_empty(), "a second crash changes nothing");
        let mut s = s.replace();
        let out = s.plain("restart", 100);
        assert_eq!(types(&out), ["dispatcher_restarted", "send", "send", "send"]);
        let events: Vec<&Value> = out[1..].iter().map(|o| &o["event"]).collect();
        assert_eq!(events, [1, 2, 3], "the lost attempts first, oldest first, then what came while down");
        assert_eq!((&out[1]["delivery"], &out[1]["attempt"]), (&uuid, &json!(3)), "same uuid, new attempt id");
        assert_eq!(only(&s.answer(110, 3, 500), "retry_scheduled")["failures"], 1, "the lost send is no failure");
        s.wake(10_110);
        assert_eq!(only(&s.answer(10_120, 6, 200), "delivered")["attempts"], 3, "every send counts");
        assert!(s.plain("restart", 10_130).is_empty(), "a restart of a running dispatcher changes nothing");
    });
}

/// "`attempts_max` counts every send, lost ones included."
#[test]
fn attempts_max_counts_the_lost_send_too() {
    for_each_dispatcher("attempts-max", |cmd, dir| {
        let mut s = Session::start(cmd, policy(json!({"attempts_max": 2})), 1, dir);
        s.change(0);
        s.plain("crash", 5);
        let mut s = s.replace();
        s.plain("restart", 10);
        let out = s.answer(20, 2, 500);
        assert_eq!(types(&out), ["attempt_finished", "delivery_abandoned"]);
        assert_eq!((&out[1]["attempts"], &out[1]["reason"]), (&json!(2), &json!("attempts_exhausted")));
    });
}

/// "With `resumed: false` the state directory is a new run's: the reference truncates a journal
/// it finds there instead of replaying it."
#[test]
fn a_new_run_truncates_the_journal_it_finds() {
    for_each_dispatcher("journal", |cmd, dir| {
        let stale = r#"{"type":"crash","now":0}"#;
        std::fs::write(dir.join("journal.jsonl"), format!("{stale}\n")).unwrap();
        let mut s = Session::start(cmd, policy(json!({})), 1, dir);
        assert_eq!(types(&s.change(0)), ["delivery_queued", "send"], "not replayed: not down");
        let journal = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
        assert_eq!(journal.lines().count(), 1, "{journal}");
        assert!(!journal.contains(stale));
    });
}

/// Records the answers an engine gives a dispatcher, and each attempt's deadline.
struct Listening {
    core: Dispatcher,
    now: SimTime,
    deadlines: std::collections::BTreeMap<u64, SimTime>,
    /// `(now, deadline)` of every `timeout` answer.
    timeouts: Vec<(SimTime, SimTime)>,
}

impl Dispatch for Listening {
    type Error = hooksim::core::InputError;

    fn handle(&mut self, now: SimTime, input: Input) -> Result<(), Self::Error> {
        self.now = now;
        if let Input::Answer { attempt, outcome: Outcome::Timeout } = input {
            self.timeouts.push((now, self.deadlines[&attempt]));
        }
        self.core.handle(now, input)
    }

    fn handle_timeout(&mut self, now: SimTime) -> Result<(), Self::Error> {
        self.now = now;
        self.core.handle_timeout(now);
        Ok(())
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        self.core.poll_timeout()
    }

    fn poll_output(&mut self) -> Option<Output> {
        let out = self.core.poll_output();
        if let Some(Output::Send(r)) = &out {
            self.deadlines.insert(r.attempt, self.now.plus_ms(r.timeout_ms));
        }
        out
    }

    fn drain_trace_into(&mut self, trace: &mut Trace) {
        self.core.drain_trace_into(trace)
    }
}

/// "The harness sends an answer of kind `timeout` only on the network engine, when an attempt
/// that got no answer has its connection dropped, six hours (`LINGER_MS`) after its deadline."
#[test]
fn the_harness_answers_timeout_only_on_the_network_engine_six_hours_past_the_deadline() {
    let text = r#"
name = "hung"
description = "The link to the shop holds every message and never releases: every attempt hangs."
run_for = "8h"

[webhooks.shop]
url = "http://shop/webhook"
owner = "ops@shop.example"

[receivers.shop]
kind = "dedup"

[[timeline]]
at = "0s"
hold = ["dispatcher", "shop"]

[[timeline]]
at = "1s"
add_client = { id = 1 }
"#;
    let scenario = hooksim::scenario::load_str(std::path::Path::new("hung.toml"), text).unwrap();
    let world = &scenario.world;
    let listen = || Listening {
        core: Dispatcher::new(world.policy.clone(), world.webhooks.clone(), world.seed),
        now: SimTime::ZERO,
        deadlines: Default::default(),
        timeouts: Vec::new(),
    };
    let limits = hooksim::world::RunLimits::default();
    let mut net = listen();
    hooksim::net::run_dispatched(world, limits, &mut net).unwrap();
    assert!(!net.timeouts.is_empty(), "the network engine answers hung attempts");
    for (now, deadline) in &net.timeouts {
        assert_eq!(now.ms_since(*deadline), hooksim::shell::limits::LINGER_MS);
    }
    let mut model = listen();
    hooksim::model::run_dispatched(world, limits, &mut model).unwrap();
    assert!(model.timeouts.is_empty(), "the model engine never answers timeout");
}
