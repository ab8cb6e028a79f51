//! Every check of `hooksim certify sender` on simulated arrivals, no socket and no clock: a
//! correct sender passes them all, and each defect (one knob turned) fails its own check and no
//! other. The negative controls of the checks the Python senders do not exercise (timeout,
//! envelope, concurrency, distinct ids, Gone under a disabling profile) live here.

use hooksim::certify::sender::grade::{CheckResult, Context, grade};
use hooksim::certify::sender::observe::{Incoming, Outcome};
use hooksim::certify::sender::script::{Answer, REDIRECT_TARGET_PATH};
use hooksim::certify::sender::{Envelope, Failure, Ledger, Plan, Reading, Timing, Verdict};
use hooksim::policy::Profile;
use proptest::prelude::*;

const SCALE: u32 = 100;
const BUDGET_MS: u64 = 8_000;

/// How the simulated sender behaves; `Knobs::default()` is correct for the profile.
#[derive(Clone, Copy, Debug, Default)]
struct Knobs {
    no_retry: bool,
    new_id_per_retry: bool,
    one_id_for_all: bool,
    follows_redirects: bool,
    /// Some(true): waits for Retry-After whatever the profile; Some(false): never does.
    retry_after: Option<bool>,
    /// Delays multiplied by this (1.0 when 0).
    speed: f64,
    /// Gives up on a silent endpoint after this factor of the declared timeout (1.0 when 0);
    /// negative: never.
    timeout_factor: f64,
    bad_envelope: bool,
    /// Sends the last event's first attempt this many more times at once (a burst).
    burst: u32,
    /// Some(true): keeps going after a 410 whatever the profile; Some(false): always stops.
    after_gone: Option<bool>,
    /// Sends the delivery once more right after its 2xx.
    resend: bool,
}

struct Sim {
    ledger: Ledger,
    reading: Reading,
    plan: Plan,
    timing: Timing,
    knobs: Knobs,
    ids: u32,
}

impl Sim {
    fn new(profile: Profile, knobs: Knobs) -> Sim {
        let timing = Timing { policy: profile.policy(), time_scale: SCALE, tolerance_floor_ms: 50 };
        let plan = Plan::new(&timing, BUDGET_MS, "http://127.0.0.1:1");
        let reading =
            Reading { id: "/uuid".parse().unwrap(), event_id: None, envelope: Envelope::Snapbill, verifier: None };
        Sim { ledger: Ledger::default(), reading, plan, timing, knobs, ids: 0 }
    }

    fn fresh_id(&mut self) -> String {
        self.ids += 1;
        if self.knobs.one_id_for_all { "same".into() } else { format!("delivery-{}", self.ids) }
    }

    fn body(&self, id: &str, event: u32) -> Vec<u8> {
        let entity = if self.knobs.bad_envelope { "nothing" } else { "invoice" };
        let mut body =
            serde_json::json!({"uuid": id, "body": {"id": event, "path": "/invoice/create", "details": null}});
        body["body"][entity] =
            if self.knobs.bad_envelope { serde_json::json!(1) } else { serde_json::json!({"id": event}) };
        body.to_string().into_bytes()
    }

    /// One request at `at`; returns the answer and when the sender saw the attempt end.
    fn request(&mut self, path: &str, body: &[u8], at: u64) -> (Answer, u64) {
        let incoming = Incoming { path, headers: &[], body };
        let (i, answer) = self.ledger.admit(&incoming, &self.reading, &self.plan, at, 0);
        let (outcome, end) = match &answer {
            Answer::Status { status, .. } => (Outcome::Answered { status: *status }, at),
            Answer::Reset => (Outcome::Reset, at),
            Answer::Hold { cap_ms } => {
                let factor = if self.knobs.timeout_factor == 0.0 { 1.0 } else { self.knobs.timeout_factor };
                let waited = (self.timing.timeout_ms() as f64 * factor) as u64;
                if factor < 0.0 || waited > *cap_ms {
                    (Outcome::HoldCapReached, at + cap_ms)
                } else {
                    (Outcome::SenderGaveUp, at + waited)
                }
            }
        };
        self.ledger.finish(i, outcome, end);
        (answer, end)
    }

