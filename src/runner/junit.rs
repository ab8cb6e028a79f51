//! `--junit FILE`: JUnit XML, one test case per scenario and engine, for CI systems.

use super::{ScenarioRun, render_failures};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

pub fn to_junit(runs: &[ScenarioRun]) -> Result<String, quick_junit::SerializeError> {
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
    report.add_test_suite(suite);
    report.to_string()
}
