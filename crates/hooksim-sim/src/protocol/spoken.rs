//! A dispatcher written in Rust, speaking the protocol's messages in the process: the harness
//! derives its trace from what it says and checks every fact through the same [`Ledger`] that
//! checks a dispatcher process (`hooksim_net::protocol::ProcessDispatcher`), so a Rust
//! dispatcher cannot write its own trace wrong, out of order, or about attempts it never sent.
//!
//! Implement [`Speaks`] (one message in, its outputs, facts and `done` out, as a process writes
//! lines) and wrap it in [`Spoken`], which is a [`Dispatch`] every engine runs. `docs/protocol.md`
//! says what each message means; [`super::reference::ReferenceSpeaker`] is the reference core
//! speaking it.

use super::error::{Problem, ProtocolError};
use super::ledger::{Asked, Ledger};
use super::message::{FromDispatcher, ToDispatcher};
use super::{OUTPUTS_PER_INPUT_MAX, QUOTE_CHARS_MAX, VERSION};
use hooksim_core::core::{Dispatch, Input, InputError, Output};
use hooksim_core::domain::{Store, WebhookConfig};
use hooksim_core::policy::Policy;
use hooksim_core::time::SimTime;
use hooksim_core::trace::{Outcome, Trace, TraceEntry};
use std::collections::VecDeque;
use std::path::PathBuf;

/// A dispatcher that speaks the protocol in the process.
pub trait Speaks {
    /// Answers one message as a process writes its lines: `hello` with one
    /// [`FromDispatcher::Hello`]; any other message with its sends, emails and facts, then one
    /// [`FromDispatcher::Done`]. After `crash` comes `hello` again (`resumed: true`) and then
    /// `restart`: what survives a crash is what the dispatcher kept as durable.
    fn answer(&mut self, message: &ToDispatcher) -> Vec<FromDispatcher>;
}

