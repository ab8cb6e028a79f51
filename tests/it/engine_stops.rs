//! An engine that stops early keeps what it recorded: the partial trace reaches the run's
//! reports and trace file, on both engines.

use hooksim::domain::{Change, InvoiceState};
use hooksim::runner::{Engine, render_failures, run_scenario, to_json, to_junit};
use hooksim::scenario::{Scenario, load_file};
use hooksim::time::{HOUR_MS, SimTime};
use hooksim::trace::TraceEvent;
use hooksim::world::sample::failing_world;
use hooksim::world::{Action, EngineError, RunLimits, Stall, Step, World};

/// A library scenario of ten days of failures, with a step the core refuses a day in (an
/// invoice that does not exist): the engine stops there.
fn stops_after_a_day() -> Scenario {
    let mut scenario = load_file("scenarios/week-of-failure-disables.toml").unwrap();
    let at = SimTime::from_millis(24 * HOUR_MS);
    let bad = Step { at, action: Action::Change(Change::SetInvoiceState { id: 999, state: InvoiceState::Paid }) };
    let index = scenario.world.timeline.partition_point(|s| s.at <= at);
    scenario.world.timeline.insert(index, bad);
    scenario
}

#[test]
fn an_engine_error_keeps_the_trace_so_far_on_both_engines() {
    let scenario = stops_after_a_day();
    for engine in [Engine::Model, Engine::Net] {
        let failure = engine.run(&scenario.world).expect_err("the bad step stops the engine");
        let trace = &failure.partial.trace;
        assert_eq!(failure.partial.sim_elapsed_ms, 24 * HOUR_MS, "{engine}");
        assert!(failure.error.to_string().contains("no invoice 999"), "{engine}: {}", failure.error);
        let attempts = trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::AttemptStarted { .. }));
        assert!(attempts.count() > 10, "{engine}: a day of retries is kept");
        assert!(trace.last_at() <= SimTime::from_millis(24 * HOUR_MS));
    }
}

#[test]
fn reports_show_the_partial_trace_of_a_stopped_run() {
    let scenario = stops_after_a_day();
    let run = run_scenario(&scenario, Engine::Model, None);
    assert!(!run.passed());
    assert!(run.attempts() > 10, "the report counts the attempts made before the stop");
    let human = render_failures(&run);
    assert!(human.contains("the engine stopped at 1d 00:00:00.000: step"), "{human}");
    assert!(human.contains(&format!("the trace so far: {} entries, ending with", run.trace.len())), "{human}");
    let json = to_json(std::slice::from_ref(&run), &[]);
    let stop = &json["scenarios"][0]["failures"][0];
    assert_eq!(stop["trace_entries"].as_u64(), Some(run.trace.len() as u64), "{json}");
    assert_eq!(stop["at_ms"].as_u64(), Some(24 * HOUR_MS), "{json}");
    assert!(!stop["excerpt"].as_array().unwrap().is_empty(), "{json}");
    assert_eq!(json["scenarios"][0]["attempts"].as_u64(), Some(run.attempts() as u64));
    let xml = to_junit(std::slice::from_ref(&run), &[]).unwrap();
    assert!(xml.contains("the engine stopped"), "{xml}");
}

fn attempts(trace: &hooksim::trace::Trace) -> usize {
    trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::AttemptStarted { .. })).count()
}

/// A day of a failing receiver: ticks only while an exchange is on the wire (a few per attempt).
fn a_day_of_failures() -> World {
    failing_world(1, 0)
}

/// The busy-tick budget is counted in ticks (simulated milliseconds of traffic), whatever the
/// wall clock does; at the budget the run stops with the trace so far (its first attempt).
#[test]
fn the_busy_tick_budget_stops_the_network_engine_and_keeps_the_trace() {
    let limits = RunLimits { busy_ticks_max: 3, ..RunLimits::default() };
    let failure = hooksim::net::run_with(&a_day_of_failures(), limits).expect_err("the budget stops the run");
    assert!(matches!(failure.error, EngineError::BusyTicks { ticks_max: 3, .. }), "{}", failure.error);
    assert!(failure.error.to_string().contains("3 ticks of 1 ms (0d 00:00:00.003)"), "{}", failure.error);
    assert_eq!(attempts(&failure.partial.trace), 1, "the attempt under way is in the trace");
    assert!(hooksim::net::run(&a_day_of_failures()).is_ok(), "the default budget is far away");
}

/// The network engine's watchdog: ticks in a row with traffic on the wire and nothing happening
/// are a stall, reported with the trace so far; a library scenario never comes near it. (With
/// latency on the world clock no ordinary world stalls: a patience of one tick stands in.)
#[test]
fn the_network_watchdog_turns_a_stall_into_an_error_with_the_trace() {
    let limits = RunLimits { stall_steps_max: 1, ..RunLimits::default() };
    let failure = hooksim::net::run_with(&a_day_of_failures(), limits).expect_err("the watchdog stops the run");
    assert!(matches!(failure.error, EngineError::Stalled(Stall::NoEvent { ticks: 2, .. })), "{}", failure.error);
    assert_eq!(attempts(&failure.partial.trace), 1);
    let scenario = load_file("scenarios/slow-network-timeouts.toml").unwrap();
    let limits = RunLimits { stall_steps_max: 5, ..RunLimits::default() };
    assert!(hooksim::net::run_with(&scenario.world, limits).is_ok(), "2 s of latency is not a stall");
}

/// The model engine's watchdog: steps at one instant without the clock moving on.
#[test]
fn the_model_watchdog_turns_a_stopped_clock_into_an_error_with_the_trace() {
    let world = failing_world(1, 3);
    let limits = RunLimits { stall_steps_max: 1, ..RunLimits::default() };
    let failure = hooksim::model::run_with(&world, limits).expect_err("the watchdog stops the run");
    assert!(matches!(failure.error, EngineError::Stalled(Stall::ClockStopped { steps: 2, .. })), "{}", failure.error);
    assert!(!failure.partial.trace.is_empty());
    assert!(hooksim::model::run(&world).is_ok(), "two messages at one instant are no stall by default");
}
