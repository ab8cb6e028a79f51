//! The world loop: virtual time, the timeline, the core, and the stage.
//!
//! At each instant, in order: the timeline's steps, then what the hosts reported during the tick
//! that ended at this instant, then the core's timers. While anything is in flight, time moves
//! one tick at a time; when the network is quiet it jumps to the next deadline (a timeline step,
//! a core timer, an email retry) or to the end of the world.

use super::alarm::Alarms;
use super::dispatcher_host::{self, Inbox, Job, LINGER_MS, MAIL_TIMEOUT_MS};
use super::journal::{Journal, Note, Work};
use super::links::Links;
use super::outbox::Outbox;
use super::receiver_host::Receiver;
use super::stage::{Cast, Stage, TICK_MS, turmoil_seed};
use crate::core::{Dispatcher, Input, Output};
use crate::time::SimTime;
use crate::trace::{Trace, TraceEvent};
use crate::world::{
    Action, DISPATCHER_HOST, EngineError, EngineFailure, Host, MAIL_HOST, RunLimits, RunOutput, Stall, World,
};
use std::rc::Rc;

/// Ticks one run may simulate, in all (quiet gaps cost none): a tick is 1 ms of simulated time
/// with traffic on the wire, so this is 2 h 46 min 40 s of it, 700 times the busiest library
/// scenario. A world that keeps the network busier ends with an error and the trace so far. What
/// that costs in wall time depends on the machine and the traffic (2.4-8 us a tick measured
/// here: 25-80 s).
pub const BUSY_TICKS_MAX: u64 = 10_000_000;

/// Connections that may arrive at one host in one tick, and segments one stream may buffer.
/// turmoil panics beyond it. A release delivers every SYN held on a link in the same tick, one per
/// attempt made during the hold (the attempts' clients may be gone, their SYNs are not), so this is
/// far above anything the in-flight limit allows. turmoil allocates none of it up front.
const TCP_CAPACITY: usize = 1 << 20;

/// At most this many attempts in flight at once over all webhooks (the policy's per-webhook limit
/// times the webhooks), far below `TCP_CAPACITY`; a world that allows more is refused with an
/// error rather than risking turmoil's panic on a full accept queue.
pub const IN_FLIGHT_MAX: usize = 16_384;

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
    limits: RunLimits,
    /// Ticks in a row without an event (see [`Driver::step`]): the watchdog's count.
    quiet_ticks: u64,
    /// The last tick ended with every task blocked (see [`Driver::step`]).
    settled: bool,
    /// Something changed since the last tick (a timeline step), which hosts have not seen yet.
    changed: bool,
}

