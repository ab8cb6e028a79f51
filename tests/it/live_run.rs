//! The live shell against receivers served on loopback inside each test: library scenarios give
//! the verdicts the simulated engines give, every attempt opens a new connection, acts are read
//! from the effects contract (or reported not verified), and what a real endpoint cannot do is
//! refused before anything runs.

use crate::support;

use hooksim::live::{BindError, Bindings};
use hooksim::receiver::{ReceiverKind, ReceiverState, ServeOptions, app};
use hooksim::runner::{Engine, ScenarioRun, run_scenario, run_scenario_live};
use hooksim::scenario::{Scenario, load_file, load_str};
use hooksim::trace::TraceEvent;
use hooksim::world::RunLimits;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::decisions::decisions;
use support::loopback::{Served, python, serve_kind, serve_router, serve_tcp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `--receiver`/`--effects` values for each (name, receiver).
fn bind(receivers: &[(&str, &Served)], effects: bool) -> Bindings {
    let urls: Vec<String> = receivers.iter().map(|(n, s)| format!("{n}={}/webhook", s.base)).collect();
    let effects: Vec<String> =
        if effects { receivers.iter().map(|(n, s)| format!("{n}={}/effects", s.base)).collect() } else { vec![] };
    Bindings::parse(&urls, &effects).unwrap()
}

fn library(name: &str) -> Scenario {
    load_file(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(format!("{name}.toml"))).unwrap()
}

fn failures(run: &ScenarioRun) -> String {
    hooksim::runner::render_failures(run)
}

/// Each library scenario whose receivers are not scripted, against fresh reference receivers of
/// the kinds the file names: the same verdict as the model engine, every expectation verified,
/// and the same decisions (timing aside). This holds while a loopback answer takes less than the
/// attempt timeout (2 s at the least here), which no loaded machine has come near.
/// (`lost-answers-one-way-partition` is not among them: it expects its lost answers to time
/// out, and the live shell reports an answer lost after the act as the reset a sender sees.)
#[test]
fn library_scenarios_give_the_simulated_verdicts_against_real_receivers() {
    for name in
        ["hold-and-release", "partition-heals", "slow-network-timeouts", "path-filters", "picky-receiver-disabled"]
    {
        let scenario = library(name);
        let served: Vec<(String, Served)> =
            scenario.world.receivers.iter().map(|r| (r.host.clone(), serve_kind(r.kind))).collect();
        let named: Vec<(&str, &Served)> = served.iter().map(|(n, s)| (n.as_str(), s)).collect();
        let live = run_scenario_live(&scenario, &bind(&named, true), None, RunLimits::default());
        let model = run_scenario(&scenario, Engine::Model, None);
        assert!(model.passed(), "{}", failures(&model));
        assert_eq!(live.passed(), model.passed(), "{name}: {}", failures(&live));
        assert!(live.not_verified.is_empty());
        assert_eq!(live.engine, Engine::Live);
        assert_eq!(decisions(&live), decisions(&model), "{name}: the same decisions, timing aside");
        println!("{name}: live {} attempts, model {}", live.attempts(), model.attempts());
    }
}

/// The negative control: the same world against a receiver without dedup fails the scenario,
/// as it would on a simulated engine (held requests land after the release: a second act).
#[test]
fn a_receiver_without_dedup_fails_a_library_scenario() {
    let scenario = library("hold-and-release");
    let naive = serve_kind(ReceiverKind::Naive);
    let run = run_scenario_live(&scenario, &bind(&[("shop", &naive)], true), None, RunLimits::default());
    assert!(!run.passed());
    assert!(failures(&run).contains("expected receiver shop to act exactly 1"), "{}", failures(&run));
}

const FAILING_HOUR: &str = r#"
name = "failing-hour"
description = "A receiver that answers 500 to everything, retried for an hour."
seed = 3
run_for = "1h"

[webhooks.shop]
url = "http://shop/webhook"
owner = "ops@shop.example"

[receivers.shop]
kind = "dedup"

[[timeline]]
at = "0s"
add_client = { id = 1 }
name = "client"

[[expect]]
delivered = "shop"
exactly = 0

[[expect]]
acted = "shop"
exactly = 0
"#;

/// A raw HTTP/1.1 server that answers 500 and keeps every connection open (keep-alive), and
/// counts the connections it accepted.
fn serve_counting() -> (Served, Arc<AtomicUsize>) {
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    let served = serve_tcp(move |stream| {
        count.fetch_add(1, Ordering::SeqCst);
        answer_500_forever(stream)
    });
    (served, accepted)
}

/// Answers each request on the connection 500, never closing it.
async fn answer_500_forever(mut stream: tokio::net::TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut seen = Vec::new();
    loop {
        let Ok(n) = stream.read(&mut buf).await else { return };
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
        // One request: its head and the body its Content-Length announces.
        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                .unwrap_or(0);
            if seen.len() < end + 4 + length {
                break;
            }
            seen.drain(..end + 4 + length);
            let answer =
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\nconnection: keep-alive\r\n\r\nboom";
            if stream.write_all(answer).await.is_err() {
                return;
            }
        }
    }
}

