//! The conformance summary of a dispatcher run with `--dispatcher`: which of the seed's promises
//! it kept, judged by [`crate::properties::check`] over each finished run's trace (whatever the
//! scenario expected). A run the engine stopped is not judged (its failure is reported already).

use super::ScenarioRun;
use crate::properties::Property;
use serde::Serialize;
use std::fmt::Write as _;

/// The promises, in the order the table shows them, each with the property that judges it.
const PROMISES: [(Property, &str); 7] = [
    (Property::NothingLost, "at least once (every event delivered, parked, refused or abandoned by the policy)"),
    (Property::BodyAtSendTime, "payload at send time"),
    (Property::StableUuid, "one uuid per delivery across retries, a different one per webhook"),
    (Property::DedupActsOnce, "a deduplicating receiver acts once"),
    (Property::WarnBeforeDisable, "warning after the threshold, disable only after the grace"),
    (Property::NoAttemptWhileDisabled, "nothing sent while disabled"),
    (Property::ParkedResumes, "parked deliveries resume when the webhook is enabled again"),
];

/// One promise over all judged runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PromiseRow {
    pub promise: &'static str,
    pub kept: bool,
    /// Runs judged, and runs in which it held.
    pub runs: usize,
    pub runs_kept: usize,
    /// The first run that broke it: `<scenario> on <engine>: <signature>`.
    pub first_breach: Option<String>,
}

/// The table's rows for `runs` (only the finished runs are judged).
pub fn conformance(runs: &[ScenarioRun]) -> Vec<PromiseRow> {
    let judged: Vec<&ScenarioRun> = runs.iter().filter(|r| r.error.is_none()).collect();
    PROMISES
        .iter()
        .map(|(property, promise)| {
            let broken = |r: &&ScenarioRun| r.violations.iter().find(|v| v.breach.property() == *property).cloned();
            let breaches: Vec<_> = judged.iter().filter_map(|r| broken(r).map(|v| (*r, v))).collect();
            PromiseRow {
                promise,
                kept: breaches.is_empty(),
                runs: judged.len(),
                runs_kept: judged.len() - breaches.len(),
                first_breach: breaches.first().map(|(r, v)| format!("{} on {}: {}", r.name, r.engine, v.signature())),
            }
        })
        .collect()
}

/// The table for people.
pub fn render_conformance(runs: &[ScenarioRun]) -> String {
    let mut out = String::new();
    let command = runs.iter().find_map(|r| r.dispatcher.as_ref()).map_or("the reference core", |d| d.command.as_str());
    let stopped = runs.iter().filter(|r| r.error.is_some()).count();
    let _ = writeln!(out, "conformance of `{command}` (trace properties; {stopped} stopped run(s) not judged):");
    for row in conformance(runs) {
        let verdict = if row.kept { "KEPT  " } else { "BROKEN" };
        let _ = write!(out, "  {verdict}  {:<82} {:>3}/{:<3} runs", row.promise, row.runs_kept, row.runs);
        if let Some(first) = &row.first_breach {
            let _ = write!(out, "  first: {first}");
        }
        let _ = writeln!(out);
    }
    out
}
