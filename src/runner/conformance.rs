//! The conformance summary of a dispatcher run with `--dispatcher`: which of the seed's promises
//! it kept, judged by [`crate::properties::check`] over each finished run's trace (whatever the
//! scenario expected). A run the engine stopped is not judged (its failure is reported already),
//! and a promise no run judged is *not judged*: never kept, and never a success.

use super::ScenarioRun;
use crate::properties::Property;
use serde::Serialize;
use std::fmt::Write as _;

/// The promises, in the order the table shows them, each with the property that judges it.
const PROMISES: [(Property, &str); 10] = [
    (Property::NothingLost, "at least once (every event delivered, parked, refused or abandoned by the policy)"),
    (Property::NoAttemptAfterEnd, "at most once after success (no attempt after its delivery ended)"),
    (Property::BodyAtSendTime, "payload at send time"),
    (Property::StableUuid, "one uuid per delivery across retries, a different one per webhook"),
    (Property::DedupActsOnce, "a deduplicating receiver acts once"),
    (Property::WarnBeforeDisable, "warning after the threshold, disable only after the grace"),
    (Property::DisabledPastThreshold, "a webhook failing past the thresholds is warned, then disabled"),
    (Property::NoAttemptWhileDisabled, "nothing sent while disabled"),
    (Property::ParkedResumes, "parked deliveries resume when the webhook is enabled again"),
    (Property::LimitsKept, "limits kept (in flight and pending per webhook)"),
];

/// How a promise fared over the runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PromiseVerdict {
    /// Judged on at least one run, and no judged run broke it.
    Kept,
    /// At least one judged run broke it.
    Broken,
    /// No run was judged (every run stopped): nothing is known, so it is not kept.
    NotJudged,
}

/// One promise over all judged runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PromiseRow {
    /// The promise in words, e.g. `payload at send time`.
    pub promise: &'static str,
    /// Kept, broken, or not judged.
    pub verdict: PromiseVerdict,
    /// `verdict == Kept`: false when broken, and false when not judged.
    pub kept: bool,
    /// Runs judged (the runs that finished), and of those, the runs that kept and broke it.
    pub runs_judged: usize,
    /// Runs that kept it.
    pub runs_kept: usize,
    /// Runs that broke it.
    pub runs_broken: usize,
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
            let verdict = match (judged.len(), breaches.len()) {
                (0, _) => PromiseVerdict::NotJudged,
                (_, 0) => PromiseVerdict::Kept,
                _ => PromiseVerdict::Broken,
            };
            PromiseRow {
                promise,
                verdict,
                kept: verdict == PromiseVerdict::Kept,
                runs_judged: judged.len(),
                runs_kept: judged.len() - breaches.len(),
                runs_broken: breaches.len(),
                first_breach: breaches.first().map(|(r, v)| format!("{} on {}: {}", r.name, r.engine, v.signature())),
            }
        })
        .collect()
}

/// Every promise kept on at least one judged run: the only summary that is a success.
pub fn conformance_kept(runs: &[ScenarioRun]) -> bool {
    conformance(runs).iter().all(|row| row.verdict == PromiseVerdict::Kept)
}

/// The table for people. Each count says what it counts: `KEPT in all 37 judged runs`,
/// `BROKEN in 28 of 37 judged runs`, `NOT JUDGED: no run finished`.
pub fn render_conformance(runs: &[ScenarioRun]) -> String {
    let mut out = String::new();
    let command = runs.iter().find_map(|r| r.dispatcher.as_ref()).map_or("the reference core", |d| d.command.as_str());
    let stopped = runs.iter().filter(|r| r.error.is_some()).count();
    let _ = writeln!(out, "conformance of `{command}` (trace properties; {stopped} stopped run(s) not judged):");
    for row in conformance(runs) {
        let (verdict, count) = match row.verdict {
            PromiseVerdict::Kept => ("KEPT      ", format!("in all {} judged runs", row.runs_judged)),
            PromiseVerdict::Broken => {
                ("BROKEN    ", format!("in {} of {} judged runs", row.runs_broken, row.runs_judged))
            }
            PromiseVerdict::NotJudged => ("NOT JUDGED", "no run finished".to_string()),
        };
        let _ = write!(out, "  {verdict}  {:<82} {count}", row.promise);
        if let Some(first) = &row.first_breach {
            let _ = write!(out, "  first: {first}");
        }
        let _ = writeln!(out);
    }
    if stopped == runs.len() {
        let _ =
            writeln!(out, "nothing was judged: every run stopped before its end, so no promise is known to be kept");
    }
    out
}