impl<'w> Driver<'w> {
    pub(crate) fn new(world: &'w World, limits: RunLimits) -> Result<Driver<'w>, EngineError> {
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
        let in_flight_max = (policy.in_flight_per_webhook_max() as usize).saturating_mul(world.webhooks.len());
        if in_flight_max > IN_FLIGHT_MAX {
            return Err(EngineError::Simulation(format!(
                "{in_flight_max} attempts may be in flight at once (in_flight_per_webhook_max times {} webhooks); \
                 the network engine takes at most {IN_FLIGHT_MAX}",
                world.webhooks.len()
            )));
        }
        let links = Links::new(world.latency_ms);
        let cast = Cast {
            inbox: Rc::new(Inbox::default()),
            journal,
            work: Work::default(),
            alarms: Alarms::default(),
            receivers,
            names,
            tcp_capacity: TCP_CAPACITY,
        };
        let stage = Stage::start(turmoil_seed(world.seed), &cast, &links)
            .map_err(|e| EngineError::Simulation(e.to_string()))?;
        Ok(Driver {
            world,
            core: Dispatcher::new(policy, world.webhooks.clone(), world.seed),
            trace: Trace::with_entries_max(limits.trace_entries_max),
            next_step: 0,
            links,
            outbox: Outbox::default(),
            cast,
            stage,
            busy_ticks: 0,
            limits,
            quiet_ticks: 0,
            settled: false,
            changed: false,
        })
    }

    /// Runs the world to its end; returns its output and the ticks simulated, or on an error the
    /// trace up to it.
    pub(crate) fn run(mut self) -> Result<(RunOutput, u64), EngineFailure> {
        let mut now = 0;
        let result = self.run_until_end(&mut now);
        let partial = RunOutput { trace: self.trace, sim_elapsed_ms: now.min(self.world.run_for_ms) };
        match result {
            Ok(()) => Ok((partial, self.busy_ticks)),
            Err(error) => Err(EngineFailure { error, partial }),
        }
    }

    /// The world loop; `now` is the virtual time reached, also when it fails.
    fn run_until_end(&mut self, now: &mut u64) -> Result<(), EngineError> {
        let end = self.world.run_for_ms;
        loop {
            let now_ms = *now;
            let at = SimTime::from_millis(now_ms);
            self.apply_steps(at)?;
            self.take_notes(at)?;
            self.core.handle_timeout(at);
            self.drain_core();
            self.hand_out(at);
            if self.trace.is_full() {
                return Err(EngineError::TraceFull { entries_max: self.trace.entries_max(), at });
            }
            if now_ms >= end {
                return Ok(());
            }
            if let Some(next) = self.jump_target(now_ms) {
                if self.cast.work.is_idle() {
                    self.stage.rest_mail(&self.links);
                }
                *now = next.min(end);
                self.stage.jump_to(*now);
                continue;
            }
            self.step(now_ms)?;
            *now = self.stage.now_ms();
        }
    }

    /// One tick of the simulation, ending at `now + TICK_MS`.
    fn step(&mut self, now: u64) -> Result<(), EngineError> {
        self.busy_ticks += 1;
        if self.busy_ticks > self.limits.busy_ticks_max {
            let at = SimTime::from_millis(now);
            return Err(EngineError::BusyTicks { ticks_max: self.limits.busy_ticks_max, at });
        }
        let ends_at = now + TICK_MS;
        let fired = self.cast.alarms.fire_due(ends_at);
        self.cast.alarms.set_now(ends_at);
        let handed_out = !self.cast.inbox.is_empty();
        self.stage.step().map_err(|e| EngineError::Simulation(e.to_string()))?;
        // Nothing was woken from outside and nothing was reported: every task ran until it
        // blocked, on an alarm or on the network.
        self.settled = !fired && !handed_out && !self.changed && self.cast.journal.is_empty();
        self.changed = false;
        self.watch(fired || handed_out || !self.cast.journal.is_empty(), ends_at)
    }

    /// The watchdog: ticks in a row in which nothing arrived, no alarm fired and no work was handed
    /// out are a stall (or a latency too long to tick through): an error, not a run that ticks on.
    fn watch(&mut self, event: bool, now: u64) -> Result<(), EngineError> {
        self.quiet_ticks = if event { 0 } else { self.quiet_ticks + 1 };
        if self.quiet_ticks > self.limits.stall_steps_max {
            let at = SimTime::from_millis(now);
            return Err(EngineError::Stalled(Stall::NoEvent { ticks: self.quiet_ticks, at }));
        }
        Ok(())
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
            self.changed = true;
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
                Output::Send(request) => {
                    let give_up_ms = at.as_millis().saturating_add(request.timeout_ms).saturating_add(LINGER_MS);
                    self.queue(Job::Attempt { request, give_up_ms });
                }
                Output::Email(email) => self.outbox.add(email, at),
            }
        }
        if !self.links.is_down(DISPATCHER_HOST) {
            for (id, email) in self.outbox.take_due(at) {
                self.stage.wake_mail(&self.links);
                let deadline_ms = at.as_millis().saturating_add(MAIL_TIMEOUT_MS);
                self.queue(Job::Email { id, email, deadline_ms });
            }
        }
    }

    fn queue(&self, job: Job) {
        dispatcher_host::queue(&self.cast.inbox, &self.cast.work, job);
    }

    /// Where the clock may jump to, if it may: when nothing moves on the wire and every task
    /// waits (on an alarm, on the network), nothing happens before the next alarm or deadline.
    fn jump_target(&self, now: u64) -> Option<u64> {
        let idle = self.cast.work.is_idle();
        let waiting = idle || (self.settled && !self.changed);
        if !waiting || !self.cast.inbox.is_empty() || !self.stage.wire_is_quiet(&self.links, &self.cast.names, idle) {
            return None;
        }
        // An alarm fires before the tick that ends at its deadline, so stop one tick short.
        let alarm = self.cast.alarms.next_at().map(|at| at.saturating_sub(TICK_MS));
        let next = self.next_deadline(now).min(alarm.unwrap_or(u64::MAX));
        (next > now).then_some(next)
    }

    /// The next timeline step, core timer or email retry; always later than `now`.
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
