//! `--json FILE`: the machine-readable report.

use super::{ScenarioRun, SkippedScenario};
use serde_json::{Value, json};

/// The runs as one JSON report (`--json`): `passed`, `failed`, each scenario run with its
/// failures, and the files `skipped` (each with its `reason`; neither passed nor failed).
pub fn to_json(runs: &[ScenarioRun], skipped: &[SkippedScenario]) -> Value {
    let passed = runs.iter().filter(|r| r.passed()).count();
    let scenarios: Vec<Value> = runs.iter().map(run_json).collect();
    let skipped: Vec<Value> = skipped
        .iter()
        .map(|s| json!({ "name": s.name, "file": s.file.display().to_string(), "reason": s.reason }))
        .collect();
    let mut report =
        json!({ "passed": passed, "failed": runs.len() - passed, "scenarios": scenarios, "skipped": skipped });
    if runs.iter().any(|r| r.dispatcher.is_some()) {
        report["conformance"] = json!(super::conformance(runs));
    }
    report
}

fn run_json(run: &ScenarioRun) -> Value {
    let mut failures: Vec<Value> = run
        .failures
        .iter()
        .map(|f| {
            json!({
                "file": f.file.display().to_string(),
                "line": f.line,
                "column": f.column,
                "expected": f.expected,
                "found": f.found,
                "excerpt": f.excerpt,
            })
        })
        .collect();
    if let Some(stop) = &run.error {
        failures.push(json!({
            "file": run.file.display().to_string(),
            "engine_error": stop.message,
            "at_ms": run.sim_elapsed_ms,
            "trace_entries": run.trace.len(),
            "excerpt": stop.excerpt,
        }));
    }
    let mut value = json!({
        "name": run.name,
        "file": run.file.display().to_string(),
        "engine": run.engine,
        "seed": run.seed,
        "passed": run.passed(),
        "sim_elapsed_ms": run.sim_elapsed_ms,
        "wall_us": run.wall_us,
        "attempts": run.attempts(),
        "trace_sha256": run.trace.sha256(),
        "failures": failures,
    });
    if run.engine == super::Engine::Live {
        // Only live runs can leave expectations unchecked (a receiver without an effects URL).
        let not_verified: Vec<Value> = run
            .not_verified
            .iter()
            .map(|n| json!({"file": n.file.display().to_string(), "line": n.line, "column": n.column, "why": n.why}))
            .collect();
        value["not_verified"] = Value::Array(not_verified);
        value["receivers"] = json!(run.bindings);
    }
    if let Some(d) = &run.dispatcher {
        value["dispatcher"] = json!({ "command": d.command, "reply_timeout_ms": d.reply_timeout_ms, "inputs_max": d.inputs_max, "stderr_tail": run.stderr_tail });
    }
    value
}
