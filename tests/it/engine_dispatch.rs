//! Engines are generic over `Dispatch`: a dispatcher that fails mid-run (as a process that breaks
//! the protocol does) stops the run with `EngineError::Dispatcher` or `Step` and the trace so far,
//! on both engines, whichever input it fails on (a timer, an answer, a crash, a timeline step).

use hooksim::core::{Dispatch, Dispatcher, Input, Output};
use hooksim::scenario::load_file;
use hooksim::time::SimTime;
use hooksim::trace::Trace;
use hooksim::world::{EngineError, EngineFailure, RunLimits, RunOutput, World};

#[derive(Debug, thiserror::Error)]
#[error("the test dispatcher gave up on a {0}")]
struct GaveUp(&'static str);

/// The reference core, failing on the first input of `kind` after `after` of them.
struct Failing {
    core: Dispatcher,
    kind: &'static str,
    after: usize,
}

impl Failing {
    fn count(&mut self, kind: &'static str) -> Result<(), GaveUp> {
        if kind != self.kind {
            return Ok(());
        }
        if self.after == 0 {
            return Err(GaveUp(kind));
        }
        self.after -= 1;
        Ok(())
    }
}

impl Dispatch for Failing {
    type Error = GaveUp;

    fn handle(&mut self, now: SimTime, input: Input) -> Result<(), GaveUp> {
        let kind = match &input {
            Input::Change(_) => "change",
            Input::Answer { .. } | Input::AnswerRetryAfter { .. } => "answer",
            Input::Crash => "crash",
            Input::Restart => "restart",
            Input::Enable(_) => "enable",
        };
        self.count(kind)?;
        self.core.handle(now, input).map_err(|_| GaveUp("bad input"))
    }

    fn handle_timeout(&mut self, now: SimTime) -> Result<(), GaveUp> {
        if self.core.poll_timeout().is_some_and(|t| t <= now) {
            self.count("timer")?;
        }
        self.core.handle_timeout(now);
        Ok(())
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        self.core.poll_timeout()
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.core.poll_output()
    }

    fn drain_trace_into(&mut self, trace: &mut Trace) {
        self.core.drain_trace_into(trace)
    }
}

type Run = fn(&World, RunLimits, Failing) -> Result<RunOutput, EngineFailure>;

fn engines() -> [(&'static str, Run); 2] {
    [
        ("model", |w, l, d| hooksim::model::run_dispatched(w, l, d)),
        ("net", |w, l, d| hooksim::net::run_dispatched(w, l, d)),
    ]
}

fn fails_on(world: &World, kind: &'static str, after: usize) {
    for (engine, run) in engines() {
        let core = Dispatcher::new(world.policy.clone(), world.webhooks.clone(), world.seed);
        let failure =
            run(world, RunLimits::default(), Failing { core, kind, after }).expect_err("the dispatcher fails");
        let message = failure.error.to_string();
        assert!(message.contains(&format!("gave up on a {kind}")), "{engine}: {message}");
        if kind == "change" {
            assert!(matches!(failure.error, EngineError::Step { .. }), "{engine}: {message}");
        } else {
            assert!(matches!(failure.error, EngineError::Dispatcher { .. }), "{engine}: {message}");
        }
        assert!(!failure.partial.trace.is_empty(), "{engine}: the trace so far is kept");
    }
}

#[test]
fn a_failing_dispatcher_stops_the_run_with_the_trace_so_far() {
    let world = load_file("scenarios/dispatcher-crash.toml").unwrap().world;
    fails_on(&world, "answer", 0);
    fails_on(&world, "crash", 0);
    fails_on(&world, "restart", 0);
    fails_on(&world, "change", 1);
    let retries = load_file("scenarios/retry-through-5xx.toml").unwrap().world;
    fails_on(&retries, "timer", 1);
}

/// The in-process core behind `&mut`: the same trace as the engine's own (the caller keeps it).
#[test]
fn a_lent_core_gives_the_same_trace() {
    let world = load_file("scenarios/dispatcher-crash.toml").unwrap().world;
    let mut core = Dispatcher::new(world.policy.clone(), world.webhooks.clone(), world.seed);
    let lent = hooksim::model::run_dispatched(&world, RunLimits::default(), &mut core).unwrap();
    assert_eq!(lent.trace.sha256(), hooksim::model::run(&world).unwrap().trace.sha256());
}
