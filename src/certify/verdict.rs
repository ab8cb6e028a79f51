//! Grading: a case's answers and the effects list give its verdict and the detail behind it.

use super::effects::{EffectRecord, Effects};
use super::script::{Acts, Sent};
use serde::Serialize;

/// Passed, failed, or (a case about side effects without a readable effects list) not verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    NotVerified,
}

/// A failed answer decides at once; then wrong effects fail; then missing effects leave the
/// case not verified.
pub fn grade(sent: &Sent, effects: &Effects) -> (Verdict, String) {
    if !sent.failures.is_empty() {
        return (Verdict::Failed, sent.failures.join("; "));
    }
    let mut wrong = Vec::new();
    let mut unseen = false;
    let mut seen = Vec::new();
    for e in &sent.expects {
        match effects.for_uuid(e.uuid) {
            Some(records) if records.len() == e.acts.count() => {
                let times = if e.acts == Acts::Never { "not acted on" } else { "acted on once" };
                seen.push(format!("{} {times}", e.what));
            }
            Some(records) => wrong.push(format!(
                "{} was acted on {} time(s), expected {}{}",
                e.what,
                records.len(),
                if e.acts == Acts::Never { "never" } else { "once" },
                actions(&records)
            )),
            None => unseen |= e.essential,
        }
    }
    if !wrong.is_empty() {
        return (Verdict::Failed, wrong.join("; "));
    }
    if let (true, Effects::Unavailable(why)) = (unseen, effects) {
        return (Verdict::NotVerified, format!("answers were 2xx, but effects are unknown: {why}"));
    }
    let mut detail = sent.notes.clone();
    detail.extend(seen);
    (Verdict::Passed, detail.join("; "))
}

/// ` (fulfil invoice 9, fulfil invoice 9)` when the receiver named its actions.
fn actions(records: &[&EffectRecord]) -> String {
    let named: Vec<&str> = records.iter().filter_map(|r| r.action.as_deref()).collect();
    if named.is_empty() { String::new() } else { format!(" ({})", named.join(", ")) }
}
