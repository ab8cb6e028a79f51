//! The properties over seeded random fault worlds on the model engine: a small, in-test
//! version of what `hooksim explore` does by the million. Each seed builds a world (a failing or
//! flaky shop, invoices changing while deliveries retry, partitions, holds, crashes and restarts
//! of every host, a re-enable) and every property is checked on its trace.

use hooksim::domain::{Change, Client, Invoice, InvoiceState, WebhookId};
use hooksim::policy::Profile;
use hooksim::properties::{PropertyContext, check};
use hooksim::receiver::ReceiverKind;
use hooksim::time::{DAY_MS, HOUR_MS, MINUTE_MS, SimTime};
use hooksim::world::sample::shop_webhook;
use hooksim::world::{Action, Answer, Behaviour, Host, ReceiverSpec, Reply, Step, World};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Breaches of the current core that a pending change fixes, with where it is tracked: found
/// here, they are counted and printed, not failed. Anything else fails the test.
/// Violations tolerated while a known defect waits for its fix (signature, why); empty: every
/// property holds in every world.
const KNOWN: &[(&str, &str)] = &[];

const SEEDS: u64 = 300;

fn reply(rng: &mut ChaCha8Rng) -> Reply {
    let answer = match rng.random_range(0..6) {
        0 | 1 => Answer::Status(200),
        2 => Answer::Status(500),
        3 => Answer::ActThenStatus(500),
        4 => Answer::ActThenDrop,
        _ => Answer::Drop,
    };
    let latency_ms = if rng.random_bool(0.1) { 40_000 } else { rng.random_range(0..50) };
    Reply { answer, latency_ms }
}

fn behaviour(rng: &mut ChaCha8Rng) -> Behaviour {
    let replies = (0..rng.random_range(0..4)).map(|_| reply(rng)).collect();
    let then = if rng.random_bool(0.5) { Reply::status(500) } else { reply(rng) };
    Behaviour { replies, then }
}

fn host(rng: &mut ChaCha8Rng) -> Host {
    match rng.random_range(0..3) {
        0 => Host::Dispatcher,
        1 => Host::Mail,
        _ => Host::Receiver("shop".into()),
    }
}

/// A fault that starts at `at` and, usually, ends `for_ms` later.
fn fault(rng: &mut ChaCha8Rng, at: u64, for_ms: u64, steps: &mut Vec<(u64, Action)>) {
    let (start, end) = match rng.random_range(0..3) {
        0 => {
            let h = host(rng);
            (Action::Crash(h.clone()), Action::Restart(h))
        }
        1 => {
            let one_way = rng.random_bool(0.5);
            let (from, to) = (Host::Dispatcher, Host::Receiver("shop".into()));
            let (from, to) = if rng.random_bool(0.5) { (from, to) } else { (to, from) };
            (Action::Partition { from: from.clone(), to: to.clone(), one_way }, Action::Repair { a: from, b: to })
        }
        _ => {
            let (a, b) = (Host::Dispatcher, host(rng));
            if a == b {
                return;
            }
            (Action::Hold { a: a.clone(), b: b.clone() }, Action::Release { a, b })
        }
    };
    steps.push((at, start));
    if rng.random_bool(0.85) {
        steps.push((at + for_ms, end));
    }
}

fn world(seed: u64) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let run_for_ms = rng.random_range(HOUR_MS..12 * DAY_MS);
    let at = |rng: &mut ChaCha8Rng| rng.random_range(0..run_for_ms);
    let client = Client { id: 1, name: "Ada".into(), email: "ada@example.com".into() };
    let mut steps = vec![(0, Action::Change(Change::AddClient(client)))];
    let invoices = rng.random_range(1..5u64);
    for id in 1..=invoices {
        let t = at(&mut rng);
        let invoice =
            Invoice { id, number: format!("INV-{id}"), client_id: 1, total_cents: 100, state: InvoiceState::Unpaid };
        steps.push((t, Action::Change(Change::AddInvoice(invoice))));
        let mut later = t;
        for state in [InvoiceState::Paid, InvoiceState::Cancelled] {
            if rng.random_bool(0.6) {
                later += rng.random_range(MINUTE_MS..2 * DAY_MS);
                steps.push((later, Action::Change(Change::SetInvoiceState { id, state })));
            }
        }
    }
    for _ in 0..rng.random_range(0..5) {
        let (t, d) = (at(&mut rng), rng.random_range(MINUTE_MS..3 * DAY_MS));
        fault(&mut rng, t, d, &mut steps);
    }
    for _ in 0..rng.random_range(0..3) {
        let t = at(&mut rng);
        steps.push((t, Action::Behave { receiver: "shop".into(), behaviour: behaviour(&mut rng) }));
    }
    if rng.random_bool(0.3) {
        steps.push((at(&mut rng), Action::EnableWebhook(WebhookId(0))));
    }
    // Changes must come in an order the store accepts: stable by time, then fix up any
    // invoice state change before its invoice.
    steps.sort_by_key(|(t, _)| *t);
    let mut added = std::collections::BTreeSet::new();
    let mut timeline = Vec::new();
    for (t, a) in steps {
        match &a {
            Action::Change(Change::AddInvoice(i)) => {
                added.insert(i.id);
            }
            Action::Change(Change::SetInvoiceState { id, .. }) if !added.contains(id) => continue,
            _ => {}
        }
        timeline.push(Step { at: SimTime::from_millis(t), action: a });
    }
    let profile = [Profile::Snapbill, Profile::Stripe, Profile::Svix][rng.random_range(0..3)];
    World {
        name: format!("random world {seed}"),
        seed,
        policy: profile.policy(),
        webhooks: vec![shop_webhook()],
        receivers: vec![ReceiverSpec {
            host: "shop".into(),
            kind: ReceiverKind::Dedup,
            behaviour: behaviour(&mut rng),
        }],
        timeline,
        run_for_ms,
        latency_ms: (1, 20),
        signing: Default::default(),
    }
}

#[test]
fn random_fault_worlds_keep_every_property() {
    let mut tally: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
    let mut unknown = Vec::new();
    for seed in 0..SEEDS {
        let w = world(seed);
        let out = match hooksim::model::run(&w) {
            Ok(out) => out,
            Err(e) => panic!("seed {seed}: the engine refused the world: {e}"),
        };
        for v in check(&out.trace, &PropertyContext::from_world(&w)) {
            tally.entry(v.signature()).or_default().push(seed);
            if !KNOWN.iter().any(|(s, _)| *s == v.signature()) {
                unknown.push(format!("seed {seed}: {v}"));
            }
        }
    }
    for (sig, seeds) in &tally {
        let why = KNOWN.iter().find(|(s, _)| s == sig).map_or("", |(_, w)| w);
        println!("{sig}: {} violations, seeds {:?} {why}", seeds.len(), &seeds[..seeds.len().min(10)]);
    }
    assert!(unknown.is_empty(), "\n{}", unknown.join("\n"));
}

#[test]
#[ignore = "a look at one seed: SEED=n cargo test --test properties_random_worlds -- --ignored --nocapture"]
fn show_one_seed() {
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let w = world(seed);
    for s in &w.timeline {
        println!("{} {}", s.at, s.action);
    }
    let out = hooksim::model::run(&w).unwrap();
    let ctx = PropertyContext::from_world(&w);
    for v in check(&out.trace, &ctx) {
        println!("{v}");
        for &i in &v.entries {
            println!("    {}", serde_json::to_string(&out.trace.entries()[i]).unwrap());
        }
    }
    println!("{:?}", hooksim::properties::fates(&out.trace, &ctx));
}