#[test]
fn every_attempt_opens_a_new_connection() {
    let scenario = load_str(Path::new("failing-hour.toml"), FAILING_HOUR).unwrap();
    let (served, accepted) = serve_counting();
    let bindings = bind(&[("shop", &served)], false);
    let run = run_scenario_live(&scenario, &bindings, None, RunLimits::default());
    drop(served);
    let failed_500 = run
        .trace
        .entries()
        .iter()
        .filter(|e| {
            matches!(
                e.event,
                TraceEvent::AttemptFinished { outcome: hooksim::trace::Outcome::Status { code: 500 }, .. }
            )
        })
        .count();
    assert!(run.attempts() >= 5, "retries within the hour: {}", run.attempts());
    assert_eq!(failed_500, run.attempts(), "every attempt reached the server and got its 500");
    assert_eq!(accepted.load(Ordering::SeqCst), run.attempts(), "one connection per attempt, none reused");
    // Without an effects URL, the expectation about acts is reported, neither passed nor failed.
    assert!(run.passed(), "{}", failures(&run));
    assert_eq!(run.not_verified.len(), 1, "{:?}", run.not_verified);
    assert!(run.not_verified[0].to_string().contains("failing-hour.toml:"), "{}", run.not_verified[0]);
    assert!(run.not_verified[0].why.contains("no --effects URL"), "{}", run.not_verified[0].why);
}

const ACTS: &str = r#"
name = "acts"
description = "A client (acted on), an invoice (skipped), its payment (acted on)."
seed = 5
run_for = "1h"

[webhooks.shop]
url = "http://shop/webhook"
owner = "ops@shop.example"

[receivers.shop]
kind = "dedup"

[[timeline]]
at = "0s"
add_client = { id = 1 }

[[timeline]]
at = "1m"
add_invoice = { id = 4, client = 1 }
name = "invoice"

[[timeline]]
at = "2m"
invoice_state = { id = 4, state = "paid" }
name = "paid"

[[expect]]
acted = "shop"
exactly = 2

[[expect]]
acted = "shop"
event = "paid"
action = "fulfil invoice 4"
exactly = 1
after = "2m"
before = "2m 1s"

[[expect]]
skipped = "shop"
event = "invoice"
exactly = 1
"#;

