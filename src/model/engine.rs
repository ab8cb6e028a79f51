//! The model engine's event loop.

use super::agenda::{Agenda, Message, Wire};
use super::network::{Network, Path};
use crate::core::{AttemptRequest, Dispatcher, Input, Output, WarningEmail};
use crate::receiver::{self, Book, ReceiverKind};
use crate::time::{MINUTE_MS, SimTime};
use crate::trace::{Outcome, Trace, TraceEvent};
use crate::world::{
    Action, Answer, Behaviour, EngineError, EngineFailure, Host, Reply, RunLimits, RunOutput, Stall, Step, World,
    url_host,
};
use rand_chacha::ChaCha8Rng;

/// How long the dispatcher waits before trying again to send an email that could not go out.
pub(crate) const EMAIL_RETRY_MS: u64 = MINUTE_MS;

/// Runs `world` to its end and returns the trace; on an error, the trace up to it.
pub fn run(world: &World) -> Result<RunOutput, EngineFailure> {
    run_with(world, RunLimits::default())
}

/// [`run`] within `limits`.
pub fn run_with(world: &World, limits: RunLimits) -> Result<RunOutput, EngineFailure> {
    let mut engine = Engine::new(world, limits);
    match engine.run() {
        Ok(()) => Ok(RunOutput { trace: engine.trace, sim_elapsed_ms: world.run_for_ms }),
        Err(error) => {
            let partial = RunOutput { trace: engine.trace, sim_elapsed_ms: engine.now.as_millis() };
            Err(EngineFailure { error, partial })
        }
    }
}

struct ModelReceiver {
    host: Host,
    kind: ReceiverKind,
    behaviour: Behaviour,
    /// Requests since the behaviour took effect: indexes the behaviour's reply sequence.
    served: u64,
    book: Book,
}

struct Engine<'w> {
    world: &'w World,
    core: Dispatcher,
    now: SimTime,
    trace: Trace,
    limits: RunLimits,
    /// Latency draws; seeded apart from the core's RNG so that latencies do not shift ids.
    rng: ChaCha8Rng,
    network: Network,
    receivers: Vec<ModelReceiver>,
    /// For each webhook, the index of the receiver its URL names (`None`: no such host).
    webhook_receiver: Vec<Option<usize>>,
    agenda: Agenda,
    /// Messages held on a link: (from, to, message), in the order they were held.
    held: Vec<(Host, Host, Message)>,
    /// Bumped at each dispatcher crash: answers on connections of an earlier process are lost.
    incarnation: u32,
    next_step: usize,
}

impl<'w> Engine<'w> {
    fn new(world: &'w World, limits: RunLimits) -> Self {
        let receivers = world
            .receivers
            .iter()
            .map(|r| ModelReceiver {
                host: Host::Receiver(r.host.clone()),
                kind: r.kind,
                behaviour: r.behaviour.clone(),
                served: 0,
                book: Book::default(),
            })
            .collect();
        let webhook_receiver = world
            .webhooks
            .iter()
            .map(|w| url_host(&w.url).and_then(|h| world.receivers.iter().position(|r| r.host == h)))
            .collect();
        Engine {
            world,
            core: Dispatcher::new(world.policy.clone(), world.webhooks.clone(), world.seed),
            now: SimTime::ZERO,
            trace: Trace::with_entries_max(limits.trace_entries_max),
            limits,
            rng: crate::seed::rng(world.seed, crate::seed::Stream::ModelNetwork),
            network: Network::new(world.latency_ms),
            receivers,
            webhook_receiver,
            agenda: Agenda::default(),
            held: Vec::new(),
            incarnation: 0,
            next_step: 0,
        }
    }

    fn run(&mut self) -> Result<(), EngineError> {
        let end = self.world.end();
        // The watchdog: steps taken at the current instant (the world clock must move on).
        let mut steps_here = 0;
        while let Some(next) = self.next_instant().filter(|t| *t <= end) {
            steps_here = if next == self.now { steps_here + 1 } else { 0 };
            self.now = next;
            while let Some(step) = self.world.timeline.get(self.next_step).filter(|s| s.at <= next) {
                self.next_step += 1;
                self.apply(self.next_step - 1, step)?;
            }
            while let Some(message) = self.agenda.pop_due(next) {
                steps_here += 1;
                if steps_here > self.limits.stall_steps_max {
                    return Err(EngineError::Stalled(Stall::ClockStopped { steps: steps_here, at: next }));
                }
                self.deliver(message)?;
            }
            self.core.handle_timeout(next);
            self.drain_core();
            if self.trace.is_full() {
                return Err(EngineError::TraceFull { entries_max: self.trace.entries_max(), at: next });
            }
            if steps_here > self.limits.stall_steps_max {
                return Err(EngineError::Stalled(Stall::ClockStopped { steps: steps_here, at: next }));
            }
        }
        Ok(())
    }

