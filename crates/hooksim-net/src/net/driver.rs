//! The world loop: virtual time, the timeline, the core, and the stage.
//!
//! At each instant, in order: the timeline's steps, then what the hosts reported during the tick
//! that ended at this instant, then the connects the steps refused, then the core's timers (the
//! model engine's order: its agenda is FIFO at one instant, and timers come after it). While
//! anything is in flight, time moves one tick at a time; when the network is quiet it jumps to
//! the next deadline (a timeline step, a core timer, an email retry) or to the end of the world.

use super::Apps;
use super::alarm::Alarms;
use super::dispatcher_host::{self, Inbox, Job};
use super::hosting::Hosting;
use super::journal::{Journal, Note, Work};
use super::receiver_host::Receiver;
use super::stage::{Cast, Stage, TICK_MS, UNFINISHED_CONNECTS_MAX};
use hooksim_core::core::{AttemptId, AttemptRequest, Dispatch, Input, Output};
use hooksim_core::time::SimTime;
use hooksim_core::trace::{Outcome, Trace, TraceEvent};
use hooksim_sim::receiver::DeliveryEvents;
use hooksim_sim::receiver::app::contract_broken;
use hooksim_sim::shell::limits::{IN_FLIGHT_MAX, LINGER_MS, LINGERING_MAX, MAIL_TIMEOUT_MS};
use hooksim_sim::shell::replies::answer_input;
use hooksim_sim::shell::signing::SignedHeaders;
use hooksim_sim::shell::{Delays, Lingering, Links, MailRecord, Outbox, Path};
use hooksim_sim::world::{
    Action, DISPATCHER_HOST, EngineError, EngineFailure, Host, MAIL_HOST, RunLimits, RunOutput, Stall, World, url_host,
};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

pub use hooksim_sim::world::BUSY_TICKS_MAX;

/// Connections that may arrive at one host in one tick, and segments one stream may buffer.
/// turmoil panics beyond it. A release delivers every SYN held on a link in the same tick, one per
/// attempt made during the hold (the attempts' clients may be gone, their SYNs are not), so this is
/// far above anything the in-flight limit allows. turmoil allocates none of it up front.
const TCP_CAPACITY: usize = 1 << 20;

/// A dispatcher's failure on an input that is not a timeline step.
fn dispatcher_error(at: SimTime, during: &str, error: impl std::error::Error) -> EngineError {
    EngineError::Dispatcher { at, during: during.to_string(), message: error.to_string() }
}

pub(crate) struct Driver<'w, D> {
    world: &'w World,
    core: D,
    trace: Trace,
    /// Index of the next timeline step to apply.
    next_step: usize,
    links: Links,
    outbox: Outbox,
    /// Open exchanges, bounded; the sender of each exchange's `close` (dropping it closes it).
    exchanges: Lingering,
    closers: BTreeMap<AttemptId, oneshot::Sender<()>>,
    /// Attempts whose connect went out on a held link, in the order they went, with their host:
    /// turmoil keeps their SYNs on the link until a release. Only open exchanges are kept (at
    /// most one per open exchange, which [`Lingering`] bounds). See [`Driver::cut_held`].
    held_connects: Vec<(AttemptId, String)>,
    /// Connects this instant's steps refused (a partition on a held link, a receiver's
    /// restart), answered after the tick's reports: see [`Driver::refuse_connects`].
    refused: Vec<AttemptId>,
    /// Attempts sent while their receiver's process was down, by host: their connects wait, and
    /// are refused when it restarts (no listener yet), as in the model engine. Kept here rather
    /// than as SYNs inside turmoil, which would keep a port each for the rest of the run.
    waiting: BTreeMap<String, Vec<AttemptId>>,
    /// Attempts held before they connect (`delay_attempts`), with when their timeout passes.
    /// Held here, on the world clock, so a delay costs no ticks and the links judge the connect
    /// when it happens, as in the model engine.
    delays: Delays<(u64, AttemptRequest, Option<SignedHeaders>)>,
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
    /// The event of each delivery, learnt from the trace, for receivers that read a provider's
    /// shape (shared with their routers).
    events: Arc<Mutex<DeliveryEvents>>,
}

