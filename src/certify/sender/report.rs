//! The sender's certificate: the table people read (the receiver report's shape), JSON with every
//! request as evidence, and JUnit XML for CI (a check not observed is `<skipped>`).

use super::SenderOptions;
use super::grade::{CheckResult, Verdict};
use super::limits;
use super::load::ListenerLoad;
use super::observe::Ledger;
use super::script::Plan;
use crate::certify::report::{DETAIL_W, FIX_W, write_row};
use crate::policy::Profile;
use serde::Serialize;
use std::fmt::Write as _;

/// A scaled attempt timeout shorter than this is noted: a loaded machine's scheduler alone can
/// take that long to run a sender that has its answer.
pub const TIMEOUT_MS_STEADY_MIN: u64 = 100;

/// Why the run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndReason {
    /// Every event reached its 2xx, or missed a retry, or stopped after a 410 as the profile says.
    Settled,
    /// `--budget` was spent first.
    Budget,
    /// The sender sent [`limits::REQUESTS_MAX`] requests.
    RequestsCap,
}

/// The limits in force, as the report states them.
#[derive(Clone, Debug, Serialize)]
pub struct Limits {
    /// The largest body read, in bytes.
    pub body_bytes_max: usize,
    /// The largest request head read, in bytes.
    pub header_bytes_max: usize,
    /// Connections served at once.
    pub connections_max: usize,
    /// Requests the run takes at most.
    pub requests_max: usize,
    /// The run's wall-clock budget (`--budget`), in milliseconds.
    pub budget_ms: u64,
}

/// The sender's certificate: every check's verdict, the plan played, and every request as evidence
/// (`--json`).
#[derive(Clone, Debug, Serialize)]
pub struct SenderReport {
    /// The URL the sender was given.
    pub url: String,
    /// The profile it was judged against.
    pub profile: Profile,
    /// The time scale (`--time-scale`): the profile's delays divided by it.
    pub time_scale: u32,
    /// The least timing tolerance, in wall milliseconds (`--tolerance-ms`).
    pub tolerance_floor_ms: u64,
    /// Where the delivery id was read (`--id`).
    pub id: String,
    /// What the run played.
    pub plan: Plan,
    /// Why the run stopped.
    pub ended: EndReason,
    /// How long the run took, wall milliseconds.
    pub elapsed_ms: u64,
    /// The limits in force.
    pub limits: Limits,
    /// What the reader should know besides the checks.
    pub notes: Vec<String>,
    /// One result per check, in the catalogue's order.
    pub checks: Vec<CheckResult>,
    /// Every request, in order: what arrived, when, and how it was answered.
    pub evidence: Ledger,
}

