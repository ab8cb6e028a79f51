//! The certification report: a human table, JSON, and JUnit XML for CI.

use super::Limits;
use super::case::{CaseInfo, Group};
use super::verdict::Verdict;
use serde::Serialize;
use std::fmt::Write as _;

/// One case's line in the report.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// The case's name, e.g. `redelivery-once`.
    pub name: &'static str,
    /// What it is about.
    pub group: Group,
    /// What it checks, in a sentence.
    pub checks: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// Its verdict.
    pub verdict: Verdict,
    /// What was seen, in words.
    pub detail: String,
    /// How to fix a failure, derived from it; also shown for a case not verified.
    pub fix: String,
    /// What the case saw of the receiver: a case passes only on answers it observed.
    pub observed: Observed,
}

/// The evidence behind a verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// Requests sent to the receiver.
    pub requests: usize,
    /// Requests it answered with a status line.
    pub answers: usize,
}

impl CaseResult {
    /// The case was not played: the run stopped before it (`why`).
    pub fn not_run(info: CaseInfo, why: &str) -> CaseResult {
        let detail = format!("not run: the run stopped before this case: {why}");
        CaseResult::with_fix(info, Verdict::NotRun, detail, String::new())
    }

    /// With the evidence it was graded on. A case cannot pass on nothing: with no answer
    /// observed, a verdict of passed becomes not verified ("not observed").
    pub fn observing(mut self, observed: Observed) -> CaseResult {
        self.observed = observed;
        if self.verdict == Verdict::Passed && observed.answers == 0 {
            self.verdict = Verdict::NotVerified;
            self.detail = format!("not observed: the receiver answered no request of this case; {}", self.detail);
        }
        self
    }

    /// With the case's own advice for a failure.
    pub fn new(info: CaseInfo, verdict: Verdict, detail: String) -> CaseResult {
        let fix = match verdict {
            Verdict::Passed => "",
            Verdict::Failed => info.fix,
            Verdict::NotVerified => NOT_VERIFIED_FIX,
            Verdict::NotRun => "",
        };
        CaseResult::with_fix(info, verdict, detail, fix.to_string())
    }

    pub(crate) fn with_fix(info: CaseInfo, verdict: Verdict, detail: String, fix: String) -> CaseResult {
        let observed = Observed::default();
        CaseResult {
            name: info.name,
            group: info.group,
            checks: info.checks,
            why: info.why,
            verdict,
            detail,
            fix,
            observed,
        }
    }
}

pub(crate) const NOT_VERIFIED_FIX: &str =
    "serve the effects contract (docs/certify.md) and pass its URL with --effects-url";

/// A receiver's certificate: every case's verdict with its detail and how to fix it (`--json`).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The URL deliveries were POSTed to.
    pub url: String,
    /// The effects contract's URL, if given.
    pub effects_url: Option<String>,
    /// The seed the deliveries were drawn from.
    pub seed: u64,
    /// The per-request limits in force.
    pub limits: Limits,
    /// Why the run stopped before its last case (the receiver answered nothing), if it did.
    pub stopped: Option<String>,
    /// Whose deliveries were sent (`--provider`); absent from the JSON for SnapBill's, the
    /// default, so a SnapBill report reads as it always did.
    #[serde(skip_serializing_if = "is_snapbill", serialize_with = "provider_name")]
    pub provider: crate::provider::Provider,
    /// The simulated provider API's base URL (`--provider P` with an API), where the receiver
    /// reads an invoice as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// One result per case, in the order they ran.
    pub cases: Vec<CaseResult>,
}

fn is_snapbill(p: &crate::provider::Provider) -> bool {
    *p == crate::provider::Provider::Snapbill
}

fn provider_name<S: serde::Serializer>(p: &crate::provider::Provider, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.name())
}

