//! The world loop: virtual time, the timeline, the core, and the stage.
//!
//! At each instant, in order: the timeline's steps, then what the hosts reported during the tick
//! that ended at this instant, then the core's timers. While anything is in flight, time moves
//! one tick at a time; when the network is quiet it jumps to the next deadline (a timeline step,
//! a core timer, an email retry) or to the end of the world.

use super::dispatcher_host::{self, Inbox, Job};
use super::journal::{Journal, Note, Work};
use super::links::Links;
use super::outbox::Outbox;
use super::receiver_host::Receiver;
use super::stage::{Cast, Stage, TICK_MS, turmoil_seed};
use crate::core::{Dispatcher, Input, Output};
use crate::time::SimTime;
use crate::trace::{Trace, TraceEvent};
use crate::world::{Action, DISPATCHER_HOST, EngineError, Host, MAIL_HOST, RunOutput, World};
use std::rc::Rc;

/// Ticks one run may simulate, in all (quiet gaps cost none). A world that keeps the network busy for
/// longer (a hold kept for days with messages on it) ends with an error rather than running for
/// hours: at about 2.4 us a tick this is two minutes of wall time.
pub const BUSY_TICKS_MAX: u64 = 50_000_000;

/// Every turmoil host starts with room for this many connections arriving in one tick.
const TCP_CAPACITY_MIN: usize = 64;

pub(crate) struct Driver<'w> {
    world: &'w World,
    core: Dispatcher,
    trace: Trace,
    /// Index of the next timeline step to apply.
    next_step: usize,
    links: Links,
    outbox: Outbox,
    cast: Cast,
    stage: Stage,
    busy_ticks: u64,
}