/// Why a spoken dispatcher's run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpokenError {
    /// The input itself was impossible (as the core would have said).
    #[error(transparent)]
    Input(#[from] InputError),
    /// The dispatcher said something the protocol does not allow (its message quoted).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// A [`Speaks`] as a [`Dispatch`]: the trace derived and checked by the ledger.
pub struct Spoken<S: Speaks> {
    speaker: S,
    hello: ToDispatcher,
    store: Store,
    ledger: Ledger,
    now: SimTime,
    crashed: bool,
    wake_at: Option<SimTime>,
    outputs: VecDeque<Output>,
    trace: Vec<TraceEntry>,
    /// Messages the dispatcher answered with, counted as a process's lines are.
    said: u64,
    failed: Option<String>,
    name: Option<String>,
}

impl<S: Speaks> Spoken<S> {
    /// Says `hello` (the policy, webhooks and seed, as [`hooksim_core::core::Dispatcher::new`]
    /// takes them) and checks the answer.
    pub fn new(speaker: S, policy: &Policy, webhooks: Vec<WebhookConfig>, seed: u64) -> Result<Self, SpokenError> {
        let hello = ToDispatcher::Hello {
            version: VERSION,
            seed,
            policy: policy.spec().clone(),
            webhooks: webhooks.clone(),
            // In the process there is no state directory: durable state is the speaker's own.
            state_dir: PathBuf::new(),
            resumed: false,
        };
        let mut spoken = Spoken {
            speaker,
            hello,
            store: Store::default(),
            ledger: Ledger::new(webhooks),
            now: SimTime::ZERO,
            crashed: false,
            wake_at: None,
            outputs: VecDeque::new(),
            trace: Vec::new(),
            said: 0,
            failed: None,
            name: None,
        };
        spoken.greet(false)?;
        Ok(spoken)
    }

    /// The name the dispatcher gave in its `hello`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The speaker, to look at after a run.
    pub fn speaker(&self) -> &S {
        &self.speaker
    }

    fn greet(&mut self, resumed: bool) -> Result<(), SpokenError> {
        if let ToDispatcher::Hello { resumed: r, .. } = &mut self.hello {
            *r = resumed;
        }
        let answer = self.speaker.answer(&self.hello);
        match answer.as_slice() {
            [FromDispatcher::Hello { version, name }] if *version == VERSION => {
                self.said += 1;
                self.name = name.clone();
                Ok(())
            }
            [FromDispatcher::Hello { version, .. }] => {
                Err(self.problem(&answer[0], Problem::Version { got: *version, want: VERSION }))
            }
            [] => Err(ProtocolError::Gone {
                how: "said nothing".into(),
                input: "hello".into(),
                line: self.said,
                stderr: String::new(),
            }
            .into()),
            [other, ..] => {
                let got = serde_json::to_value(other).ok().and_then(|v| v["type"].as_str().map(str::to_string));
                Err(self.problem(other, Problem::Unexpected { got: got.unwrap_or_default(), expected: "one `hello`" }))
            }
        }
    }

    fn problem(&mut self, said: &FromDispatcher, problem: Problem) -> SpokenError {
        let text = super::error::quote(&said.to_line(), QUOTE_CHARS_MAX);
        let error = ProtocolError::Line { line: self.said + 1, text, problem };
        self.failed = Some(error.to_string());
        error.into()
    }

    /// One input, its answer checked message by message up to `done`.
    fn exchange(&mut self, message: ToDispatcher, asked: Asked) -> Result<(), SpokenError> {
        if let Some(e) = &self.failed {
            return Err(ProtocolError::Broken(e.clone()).into());
        }
        let answer = self.speaker.answer(&message);
        let mut outputs = 0usize;
        for said in answer {
            let taken = match self.ledger.take(self.now, asked, self.crashed, said.clone()) {
                Ok(taken) => taken,
                Err(problem) => return Err(self.problem(&said, problem)),
            };
            self.said += 1;
            for event in taken.trace {
                self.trace.push(TraceEntry { at: self.now, event });
            }
            if let Some(wake_at) = taken.done {
                self.wake_at = wake_at;
                return Ok(());
            }
            outputs += 1;
            if outputs > OUTPUTS_PER_INPUT_MAX {
                return Err(self.problem(&said, Problem::TooManyOutputs { limit: OUTPUTS_PER_INPUT_MAX }));
            }
            self.outputs.extend(taken.output);
        }
        let gone = ProtocolError::Gone {
            how: "ended its answer without `done`".into(),
            input: message.name().into(),
            line: self.said,
            stderr: String::new(),
        };
        self.failed = Some(gone.to_string());
        Err(gone.into())
    }

    fn change(&mut self, now: SimTime, change: hooksim_core::domain::Change) -> Result<(), SpokenError> {
        let (recorded, message, asked) = self.ledger.change(&mut self.store, now, change)?;
        self.trace.push(TraceEntry { at: self.now, event: recorded });
        self.exchange(message, asked)
    }

    fn answer(
        &mut self,
        now: SimTime,
        attempt: u64,
        outcome: Outcome,
        retry_after_ms: Option<u64>,
    ) -> Result<(), SpokenError> {
        if !self.ledger.knows_attempt(attempt) {
            return Err(InputError::UnknownAttempt(attempt).into());
        }
        let message = ToDispatcher::Answer { now, attempt, outcome: outcome.into(), retry_after_ms };
        self.exchange(message, Asked::Answer { attempt, outcome })
    }
}

impl<S: Speaks> Dispatch for Spoken<S> {
    type Error = SpokenError;

    fn handle(&mut self, now: SimTime, input: Input) -> Result<(), SpokenError> {
        self.now = self.now.max(now);
        let now = self.now;
        match input {
            Input::Change(change) => self.change(now, change),
            Input::Answer { attempt, outcome } => self.answer(now, attempt, outcome, None),
            Input::AnswerRetryAfter { attempt, status, retry_after_ms } => {
                self.answer(now, attempt, Outcome::Status { code: status }, Some(retry_after_ms))
            }
            Input::Enable(webhook) => {
                if webhook.0 as usize >= self.ledger.webhook_count() {
                    return Err(InputError::UnknownWebhook(webhook).into());
                }
                self.exchange(ToDispatcher::Enable { now, webhook }, Asked::Enable { webhook })
            }
            Input::Crash if !self.crashed => {
                self.crashed = true;
                self.exchange(ToDispatcher::Crash { now }, Asked::Crash)
            }
            Input::Restart if self.crashed => {
                self.greet(true)?;
                self.crashed = false;
                self.exchange(ToDispatcher::Restart { now }, Asked::Restart)
            }
            // A crash of a crashed dispatcher, a restart of a running one: nothing happens.
            Input::Crash | Input::Restart => Ok(()),
        }
    }

    fn handle_timeout(&mut self, now: SimTime) -> Result<(), SpokenError> {
        self.now = self.now.max(now);
        if self.wake_at.is_some_and(|at| at <= self.now) {
            return self.exchange(ToDispatcher::Wake { now: self.now }, Asked::Wake);
        }
        Ok(())
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        self.wake_at
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    fn drain_trace_into(&mut self, trace: &mut Trace) {
        trace.append(&mut self.trace);
    }
}

#[cfg(test)]
mod tests {
    use super::super::reference::ReferenceSpeaker;
    use super::*;
    use crate::model;
    use crate::world::{Action, Host, RunLimits, Step, World, sample};

    fn spoken<S: Speaks>(speaker: S, world: &World) -> Result<Spoken<S>, SpokenError> {
        Spoken::new(speaker, &world.policy, world.webhooks.clone(), world.seed)
    }

    /// A failing week (warning, disable) with the dispatcher crashed and restarted in between.
    fn world() -> World {
        let mut world = sample::failing_world(9, 3);
        let hour = 3_600_000;
        world.timeline.push(Step { at: SimTime::from_millis(30 * hour), action: Action::Crash(Host::Dispatcher) });
        world.timeline.push(Step { at: SimTime::from_millis(31 * hour), action: Action::Restart(Host::Dispatcher) });
        world.timeline.sort_by_key(|s| s.at);
        world
    }

    #[test]
    fn the_reference_core_spoken_in_the_process_gives_the_core_s_trace_byte_for_byte() {
        let world = world();
        let core = model::run(&world).unwrap().trace;
        let via = spoken(ReferenceSpeaker::default(), &world).unwrap();
        let spoken = model::run_dispatched(&world, RunLimits::default(), via).unwrap().trace;
        assert!(core.len() > 50, "a world with work in it: {} entries", core.len());
        assert_eq!(spoken.to_json_lines(), core.to_json_lines());
    }

    /// The reference, with one defect.
    struct Defective {
        inner: ReferenceSpeaker,
        defect: fn(&ToDispatcher, Vec<FromDispatcher>) -> Vec<FromDispatcher>,
    }

    impl Speaks for Defective {
        fn answer(&mut self, message: &ToDispatcher) -> Vec<FromDispatcher> {
            (self.defect)(message, self.inner.answer(message))
        }
    }

    fn run_defective(defect: fn(&ToDispatcher, Vec<FromDispatcher>) -> Vec<FromDispatcher>) -> String {
        let world = world();
        let speaker = Defective { inner: ReferenceSpeaker::default(), defect };
        match spoken(speaker, &world) {
            Err(e) => e.to_string(),
            Ok(via) => match model::run_dispatched(&world, RunLimits::default(), via) {
                Err(failure) => failure.error.to_string(),
                Ok(_) => "passed".into(),
            },
        }
    }

    #[test]
    fn a_dispatcher_that_forgets_done_or_speaks_another_version_is_stopped() {
        let no_done = run_defective(|m, mut said| {
            if matches!(m, ToDispatcher::Change { .. }) {
                said.retain(|s| !matches!(s, FromDispatcher::Done { .. }));
            }
            said
        });
        assert!(no_done.contains("without `done`"), "{no_done}");
        let version = run_defective(|_, said| {
            said.into_iter()
                .map(|s| match s {
                    FromDispatcher::Hello { name, .. } => FromDispatcher::Hello { version: 99, name },
                    other => other,
                })
                .collect()
        });
        assert!(version.contains("99"), "{version}");
    }

    #[test]
    fn a_dispatcher_that_claims_a_delivery_it_never_attempted_is_stopped() {
        let claimed = run_defective(|m, mut said| {
            if let ToDispatcher::Change { event, .. } = m {
                let at = said.len() - 1;
                said.insert(
                    at,
                    FromDispatcher::Delivered {
                        delivery: uuid::Uuid::from_u128(7),
                        webhook: hooksim_core::domain::WebhookId(0),
                        event: event.id,
                        attempts: 1,
                    },
                );
            }
            said
        });
        assert!(claimed.contains("dispatcher line"), "the ledger refuses it: {claimed}");
    }
}
