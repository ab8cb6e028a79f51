//! `delay_attempts` on the live shell: the held attempt is held in virtual time before its real
//! POST, so real receivers on loopback see the `paid` attempt after the `cancelled` delivery, as
//! on the simulated engines. A receiver in Python that deduplicates by uuid and trusts the body's
//! state, but not the order of events, fulfils the cancelled invoice and fails the scenario; the
//! same receiver judging by event order passes.

use crate::support;

use hooksim::live::Bindings;
use hooksim::receiver::ReceiverKind;
use hooksim::runner::{Engine, ScenarioRun, run_scenario, run_scenario_live};
use hooksim::scenario::{Scenario, load_file};
use hooksim::trace::TraceEvent;
use hooksim::world::RunLimits;
use std::path::Path;
use support::decisions::decisions;
use support::loopback::{python, serve_kind};

fn scenario() -> Scenario {
    load_file(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/delayed-paid-overtaken.toml")).unwrap()
}

fn bindings(careful: &str, legacy: &str) -> Bindings {
    let urls = [format!("careful={careful}/webhook"), format!("legacy={legacy}/webhook")];
    let effects = [format!("careful={careful}/effects"), format!("legacy={legacy}/effects")];
    Bindings::parse(&urls, &effects).unwrap()
}

/// The acts of `receiver` in the live trace, in order.
fn acts(run: &ScenarioRun, receiver: &str) -> Vec<String> {
    run.trace
        .entries()
        .iter()
        .filter_map(|e| match &e.event {
            TraceEvent::ReceiverActed { receiver: r, action, .. } if r == receiver => Some(action.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_delay_reorders_real_deliveries_too() {
    let (dedup, naive) = (serve_kind(ReceiverKind::Dedup), serve_kind(ReceiverKind::Naive));
    let run = run_scenario_live(&scenario(), &bindings(&dedup.base, &naive.base), None, RunLimits::default());
    assert!(run.passed(), "{}", hooksim::runner::render_failures(&run));
    assert!(run.not_verified.is_empty());
    // The naive receiver cancelled first, then got the held `paid` (and later its retry).
    assert_eq!(acts(&run, "legacy"), ["cancel invoice 4", "fulfil invoice 4", "fulfil invoice 4"]);
    assert_eq!(acts(&run, "careful"), ["cancel invoice 4"]);
    let model = run_scenario(&scenario(), Engine::Model, None);
    assert_eq!(decisions(&run), decisions(&model), "the simulated engines' decisions, timing aside");
}

/// A Python receiver: acts once per uuid on `/invoice/update/state`, by the state the body
/// carries (fulfil a paid invoice, cancel a cancelled one), with the effects contract at
/// `/effects`. With `ORDER` it also skips an event older than one it acted on for the same
/// invoice. It prints its port and stops by itself after a minute.
const PYTHON_RECEIVER: &str = r#"
import json, sys, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
ORDER = sys.argv[1] == 'order'
lock, effects, newest = threading.Lock(), [], {}
class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def answer(self, status, body=b''):
        self.send_response(status); self.send_header('content-length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        try: d = json.loads(self.rfile.read(int(self.headers.get('content-length') or 0)))
        except ValueError: d = None
        if not isinstance(d, dict) or not isinstance(d.get('body'), dict): return self.answer(400)
        body = d['body']; invoice = body.get('invoice') or {}; state = invoice.get('state')
        verb = {'paid': 'fulfil', 'cancelled': 'cancel'}.get(state)
        with lock:
            fresh = d.get('uuid') not in {e['uuid'] for e in effects}
            in_order = not ORDER or body.get('id', 0) > newest.get(invoice.get('id'), 0)
            if body.get('path') == '/invoice/update/state' and verb and state == body.get('details') and fresh and in_order:
                effects.append({'uuid': d['uuid'], 'event': body.get('id'), 'action': '%s invoice %s' % (verb, invoice.get('id'))})
                newest[invoice.get('id')] = body.get('id')
        self.answer(200)
    def do_GET(self):
        with lock: listed = json.dumps({'effects': effects}).encode()
        self.answer(200 if self.path == '/effects' else 404, listed)
server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(60, server.shutdown).start()
server.serve_forever()
"#;

fn run_against_python(mode: &str) -> ScenarioRun {
    let careful = python(PYTHON_RECEIVER, &[mode]);
    let naive = serve_kind(ReceiverKind::Naive);
    run_scenario_live(&scenario(), &bindings(&careful.base, &naive.base), None, RunLimits::default())
}

#[test]
fn a_receiver_that_ignores_event_order_fulfils_the_cancelled_invoice_and_fails() {
    let run = run_against_python("no-order");
    assert_eq!(acts(&run, "careful"), ["cancel invoice 4", "fulfil invoice 4"]);
    let failures = hooksim::runner::render_failures(&run);
    assert!(!run.passed() && failures.contains("fulfil invoice 4"), "{failures}");
    let fixed = run_against_python("order");
    assert!(fixed.passed(), "{}", hooksim::runner::render_failures(&fixed));
}
