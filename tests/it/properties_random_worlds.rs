//! The properties over seeded random fault worlds on the model engine: a small, in-test
//! version of what `hooksim explore` does by the million, with explore's own generator of worlds
//! (`hooksim::explore::nemesis`: one to three receivers of every kind and reply mix, invoices
//! changing while deliveries retry, partitions both ways and one way, holds, crashes and
//! restarts of every host, latency changes, re-enables, three profiles). Every property is
//! checked on each trace.

use hooksim::explore::nemesis::{Rates, world};
use hooksim::properties::{PropertyContext, check};
use std::collections::BTreeMap;

/// Violations tolerated while a known defect waits for its fix (signature, why); empty: every
/// property holds in every world.
const KNOWN: &[(&str, &str)] = &[];

const SEEDS: u64 = 300;

#[test]
fn random_fault_worlds_keep_every_property() {
    let mut tally: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
    let mut unknown = Vec::new();
    let rates = Rates::default();
    for seed in 0..SEEDS {
        let w = world(seed, None, &rates);
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

/// The generator reaches what the properties are about: over the seeds, some worlds warn,
/// disable, re-enable, abandon, act on redeliveries, crash each kind of host and lose answers.
#[test]
fn the_worlds_cover_the_faults_and_fates_the_properties_are_about() {
    use hooksim::trace::TraceEvent;
    use hooksim::world::{Action, Answer, Host};
    let rates = Rates::default();
    let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
    for seed in 0..SEEDS {
        let w = world(seed, None, &rates);
        let mut mark = |what: &'static str| *seen.entry(what).or_default() += 1;
        for s in &w.timeline {
            match &s.action {
                Action::Crash(Host::Dispatcher) => mark("dispatcher crash"),
                Action::Crash(Host::Mail) => mark("mail crash"),
                Action::Crash(Host::Receiver(_)) => mark("receiver crash"),
                Action::Partition { one_way: true, .. } => mark("one-way partition"),
                Action::Partition { one_way: false, .. } => mark("partition"),
                Action::Hold { .. } => mark("hold"),
                Action::Behave { behaviour, .. }
                    if behaviour.replies.iter().any(|r| r.answer == Answer::ActThenDrop) =>
                {
                    mark("lost answer")
                }
                _ => {}
            }
        }
        for e in hooksim::model::run(&w).unwrap().trace.entries() {
            match &e.event {
                TraceEvent::WarningSent { .. } => mark("warning"),
                TraceEvent::WebhookDisabled { .. } => mark("disable"),
                TraceEvent::WebhookEnabled { .. } => mark("enable"),
                TraceEvent::DeliveryAbandoned { .. } => mark("abandoned"),
                TraceEvent::ReceiverSkipped { .. } => mark("receiver skipped"),
                TraceEvent::DispatcherRestarted => mark("dispatcher restarted"),
                _ => {}
            }
        }
    }
    let wanted = [
        "dispatcher crash",
        "mail crash",
        "receiver crash",
        "one-way partition",
        "partition",
        "hold",
        "lost answer",
        "warning",
        "disable",
        "enable",
        "abandoned",
        "receiver skipped",
        "dispatcher restarted",
    ];
    let missing: Vec<&&str> = wanted.iter().filter(|w| !seen.contains_key(**w)).collect();
    assert!(missing.is_empty(), "never generated in {SEEDS} seeds: {missing:?} (seen: {seen:?})");
}

#[test]
#[ignore = "a look at one seed: SEED=n cargo test --test it properties_random_worlds::show_one_seed -- --ignored --nocapture"]
fn show_one_seed() {
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let w = world(seed, None, &Rates::default());
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
