//! Negative controls for the signing and status scenarios of the library: each scenario, run with
//! one rule taken away (a receiver that no longer verifies, a sender that signs with another key,
//! a receiver that no longer asks to slow down), fails the expectations meant to catch it, on both
//! engines. Together with the scenarios passing (`tests/scenario_library.rs`), this shows that
//! they pass because of the rule.

use hooksim::runner::{Engine, run_scenario};
use hooksim::scenario::{Scenario, load_file};
use hooksim::world::{Answer, Behaviour, Reply};

const ENGINES: [Engine; 2] = [Engine::Model, Engine::Net];

fn scenario(name: &str) -> Scenario {
    let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    load_file(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"))
}

/// The expectations that failed, on each engine (the same on both).
fn failed(scenario: &Scenario) -> Vec<String> {
    let mut per_engine = ENGINES.map(|engine| {
        let run = run_scenario(scenario, engine, None);
        assert!(run.error.is_none(), "{engine}: {:?}", run.error);
        run.failures.iter().map(|f| f.expected.clone()).collect::<Vec<_>>()
    });
    let net = per_engine[1].clone();
    assert_eq!(per_engine[0], net, "the engines catch the same defect");
    std::mem::take(&mut per_engine[0])
}

#[test]
fn receivers_that_do_not_verify_fail_the_signing_scenarios() {
    for name in ["signing-wrong-secret-warned", "signing-unsigned-rejected", "signing-stale-timestamp"] {
        let mut s = scenario(name);
        assert!(failed(&s).is_empty(), "{name} passes as written");
        s.world.signing.receivers.clear();
        let failures = failed(&s);
        assert!(failures.iter().any(|f| f.contains("to reject")), "{name}: {failures:?}");
        assert!(failures.iter().any(|f| f.contains("to act")), "{name}: {failures:?}");
    }
}

#[test]
fn a_sender_that_signs_with_another_key_is_rejected_where_it_was_accepted() {
    let mut s = scenario("signed-svix-verified");
    let sender = s.world.signing.sender.as_mut().unwrap();
    sender.keys[0].secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".into();
    let failures = failed(&s);
    assert!(failures.iter().any(|f| f.contains("receiver shop to reject no requests")), "{failures:?}");
    assert!(failures.iter().any(|f| f.contains("receiver shop to act exactly 1 time")), "{failures:?}");
}

#[test]
fn a_rotation_without_overlap_loses_the_receiver_that_kept_the_old_key() {
    let mut s = scenario("signing-rotation-mid-retry");
    let sender = s.world.signing.sender.as_mut().unwrap();
    sender.keys[0].until = Some(sender.keys[1].from);
    let failures = failed(&s);
    assert!(failures.iter().any(|f| f.contains("receiver old to reject no requests")), "{failures:?}");
}

#[test]
fn without_retry_after_the_svix_retry_comes_at_the_backoff() {
    for name in ["retry-after-429-svix", "retry-after-503-date-svix", "retry-after-capped-svix"] {
        let mut s = scenario(name);
        let shop = &mut s.world.receivers[0];
        let Answer::StatusRetryAfter(code, _) = shop.behaviour.replies[0].answer else { panic!("{name}") };
        shop.behaviour = Behaviour { replies: vec![Reply::status(code)], then: Reply::OK };
        let failures = failed(&s);
        assert!(failures.iter().any(|f| f.contains("successful delivery")), "{name}: {failures:?}");
    }
}