#[test]
fn acts_are_read_from_the_effects_contract_at_the_answers_virtual_time() {
    let scenario = load_str(Path::new("acts.toml"), ACTS).unwrap();
    let dedup = serve_kind(ReceiverKind::Dedup);
    let run = run_scenario_live(&scenario, &bind(&[("shop", &dedup)], true), None, RunLimits::default());
    assert!(run.passed(), "{}", failures(&run));
    let entries = run.trace.entries();
    for (i, entry) in entries.iter().enumerate() {
        if !matches!(entry.event, TraceEvent::ReceiverActed { .. } | TraceEvent::ReceiverSkipped { .. }) {
            continue;
        }
        // The answer that showed it comes back right after, a link's latency (1 ms) later.
        let finished = entries[i..].iter().find(|e| matches!(e.event, TraceEvent::AttemptFinished { .. })).unwrap();
        assert!(finished.at.ms_since(entry.at) <= 1, "{entry:?} then {finished:?}");
    }
    // The same world on the model engine passes too: the live entries mean the same.
    assert!(run_scenario(&scenario, Engine::Model, None).passed());
}

const SCRIPTED: &str = r#"
name = "scripted"
description = "What a real endpoint cannot be made to do."
run_for = "1h"

[webhooks.shop]
url = "http://shop/webhook"
owner = "ops@shop.example"

[webhooks.legacy]
url = "http://legacy/webhook"
owner = "ops@legacy.example"

[receivers.shop]
kind = "dedup"
behaviour = { replies = ["act then drop"], then = "200" }

[receivers.legacy]
kind = "naive"

[[timeline]]
at = "1m"
crash = "shop"

[[timeline]]
at = "2m"
receiver = "shop"
behave = "500"
"#;

#[test]
fn what_a_real_endpoint_cannot_do_is_refused_with_every_reason() {
    let scenario = load_str(Path::new("scripted.toml"), SCRIPTED).unwrap();
    let bindings =
        Bindings::parse(&["shop=http://127.0.0.1:9/webhook".into(), "nosuch=http://127.0.0.1:9/".into()], &[]).unwrap();
    let errors: Vec<String> = bindings.check(&scenario.world).iter().map(ToString::to_string).collect();
    let all = errors.join("\n");
    assert_eq!(errors.len(), 5, "{all}");
    assert!(all.contains("no receiver \"nosuch\""), "{all}");
    assert!(all.contains("receiver \"legacy\" gets deliveries but is not bound"), "{all}");
    assert!(all.contains("scripts its replies (`behaviour = \"act then drop, then 200\"`)"), "{all}");
    assert!(all.contains("crashes receiver \"shop\""), "{all}");
    assert!(all.contains("scripts the replies of receiver \"shop\""), "{all}");
    // The run itself refuses too, before sending anything.
    let run = run_scenario_live(&scenario, &bindings, None, RunLimits::default());
    assert!(run.error.is_some() && run.trace.is_empty());
}

/// A receiver that verifies with the file's secret, bound to a real endpoint: the endpoint checks
/// signatures with its own key, so the file's `secret` (and `tolerance`) would be silently
/// ignored. Refused, naming the receiver and the fields; the same world without them (the sender
/// still signing by `[signing]`) is accepted (negative control).
#[test]
fn a_bound_receiver_that_verifies_with_the_files_secret_is_refused() {
    const SIGNED: &str = r#"
name = "verifying"
description = "A receiver verifying with the file's secret."
seed = 1
run_for = "1m"

[policy]
profile = "svix"

[signing]
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

[webhooks.shop]
url = "http://shop/webhook"
owner = "ops@shop.example"

[[timeline]]
at = "0s"
add_client = { id = 1 }

[receivers.shop]
kind = "dedup"
"#;
    let load = |extra: &str| load_str(Path::new("verifying.toml"), &format!("{SIGNED}{extra}")).unwrap();
    let secret = "secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n";
    let bindings = Bindings::parse(&["shop=http://127.0.0.1:9/webhook".into()], &[]).unwrap();
    let scenario = load(&format!("{secret}tolerance = \"10m\"\n"));
    let errors = bindings.check(&scenario.world);
    assert!(matches!(&errors[..], [BindError::Verifies { name, .. }] if name == "shop"), "{errors:?}");
    let said = errors[0].to_string();
    for part in ["receiver \"shop\"", "`secret` and `tolerance`", "its own key", "[signing]"] {
        assert!(said.contains(part), "{part}: {said}");
    }
    let scenario = load(secret);
    let said = bindings.check(&scenario.world).iter().map(ToString::to_string).collect::<String>();
    assert!(said.contains("the file's `secret` ("), "{said}");
    let run = run_scenario_live(&scenario, &bindings, None, RunLimits::default());
    assert!(run.error.is_some() && run.trace.is_empty(), "the run refuses too, before sending anything");
    let scenario = load("");
    assert!(scenario.world.signing.sender.is_some() && scenario.world.signing.receivers.is_empty());
    assert_eq!(bindings.check(&scenario.world), [], "the sender's signing alone is fine");
}

