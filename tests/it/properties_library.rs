//! Every library scenario's trace on the model engine keeps every property of every world,
//! under several seeds, with the exact store replay and with only what the trace implies; and
//! on the network engine.

use hooksim::properties::{PropertyContext, check, fates};
use hooksim::scenario::{discover, load_file};

#[test]
fn the_library_keeps_every_property_on_the_model_engine() {
    let mut problems = Vec::new();
    let mut deliveries = 0;
    let mut seen = std::collections::BTreeMap::new();
    for f in discover(&["scenarios"]) {
        let mut scenario = load_file(&f).unwrap();
        for seed in [scenario.world.seed, 1, 0xdead_beef] {
            scenario.world.seed = seed;
            let out = hooksim::model::run(&scenario.world).unwrap();
            let exact = PropertyContext::from_world(&scenario.world);
            let implied = PropertyContext { changes: None, ..exact.clone() };
            for ctx in [&exact, &implied] {
                for v in check(&out.trace, ctx) {
                    problems.push(format!("{} seed {seed}: {v}", f.display()));
                }
            }
            let fates = fates(&out.trace, &exact);
            for (_, fate) in &fates {
                *seen.entry(format!("{fate:?}").split('(').next().unwrap().to_string()).or_insert(0) += 1;
            }
            deliveries += fates.len();
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    println!("fates: {seen:?}");
    assert!(!seen.contains_key("Stuck"));
    for fate in ["Delivered", "Abandoned", "Parked", "Pending"] {
        assert!(seen.contains_key(fate), "no library delivery ends {fate}: the check of that fate is untested");
    }
    assert!(deliveries > 50, "only {deliveries} deliveries checked");
}

/// The network engine's traces keep them too: its timing differs, its semantics do not.
#[test]
fn the_library_keeps_every_property_on_the_network_engine() {
    let mut problems = Vec::new();
    for f in discover(&["scenarios"]) {
        let scenario = load_file(&f).unwrap();
        let out = hooksim::net::run(&scenario.world).unwrap();
        for v in check(&out.trace, &PropertyContext::from_world(&scenario.world)) {
            problems.push(format!("{}: {v}", f.display()));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