impl SenderReport {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        opts: &SenderOptions,
        url: String,
        plan: Plan,
        ended: EndReason,
        elapsed_ms: u64,
        mut notes: Vec<String>,
        checks: Vec<CheckResult>,
        evidence: Ledger,
    ) -> SenderReport {
        match ended {
            EndReason::Budget => notes.push(format!("the budget ({} ms) ended the run", opts.budget_ms)),
            EndReason::RequestsCap => notes.push(format!("the run stopped at {} requests", limits::REQUESTS_MAX)),
            EndReason::Settled => {}
        }
        let timeout_ms = opts.timing().timeout_ms();
        if timeout_ms < TIMEOUT_MS_STEADY_MIN {
            notes.push(format!(
                "at time scale {} the profile's attempt timeout is {timeout_ms} ms: on a loaded machine a sender may time out on answered requests (and resend after a 2xx it never read); a scale that leaves it {TIMEOUT_MS_STEADY_MIN} ms or more is steadier",
                opts.time_scale
            ));
        }
        notes.extend(listener_notes(&evidence.listener));
        SenderReport {
            url,
            profile: opts.profile,
            time_scale: opts.time_scale,
            tolerance_floor_ms: opts.tolerance_floor_ms,
            id: opts.id.to_string(),
            plan,
            ended,
            elapsed_ms,
            limits: Limits {
                body_bytes_max: limits::BODY_BYTES_MAX,
                header_bytes_max: limits::HEADER_BYTES_MAX,
                connections_max: limits::CONNECTIONS_MAX,
                requests_max: limits::REQUESTS_MAX,
                budget_ms: opts.budget_ms,
            },
            notes,
            checks,
            evidence,
        }
    }

    /// How many checks have this verdict.
    pub(crate) fn count(&self, verdict: Verdict) -> usize {
        self.checks.iter().filter(|c| c.verdict == verdict).count()
    }

    /// True when a check failed (checks not observed are not failures).
    pub fn has_failures(&self) -> bool {
        self.count(Verdict::Failed) > 0
    }

    /// True when no check saw what it needs: the run proves nothing, and does not pass.
    pub fn nothing_observed(&self) -> bool {
        self.count(Verdict::Passed) == 0 && self.count(Verdict::Failed) == 0
    }

    /// Whether the run certifies nothing wrong: no check failed, and some check was observed.
    pub fn passed(&self) -> bool {
        !self.has_failures() && !self.nothing_observed()
    }

    /// The result of the check with this name, e.g. `same-id`.
    pub fn check(&self, name: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The report as pretty JSON (`--json`).
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as JUnit XML (`--junit`): a failed check is a `<failure>`, one not observed
    /// `<skipped>`.
    pub fn to_junit(&self) -> Result<String, quick_junit::SerializeError> {
        use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
        let mut suite = TestSuite::new("hooksim certify sender");
        for c in &self.checks {
            let status = match c.verdict {
                Verdict::Passed => TestCaseStatus::success(),
                Verdict::Failed => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(c.detail.as_str()).set_description(format!("fix: {}", c.fix));
                    s
                }
                Verdict::NotObserved => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(c.detail.as_str());
                    s
                }
            };
            let mut case = TestCase::new(c.name, status);
            case.set_classname(self.url.as_str()).set_system_out(format!("checks: {}", c.checks));
            suite.add_test_case(case);
        }
        let mut report = quick_junit::Report::new("hooksim");
        report.add_test_suite(suite);
        report.to_string()
    }

    /// The table people read.
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "hooksim certify sender {} (profile {}; time scale {}; tolerance max({} ms, 10%) + jitter; {} requests in {} ms)\n",
            self.url,
            <&str>::from(self.profile),
            self.time_scale,
            self.tolerance_floor_ms,
            self.evidence.arrivals.len(),
            self.elapsed_ms,
        );
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out.push('\n');
        let name_w = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(5).max(5);
        let header = ["CHECK", "VERDICT", "DETAIL", "HOW TO FIX"].map(String::from);
        let rows = self
            .checks
            .iter()
            .map(|c| [c.name.to_string(), word(c.verdict).to_string(), c.detail.clone(), c.fix.to_string()]);
        for row in std::iter::once(header).chain(rows) {
            write_row(&mut out, &row, &[name_w, 12, DETAIL_W, FIX_W]);
        }
        let _ = writeln!(
            out,
            "\n{} passed, {} failed, {} not observed",
            self.count(Verdict::Passed),
            self.count(Verdict::Failed),
            self.count(Verdict::NotObserved)
        );
        if self.nothing_observed() {
            let _ = writeln!(
                out,
                "NOTHING OBSERVED: no check saw what it needs ({} request(s) graded), so nothing is certified; see the notes above",
                self.evidence.endpoint().count()
            );
        }
        out
    }
}

/// What the listener's load says about the run: a saturated listener, requests refused unread,
/// connections that never sent a whole request.
fn listener_notes(load: &ListenerLoad) -> Vec<String> {
    let mut notes = Vec::new();
    if let (Some(first), Some(last)) = (load.saturated.first(), load.saturated.last()) {
        notes.push(format!(
            "the listener was saturated: all {} connection slots held for {} ms in all, between {} ms and {} ms; a request sent meanwhile waited in the accept queue, so what that hid is not observed (never failed)",
            limits::CONNECTIONS_MAX,
            load.saturated_ms(),
            first.from_ms,
            last.to_ms
        ));
    }
    for (status, n) in &load.refused {
        let why = match status {
            413 => format!("a body over {} bytes", limits::BODY_BYTES_MAX),
            431 => format!("a head over {} bytes", limits::HEADER_BYTES_MAX),
            408 => format!("a body not whole in {} ms", limits::BODY_READ_TIMEOUT_MS),
            _ => "not HTTP/1.1 the endpoint could read".to_string(),
        };
        notes.push(format!("{n} request(s) answered {status} unread ({why}): not graded"));
    }
    if load.unread_connections > 0 {
        notes.push(format!(
            "{} connection(s) closed without a whole request (silent, slow, or hung up first)",
            load.unread_connections
        ));
    }
    notes
}

fn word(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "passed",
        Verdict::Failed => "FAILED",
        Verdict::NotObserved => "not observed",
    }
}
