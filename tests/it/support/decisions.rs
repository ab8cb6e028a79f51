//! A run's decisions, to compare the live shell with the simulated engines.

use hooksim::runner::ScenarioRun;
use std::collections::BTreeMap;

/// Every trace entry with its times and free-text reasons taken out, counted: the decisions of
/// a run whatever their order among concurrent receivers and whatever the real network's
/// milliseconds (and why a receiver skipped: the live shell only sees that it did).
pub fn decisions(run: &ScenarioRun) -> BTreeMap<String, usize> {
    let mut counted = BTreeMap::new();
    for entry in run.trace.entries() {
        let mut value = serde_json::to_value(&entry.event).unwrap();
        for timing in ["due", "failing_since", "retry_at", "why"] {
            value.as_object_mut().map(|o| o.remove(timing));
        }
        *counted.entry(value.to_string()).or_default() += 1;
    }
    counted
}