    fn next_instant(&self) -> Option<SimTime> {
        let step = self.world.timeline.get(self.next_step).map(|s| s.at);
        earliest(earliest(step, self.agenda.next_at()), self.core.poll_timeout())
    }

    fn input(&mut self, input: Input) -> Result<(), crate::core::InputError> {
        let result = self.core.handle(self.now, input);
        self.drain_core();
        result
    }

    /// Moves the core's trace into the world's and acts on its outputs.
    fn drain_core(&mut self) {
        self.core.drain_trace_into(&mut self.trace);
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Send(request) => self.send_request(request),
                Output::Email(email) => self.send_email(email),
            }
        }
    }

    fn apply(&mut self, index: usize, step: &Step) -> Result<(), EngineError> {
        let step_error = |source| EngineError::Step { index, at: step.at, source };
        match &step.action {
            Action::Change(change) => {
                return self.input(Input::Change(change.clone())).map_err(step_error);
            }
            Action::EnableWebhook(w) => return self.input(Input::Enable(*w)).map_err(step_error),
            _ => {}
        }
        self.trace.push(self.now, TraceEvent::WorldChanged { what: step.action.to_string() });
        match &step.action {
            Action::Behave { receiver, behaviour } => {
                if let Some(rx) = self.receivers.iter_mut().find(|r| r.host.name() == receiver) {
                    rx.behaviour = behaviour.clone();
                    rx.served = 0;
                }
            }
            Action::Partition { from, to, one_way } => self.network.partition(from, to, *one_way),
            Action::Repair { a, b } => self.network.repair(a, b),
            Action::Hold { a, b } => self.network.hold(a, b),
            Action::Release { a, b } => {
                self.network.release(a, b);
                self.release_held(a, b);
            }
            Action::Latency { min_ms, max_ms } => self.network.set_latency(*min_ms, *max_ms),
            Action::Crash(host) => self.crash(host),
            Action::Restart(host) => self.restart(host),
            Action::Change(_) | Action::EnableWebhook(_) => {}
        }
        Ok(())
    }

    fn crash(&mut self, host: &Host) {
        self.network.crash(host);
        if *host == Host::Dispatcher {
            self.incarnation += 1;
            let _ = self.input(Input::Crash);
        }
    }

    fn restart(&mut self, host: &Host) {
        self.network.restart(host);
        if *host == Host::Dispatcher {
            let _ = self.input(Input::Restart);
        }
    }

    /// Sends `message` from `from` to `to`, or holds it, or loses it.
    fn transmit(&mut self, from: &Host, to: &Host, message: Message) {
        let path = self.network.path(from, to, &mut self.rng);
        self.route(path, from, to, message);
    }

    fn route(&mut self, path: Path, from: &Host, to: &Host, message: Message) {
        match path {
            Path::Open { latency_ms } => self.agenda.push(self.now.plus_ms(latency_ms), message),
            Path::Held => self.held.push((from.clone(), to.clone(), message)),
            Path::Partitioned | Path::Down => {}
        }
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

    fn send_request(&mut self, request: AttemptRequest) {
        let Some(rx) = self.webhook_receiver.get(request.webhook.0 as usize).copied().flatten() else {
            // No such host on the network: the connect fails at once.
            return self.answer_now(request.attempt, Outcome::Refused);
        };
        // Fields borrowed apart, so that the common path clones no host name.
        let path = self.network.path(&Host::Dispatcher, &self.receivers[rx].host, &mut self.rng);
        if path == Path::Partitioned {
            return self.answer_now(request.attempt, Outcome::Refused);
        }
        let wire = Wire { attempt: request.attempt, body: request.body };
        let message = Message::Request { rx, wire, incarnation: self.incarnation };
        if let Path::Open { latency_ms } = path {
            self.agenda.push(self.now.plus_ms(latency_ms), message);
        } else {
            let to = self.receivers[rx].host.clone();
            self.route(path, &Host::Dispatcher, &to, message);
        }
    }

    fn answer_now(&mut self, attempt: u64, outcome: Outcome) {
        self.agenda.push(self.now, Message::Answer { attempt, outcome, incarnation: self.incarnation });
    }

    fn send_email(&mut self, email: WarningEmail) {
        self.agenda.push(self.now, Message::SendEmail(Box::new(email)));
    }

    fn deliver(&mut self, message: Message) -> Result<(), EngineError> {
        match message {
            Message::Request { rx, wire, incarnation } => self.request_arrives(rx, wire, incarnation),
            Message::Handle { rx, wire, reply, incarnation } => self.handle(rx, wire, reply, incarnation),
            Message::Answer { attempt, outcome, incarnation } => {
                if incarnation == self.incarnation && !self.network.is_down(&Host::Dispatcher) {
                    self.input(Input::Answer { attempt, outcome })
                        .map_err(|e| EngineError::Simulation(format!("answer to attempt {attempt}: {e}")))?;
                }
            }
            Message::SendEmail(email) => self.try_email(email),
            Message::Email(email) => {
                if self.network.is_down(&Host::Mail) {
                    self.agenda.push(self.now.plus_ms(EMAIL_RETRY_MS), Message::SendEmail(email));
                } else {
                    let event = TraceEvent::EmailReceived { to: email.to, webhook: email.webhook };
                    self.trace.push(self.now, event);
                }
            }
        }
        Ok(())
    }

    fn try_email(&mut self, email: Box<WarningEmail>) {
        if self.network.is_down(&Host::Dispatcher) {
            // The outbox is durable: the restarted dispatcher sends it.
            return self.agenda.push(self.now.plus_ms(EMAIL_RETRY_MS), Message::SendEmail(email));
        }
        let outcome = match self.network.path(&Host::Dispatcher, &Host::Mail, &mut self.rng) {
            Path::Open { latency_ms } => return self.agenda.push(self.now.plus_ms(latency_ms), Message::Email(email)),
            Path::Partitioned => Outcome::Refused,
            Path::Held | Path::Down => Outcome::Timeout,
        };
        let retry_at = self.now.plus_ms(EMAIL_RETRY_MS);
        self.trace.push(self.now, TraceEvent::EmailDeferred { webhook: email.webhook, outcome, retry_at });
        self.agenda.push(retry_at, Message::SendEmail(email));
    }

    fn request_arrives(&mut self, rx: usize, wire: Wire, incarnation: u32) {
        let receiver = &mut self.receivers[rx];
        if self.network.is_down(&receiver.host) {
            return;
        }
        let reply = receiver.behaviour.reply(receiver.served);
        receiver.served += 1;
        if reply.latency_ms == 0 {
            return self.handle(rx, wire, reply, incarnation);
        }
        let message = Message::Handle { rx, wire, reply, incarnation };
        self.agenda.push(self.now.plus_ms(reply.latency_ms), message);
    }

    /// The receiver answers: maybe acts, then replies (or drops the connection).
    fn handle(&mut self, rx: usize, wire: Wire, reply: Reply, incarnation: u32) {
        if self.network.is_down(&self.receivers[rx].host) {
            return;
        }
        let outcome = match reply.answer {
            Answer::Status(code) if (200..300).contains(&code) => Outcome::Status { code: self.act(rx, &wire) },
            Answer::Status(code) => Outcome::Status { code },
            Answer::ActThenStatus(code) => {
                self.act(rx, &wire);
                Outcome::Status { code }
            }
            Answer::ActThenDrop => {
                self.act(rx, &wire);
                Outcome::Reset
            }
            Answer::Drop => Outcome::Reset,
        };
        let message = Message::Answer { attempt: wire.attempt, outcome, incarnation };
        let path = self.network.path(&self.receivers[rx].host, &Host::Dispatcher, &mut self.rng);
        if let Path::Open { latency_ms } = path {
            self.agenda.push(self.now.plus_ms(latency_ms), message);
        } else {
            let from = self.receivers[rx].host.clone();
            self.route(path, &from, &Host::Dispatcher, message);
        }
    }

    /// Runs the reference logic; returns the status it answers.
    fn act(&mut self, rx: usize, wire: &Wire) -> u16 {
        let receiver = &mut self.receivers[rx];
        let handled = receiver::handle(receiver.kind, &mut receiver.book, wire.body.as_bytes());
        if let Some(event) = receiver::trace_event(receiver.host.name(), &handled) {
            self.trace.push(self.now, event);
        }
        handled.status()
    }
}

fn earliest(a: Option<SimTime>, b: Option<SimTime>) -> Option<SimTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