    /// Delivers event `event` from `start` until a 2xx or the sender stops; returns the end.
    fn deliver(&mut self, event: u32, start: u64) -> u64 {
        let k = self.knobs;
        let mut id = self.fresh_id();
        let mut at = start;
        for failures in 0u32.. {
            let body = self.body(&id, event);
            // The burst on the last event only: on the others its duplicates would also be retries
            // too soon for the schedule.
            let copies = if failures == 0 && event == 6 { 1 + k.burst } else { 1 };
            let opened: Vec<(usize, Answer)> = (0..copies.saturating_sub(1))
                .map(|_| {
                    let incoming = Incoming { path: "/webhook", headers: &[], body: &body };
                    self.ledger.admit(&incoming, &self.reading, &self.plan, at, 0)
                })
                .collect();
            let (answer, mut end) = self.request("/webhook", &body, at);
            // The copies are answered as scripted (a status, in this burst), all at once.
            for (i, copy) in opened {
                let status = if let Answer::Status { status, .. } = copy { status } else { 200 };
                self.ledger.finish(i, Outcome::Answered { status }, at);
            }
            let Answer::Status { status, headers } = &answer else {
                at = self.next(end, failures + 1, None);
                if k.no_retry {
                    return end;
                }
                continue;
            };
            if (200..300).contains(status) {
                if k.resend {
                    (_, end) = self.request("/webhook", &body, end + 1);
                }
                return end;
            }
            if *status == 307 && k.follows_redirects {
                (_, end) = self.request(REDIRECT_TARGET_PATH, &body, end);
            }
            let gone_stops = k.after_gone.map_or(self.timing.policy.disables_at_once(410), |keep| !keep);
            if k.no_retry || (*status == 410 && gone_stops) {
                return end;
            }
            let retry_after =
                headers.iter().find(|(n, _)| n == "retry-after").map(|(_, v)| v.parse::<u64>().unwrap() * 1000);
            at = self.next(end, failures + 1, retry_after);
            if k.new_id_per_retry {
                id = self.fresh_id();
            }
        }
        unreachable!()
    }

    fn next(&self, end: u64, failures: u32, retry_after_ms: Option<u64>) -> u64 {
        let speed = if self.knobs.speed == 0.0 { 1.0 } else { self.knobs.speed };
        let backoff = (self.timing.backoff_ms(failures) as f64 * speed) as u64;
        let honour = self.knobs.retry_after.unwrap_or(self.timing.honours_retry_after());
        let delay = match retry_after_ms {
            Some(ra) if honour => backoff.max(ra),
            _ => backoff,
        };
        end + delay
    }

    /// Six events: five at once, the sixth (the 410) once they are done, as `--trigger` does.
    fn run(self) -> Vec<(String, Verdict)> {
        // Long after: every wait has ended.
        self.run_until(|end| end + 60_000).into_iter().map(|c| (c.name.to_string(), c.verdict)).collect()
    }

    /// Six events, graded as if the run ended at `end_ms(the last request's end)`; requests
    /// after that end are not in the ledger.
    fn run_until(mut self, end_ms: impl Fn(u64) -> u64) -> Vec<CheckResult> {
        let mut done = 0;
        for event in 1..=5 {
            done = done.max(self.deliver(event, event as u64));
        }
        let end = self.deliver(6, done + 10);
        let end_ms = end_ms(end);
        // Arrivals are recorded event by event, not in time order: keep those before the cut.
        let mut ledger = self.ledger.clone();
        let kept: Vec<bool> = ledger.arrivals.iter().map(|a| a.at_ms <= end_ms).collect();
        let new_index: Vec<usize> =
            kept.iter().scan(0, |n, k| Some(std::mem::replace(n, *n + usize::from(*k)))).collect();
        let mut i = 0;
        ledger.arrivals.retain(|_| (kept[i], i += 1).0);
        for e in &mut ledger.events {
            e.attempts = e.attempts.iter().filter(|a| kept[**a]).map(|a| new_index[*a]).collect();
        }
        ledger.events.retain(|e| !e.attempts.is_empty());
        for a in &mut ledger.arrivals {
            if a.ended_ms.is_some_and(|t| t > end_ms) {
                a.ended_ms = None;
                a.outcome = Outcome::Open;
            }
        }
        let ctx = Context { timing: &self.timing, plan: &self.plan, signing: false, end_ms, handshake: false };
        grade(&ledger, &ctx)
    }
}

