//! Scenarios on the live shell (the `live` feature): the scenario's receivers bound to real
//! endpoints; expectations a binding cannot see are reported not verified, never passed.

use super::{Engine, NotVerified, ScenarioRun, run_on};
use crate::scenario::{Expectation, Failure, Scenario};
use crate::world::RunLimits;

/// Runs `scenario` with its receivers bound to real endpoints (the live shell). Expectations
/// about the acts of a receiver that has no effects URL are reported not verified.
pub fn run_scenario_live(
    scenario: &Scenario,
    bindings: &crate::live::Bindings,
    seed: Option<u64>,
    limits: RunLimits,
) -> ScenarioRun {
    run_scenario_live_with(scenario, bindings, seed, limits, &crate::live::LiveOptions::default())
}

/// [`run_scenario_live`] with `options` (the effects settle window, private certificate
/// authorities: `hooksim run --effects-quiet-ms --effects-wait-max-ms --ca-cert`).
pub fn run_scenario_live_with(
    scenario: &Scenario,
    bindings: &crate::live::Bindings,
    seed: Option<u64>,
    limits: RunLimits,
    options: &crate::live::LiveOptions,
) -> ScenarioRun {
    let (verifiable, not_verified) = split_unverifiable(scenario, bindings);
    let mut run = run_on(&verifiable, Engine::Live, seed, limits, |world| {
        crate::live::run_observed(world, bindings, limits, options).0
    });
    if verifiable.expectations.is_empty()
        && let Some(first) = not_verified.first()
    {
        run.failures.push(nothing_verified(first, not_verified.len()));
    }
    run.not_verified = not_verified;
    run.bindings = bindings.flags();
    run
}

/// The failure of a live run none of whose expectations could be checked: it judged nothing, and
/// nothing judged never passes (it is placed at the first expectation that was not verified).
fn nothing_verified(first: &NotVerified, count: usize) -> Failure {
    Failure {
        file: first.file.clone(),
        line: first.line,
        column: first.column,
        expected: "at least one expectation this run can check".into(),
        found: format!(
            "none: all {count} expectation(s) are about what the bound receivers did, and none could be seen \
             ({}); give --effects NAME=URL for each bound receiver",
            first.why
        ),
        excerpt: Vec::new(),
    }
}

/// The scenario without the expectations the bindings cannot check, and those expectations.
fn split_unverifiable(scenario: &Scenario, bindings: &crate::live::Bindings) -> (Scenario, Vec<NotVerified>) {
    let mut verifiable = scenario.clone();
    let mut not_verified = Vec::new();
    verifiable.expectations.retain(|e| {
        let (subject, receiver) = match &e.value {
            Expectation::Acted { receiver, .. } => ("acted", receiver),
            Expectation::Skipped { receiver, .. } => ("skipped", receiver),
            Expectation::Rejected { receiver, .. } => ("rejected", receiver),
            _ => return true,
        };
        let Some(binding) = bindings.get(receiver) else { return true };
        let why = if subject == "rejected" {
            // The effects contract lists acts; a real receiver's signature checks leave no record.
            format!("`rejected = \"{receiver}\"`: a real receiver's signature rejections are not recorded anywhere hooksim can read")
        } else if binding.effects.is_none() {
            format!("`{subject} = \"{receiver}\"`: receiver {receiver} has no --effects URL, so what it did cannot be seen")
        } else {
            return true;
        };
        not_verified.push(NotVerified { file: scenario.file.clone(), line: e.line, column: e.column, why });
        false
    });
    (verifiable, not_verified)
}