#[test]
fn bad_flags_are_each_named() {
    let errors = Bindings::parse(
        &["shop".into(), "=http://x/".into(), "a=ftp://x/".into(), "b=http://x/".into(), "b=http://y/".into()],
        &["c=http://x/effects".into()],
    )
    .unwrap_err();
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert!(matches!(&errors[4], BindError::EffectsWithoutReceiver { name } if name == "c"));
}

/// An effects URL nothing answers at is bad input before the run (not "not verified"), and so is
/// a receiver URL nothing listens at.
#[test]
fn an_unreadable_effects_url_is_refused_before_the_run() {
    let dedup = serve_kind(ReceiverKind::Dedup);
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let bindings =
        Bindings::parse(&[format!("shop={}/webhook", dedup.base)], &[format!("shop=http://127.0.0.1:{port}/effects")])
            .unwrap();
    let errors = hooksim::live::probe(&bindings);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().contains("the effects of receiver \"shop\" cannot be read"), "{}", errors[0]);
    let webhook_by_mistake =
        Bindings::parse(&[format!("shop={}/webhook", dedup.base)], &[format!("shop={}/webhook", dedup.base)]).unwrap();
    assert_eq!(hooksim::live::probe(&webhook_by_mistake).len(), 1);
    // And a receiver nothing listens at (a typo in the port) is refused too.
    let nobody = Bindings::parse(&[format!("shop=http://127.0.0.1:{port}/webhook")], &[]).unwrap();
    let errors = hooksim::live::probe(&nobody);
    assert!(matches!(&errors[..], [BindError::Unreachable { name, .. }] if name == "shop"), "{errors:?}");
}

const TEN_DAYS: &str = r#"
name = "ten-days-against-picky"
description = "A client update the picky receiver refuses: retried for a week, warned, disabled a day after."
seed = 41
run_for = "10d"

[webhooks.shop]
url = "http://shop/webhook"
owner = "ops@shop.example"

[receivers.shop]
kind = "picky"

[[timeline]]
at = "0s"
add_client = { id = 1 }

[[timeline]]
at = "1m"
update_client = { id = 1, name = "Ada Lovelace" }
name = "update"

[[expect]]
acted = "shop"
action = "create client 1"
exactly = 1

[[expect]]
skipped = "shop"
event = "update"
at_least = 300

[[expect]]
warned = "shop"
exactly = 1
after = "7d"
before = "7d 1h"

[[expect]]
emailed = "shop"
exactly = 1

[[expect]]
disabled = "shop"
exactly = 1
after = "8d"
before = "8d 1h"

[[expect]]
no_attempt_after_disable = "shop"
"#;

/// Ten days of virtual time against a real receiver; the wall time is printed (measured in
/// release for the README), never asserted.
#[test]
fn a_ten_day_story_runs_against_a_real_receiver() {
    let scenario = load_str(Path::new("ten-days.toml"), TEN_DAYS).unwrap();
    let picky = serve_kind(ReceiverKind::Picky);
    let run = run_scenario_live(&scenario, &bind(&[("shop", &picky)], true), None, RunLimits::default());
    assert!(run.passed(), "{}", failures(&run));
    assert_eq!(run.sim_elapsed_ms, 10 * 24 * 3600 * 1000);
    let model = run_scenario(&scenario, Engine::Model, None);
    assert!(model.passed(), "{}", failures(&model));
    println!("10 days: {} attempts in {:.1} ms wall", run.attempts(), run.wall_us as f64 / 1000.0);
}