fn failed(profile: Profile, knobs: Knobs) -> Vec<String> {
    let verdicts = Sim::new(profile, knobs).run();
    let not_observed: Vec<&String> =
        verdicts.iter().filter(|(n, v)| *v == Verdict::NotObserved && n != "signature").map(|(n, _)| n).collect();
    assert!(not_observed.is_empty() || knobs.no_retry, "{profile:?} {knobs:?}: {not_observed:?} not observed");
    verdicts.into_iter().filter(|(_, v)| *v == Verdict::Failed).map(|(n, _)| n).collect()
}

#[test]
fn a_correct_sender_passes_every_check_under_each_profile() {
    for profile in [Profile::Snapbill, Profile::StandardWebhooks, Profile::Svix, Profile::Stripe, Profile::Hook0] {
        assert_eq!(failed(profile, Knobs::default()), Vec::<String>::new(), "{profile:?}");
    }
}

#[test]
fn each_defect_fails_its_own_check_and_no_other() {
    let k = Knobs::default;
    let cases: Vec<(Profile, Knobs, &[&str])> = vec![
        (Profile::StandardWebhooks, Knobs { no_retry: true, ..k() }, &["retried"]),
        (Profile::Snapbill, Knobs { new_id_per_retry: true, ..k() }, &["same-id"]),
        (Profile::Snapbill, Knobs { one_id_for_all: true, ..k() }, &["distinct-ids"]),
        (Profile::Snapbill, Knobs { follows_redirects: true, ..k() }, &["redirect-not-followed"]),
        (Profile::StandardWebhooks, Knobs { retry_after: Some(false), ..k() }, &["retry-after"]),
        (Profile::Snapbill, Knobs { retry_after: Some(true), ..k() }, &["retry-after"]),
        (Profile::Snapbill, Knobs { speed: 0.1, ..k() }, &["schedule"]),
        // Too slow shows after the 429 as well: snapbill's retry there is its plain backoff.
        (Profile::Snapbill, Knobs { speed: 3.0, ..k() }, &["retry-after", "schedule"]),
        (Profile::Snapbill, Knobs { timeout_factor: 0.3, ..k() }, &["timeout"]),
        (Profile::Snapbill, Knobs { timeout_factor: 1.6, ..k() }, &["timeout"]),
        (Profile::Snapbill, Knobs { timeout_factor: -1.0, ..k() }, &["timeout"]),
        (Profile::Snapbill, Knobs { bad_envelope: true, ..k() }, &["envelope"]),
        (Profile::Snapbill, Knobs { burst: 8, ..k() }, &["concurrency"]),
        (Profile::StandardWebhooks, Knobs { after_gone: Some(true), ..k() }, &["gone"]),
        // Snapbill retries a 410 like any failure: stopping there is not retrying, too.
        (Profile::Snapbill, Knobs { after_gone: Some(false), ..k() }, &["retried", "gone"]),
        (Profile::Snapbill, Knobs { resend: true, ..k() }, &["stopped-after-2xx"]),
        (Profile::StandardWebhooks, Knobs { resend: true, ..k() }, &["stopped-after-2xx"]),
    ];
    for (profile, knobs, expected) in cases {
        assert_eq!(failed(profile, knobs), expected, "{profile:?} {expected:?}");
    }
}

