//! `--junit FILE`: JUnit XML, one test case per scenario and engine, for CI systems; with a
//! dispatcher process, a second suite `conformance` with one test case per promise.

use super::{PromiseVerdict, ScenarioRun, SkippedScenario, conformance, render_failures};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// The runs as JUnit XML (`--junit`): one test case per scenario and engine, a failure per unmet
/// expectation, and a skipped case per file not run (its reason the message).
pub fn to_junit(runs: &[ScenarioRun], skipped: &[SkippedScenario]) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("hooksim");
    let mut suite = TestSuite::new("scenarios");
    for run in runs {
        let status = if run.passed() {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let message = match &run.error {
                Some(stop) => format!("the engine stopped: {}", stop.message),
                None => format!("{} expectation(s) failed", run.failures.len()),
            };
            status.set_message(message);
            status.set_description(render_failures(run));
            status
        };
        let mut case = TestCase::new(format!("{} [{}]", run.name, run.engine), status);
        case.set_classname(run.file.display().to_string());
        case.set_time(Duration::from_micros(run.wall_us));
        if !run.not_verified.is_empty() {
            let lines: Vec<String> = run.not_verified.iter().map(ToString::to_string).collect();
            case.set_system_out(lines.join("\n"));
        }
        suite.add_test_case(case);
    }
    for skip in skipped {
        let mut status = TestCaseStatus::skipped();
        status.set_message(skip.reason.clone());
        let mut case = TestCase::new(skip.name.clone(), status);
        case.set_classname(skip.file.display().to_string());
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    if let Some(command) = runs.iter().find_map(|r| r.dispatcher.as_ref()).map(|d| d.command.as_str()) {
        report.add_test_suite(conformance_suite(runs, command));
    }
    report.to_string()
}

/// One case per promise of the seed: passed when kept, a failure when broken, skipped when no
/// run was judged (nothing is known about it).
fn conformance_suite(runs: &[ScenarioRun], command: &str) -> TestSuite {
    let mut suite = TestSuite::new("conformance");
    for row in conformance(runs) {
        let status = match row.verdict {
            PromiseVerdict::Kept => TestCaseStatus::success(),
            PromiseVerdict::Broken => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(format!("broken in {} of {} judged runs", row.runs_broken, row.runs_judged));
                if let Some(first) = &row.first_breach {
                    status.set_description(format!("first: {first}"));
                }
                status
            }
            PromiseVerdict::NotJudged => {
                let mut status = TestCaseStatus::skipped();
                status.set_message("not judged: no run finished (every run stopped before its end)");
                status
            }
        };
        let mut case = TestCase::new(row.promise, status);
        case.set_classname(command.to_string());
        suite.add_test_case(case);
    }
    suite
}
