//! The live shell's loop: the core, the timeline and the simulated mail host in virtual time;
//! deliveries to bound receivers as real HTTP requests.
//!
//! The loop does everything due at the clock's reading, in virtual-time order; then, with
//! nothing on the real network, jumps to the next deadline, or, with requests in flight, waits
//! for one to come back or for the wall instant of the next deadline, whichever is first.

use super::attempt::{Couriers, Exchange, Job, Reply};
use super::clock::Clock;
use super::ledger::Ledger;
use super::links::{Links, Path};
use super::mail::Letter;
use super::options::{ActNote, EarlierEffects, LiveOptions, WIRE_NOTES_MAX, WireNote};
use super::{Bindings, FLIGHTS_MAX};
use crate::effects::{ActContext, EffectRecord, act_name};
use hooksim_core::core::{Dispatcher, Input, Output};
use hooksim_core::domain::{EntityRef, EventPath};
use hooksim_core::time::{SimTime, TimeQueue};
use hooksim_core::trace::{Outcome, Trace, TraceEvent};
use hooksim_sim::shell::Delays;
use hooksim_sim::shell::limits::EMAIL_RETRY_MS;
use hooksim_sim::shell::signing;
use hooksim_sim::world::{Action, EngineError, Host, RunLimits, Stall, Step, World, url_host};
use rand_chacha::ChaCha8Rng;
use reqwest::Url;
use std::collections::{BTreeMap, VecDeque};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use uuid::Uuid;

/// What travels in virtual time.
enum Message {
    /// A request reaches the edge of the harness: it goes out on the real network.
    Request(Job),
    Answer {
        attempt: u64,
        outcome: Outcome,
        retry_after_ms: Option<u64>,
        incarnation: u32,
    },
    Mail(Letter),
}

/// A receiver of the world that is a real endpoint.
struct Target {
    host: Host,
    url: Url,
    effects: Option<(Url, Ledger)>,
}

pub(super) struct Driver<'w> {
    world: &'w World,
    core: Dispatcher,
    /// The instant processed last; the trace never goes back before it.
    pub now: SimTime,
    pub trace: Trace,
    limits: RunLimits,
    /// Latency draws, seeded (the model engine's stream: the same draws for the same links).
    rng: ChaCha8Rng,
    links: Links,
    /// Indexed like `world.receivers`; `None` for a receiver that is not bound (it gets nothing).
    targets: Vec<Option<Target>>,
    webhook_target: Vec<Option<usize>>,
    agenda: TimeQueue<Message>,
    held: Vec<(Host, Host, Message)>,
    /// Requests held at the harness before they are sent (`delay_attempts`), in virtual time.
    delays: Delays<Job>,
    incarnation: u32,
    next_step: usize,
    clock: Clock,
    couriers: Couriers,
    flights: usize,
    /// Requests waiting for a free flight slot ([`FLIGHTS_MAX`]), oldest first.
    waiting: VecDeque<Job>,
    tasks: JoinSet<()>,
    landed_tx: mpsc::UnboundedSender<Exchange>,
    landed: mpsc::UnboundedReceiver<Exchange>,
    /// The event of each delivery of this run, from the core's trace.
    delivery_events: BTreeMap<Uuid, u64>,
    /// What each event of this run is about, from the core's trace (to name a receiver's acts).
    events: BTreeMap<u64, (EventPath, &'static str, EntityRef)>,
    options: LiveOptions,
    /// How attempts failed on the wire, in words (at most [`WIRE_NOTES_MAX`]).
    pub notes: Vec<WireNote>,
    /// What the receiver wrote for each act traced (at most [`WIRE_NOTES_MAX`]).
    pub acts: Vec<ActNote>,
    /// The receiver failed an attempt and the options say to stop there.
    cut_short: bool,
    scanned: usize,
    steps_here: u64,
}

