//! `delay_attempts` on the live shell: the held attempt is held in virtual time before its real
//! POST, so real receivers on loopback see the `paid` attempt after the `cancelled` delivery, as
//! on the simulated engines. A receiver in Python that deduplicates by uuid and trusts the body's
//! state, but not the order of events, fulfils the cancelled invoice and fails the scenario; the
//! same receiver judging by event order passes.

use hooksim::live::Bindings;
use hooksim::receiver::{ReceiverKind, ServeOptions, app, base_url, serve};
use hooksim::runner::{ScenarioRun, run_scenario_live};
use hooksim::scenario::{Scenario, load_file};
use hooksim::trace::TraceEvent;
use hooksim::world::RunLimits;
use std::io::BufRead as _;
use std::path::Path;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// A reference receiver on 127.0.0.1, on a thread of its own; stopped when dropped.
struct Served {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve_kind(kind: ReceiverKind) -> Served {
    let router = app(kind, ServeOptions::default()).0;
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(base_url(listener.local_addr().unwrap())).unwrap();
            serve(listener, router, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
    });
    Served { base: rx.recv().unwrap(), stop: Some(stop), thread: Some(thread) }
}

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
    let mut child = std::process::Command::new("python3")
        .args(["-c", PYTHON_RECEIVER, mode])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is installed");
    let mut port = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut port).unwrap();
    let naive = serve_kind(ReceiverKind::Naive);
    let careful = format!("http://127.0.0.1:{}", port.trim());
    let run = run_scenario_live(&scenario(), &bindings(&careful, &naive.base), None, RunLimits::default());
    let _ = child.kill();
    let _ = child.wait();
    run
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