const CRASH: &str = r#"
name = "dispatcher-crash-live"
description = "The library's dispatcher-crash story, the slowness real: the shop acts, then takes 2 s to answer; the dispatcher dies 1 s into the attempt."
seed = 5
run_for = "1h"

[webhooks.shop]
url = "http://shop/webhook"
paths = ["/invoice/update/state"]
owner = "ops@shop.example"

[receivers.shop]
kind = "dedup"

[[timeline]]
at = "0s"
add_client = { id = 1 }

[[timeline]]
at = "0s"
add_invoice = { id = 4, client = 1 }

[[timeline]]
at = "1m"
invoice_state = { id = 4, state = "paid" }
name = "paid"

[[timeline]]
at = "1m 1s"
crash = "dispatcher"

[[timeline]]
at = "5m"
restart = "dispatcher"

[[expect]]
attempts = "shop"
event = "paid"
outcome = "lost"
exactly = 1

[[expect]]
delivered = "shop"
event = "paid"
exactly = 1
after = "5m"

[[expect]]
acted = "shop"
event = "paid"
exactly = 1
before = "1m 3s"

[[expect]]
skipped = "shop"
event = "paid"
exactly = 1
after = "5m"
"#;

/// A timeline step falls due while a real request is in flight (virtual time runs at wall
/// speed): the dispatcher crashes mid-attempt, its answer is lost, the restart resends the
/// delivery, and the receiver's dedup skips it.
#[test]
fn a_dispatcher_crash_in_flight_loses_the_answer_and_the_restart_resends() {
    let scenario = load_str(Path::new("crash.toml"), CRASH).unwrap();
    let (router, book) = app(ReceiverKind::Dedup, ServeOptions { answer_delay_ms: 2_000, ..ServeOptions::default() });
    let slow = serve_router(router);
    // Its effects list, from the same records, served without the delay on a port of its own.
    let state = ReceiverState {
        name: "shop".into(),
        kind: ReceiverKind::Dedup,
        book,
        on_handled: None,
        provider: Default::default(),
        events: Default::default(),
    };
    let effects = serve_router(hooksim::receiver::router(Arc::new(state)));
    let bindings =
        Bindings::parse(&[format!("shop={}/webhook", slow.base)], &[format!("shop={}/effects", effects.base)]).unwrap();
    let run = run_scenario_live(&scenario, &bindings, None, RunLimits::default());
    assert!(run.passed(), "{}", failures(&run));
}