impl Report {
    /// How many cases have this verdict.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.cases.iter().filter(|c| c.verdict == verdict).count()
    }

    /// True when some case failed (cases not verified are not failures).
    pub fn has_failures(&self) -> bool {
        self.count(Verdict::Failed) > 0
    }

    /// True when the receiver earned a pass: no case failed and at least one case passed. A run
    /// whose every case was not verified or not run judged nothing, and nothing judged is never a
    /// success on its own.
    pub fn certified(&self) -> bool {
        !self.has_failures() && self.count(Verdict::Passed) > 0
    }

    /// The result of the case with this name, e.g. `redelivery-once`.
    pub fn case(&self, name: &str) -> Option<&CaseResult> {
        self.cases.iter().find(|c| c.name == name)
    }

    /// The report as pretty JSON (`--json`).
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as JUnit XML (`--junit`): a failed case is a `<failure>`, one not verified or not
    /// run `<skipped>`.
    pub fn to_junit(&self) -> Result<String, quick_junit::SerializeError> {
        use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
        let mut suite = TestSuite::new("hooksim certify receiver");
        for c in &self.cases {
            let status = match c.verdict {
                Verdict::Passed => TestCaseStatus::success(),
                Verdict::Failed => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(c.detail.as_str()).set_description(format!("fix: {}", c.fix));
                    s
                }
                Verdict::NotVerified => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("not verified: {}", c.detail));
                    s
                }
                Verdict::NotRun => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(c.detail.as_str());
                    s
                }
            };
            let mut case = TestCase::new(c.name, status);
            case.set_classname(self.url.as_str()).set_system_out(format!("checks: {}\nwhy: {}", c.checks, c.why));
            suite.add_test_case(case);
        }
        let mut report = quick_junit::Report::new("hooksim");
        report.add_test_suite(suite);
        report.to_string()
    }

    /// The table people read: case, verdict, detail, how to fix; long cells wrap.
    pub fn to_table(&self) -> String {
        let effects = self.effects_url.as_deref().unwrap_or("none");
        let provider = match self.provider {
            crate::provider::Provider::Snapbill => String::new(),
            p => format!("; as {p} delivers"),
        };
        let api = self.api_url.as_ref().map(|u| format!("; provider API: {u}")).unwrap_or_default();
        let mut out = format!(
            "hooksim certify receiver {} (effects: {effects}; seed {}; timeout {} ms{provider}{api})\n\n",
            self.url, self.seed, self.limits.timeout_ms
        );
        if let Some(why) = &self.stopped {
            // The reason first: twelve "not run" rows say less than this line.
            let _ = writeln!(out, "STOPPED: {why}; {} case(s) after it were not run\n", self.count(Verdict::NotRun));
        }
        let name_w = self.cases.iter().map(|c| c.name.len()).max().unwrap_or(4).max(4);
        let rows = self
            .cases
            .iter()
            .map(|c| [c.name.to_string(), verdict_word(c.verdict).to_string(), c.detail.clone(), c.fix.clone()]);
        let header = ["CASE", "VERDICT", "DETAIL", "HOW TO FIX"].map(String::from);
        let widths = [name_w, 12, DETAIL_W, FIX_W];
        for row in std::iter::once(header).chain(rows) {
            write_row(&mut out, &row, &widths);
        }
        let _ = writeln!(
            out,
            "\n{} passed, {} failed, {} not verified{}",
            self.count(Verdict::Passed),
            self.count(Verdict::Failed),
            self.count(Verdict::NotVerified),
            match self.count(Verdict::NotRun) {
                0 => String::new(),
                n => format!(", {n} not run"),
            }
        );
        let unchecked: Vec<&str> =
            self.cases.iter().filter(|c| c.verdict == Verdict::NotVerified).map(|c| c.name).collect();
        if !unchecked.is_empty() {
            // Loud: exit 0 with cases unchecked must not read as a pass in a CI log.
            let _ = writeln!(
                out,
                "NOT VERIFIED: {} case(s) were not checked ({}): they did not pass. Serve the effects \
                 contract and give --effects-url (and --require-effects in CI)",
                unchecked.len(),
                unchecked.join(", ")
            );
        }
        out
    }
}

pub(crate) const DETAIL_W: usize = 60;
pub(crate) const FIX_W: usize = 50;

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "passed",
        Verdict::Failed => "FAILED",
        Verdict::NotVerified => "not verified",
        Verdict::NotRun => "NOT RUN",
    }
}

pub(crate) fn write_row(out: &mut String, cells: &[String; 4], widths: &[usize; 4]) {
    let wrapped: Vec<Vec<String>> = cells.iter().zip(widths).map(|(cell, w)| wrap(cell, *w)).collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    for line in 0..height {
        let mut text = String::new();
        for (col, w) in wrapped.iter().zip(widths) {
            let piece = col.get(line).map_or("", String::as_str);
            let _ = write!(text, "{piece:<w$}  ");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
}

/// Greedy word wrap; a word longer than `width` gets a line of its own.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;
    use super::{CaseResult, Observed};
    use crate::certify::{CaseId, Verdict};

    /// Whatever a grader said, a case result with no answer observed does not read passed.
    #[test]
    fn a_case_with_no_answer_observed_is_never_passed() {
        for id in CaseId::ALL {
            let passed = CaseResult::with_fix(id.info(), Verdict::Passed, "looked fine".into(), String::new());
            let unseen = passed.clone().observing(Observed { requests: 3, answers: 0 });
            assert_eq!(unseen.verdict, Verdict::NotVerified, "{}", id.info().name);
            assert!(unseen.detail.starts_with("not observed"), "{}", unseen.detail);
            assert_eq!(passed.observing(Observed { requests: 1, answers: 1 }).verdict, Verdict::Passed);
        }
    }

    #[test]
    fn wrap_keeps_words_whole_and_lines_short() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("abcdefgh x", 3), ["abcdefgh", "x"]);
    }
}