impl<'w> Driver<'w> {
    pub(super) fn new(
        world: &'w World,
        bindings: &Bindings,
        limits: RunLimits,
        couriers: Couriers,
        options: LiveOptions,
    ) -> Driver<'w> {
        let targets = world
            .receivers
            .iter()
            .map(|r| {
                bindings.get(&r.host).map(|b| Target {
                    host: Host::Receiver(r.host.clone()),
                    url: b.url.clone(),
                    effects: b.effects.clone().map(|u| (u, Ledger::default())),
                })
            })
            .collect::<Vec<_>>();
        let webhook_target = world
            .webhooks
            .iter()
            .map(|w| url_host(&w.url).and_then(|h| world.receivers.iter().position(|r| r.host == h)))
            .map(|rx| rx.filter(|rx| targets[*rx].is_some()))
            .collect();
        let (landed_tx, landed) = mpsc::unbounded_channel();
        Driver {
            world,
            core: world.reference_core(options.epoch_s),
            now: SimTime::ZERO,
            trace: Trace::with_entries_max(limits.trace_entries_max),
            limits,
            rng: hooksim_core::seed::rng(world.seed, hooksim_core::seed::Stream::ModelNetwork),
            links: Links::new(world.latency_ms),
            targets,
            webhook_target,
            agenda: TimeQueue::default(),
            held: Vec::new(),
            delays: Delays::default(),
            incarnation: 0,
            next_step: 0,
            clock: Clock::new(options.pace),
            couriers,
            flights: 0,
            waiting: VecDeque::new(),
            tasks: JoinSet::new(),
            landed_tx,
            landed,
            delivery_events: BTreeMap::new(),
            events: BTreeMap::new(),
            options,
            notes: Vec::new(),
            acts: Vec::new(),
            cut_short: false,
            scanned: 0,
            steps_here: 0,
        }
    }

    pub(super) async fn run(&mut self) -> Result<(), EngineError> {
        self.read_baselines().await?;
        let end = self.world.end();
        loop {
            self.advance_to(self.clock.now().min(end))?;
            if self.clock.now() >= end || self.cut_short {
                break;
            }
            let next = self.next_instant().filter(|t| *t <= end);
            // At real-time pace quiet time is waited out, below, as a flight is.
            if self.flights == 0 && self.clock.jumps() {
                self.clock.jump(next.unwrap_or(end));
                continue;
            }
            let wake = self.clock.wall_at(next.unwrap_or(end));
            tokio::select! {
                Some(exchange) = self.landed.recv() => {
                    let at = self.clock.at(exchange.answered_at).min(end);
                    self.advance_to(at)?;
                    self.land(exchange)?;
                }
                () = tokio::time::sleep_until(wake.into()) => {}
            }
        }
        if !self.cut_short {
            self.now = self.now.max(end);
        }
        self.settle().await
    }

    /// Runs every instant due at or before `t`, in order; then stands at `t`.
    fn advance_to(&mut self, t: SimTime) -> Result<(), EngineError> {
        while let Some(next) = self.next_instant().filter(|n| *n <= t) {
            self.step(next)?;
        }
        self.now = self.now.max(t);
        Ok(())
    }

    fn next_instant(&self) -> Option<SimTime> {
        let step = self.world.timeline.get(self.next_step).map(|s| s.at);
        [step, self.agenda.next_at(), self.core.poll_timeout(), self.delays.next_at()].into_iter().flatten().min()
    }

    /// One instant: the timeline's steps, the messages due, the core's timers (as the model
    /// engine does, with the same watchdog).
    fn step(&mut self, at: SimTime) -> Result<(), EngineError> {
        self.steps_here = if at == self.now { self.steps_here + 1 } else { 0 };
        self.now = self.now.max(at);
        while let Some(step) = self.world.timeline.get(self.next_step).filter(|s| s.at <= at) {
            self.next_step += 1;
            self.apply(self.next_step - 1, step)?;
        }
        while let Some((_, message)) = self.agenda.pop_due(at) {
            self.steps_here += 1;
            self.stall_check()?;
            self.deliver(message)?;
        }
        self.core.handle_timeout(self.now);
        self.drain_core();
        while let Some(job) = self.delays.pop_due(at) {
            self.send_request(job);
        }
        if self.trace.is_full() {
            return Err(EngineError::TraceFull { entries_max: self.trace.entries_max(), at: self.now });
        }
        self.stall_check()
    }

    fn stall_check(&self) -> Result<(), EngineError> {
        if self.steps_here > self.limits.stall_steps_max {
            return Err(EngineError::Stalled(Stall::ClockStopped { steps: self.steps_here, at: self.now }));
        }
        Ok(())
    }

    fn input(&mut self, input: Input) -> Result<(), hooksim_core::core::InputError> {
        let result = self.core.handle(self.now, input);
        self.drain_core();
        result
    }

    fn drain_core(&mut self) {
        self.core.drain_trace_into(&mut self.trace);
        for entry in &self.trace.entries()[self.scanned..] {
            match &entry.event {
                TraceEvent::DeliveryQueued { delivery, event, .. } => {
                    self.delivery_events.insert(*delivery, *event);
                }
                TraceEvent::EventRecorded { event, path, details, entity } => {
                    self.events.insert(*event, (*path, *details, *entity));
                }
                _ => {}
            }
        }
        self.scanned = self.trace.len();
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Send(request) => {
                    let Some(rx) = self.webhook_target.get(request.webhook.0 as usize).copied().flatten() else {
                        // No receiver of that name: the connect fails at once.
                        self.answer_now(request.attempt, Outcome::Refused);
                        continue;
                    };
                    let job = Job {
                        rx,
                        attempt: request.attempt,
                        delivery: request.delivery,
                        body: request.body,
                        // The flight's deadline is on the wall clock.
                        timeout_ms: self.clock.wall_ms(request.timeout_ms),
                        incarnation: self.incarnation,
                        event_id_offset: self.options.event_id_offset,
                        // The world's keys in use at the attempt's virtual time; else the
                        // caller's (certify --secret).
                        signer: self
                            .world
                            .signing
                            .sender
                            .as_ref()
                            .and_then(|k| signing::signer_at(k, self.now))
                            .or_else(|| self.options.signer.clone()),
                        shape: request.shape,
                    };
                    let receiver = self.target(rx).host.name().to_string();
                    if let Some(job) = self.delays.send(&receiver, self.now, job) {
                        self.send_request(job);
                    }
                }
                Output::Email(email) => self.agenda.push(self.now, Message::Mail(Letter::Send(Box::new(email)))),
            }
        }
    }

    fn apply(&mut self, index: usize, step: &Step) -> Result<(), EngineError> {
        let step_error = |source: hooksim_core::core::InputError| EngineError::Step {
            index,
            at: step.at,
            message: source.to_string(),
        };
        if let Some(change) = step.action.world_change() {
            self.trace.push(self.now, TraceEvent::WorldChanged { change });
        }
        // Every action by name: a new fault does not compile until this shell plays it.
        match &step.action {
            Action::Change(change) => {
                let result = self.input(Input::Change(change.clone())).map_err(step_error);
                if let Some(view) = &self.options.store_view {
                    let at_s = i64::try_from(self.now.as_millis() / 1_000).unwrap_or(i64::MAX);
                    view.publish(self.options.epoch_s.saturating_add(at_s), self.core.store());
                }
                return result;
            }
            Action::EnableWebhook(w) => return self.input(Input::Enable(*w)).map_err(step_error),
            // Bound receivers cannot be scripted or crashed (refused before the run); an unbound
            // one gets no deliveries, so its behaviour does not matter.
            Action::Behave { .. } => {}
            action @ (Action::Partition { .. }
            | Action::Repair { .. }
            | Action::Hold { .. }
            | Action::Latency { .. }) => self.links.record(action),
            action @ Action::Release { a, b } => {
                self.links.record(action);
                self.release_held(a, b);
            }
            action @ Action::DelayAttempts { .. } => self.delays.record(action),
            Action::Crash(host) => {
                self.links.set_down(host, true);
                if *host == Host::Dispatcher {
                    self.delays.crashed();
                    self.incarnation += 1;
                    let _ = self.input(Input::Crash);
                }
            }
            Action::Restart(host) => {
                self.links.set_down(host, false);
                if *host == Host::Dispatcher {
                    let _ = self.input(Input::Restart);
                }
            }
        }
        Ok(())
    }

    fn route(&mut self, path: Path, from: &Host, to: &Host, message: Message) {
        match path {
            Path::Open { latency_ms } => self.agenda.push(self.now.plus_ms(latency_ms), message),
            Path::Held => self.held.push((from.clone(), to.clone(), message)),
            Path::Partitioned | Path::Down => {}
        }
    }

    fn transmit(&mut self, from: &Host, to: &Host, message: Message) {
        let path = self.links.path(from, to, &mut self.rng);
        self.route(path, from, to, message);
    }

    fn release_held(&mut self, a: &Host, b: &Host) {
        let (released, kept) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|(from, to, _)| (from == a && to == b) || (from == b && to == a));
        self.held = kept;
        for (from, to, message) in released {
            self.transmit(&from, &to, message);
        }
    }

    /// A partition refuses at once; a hold keeps the request until the release; latency delays
    /// it in virtual time. Only then does it go on the real network.
    fn send_request(&mut self, job: Job) {
        let to = self.target(job.rx).host.clone();
        let path = self.links.path(&Host::Dispatcher, &to, &mut self.rng);
        if path == Path::Partitioned {
            return self.answer_now(job.attempt, Outcome::Refused);
        }
        self.route(path, &Host::Dispatcher, &to, Message::Request(job));
    }

    fn answer_now(&mut self, attempt: u64, outcome: Outcome) {
        let message = Message::Answer { attempt, outcome, retry_after_ms: None, incarnation: self.incarnation };
        self.agenda.push(self.now, message);
    }

    fn target(&self, rx: usize) -> &Target {
        self.targets[rx].as_ref().expect("jobs go to bound receivers only")
    }

    fn deliver(&mut self, message: Message) -> Result<(), EngineError> {
        match message {
            Message::Request(job) => self.launch(job),
            Message::Answer { attempt, outcome, retry_after_ms, incarnation } => {
                if incarnation == self.incarnation && !self.links.is_down(&Host::Dispatcher) {
                    let input = match (outcome, retry_after_ms) {
                        (Outcome::Status { code }, Some(ms)) => {
                            Input::AnswerRetryAfter { attempt, status: code, retry_after_ms: ms }
                        }
                        _ => Input::Answer { attempt, outcome },
                    };
                    self.input(input)
                        .map_err(|e| EngineError::Simulation(format!("answer to attempt {attempt}: {e}")))?;
                }
            }
            Message::Mail(letter) => self.mail(letter),
        }
        Ok(())
    }

    /// The simulated mail host, as in the model engine.
    fn mail(&mut self, letter: Letter) {
        match letter {
            Letter::Send(email) => {
                if self.links.is_down(&Host::Dispatcher) {
                    // The outbox is durable: the restarted dispatcher sends it.
                    let retry_at = self.now.plus_ms(EMAIL_RETRY_MS);
                    return self.agenda.push(retry_at, Message::Mail(Letter::Send(email)));
                }
                let outcome = match self.links.path(&Host::Dispatcher, &Host::Mail, &mut self.rng) {
                    Path::Open { latency_ms } => {
                        return self.agenda.push(self.now.plus_ms(latency_ms), Message::Mail(Letter::Arrive(email)));
                    }
                    Path::Partitioned => Outcome::Refused,
                    Path::Held | Path::Down => Outcome::Timeout,
                };
                let retry_at = self.now.plus_ms(EMAIL_RETRY_MS);
                self.trace.push(self.now, TraceEvent::EmailDeferred { webhook: email.webhook, outcome, retry_at });
                self.agenda.push(retry_at, Message::Mail(Letter::Send(email)));
            }
            Letter::Arrive(email) => {
                if self.links.is_down(&Host::Mail) {
                    self.agenda.push(self.now.plus_ms(EMAIL_RETRY_MS), Message::Mail(Letter::Send(email)));
                } else {
                    self.trace.push(self.now, TraceEvent::EmailReceived { to: email.to, webhook: email.webhook });
                }
            }
        }
    }

    /// Puts a request on the real network, or in line for a flight slot.
    fn launch(&mut self, job: Job) {
        if self.flights >= FLIGHTS_MAX {
            return self.waiting.push_back(job);
        }
        self.flights += 1;
        self.clock.run();
        let target = self.target(job.rx);
        let (url, effects) = (target.url.clone(), target.effects.as_ref().map(|(u, _)| u.clone()));
        let (couriers, landed) = (self.couriers.clone(), self.landed_tx.clone());
        self.tasks.spawn(async move {
            let exchange = couriers.fly(job, url, effects).await;
            let _ = landed.send(exchange);
        });
    }

    /// A flight came back: its acts into the trace, then its answer travels back to the
    /// dispatcher through the links. An answer a partition loses was read, and the receiver
    /// acted: the sender sees the connection break, so the core is told `reset` at once.
    fn land(&mut self, exchange: Exchange) -> Result<(), EngineError> {
        self.flights -= 1;
        // Reap finished tasks: a long run must not keep a handle per attempt.
        while self.tasks.try_join_next().is_some() {}
        if let Some(job) = self.waiting.pop_front() {
            self.launch(job);
        }
        if self.flights == 0 {
            self.clock.stop();
        }
        let Exchange { job, reply, effects, note, .. } = exchange;
        let failed = note.is_some() || matches!(reply, Reply::Answered { outcome, .. } if !outcome.is_success());
        let stop = self.options.stop_at_first_failure && failed;
        self.cut_short |= stop;
        if let Some((failure, what)) = note
            && self.notes.len() < WIRE_NOTES_MAX
        {
            self.notes.push(WireNote { attempt: job.attempt, delivery: job.delivery, what, failure });
        }
        self.record_acts(&job, reply, effects)?;
        let Reply::Answered { outcome, retry_after_ms } = reply else {
            return Ok(()); // no answer within the timeout: the core times the attempt out itself
        };
        let from = self.target(job.rx).host.clone();
        // `Retry-After` is the receiver's real seconds: in virtual time, scaled like the rest.
        let retry_after_ms = retry_after_ms.map(|ms| self.clock.virtual_ms_of_wall(ms));
        let answer = Message::Answer { attempt: job.attempt, outcome, retry_after_ms, incarnation: job.incarnation };
        if stop {
            // The run ends here: the failing answer reaches the core (and the trace) first, even
            // where a partition would lose it: the receiver's failure, not the scenario's
            // partition, is what the run is graded on.
            self.answer_now(job.attempt, outcome);
            return Ok(());
        }
        match self.links.path(&from, &Host::Dispatcher, &mut self.rng) {
            Path::Partitioned => self.answer_now(job.attempt, Outcome::Reset),
            path => self.route(path, &from, &Host::Dispatcher, answer),
        }
        Ok(())
    }

    /// New effects of the delivery become `receiver_acted`; an answered delivery with none is
    /// `receiver_skipped` (the receiver saw it and chose not to act).
    fn record_acts(
        &mut self,
        job: &Job,
        reply: Reply,
        effects: Option<Result<Vec<EffectRecord>, String>>,
    ) -> Result<(), EngineError> {
        let Some(effects) = effects else { return Ok(()) };
        let receiver = self.target(job.rx).host.name().to_string();
        let records = effects.map_err(|why| {
            EngineError::Simulation(format!("the effects of receiver {receiver:?} could not be read: {why}"))
        })?;
        let event = self.delivery_events.get(&job.delivery).copied().unwrap_or_default();
        let Some((_, ledger)) = self.targets[job.rx].as_mut().and_then(|t| t.effects.as_mut()) else { return Ok(()) };
        let fresh = ledger.new_acts(&records, job.delivery);
        let acts: Vec<String> = fresh.iter().map(|r| self.act_name(r, event)).collect();
        fresh.iter().for_each(|r| self.note_act(r, event));
        let delivery = job.delivery;
        match (acts.is_empty(), reply) {
            (true, Reply::Answered { outcome: Outcome::Status { code }, .. }) => {
                let why = format!("answered {code}, no effect recorded");
                self.trace.push(self.now, TraceEvent::ReceiverSkipped { receiver, delivery, event, why });
            }
            _ => {
                for action in acts {
                    let entry = TraceEvent::ReceiverActed { receiver: receiver.clone(), delivery, event, action };
                    self.trace.push(self.now, entry);
                }
            }
        }
        Ok(())
    }

    /// Keeps what the receiver wrote for an act (its kind, its words), bounded.
    fn note_act(&mut self, record: &EffectRecord, event: u64) {
        if self.acts.len() < WIRE_NOTES_MAX {
            let note = ActNote { delivery: record.uuid, event, kind: record.kind, said: record.action.clone() };
            self.acts.push(note);
        }
    }

    /// The trace's action for an entry of an effects list filed under a delivery of `event`.
    fn act_name(&self, record: &EffectRecord, event: u64) -> String {
        let context = self.events.get(&event).map(|(path, details, entity)| ActContext {
            path: path.as_str(),
            details,
            entity_kind: entity.kind.as_str(),
            entity_id: entity.id,
        });
        act_name(record, context)
    }

    /// Reads each effects list once before anything is sent: what is there already is not this
    /// run's doing (unless the options count earlier entries).
    async fn read_baselines(&mut self) -> Result<(), EngineError> {
        if self.options.earlier_effects == EarlierEffects::Counted {
            return Ok(());
        }
        for target in self.targets.iter_mut().flatten() {
            if let Some((url, ledger)) = &mut target.effects {
                let records = self.couriers.read_effects(url).await.map_err(|why| {
                    EngineError::Simulation(format!(
                        "the effects of receiver {:?} could not be read: {why}",
                        target.host.name()
                    ))
                })?;
                *ledger = Ledger::after(&records);
            }
        }
        Ok(())
    }

    /// The world's end: flights still out are cut, and each effects list is read until it
    /// settles ([`super::Settle`]): acts done after an answer (from a queue) are traced at the end.
    async fn settle(&mut self) -> Result<(), EngineError> {
        self.tasks.abort_all();
        let known = self.delivery_events.clone();
        for rx in 0..self.targets.len() {
            let Some(Target { host, effects: Some((url, _)), .. }) = &self.targets[rx] else { continue };
            let (receiver, url) = (host.name().to_string(), url.clone());
            let records = self.read_until_quiet(&receiver, &url).await?;
            let Some((_, ledger)) = self.targets[rx].as_mut().and_then(|t| t.effects.as_mut()) else { continue };
            let fresh = ledger.all_new(&records, |u| known.contains_key(&u));
            for record in fresh {
                let event = known.get(&record.uuid).copied().unwrap_or_default();
                let action = self.act_name(&record, event);
                self.note_act(&record, event);
                let entry =
                    TraceEvent::ReceiverActed { receiver: receiver.clone(), delivery: record.uuid, event, action };
                self.trace.push(self.now, entry);
            }
        }
        Ok(())
    }

    /// The list once it settled ([`super::Settle`]).
    async fn read_until_quiet(&self, receiver: &str, url: &Url) -> Result<Vec<EffectRecord>, EngineError> {
        let couriers = &self.couriers;
        self.options.settle.until_quiet(|| couriers.read_effects(url)).await.map_err(|why| {
            EngineError::Simulation(format!("the effects of receiver {receiver:?} could not be read: {why}"))
        })
    }
}
