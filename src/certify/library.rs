//! The certification library: scenario files in `certification/` (readable, runnable with
//! `hooksim run` on any engine) shipped inside the binary, and how one becomes the world a
//! certification run plays against a real receiver.
//!
//! A certification scenario has one webhook and one receiver, both named `shop`; the receiver is
//! bound to `--url` (and `--effects-url`). Expectations about an event named `control` are the
//! case's precondition: the receiver must act on a plain delivery for the rest to mean anything,
//! so when they fail the case is not verified rather than passed.

use crate::domain::Change;
use crate::policy::PolicyError;
use crate::provider::Provider;
use crate::scenario::{Expectation, Scenario, load_str};
use crate::world::Action;

/// The receiver (and webhook) every certification scenario names.
pub const RECEIVER: &str = "shop";
/// The step name of a case's control event.
pub const CONTROL: &str = "control";

/// `(file name, text)` of every certification scenario, in the order cases run.
pub const FILES: &[(&str, &str)] = &[
    ("valid-delivery.toml", include_str!("../../certification/valid-delivery.toml")),
    ("unhandled-path.toml", include_str!("../../certification/unhandled-path.toml")),
    ("redelivery-once.toml", include_str!("../../certification/redelivery-once.toml")),
    ("concurrent-redelivery-once.toml", include_str!("../../certification/concurrent-redelivery-once.toml")),
    ("paid-carrying-cancelled.toml", include_str!("../../certification/paid-carrying-cancelled.toml")),
    ("out-of-order.toml", include_str!("../../certification/out-of-order.toml")),
    ("paid-failing-for-days.toml", include_str!("../../certification/paid-failing-for-days.toml")),
    (
        "lost-answer-redelivered-hours-later.toml",
        include_str!("../../certification/lost-answer-redelivered-hours-later.toml"),
    ),
    ("burst-while-retry-held.toml", include_str!("../../certification/burst-while-retry-held.toml")),
];

/// The text of the library file `name` (`valid-delivery.toml`).
pub fn text(file: &str) -> Option<&'static str> {
    FILES.iter().find(|(f, _)| *f == file).map(|(_, t)| *t)
}

/// Loads a shipped file. The files are checked by the test suite, so an error here is a bug of
/// the build, reported as such rather than a panic.
pub fn load(file: &str) -> Result<Scenario, String> {
    let text = text(file).ok_or_else(|| format!("no certification scenario {file}"))?;
    load_str(format!("certification/{file}"), text).map_err(|e| format!("certification/{file}: {e}"))
}

/// The scenario as a run against a real receiver plays it: its own seed (derived from the run's
/// and the case's place, so no two cases share a uuid), the sender's attempt timeout, and entity
/// ids moved by `id_offset` (so runs with different seeds never meet the same invoice, and a
/// receiver that remembers invoices is not confused by an earlier run).
pub fn prepare(mut scenario: Scenario, seed: u64, timeout_ms: u64, id_offset: u64) -> Result<Scenario, PolicyError> {
    let world = &mut scenario.world;
    world.seed = seed;
    let mut spec = world.policy.spec().clone();
    spec.attempt_timeout_ms = timeout_ms;
    world.policy = spec.build()?;
    for step in &mut world.timeline {
        if let Action::Change(change) = &mut step.action {
            offset_change(change, id_offset);
        }
    }
    for e in &mut scenario.expectations {
        if let Expectation::Acted { action: Some(action), .. } = &mut e.value {
            *action = offset_action(action, id_offset);
        }
    }
    Ok(scenario)
}

fn offset_change(change: &mut Change, by: u64) {
    match change {
        Change::AddClient(c) | Change::UpdateClient(c) => c.id += by,
        Change::AddInvoice(inv) => {
            inv.id += by;
            inv.client_id += by;
        }
        Change::SetInvoiceState { id, .. } => *id += by,
    }
}

/// `fulfil invoice 401` → `fulfil invoice 1401` (an action names its entity last).
fn offset_action(action: &str, by: u64) -> String {
    match action.rsplit_once(' ') {
        Some((head, id)) => match id.parse::<u64>() {
            Ok(n) => format!("{head} {}", n + by),
            Err(_) => action.to_string(),
        },
        None => action.to_string(),
    }
}

/// The scenario as `provider` delivers it (`--provider`): every attempt in the pack's shape,
/// and the expectations about SnapBill's envelope (a `body` filter: `body.invoice.state`) left
/// out, since they describe its rendering at send time (the SnapBill run grades them). Acts,
/// answers and counts are graded as they are.
pub fn in_shape(mut scenario: Scenario, provider: Provider) -> Scenario {
    if provider == Provider::Snapbill {
        return scenario;
    }
    scenario.world.provider = provider;
    scenario.expectations.retain(|e| {
        !matches!(&e.value, Expectation::Delivered { body: Some(_), .. } | Expectation::Attempts { body: Some(_), .. })
    });
    scenario
}

/// The event id of the scenario's `control` step, if it has one.
pub fn control_event(scenario: &Scenario) -> Option<u64> {
    scenario.events.iter().find(|e| e.name.as_deref() == Some(CONTROL)).map(|e| e.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_file_loads_and_names_the_shop() {
        for (file, _) in FILES {
            let s = load(file).unwrap();
            assert!(s.world.receiver(RECEIVER).is_some(), "{file}");
            assert_eq!(s.world.name, file.trim_end_matches(".toml"), "the case is named as its file");
        }
    }

    #[test]
    fn in_a_providers_shape_the_envelope_expectations_are_left_out() {
        let s = load("out-of-order.toml").unwrap();
        let n = s.expectations.len();
        let shaped = in_shape(s.clone(), Provider::Stripe);
        assert_eq!(shaped.world.provider, Provider::Stripe);
        assert_eq!(shaped.expectations.len(), n - 1, "the one about `body.invoice.state`");
        assert_eq!(in_shape(s, Provider::Snapbill).expectations.len(), n);
    }

    #[test]
    fn ids_move_together_in_changes_and_expected_actions() {
        let s = prepare(load("paid-carrying-cancelled.toml").unwrap(), 9, 1_000, 10_000).unwrap();
        assert_eq!(s.world.seed, 9);
        assert_eq!(s.world.policy.attempt_timeout_ms(), 1_000);
        let actions: Vec<String> = s
            .expectations
            .iter()
            .filter_map(|e| match &e.value {
                Expectation::Acted { action, .. } => action.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(actions, ["fulfil invoice 10501", "fulfil invoice 10502"]);
        assert!(control_event(&s).is_some());
    }
}
