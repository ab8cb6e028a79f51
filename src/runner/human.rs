//! What `hooksim run` prints for people: a line per run, then each failure in detail with the
//! one command that reproduces it.

use super::ScenarioRun;
use crate::time::SimTime;
use crate::world::RunLimits;
use std::fmt::Write as _;

/// Lines of a dispatcher process's stderr a failure report quotes (the JSON report has the tail).
const STDERR_LINES_SHOWN: usize = 20;

/// `PASS  net    week-of-failure-disables   10d 00:00:00.000 simulated    12.3 ms wall`
pub fn render_line(run: &ScenarioRun) -> String {
    let verdict = if run.passed() { "PASS" } else { "FAIL" };
    let mut line = format!(
        "{verdict}  {:<5}  {:<40}  {} simulated  {:>9.1} ms wall  {:>6} attempts",
        run.engine.as_str(),
        run.name,
        SimTime::from_millis(run.sim_elapsed_ms),
        run.wall_us as f64 / 1000.0,
        run.attempts()
    );
    if !run.not_verified.is_empty() {
        line.push_str(&format!("  ({} not verified)", run.not_verified.len()));
    }
    line
}

/// The command that runs exactly this scenario, engine, seed and limits again.
pub fn reproduce_command(run: &ScenarioRun) -> String {
    let mut command = if run.engine == super::Engine::Live {
        // The real network has no engine flag: the bound receivers choose it.
        let flags = [&run.bindings[..], &run.live_flags[..]].concat().join(" ");
        format!("hooksim run {} {flags} --seed {}", run.file.display(), run.seed)
    } else {
        format!("hooksim run {} --engine {} --seed {}", run.file.display(), run.engine, run.seed)
    };
    if run.limits.trace_entries_max != RunLimits::default().trace_entries_max {
        command.push_str(&format!(" --trace-entries-max {}", run.limits.trace_entries_max));
    }
    if let Some(d) = &run.dispatcher {
        command.push_str(&format!(" --dispatcher {:?}", d.command));
        if d.reply_timeout_ms != crate::protocol::REPLY_TIMEOUT_MS {
            command.push_str(&format!(" --reply-timeout-ms {}", d.reply_timeout_ms));
        }
        if d.inputs_max != crate::protocol::INPUTS_PER_RUN_MAX {
            command.push_str(&format!(" --inputs-per-run-max {}", d.inputs_max));
        }
    }
    command
}

/// A failed run in words: each unmet expectation with its trace excerpt, or the engine's stop.
pub fn render_failures(run: &ScenarioRun) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "--- {} on {} (seed {})", run.name, run.engine, run.seed);
    if let Some(stop) = &run.error {
        let _ = writeln!(
            out,
            "{}: the engine stopped at {}: {}",
            run.file.display(),
            SimTime::from_millis(run.sim_elapsed_ms),
            stop.message
        );
        let _ = writeln!(out, "the trace so far: {} entries, ending with", run.trace.len());
        for line in &stop.excerpt {
            let _ = writeln!(out, "    {line}");
        }
    }
    for failure in &run.failures {
        let _ = writeln!(out, "{failure}");
    }
    for not_verified in &run.not_verified {
        let _ = writeln!(out, "{not_verified}");
    }
    if let Some(d) = run.dispatcher.as_ref() {
        let _ = writeln!(out, "dispatcher: {}", d.command);
        if !run.stderr_tail.trim().is_empty() {
            let _ = writeln!(out, "its stderr ends with:");
            let lines: Vec<&str> = run.stderr_tail.lines().collect();
            for line in &lines[lines.len().saturating_sub(STDERR_LINES_SHOWN)..] {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let _ = writeln!(out, "reproduce: {}", reproduce_command(run));
    out
}