impl<'w, D: Dispatch> Driver<'w, D> {
    pub(crate) fn new(world: &'w World, limits: RunLimits, core: D, apps: &Apps) -> Result<Driver<'w, D>, EngineError> {
        // Host names unique and not reserved, in-flight within the ports a host has, latency in
        // order: what this engine needs is what `World::validate` (and `hooksim check`) checks.
        world.check_runnable()?;
        let journal = Journal::default();
        let events = Arc::default();
        let addressed = addressed_receivers(world);
        let specs: Vec<_> = world.receivers.iter().filter(|spec| addressed.contains(spec.host.as_str())).collect();
        let receivers: Vec<Receiver> = specs
            .iter()
            .map(|spec| Receiver::new(spec, world, &events, &journal, apps.get(&spec.host).cloned()))
            .collect();
        let hosting = Hosting::plan(world, &specs.iter().map(|spec| spec.host.as_str()).collect::<Vec<_>>());
        let mut names = vec![DISPATCHER_HOST.to_string(), MAIL_HOST.to_string()];
        names.extend(hosting.lodgings().iter().map(|lodging| lodging.host.clone()));
        let links = Links::new(world.latency_ms);
        let cast = Cast {
            inbox: Rc::new(Inbox::default()),
            journal,
            work: Work::default(),
            alarms: Alarms::default(),
            receivers,
            hosting,
            names,
            mail_record: Rc::new(RefCell::new(MailRecord::default())),
            tcp_capacity: TCP_CAPACITY,
        };
        let stage = Stage::start(world.seed, &cast, &links).map_err(EngineError::Simulation)?;
        Ok(Driver {
            world,
            core,
            trace: Trace::with_entries_max(limits.trace_entries_max),
            next_step: 0,
            links,
            outbox: Outbox::default(),
            exchanges: Lingering::default(),
            closers: BTreeMap::new(),
            held_connects: Vec::new(),
            refused: Vec::new(),
            waiting: BTreeMap::new(),
            delays: Delays::default(),
            cast,
            stage,
            busy_ticks: 0,
            limits,
            quiet_ticks: 0,
            settled: false,
            changed: false,
            events,
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
            self.refuse_connects(at)?;
            let fired = self.core.handle_timeout(at);
            self.drain_core();
            fired.map_err(|e| dispatcher_error(at, "timers", e))?;
            for attempt in self.exchanges.expire(now_ms) {
                self.forget(attempt);
            }
            self.hand_out(at)?;
            if self.trace.is_full() {
                return Err(EngineError::TraceFull { entries_max: self.trace.entries_max(), at });
            }
            if now_ms >= end {
                return Ok(());
            }
            if let Some(next) = self.jump_target(now_ms) {
                if self.cast.work.is_idle() {
                    self.stage.rest_mail(&self.links).map_err(EngineError::Simulation)?;
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
        self.stage.step(&self.links).map_err(EngineError::Simulation)?;
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
        let before = self.trace.len();
        self.core.drain_trace_into(&mut self.trace);
        if self.world.provider != hooksim_core::provider::Provider::Snapbill {
            let mut events = self.events.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            events.learn(&self.trace.entries()[before..]);
        }
    }

    fn apply_steps(&mut self, at: SimTime) -> Result<(), EngineError> {
        while let Some(step) = self.world.timeline.get(self.next_step) {
            if step.at > at {
                break;
            }
            let index = self.next_step;
            self.next_step += 1;
            self.changed = true;
            if let Some(change) = step.action.world_change() {
                self.trace.push(at, TraceEvent::WorldChanged { change });
            }
            let input = match &step.action {
                Action::Change(change) => Some(Input::Change(change.clone())),
                Action::EnableWebhook(webhook) => Some(Input::Enable(*webhook)),
                fault => {
                    self.act(fault, at)?;
                    None
                }
            };
            if let Some(input) = input {
                let result = self.core.handle(at, input);
                self.drain_core();
                result.map_err(|source| EngineError::Step { index, at, message: source.to_string() })?;
            } else {
                self.drain_core();
            }
        }
        Ok(())
    }

    /// A scripted fault or behaviour change.
    fn act(&mut self, action: &Action, at: SimTime) -> Result<(), EngineError> {
        match action {
            Action::Behave { receiver, behaviour } => {
                if let Some(r) = self.cast.receivers.iter().find(|r| &r.host == receiver) {
                    r.behave(behaviour);
                }
            }
            Action::Crash(host) => return self.crash(host, at),
            Action::Restart(host) => return self.restart(host, at),
            Action::DelayAttempts { .. } => self.delays.record(action),
            Action::Partition { .. }
            | Action::Release { .. }
            | Action::Repair { .. }
            | Action::Hold { .. }
            | Action::Latency { .. } => {
                self.links.record(action);
                self.stage.apply(action, &self.links, &self.cast.names);
                if matches!(action, Action::Partition { .. }) {
                    self.cut_held();
                }
                if matches!(action, Action::Release { .. }) {
                    let links = &self.links;
                    self.held_connects.retain(|(_, host)| links.is_held(DISPATCHER_HOST, host));
                }
            }
            // The dispatcher's own inputs (`apply_steps`), never acted here.
            Action::Change(_) | Action::EnableWebhook(_) => {}
        }
        Ok(())
    }

    /// A partition on a held link drops the SYNs it held in the cut direction, which refuses
    /// their connects at the partition's instant, as in the model engine. turmoil drops them
    /// at once, but the host's tasks learn it only in the next tick, after a timeout due at
    /// this instant; their reports then find the exchanges closed.
    fn cut_held(&mut self) {
        let links = &self.links;
        let (cut, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held_connects)
            .into_iter()
            .partition(|(_, host)| links.is_cut(DISPATCHER_HOST, host));
        self.held_connects = kept;
        self.refused.extend(cut.into_iter().map(|(attempt, _)| attempt));
    }

    /// Answers the connects this instant's steps refused, in the order they were refused. After
    /// the tick's reports, which were on their way before the steps, and before the core's
    /// timers: the model engine's order, whose agenda is FIFO at one instant.
    fn refuse_connects(&mut self, at: SimTime) -> Result<(), EngineError> {
        for attempt in std::mem::take(&mut self.refused) {
            self.answer(at, attempt, Outcome::Refused)?;
        }
        Ok(())
    }

    /// The driver's part of an exchange that ended: its closer, and its held connect.
    fn forget(&mut self, attempt: AttemptId) {
        if self.closers.remove(&attempt).is_some() {
            self.held_connects.retain(|(held, _)| *held != attempt);
        }
    }

    fn crash(&mut self, host: &Host, at: SimTime) -> Result<(), EngineError> {
        if !self.links.set_down(host, true) {
            return Ok(());
        }
        self.stage.crash(host.name(), &self.links, &self.cast.names).map_err(EngineError::Simulation)?;
        if *host == Host::Dispatcher {
            // Jobs not yet taken and every open exchange die with the process; the core knows
            // its attempts are lost.
            self.cast.inbox.clear();
            self.exchanges.clear();
            self.closers.clear();
            self.held_connects.clear();
            self.waiting.clear();
            self.delays.crashed();
            self.outbox.crashed();
            self.core.handle(at, Input::Crash).map_err(|e| dispatcher_error(at, "crash", e))?;
        }
        Ok(())
    }

    fn restart(&mut self, host: &Host, at: SimTime) -> Result<(), EngineError> {
        if !self.links.set_down(host, false) {
            return Ok(());
        }
        self.stage.restart(host.name(), &self.cast.names);
        self.refused.extend(self.waiting.remove(host.name()).unwrap_or_default());
        if *host == Host::Dispatcher {
            self.outbox.restarted(at);
            self.core.handle(at, Input::Restart).map_err(|e| dispatcher_error(at, "restart", e))?;
        }
        Ok(())
    }

    /// What the hosts reported during the tick that ended at `at`, in the order it happened.
    fn take_notes(&mut self, at: SimTime) -> Result<(), EngineError> {
        for note in self.cast.journal.take() {
            match note {
                Note::Answer { attempt, outcome, retry_after } => {
                    self.answer_with(at, attempt, outcome, retry_after.as_deref())?
                }
                Note::EmailTried { attempt, outcome } => {
                    if let Some((email, retry_at)) = self.outbox.tried(attempt, outcome.is_success(), at) {
                        let event = TraceEvent::EmailDeferred { webhook: email.webhook, outcome, retry_at };
                        self.trace.push(at, event);
                    }
                }
                Note::Event(event) => self.trace.push(at, event),
                Note::ContractBroken { receiver, why } => {
                    return Err(EngineError::Simulation(contract_broken(&receiver, at, &why)));
                }
            }
        }
        Ok(())
    }

    /// The end of an exchange, as the core hears it; an exchange already closed (its linger
    /// ran out, the lingering limit closed it) reports nothing, as in the model engine.
    fn answer(&mut self, at: SimTime, attempt: AttemptId, outcome: Outcome) -> Result<(), EngineError> {
        self.answer_with(at, attempt, outcome, None)
    }

    /// [`Driver::answer`] with the answer's `Retry-After`, read at `at` (the shell's one reading).
    fn answer_with(
        &mut self,
        at: SimTime,
        attempt: AttemptId,
        outcome: Outcome,
        retry_after: Option<&str>,
    ) -> Result<(), EngineError> {
        self.forget(attempt);
        if self.exchanges.close(attempt) {
            let result = self.core.handle(at, answer_input(attempt, outcome, retry_after, at));
            self.drain_core();
            result.map_err(|e| dispatcher_error(at, &format!("answer to attempt {attempt}"), e))?;
        }
        Ok(())
    }

    /// Gives the dispatcher host the core's sends and the emails due. A connect the shared link
    /// state refuses (no such host, a cut link) fails here, at once, as in the model engine.
    fn hand_out(&mut self, at: SimTime) -> Result<(), EngineError> {
        // Held attempts first: one refused here frees an in-flight slot, and what the core sends
        // into it goes out below, at this instant.
        while let Some((lingers_from_ms, request, headers)) = self.delays.pop_due(at) {
            // The lingering limit may have closed the exchange while the attempt was held.
            if self.exchanges.is_open(request.attempt) {
                let host = url_host(&request.url).unwrap_or_default();
                self.connect(at, &host, lingers_from_ms, (request, headers))?;
            }
        }
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Send(request) => self.send(at, request)?,
                Output::Email(email) => {
                    self.outbox.add(email, at);
                }
            }
        }
        if !self.links.is_down(DISPATCHER_HOST) {
            while let Some((attempt, email)) = self.outbox.take_due(at) {
                if self.links.path(DISPATCHER_HOST, MAIL_HOST) == Path::Partitioned {
                    if let Some((email, retry_at)) = self.outbox.tried(attempt, false, at) {
                        let event =
                            TraceEvent::EmailDeferred { webhook: email.webhook, outcome: Outcome::Refused, retry_at };
                        self.trace.push(at, event);
                    }
                    continue;
                }
                self.check_ports(at)?;
                self.stage.wake_mail(&self.links);
                let deadline_ms = at.as_millis().saturating_add(MAIL_TIMEOUT_MS);
                self.queue(Job::Email { attempt, email, deadline_ms });
            }
        }
        Ok(())
    }

    /// Stops the run before turmoil runs out of ports (it would panic): see
    /// [`UNFINISHED_CONNECTS_MAX`].
    fn check_ports(&self, at: SimTime) -> Result<(), EngineError> {
        let unfinished = self.cast.inbox.unfinished_connects();
        if unfinished < UNFINISHED_CONNECTS_MAX {
            return Ok(());
        }
        Err(EngineError::Simulation(format!(
            "at {at}: {unfinished} connections of the dispatcher never completed (refused, or held or sent to a \
             crashed host until given up); the network engine simulates at most {UNFINISHED_CONNECTS_MAX} in one run"
        )))
    }

    /// The core sent an attempt: its exchange opens now (its timeout runs from now); it
    /// connects now, or when its delay is over ([`Delays`]).
    fn send(&mut self, at: SimTime, request: AttemptRequest) -> Result<(), EngineError> {
        let now_ms = at.as_millis();
        let lingers_from_ms = now_ms.saturating_add(request.timeout_ms);
        for closed in self.exchanges.open(request.attempt, now_ms, lingers_from_ms) {
            self.forget(closed);
        }
        let host = url_host(&request.url).filter(|h| self.cast.hosting.address(h).is_some());
        let Some(host) = host else { return self.answer(at, request.attempt, Outcome::Refused) };
        // Signed when the core sends it, over the bytes it carries: an attempt the sender then
        // holds (a delay) arrives with its older timestamp, as a paused worker's would.
        let headers = hooksim_sim::shell::signing::sign(&self.world.signing, at, &request);
        match self.delays.send(&host, at, (lingers_from_ms, request, headers)) {
            Some((lingers_from_ms, request, headers)) => self.connect(at, &host, lingers_from_ms, (request, headers)),
            None => Ok(()),
        }
    }

    /// The attempt goes on the wire: refused at once across a cut link, kept for the restart of
    /// a crashed receiver, else handed to the dispatcher host.
    fn connect(
        &mut self,
        at: SimTime,
        host: &str,
        lingers_from_ms: u64,
        (request, headers): (AttemptRequest, Option<SignedHeaders>),
    ) -> Result<(), EngineError> {
        self.check_ports(at)?;
        match self.links.path(DISPATCHER_HOST, host) {
            Path::Partitioned => return self.answer(at, request.attempt, Outcome::Refused),
            Path::Down => {
                self.waiting.entry(host.to_string()).or_default().push(request.attempt);
                return Ok(());
            }
            Path::Held => self.held_connects.push((request.attempt, host.to_string())),
            Path::Open => {}
        }
        if self.closers.len() >= IN_FLIGHT_MAX + LINGERING_MAX {
            // Only a dispatcher that breaks its own in-flight limit gets here (`World::validate`
            // bounds what the policy allows): each open exchange holds one of the host's ports.
            return Err(EngineError::Simulation(format!(
                "at {at}: {} exchanges of the dispatcher are open at once (in flight or lingering); the network \
                 engine simulates at most {}",
                self.closers.len(),
                IN_FLIGHT_MAX + LINGERING_MAX
            )));
        }
        let Some(to) = self.cast.hosting.address(host).cloned() else {
            // `send` let through only the receivers on the stage.
            return self.answer(at, request.attempt, Outcome::Refused);
        };
        let (closer, close) = oneshot::channel();
        self.closers.insert(request.attempt, closer);
        let give_up_ms = lingers_from_ms.saturating_add(LINGER_MS);
        self.queue(Job::Attempt { request, to, headers, give_up_ms, close });
        Ok(())
    }

    fn queue(&self, job: Job) {
        dispatcher_host::queue(&self.cast.inbox, &self.cast.work, job);
    }

    /// Where the clock may jump to, if it may: when every task waits (on an alarm, on the
    /// network), nothing happens before the next alarm, deadline or segment due on the wire.
    fn jump_target(&self, now: u64) -> Option<u64> {
        let idle = self.cast.work.is_idle();
        let waiting = idle || (self.settled && !self.changed);
        if !waiting || !self.cast.inbox.is_empty() {
            return None;
        }
        // An alarm fires, and a segment is delivered, in the tick that ends at its instant, so
        // stop one tick short.
        let alarm = self.cast.alarms.next_at().map(|at| at.saturating_sub(TICK_MS));
        let due = self.stage.next_due_ms(idle).map(|at| at.saturating_sub(TICK_MS));
        let next = self.next_deadline(now).min(alarm.unwrap_or(u64::MAX)).min(due.unwrap_or(u64::MAX));
        (next > now).then_some(next)
    }

    /// The next timeline step, core timer or email retry; always later than `now`.
    fn next_deadline(&self, now: u64) -> u64 {
        let step = self.world.timeline.get(self.next_step).map(|s| s.at);
        let email = (!self.links.is_down(DISPATCHER_HOST)).then(|| self.outbox.next_due()).flatten();
        let linger = self.exchanges.next_end_ms().map(SimTime::from_millis);
        [step, self.core.poll_timeout(), email, linger, self.delays.next_at()]
            .into_iter()
            .flatten()
            .map(SimTime::as_millis)
            .min()
            .unwrap_or(u64::MAX)
            .max(now + TICK_MS)
    }
}

/// The receivers that can take part in the run: those a webhook's URL names (the only addresses
/// the dispatcher ever sends to, the protocol's ledger included) and those a timeline step names.
/// Only they become turmoil hosts. turmoil links every pair of hosts and walks every link for
/// every host at each tick, so an idle receiver would cost every tick of the run (1,000 of them
/// made one delivery take 18 s); left out, it costs nothing and can change nothing: nothing could
/// reach it.
fn addressed_receivers(world: &World) -> std::collections::BTreeSet<&str> {
    let mut hosts: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    let urls: std::collections::BTreeSet<String> = world.webhooks.iter().filter_map(|w| url_host(&w.url)).collect();
    for spec in &world.receivers {
        if urls.contains(&spec.host) {
            hosts.insert(spec.host.as_str());
        }
    }
    for step in &world.timeline {
        match &step.action {
            Action::Behave { receiver, .. } | Action::DelayAttempts { receiver, .. } => {
                hosts.insert(receiver.as_str());
            }
            Action::Partition { from: a, to: b, .. }
            | Action::Repair { a, b }
            | Action::Hold { a, b }
            | Action::Release { a, b } => {
                hosts.extend([a.name(), b.name()]);
            }
            Action::Crash(h) | Action::Restart(h) => {
                hosts.insert(h.name());
            }
            Action::Change(_) | Action::EnableWebhook(_) | Action::Latency { .. } => {}
        }
    }
    hosts
}