/// A receiver in another language: Python's standard library, acting once per uuid on a paid
/// invoice the body says is paid, with the effects contract at `/effects`. It prints its port
/// and stops by itself after a minute.
const PYTHON_RECEIVER: &str = r#"
import json, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
lock, effects = threading.Lock(), []
class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def answer(self, status, body=b''):
        self.send_response(status); self.send_header('content-length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        try: d = json.loads(self.rfile.read(int(self.headers.get('content-length') or 0)))
        except ValueError: d = None
        if not isinstance(d, dict) or not isinstance(d.get('body'), dict): return self.answer(400)
        body = d['body']; invoice = body.get('invoice') or {}
        with lock:
            if body.get('path') == '/invoice/update/state' and invoice.get('state') == 'paid' and d.get('uuid') not in {e['uuid'] for e in effects}:
                effects.append({'uuid': d['uuid'], 'event': body.get('id'), 'action': 'fulfil invoice %s' % invoice.get('id')})
        self.answer(200)
    def do_GET(self):
        with lock: listed = json.dumps({'effects': effects}).encode()
        self.answer(200 if self.path == '/effects' else 404, listed)
server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(60, server.shutdown).start()
server.serve_forever()
"#;

/// The scenario worlds against a receiver written in Python: the same verdicts (an answer lost
/// after the act: the certification library's `redelivery-once`).
#[test]
fn a_python_receiver_meets_the_worlds() {
    let lost_answer = hooksim::certify::library::load("redelivery-once.toml").unwrap();
    for scenario in [library("hold-and-release"), lost_answer, library("slow-network-timeouts")] {
        let name = scenario.world.name.clone();
        let receiver = python(PYTHON_RECEIVER, &[]);
        let base = &receiver.base;
        let bindings = Bindings::parse(&[format!("shop={base}/webhook")], &[format!("shop={base}/effects")]).unwrap();
        let run = run_scenario_live(&scenario, &bindings, None, RunLimits::default());
        drop(receiver);
        assert!(run.passed(), "{name}: {}", failures(&run));
    }
}

const SILENT: &str = r#"
name = "silent-receiver"
description = "A receiver that reads every request and never answers: each attempt costs its real timeout."
seed = 9
run_for = "3s"

[policy]
retries = ["1s"]
attempt_timeout = "300ms"
warn_after = "1h"
disable_after = "2h"
attempts_max = "never"
retry_window = "never"

[webhooks.shop]
url = "http://shop/webhook"
owner = "ops@shop.example"

[receivers.shop]
kind = "dedup"

[[timeline]]
at = "0s"
add_client = { id = 1 }

[[expect]]
attempts = "shop"
outcome = "timeout"
at_least = 2
"#;

/// A receiver that never answers: the attempt timeout is real (the flight is cut at it, and
/// the core times the attempt out), and the run still ends at the world's end.
#[test]
fn a_receiver_that_never_answers_times_out_for_real_and_the_run_ends() {
    let silent = serve_tcp(|mut stream| async move {
        let mut sink = [0u8; 4096];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    });
    let scenario = load_str(Path::new("silent.toml"), SILENT).unwrap();
    let run = run_scenario_live(&scenario, &bind(&[("shop", &silent)], false), None, RunLimits::default());
    drop(silent);
    assert!(run.passed(), "{}", failures(&run));
    assert_eq!(run.sim_elapsed_ms, 3_000);
    let late = run.trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::LateAnswerIgnored { .. })).count();
    assert_eq!(late, 0, "a cut flight reports nothing: the core's own timeout decided");
}

const MAIL_OUTAGE: &str = r#"
name = "mail-outage-live"
description = "The library's mail outage, the failing receiver real: a picky shop refuses a client update for a week; the mail host is cut off when the warning is due."
seed = 19
run_for = "7d 18h"

[webhooks.shop]
url = "http://shop/webhook"
owner = "ops@shop.example"

[receivers.shop]
kind = "picky"

[[timeline]]
at = "0s"
add_client = { id = 1 }

[[timeline]]
at = "1m"
update_client = { id = 1, name = "Ada Lovelace" }

[[timeline]]
at = "6d"
partition = ["dispatcher", "mail"]

[[timeline]]
at = "7d 12h"
repair = ["dispatcher", "mail"]

[[expect]]
warned = "shop"
to = "ops@shop.example"
exactly = 1
after = "7d"
before = "7d 1h"

[[expect]]
emailed = "shop"
exactly = 0
before = "7d 12h"

[[expect]]
emailed = "shop"
to = "ops@shop.example"
exactly = 1
after = "7d 12h"
before = "7d 12h 2m"

[[expect]]
not_disabled = "shop"
"#;

/// The mail host stays simulated in a live run: a partition from it defers the warning, which
/// reaches it once repaired; the same decisions as the model engine.
#[test]
fn the_simulated_mail_host_takes_the_warning_after_its_outage() {
    let scenario = load_str(Path::new("mail-outage.toml"), MAIL_OUTAGE).unwrap();
    let picky = serve_kind(ReceiverKind::Picky);
    let run = run_scenario_live(&scenario, &bind(&[("shop", &picky)], true), None, RunLimits::default());
    assert!(run.passed(), "{}", failures(&run));
    let model = run_scenario(&scenario, Engine::Model, None);
    assert!(model.passed(), "{}", failures(&model));
    assert_eq!(decisions(&run), decisions(&model));
}