#[test]
fn what_the_run_did_not_reach_is_not_observed_never_passed() {
    let sim = Sim::new(Profile::Snapbill, Knobs::default());
    let ctx = Context { timing: &sim.timing, plan: &sim.plan, signing: true, end_ms: 10, handshake: false };
    for c in grade(&sim.ledger, &ctx) {
        assert_eq!(c.verdict, Verdict::NotObserved, "{} with nothing arrived", c.name);
    }
    // The first event's 500 answered, the run over before its retry was due: not observed.
    let mut sim = Sim::new(Profile::Snapbill, Knobs::default());
    let body = sim.body("u", 1);
    sim.request("/webhook", &body, 0);
    let ctx = Context { timing: &sim.timing, plan: &sim.plan, signing: false, end_ms: 20, handshake: false };
    let results = grade(&sim.ledger, &ctx);
    let retried = results.iter().find(|c| c.name == "retried").unwrap();
    assert_eq!(retried.verdict, Verdict::NotObserved, "{}", retried.detail);
    assert_eq!(Failure::of_event(0), Some(Failure::ServerError));
}

#[test]
fn a_delivery_id_that_cannot_be_read_is_never_a_pass_of_distinct_ids() {
    let mut sim = Sim::new(Profile::Snapbill, Knobs::default());
    sim.reading.id = "/no-such-field".parse().unwrap();
    let results = sim.run_until(|end| end + 60_000);
    let distinct = results.iter().find(|c| c.name == "distinct-ids").unwrap();
    assert_eq!(distinct.verdict, Verdict::NotObserved, "{}", distinct.detail);
    let same = results.iter().find(|c| c.name == "same-id").unwrap();
    assert_eq!(same.verdict, Verdict::Failed, "{}", same.detail);
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (any::<[bool; 6]>(), prop::sample::select(vec![0.0, 0.1, 3.0]), prop::sample::select(vec![0.0, 0.3, -1.0]))
        .prop_map(|(b, speed, timeout_factor)| Knobs {
            no_retry: b[0],
            new_id_per_retry: b[1],
            one_id_for_all: b[2],
            follows_redirects: b[3],
            bad_envelope: b[4],
            resend: b[5],
            speed,
            timeout_factor,
            ..Knobs::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Nothing unobserved passes: whatever the sender does and wherever the run is cut short,
    /// every passed check saw something, and a check that saw nothing is not observed.
    #[test]
    fn every_passed_check_observed_something(
        knobs in knobs(),
        profile in prop::sample::select(Profile::ALL.to_vec()),
        cut in 0u64..20_000,
    ) {
        for c in Sim::new(profile, knobs).run_until(|_| cut) {
            if c.verdict != Verdict::NotObserved {
                prop_assert!(c.observed > 0, "{} {:?} with nothing observed: {}", c.name, c.verdict, c.detail);
            }
            if c.observed == 0 {
                prop_assert_eq!(c.verdict, Verdict::NotObserved, "{}: {}", c.name, c.detail);
            }
        }
    }
}

#[test]
fn a_late_schedule_names_the_connections_that_closed_before_a_whole_request() {
    let schedule = |unread: u64| {
        let mut sim = Sim::new(Profile::Snapbill, Knobs { speed: 3.0, ..Knobs::default() });
        sim.ledger.listener.unread_connections = unread;
        let results = sim.run_until(|end| end + 60_000);
        results.into_iter().find(|c| c.name == "schedule").unwrap()
    };
    // An attempt that hung up before its request was whole is invisible to the endpoint: the
    // failure says so, since it may be why a delay looks late.
    let with = schedule(2);
    assert_eq!(with.verdict, Verdict::Failed, "{}", with.detail);
    assert!(with.detail.contains("2 connection(s) closed before a whole request arrived"), "{}", with.detail);
    let without = schedule(0);
    assert_eq!(without.verdict, Verdict::Failed, "{}", without.detail);
    assert!(!without.detail.contains("closed before a whole request"), "{}", without.detail);
}