impl<'w> Driver<'w> {
    pub(crate) fn new(world: &'w World) -> Result<Driver<'w>, EngineError> {
        let journal = Journal::default();
        let mut names = vec![DISPATCHER_HOST.to_string(), MAIL_HOST.to_string()];
        let mut receivers = Vec::new();
        for spec in &world.receivers {
            if names.contains(&spec.host) {
                return Err(EngineError::Simulation(format!(
                    "receiver host name {:?} is reserved or given twice",
                    spec.host
                )));
            }
            names.push(spec.host.clone());
            receivers.push(Receiver::new(spec, &journal));
        }
        let policy = world.policy.clone();
        // Every attempt the core may have in flight could open its connection in the same tick.
        let in_flight_max = policy.in_flight_per_webhook_max() as usize * world.webhooks.len();
        let links = Links::new(world.latency_ms);
        let cast = Cast {
            inbox: Rc::new(Inbox::default()),
            journal,
            work: Work::default(),
            receivers,
            names,
            tcp_capacity: TCP_CAPACITY_MIN + in_flight_max + world.webhooks.len(),
        };
        let stage = Stage::start(turmoil_seed(world.seed), &cast, &links)
            .map_err(|e| EngineError::Simulation(e.to_string()))?;
        Ok(Driver {
            world,
            core: Dispatcher::new(policy, world.webhooks.clone(), world.seed),
            trace: Trace::default(),
            next_step: 0,
            links,
            outbox: Outbox::default(),
            cast,
            stage,
            busy_ticks: 0,
        })
    }

    pub(crate) fn run(mut self) -> Result<RunOutput, EngineError> {
        let end = self.world.run_for_ms;
        let mut now = 0;
        loop {
            let at = SimTime::from_millis(now);
            self.apply_steps(at)?;
            self.take_notes(at)?;
            self.core.handle_timeout(at);
            self.drain_core();
            self.hand_out(at);
            if now >= end {
                break;
            }
            if self.is_quiet() {
                now = self.next_deadline(now).min(end);
                self.stage.jump_to(now);
                continue;
            }
            self.busy_ticks += 1;
            if self.busy_ticks > BUSY_TICKS_MAX {
                return Err(EngineError::Simulation(format!(
                    "the network stayed busy for more than {BUSY_TICKS_MAX} ticks in all (at {at})"
                )));
            }
            self.stage.step().map_err(|e| EngineError::Simulation(e.to_string()))?;
            now = self.stage.now_ms();
        }
        Ok(RunOutput { trace: self.trace, sim_elapsed_ms: end })
    }

    fn drain_core(&mut self) {
        self.trace.extend(self.core.drain_trace());
    }

    fn apply_steps(&mut self, at: SimTime) -> Result<(), EngineError> {
        while let Some(step) = self.world.timeline.get(self.next_step) {
            if step.at > at {
                break;
            }
            let index = self.next_step;
            self.next_step += 1;
            let input = match &step.action {
                Action::Change(change) => Some(Input::Change(change.clone())),
                Action::EnableWebhook(webhook) => Some(Input::Enable(*webhook)),
                other => {
                    self.trace.push(at, TraceEvent::WorldChanged { what: other.to_string() });
                    self.act(other, at);
                    None
                }
            };
            if let Some(input) = input {
                self.core.handle(at, input).map_err(|source| EngineError::Step { index, at, source })?;
            }
            self.drain_core();
        }
        Ok(())
    }

    /// A scripted fault or behaviour change.
    fn act(&mut self, action: &Action, at: SimTime) {
        match action {
            Action::Behave { receiver, behaviour } => {
                if let Some(r) = self.cast.receivers.iter().find(|r| &r.host == receiver) {
                    r.behave(behaviour);
                }
            }
            Action::Crash(host) => self.crash(host, at),
            Action::Restart(host) => self.restart(host, at),
            _ => {
                self.links.record(action);
                self.stage.apply(action, &self.links, &self.cast.names);
            }
        }
    }

    fn crash(&mut self, host: &Host, at: SimTime) {
        if self.links.is_down(host.name()) {
            return;
        }
        self.links.set_down(host, true);
        self.stage.crash(host.name(), &self.links, &self.cast.names);
        if *host == Host::Dispatcher {
            // Jobs not yet taken die with the process; the core knows its attempts are lost.
            self.cast.inbox.clear();
            self.outbox.forget_tries();
            let _ = self.core.handle(at, Input::Crash);
        }
    }

    fn restart(&mut self, host: &Host, at: SimTime) {
        if !self.links.is_down(host.name()) {
            return;
        }
        self.links.set_down(host, false);
        self.stage.restart(host.name(), &self.cast.names);
        if *host == Host::Dispatcher {
            self.outbox.resume(at);
            let _ = self.core.handle(at, Input::Restart);
        }
    }

    /// What the hosts reported during the tick that ended at `at`, in the order it happened.
    fn take_notes(&mut self, at: SimTime) -> Result<(), EngineError> {
        for note in self.cast.journal.take() {
            match note {
                Note::Answer { attempt, outcome } => {
                    self.core
                        .handle(at, Input::Answer { attempt, outcome })
                        .map_err(|e| EngineError::Simulation(e.to_string()))?;
                    self.drain_core();
                }
                Note::EmailTried { id, outcome } => {
                    let webhook = self.outbox.webhook_of(id).map(|e| e.webhook);
                    let retry_at = self.outbox.tried(id, outcome.is_success(), at);
                    if let (Some(webhook), Some(retry_at)) = (webhook, retry_at) {
                        let event = TraceEvent::EmailDeferred { webhook, outcome, retry_at };
                        self.trace.push(at, event);
                    }
                }
                Note::Event(event) => self.trace.push(at, event),
            }
        }
        Ok(())
    }

    /// Gives the dispatcher host the core's sends and the emails due.
    fn hand_out(&mut self, at: SimTime) {
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Send(request) => self.queue(Job::Attempt(request)),
                Output::Email(email) => self.outbox.add(email, at),
            }
        }
        if !self.links.is_down(DISPATCHER_HOST) {
            for (id, email) in self.outbox.take_due(at) {
                self.queue(Job::Email { id, email });
            }
        }
    }

    fn queue(&self, job: Job) {
        dispatcher_host::queue(&self.cast.inbox, &self.cast.work, job);
    }

    /// Nothing queued, nothing being done, nothing on the wire that could still matter: the
    /// clock may jump.
    fn is_quiet(&self) -> bool {
        self.cast.work.is_idle() && self.core.attempts_in_flight() == 0 && self.stage.wire_is_quiet()
    }

    /// The next instant with work when the network is quiet; always later than `now`.
    fn next_deadline(&self, now: u64) -> u64 {
        let step = self.world.timeline.get(self.next_step).map(|s| s.at);
        let email = (!self.links.is_down(DISPATCHER_HOST)).then(|| self.outbox.next_due()).flatten();
        [step, self.core.poll_timeout(), email]
            .into_iter()
            .flatten()
            .map(SimTime::as_millis)
            .min()
            .unwrap_or(u64::MAX)
            .max(now + TICK_MS)
    }
}
