//! The model engine's event loop. Link state, reply sequences, what a reply does, warning emails
//! and lingering exchanges are the shared shell's ([`crate::shell`]); this file only moves
//! messages through time.

use super::agenda::{Agenda, Letter, Message, Peer, Wire};
use crate::receiver::app::contract_broken;
use crate::receiver::{self, ActsBook, App, Book, ReceiverKind};
use crate::shell::limits::{MAIL_TIMEOUT_MS, SERVER_TURN_MS};
use crate::shell::mail::MailTry;
use crate::shell::replies::answer_input;
use crate::shell::signing::{self, Gate, UNSIGNED};
use crate::shell::{Conduct, Delays, Lingering, Links, MailRecord, Outbox, Path, play, refuse_body};
use crate::world::{
    Action, EngineError, EngineFailure, Host, Reply, RunLimits, RunOutput, Stall, Step, World, url_host,
};
use hooksim_core::core::{AttemptRequest, Dispatch, Input, Output};
use hooksim_core::provider::Provider;
use hooksim_core::time::SimTime;
use hooksim_core::trace::{Outcome, Trace, TraceEvent};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Runs `world` to its end and returns the trace; on an error, the trace up to it.
///
/// A scenario's world on the model engine, its expectations judged over the trace:
///
/// ```
/// use hooksim_sim::{model, scenario};
/// const TEXT: &str = r#"
/// name = "lost-answer"
/// description = "The first answer is lost after the shop acted; the retry is a duplicate."
/// run_for = "1h"
/// [webhooks.shop]
/// url = "http://shop/webhook"
/// [receivers.shop]
/// kind = "dedup"
/// behaviour = { replies = ["act then drop"], then = "200" }
/// [[timeline]]
/// at = "0s"
/// add_client = { id = 1 }
/// [[expect]]
/// attempts = "shop"
/// exactly = 2
/// [[expect]]
/// acted = "shop"
/// exactly = 1
/// "#;
/// let scenario = scenario::load_str("lost-answer.toml", TEXT).unwrap();
/// let out = model::run(&scenario.world).unwrap();
/// assert!(scenario::evaluate(&scenario, &out.trace).is_empty());
/// // Byte-identical on a second run: the same seed, the same trace.
/// assert_eq!(model::run(&scenario.world).unwrap().trace.to_json_lines(), out.trace.to_json_lines());
/// ```
pub fn run(world: &World) -> Result<RunOutput, EngineFailure> {
    run_with(world, RunLimits::default())
}

/// [`run`] within `limits`.
pub fn run_with(world: &World, limits: RunLimits) -> Result<RunOutput, EngineFailure> {
    let core = world.reference_core(crate::shell::signing::EPOCH_S);
    run_dispatched(world, limits, core)
}

/// [`run_with`] with a dispatcher the caller built (for a process, `crate::protocol::ProcessDispatcher`
/// spawned with the world's policy, webhooks and seed) in place of the reference core. Generic, so
/// the in-process core pays nothing for the choice.
pub fn run_dispatched<D: Dispatch>(world: &World, limits: RunLimits, core: D) -> Result<RunOutput, EngineFailure> {
    run_dispatched_with_apps(world, limits, core, Apps::new())
}

/// The caller's own receiver logic by host ([`App`]), in place of the reference kinds.
pub type Apps<'a> = std::collections::BTreeMap<String, Box<dyn App + 'a>>;

/// [`run_dispatched`] with some receivers played by the caller's own logic: each takes its
/// deliveries at the instant the reference logic would, behind the same scripted behaviour,
/// signature check and faults, and its acts are read through the effects contract.
pub fn run_dispatched_with_apps<'a, D: Dispatch>(
    world: &World,
    limits: RunLimits,
    core: D,
    mut apps: Apps<'a>,
) -> Result<RunOutput, EngineFailure> {
    world.check_runnable()?;
    let mut engine = Engine::new(world, limits, core);
    for receiver in &mut engine.receivers {
        receiver.app = apps.remove(receiver.host.name());
    }
    match engine.run() {
        Ok(()) => Ok(RunOutput { trace: engine.trace, sim_elapsed_ms: world.run_for_ms }),
        Err(error) => {
            let partial = RunOutput { trace: engine.trace, sim_elapsed_ms: engine.now.as_millis() };
            Err(EngineFailure { error, partial })
        }
    }
}

/// The earlier of two optional instants (`None`: nothing due).
fn earliest(a: Option<SimTime>, b: Option<SimTime>) -> Option<SimTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A dispatcher's failure on an input that is not a timeline step.
fn dispatcher_error(at: SimTime, during: &str, error: impl std::error::Error) -> EngineError {
    EngineError::Dispatcher { at, during: during.to_string(), message: error.to_string() }
}

struct ModelReceiver<'a> {
    host: Host,
    /// The caller's own logic in place of `kind`'s, and what it has reported acting on.
    app: Option<Box<dyn App + 'a>>,
    acts: ActsBook,
    kind: ReceiverKind,
    /// Its signature check, when it verifies.
    gate: Option<Gate>,
    conduct: Conduct,
    /// Bumped at each crash: work the process had under way dies with it.
    life: u32,
    book: Book,
}

/// Who waits for a connection to a crashed host.
enum Waiter {
    Attempt(hooksim_core::core::AttemptId),
    Letter(MailTry),
}

struct Engine<'w, 'a, D> {
    world: &'w World,
    core: D,
    now: SimTime,
    trace: Trace,
    limits: RunLimits,
    /// Latency draws; seeded apart from the core's RNG so that latencies do not shift ids.
    rng: ChaCha8Rng,
    links: Links,
    receivers: Vec<ModelReceiver<'a>>,
    /// For each webhook, the index of the receiver its URL names (`None`: no such host).
    webhook_receiver: Vec<Option<usize>>,
    agenda: Agenda,
    /// Messages on held links, in the order they were held.
    held: Vec<(Peer, Peer, Message)>,
    /// Connection requests that reached a crashed host: they wait, unanswered, and are refused
    /// when it restarts (no listener yet), as turmoil does.
    waiting: Vec<(Host, Waiter)>,
    /// Attempts held at the dispatcher before they connect (`delay_attempts`).
    delays: Delays<(usize, Wire)>,
    exchanges: Lingering,
    outbox: Outbox,
    mail: MailRecord,
    next_step: usize,
    /// The event of each delivery, for receivers that read a provider's shape.
    events: crate::receiver::DeliveryEvents,
}

impl<'w, 'a, D: Dispatch> Engine<'w, 'a, D> {
    fn new(world: &'w World, limits: RunLimits, core: D) -> Self {
        let receivers = world
            .receivers
            .iter()
            .map(|r| ModelReceiver {
                host: Host::Receiver(r.host.clone()),
                app: None,
                acts: ActsBook::default(),
                kind: r.kind,
                gate: Gate::of(&world.signing, &r.host),
                conduct: Conduct::new(r.behaviour.clone()),
                life: 0,
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
            core,
            now: SimTime::ZERO,
            trace: Trace::with_entries_max(limits.trace_entries_max),
            limits,
            rng: hooksim_core::seed::rng(world.seed, hooksim_core::seed::Stream::ModelNetwork),
            links: Links::new(world.latency_ms),
            receivers,
            webhook_receiver,
            agenda: Agenda::default(),
            held: Vec::new(),
            waiting: Vec::new(),
            delays: Delays::default(),
            exchanges: Lingering::default(),
            outbox: Outbox::default(),
            mail: MailRecord::default(),
            next_step: 0,
            events: Default::default(),
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
            // Asked first: most instants fire no timer of the dispatcher's.
            if self.core.poll_timeout().is_some_and(|due| due <= next) {
                let fired = self.core.handle_timeout(next);
                self.drain_core();
                fired.map_err(|e| dispatcher_error(next, "timers", e))?;
            }
            // Asked first: most instants end no exchange, and `expire` collects what it closes.
            if self.exchanges.next_end_ms().is_some_and(|end| end <= next.as_millis()) {
                self.exchanges.expire(next.as_millis());
            }
            self.send_delayed(next);
            self.send_letters();
            if self.trace.is_full() {
                return Err(EngineError::TraceFull { entries_max: self.trace.entries_max(), at: next });
            }
            if steps_here > self.limits.stall_steps_max {
                return Err(EngineError::Stalled(Stall::ClockStopped { steps: steps_here, at: next }));
            }
        }
        Ok(())
    }

    fn dispatcher_up(&self) -> bool {
        !self.links.is_down(Host::Dispatcher.name())
    }

    fn next_instant(&self) -> Option<SimTime> {
        let step = self.world.timeline.get(self.next_step).map(|s| s.at);
        let letter = if self.dispatcher_up() { self.outbox.next_due() } else { None };
        let linger = self.exchanges.next_end_ms().map(SimTime::from_millis);
        let delayed = self.delays.next_at();
        // A plain chain of `min`s: this runs once per instant (thousands of times a run), and the
        // array-flatten-min it replaced cost about a tenth of a 10-day run.
        let mut next = step;
        for at in [self.agenda.next_at(), self.core.poll_timeout(), letter, linger, delayed] {
            next = earliest(next, at);
        }
        next
    }

    fn input(&mut self, input: Input) -> Result<(), D::Error> {
        let result = self.core.handle(self.now, input);
        self.drain_core();
        result
    }

    /// Moves the core's trace into the world's and acts on its outputs.
    fn drain_core(&mut self) {
        let before = self.trace.len();
        self.core.drain_trace_into(&mut self.trace);
        if self.world.provider != Provider::Snapbill {
            self.events.learn(&self.trace.entries()[before..]);
        }
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Send(request) => self.send_request(request),
                Output::Email(email) => {
                    self.outbox.add(email, self.now);
                }
            }
        }
    }

    fn apply(&mut self, index: usize, step: &Step) -> Result<(), EngineError> {
        let step_error = |source: D::Error| EngineError::Step { index, at: step.at, message: source.to_string() };
        if let Some(change) = step.action.world_change() {
            self.trace.push(self.now, TraceEvent::WorldChanged { change });
        }
        // Every action by name: a new fault does not compile until this engine plays it.
        match &step.action {
            Action::Change(change) => {
                return self.input(Input::Change(change.clone())).map_err(step_error);
            }
            Action::EnableWebhook(w) => return self.input(Input::Enable(*w)).map_err(step_error),
            Action::Behave { receiver, behaviour } => {
                if let Some(rx) = self.receivers.iter_mut().find(|r| r.host.name() == receiver) {
                    rx.conduct.behave(behaviour);
                }
            }
            Action::Release { a, b } => {
                self.links.record(&step.action);
                self.release_held(a, b);
            }
            Action::Partition { .. } => {
                self.links.record(&step.action);
                self.drop_cut_held();
            }
            Action::Crash(host) => self.crash(host)?,
            Action::Restart(host) => self.restart(host)?,
            delay @ Action::DelayAttempts { .. } => self.delays.record(delay),
            links @ (Action::Repair { .. } | Action::Hold { .. } | Action::Latency { .. }) => self.links.record(links),
        }
        Ok(())
    }

    fn crash(&mut self, host: &Host) -> Result<(), EngineError> {
        if !self.links.set_down(host, true) {
            return Ok(());
        }
        if let Some(rx) = self.receivers.iter_mut().find(|r| r.host == *host) {
            rx.life += 1;
        }
        if *host == Host::Dispatcher {
            // The process and its connections die: no exchange waits for anything any more.
            self.exchanges.clear();
            self.delays.crashed();
            self.outbox.crashed();
            self.input(Input::Crash).map_err(|e| dispatcher_error(self.now, "crash", e))?;
        }
        Ok(())
    }

    fn restart(&mut self, host: &Host) -> Result<(), EngineError> {
        if !self.links.set_down(host, false) {
            return Ok(());
        }
        let (refused, kept) = std::mem::take(&mut self.waiting).into_iter().partition(|(h, _)| h == host);
        self.waiting = kept;
        for (_, waiter) in refused {
            let message = match waiter {
                Waiter::Attempt(attempt) => Message::answer(attempt, Outcome::Refused),
                Waiter::Letter(attempt) => Message::MailRefused(attempt),
            };
            self.agenda.push(self.now, message);
        }
        if *host == Host::Dispatcher {
            self.outbox.restarted(self.now);
            self.input(Input::Restart).map_err(|e| dispatcher_error(self.now, "restart", e))?;
        }
        Ok(())
    }

    fn latency_ms(&mut self) -> u64 {
        let (min, max) = self.links.latency_ms();
        if min == max { min } else { self.rng.random_range(min..=max) }
    }

    /// Sends `message` from `from` to `to`: it arrives after a latency, is held, or is lost.
    /// Hosts are named by [`Peer`], which is `Copy`: naming a receiver costs no copy of its name.
    fn transmit(&mut self, from: Peer, to: Peer, message: Message) -> Path {
        let path = self.links.path(self.peer_name(from), self.peer_name(to));
        match path {
            // A message to a crashed host travels all the same: what it finds is decided when
            // it arrives (a connection request waits for the restart, anything else is lost).
            Path::Open | Path::Down => {
                let at = self.now.plus_ms(self.latency_ms());
                let cuts_made = self.links.cuts_made();
                if cuts_made == 0 {
                    self.agenda.push(at, message);
                } else {
                    let message = Box::new(message);
                    self.agenda.push(at, Message::Wire { from, to, cuts_made, message });
                }
            }
            Path::Held => self.held.push((from, to, message)),
            Path::Partitioned => self.lose(message),
        }
        path
    }

    fn peer_name(&self, peer: Peer) -> &str {
        match peer {
            Peer::Dispatcher => Host::Dispatcher.name(),
            Peer::Mail => Host::Mail.name(),
            Peer::Receiver(rx) => self.receivers[rx].host.name(),
        }
    }

    /// A message the network dropped. A dropped connection request fails its connect (the
    /// sender sees `refused`, as turmoil reports a SYN it dropped); anything else just vanishes.
    fn lose(&mut self, message: Message) {
        match message {
            Message::Connect { wire, .. } => {
                let message = Message::answer(wire.attempt, Outcome::Refused);
                self.agenda.push(self.now, message);
            }
            Message::MailConnect(letter) => self.agenda.push(self.now, Message::MailRefused(letter.attempt)),
            _ => {}
        }
    }

    /// A partition on a held link drops what the link held in the cut direction.
    fn drop_cut_held(&mut self) {
        let (cut, kept) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|(from, to, _)| self.links.is_cut(self.peer_name(*from), self.peer_name(*to)));
        self.held = kept;
        for (_, _, message) in cut {
            self.lose(message);
        }
    }

    fn release_held(&mut self, a: &Host, b: &Host) {
        let (a, b) = (a.name(), b.name());
        let (released, kept) = std::mem::take(&mut self.held).into_iter().partition(|(from, to, _)| {
            let (from, to) = (self.peer_name(*from), self.peer_name(*to));
            (from == a && to == b) || (from == b && to == a)
        });
        self.held = kept;
        for (from, to, message) in released {
            self.transmit(from, to, message);
        }
    }

    fn send_request(&mut self, request: AttemptRequest) {
        let now_ms = self.now.as_millis();
        // Lingering exchanges over the limit close now: what they left held never lands.
        self.exchanges.open(request.attempt, now_ms, now_ms.saturating_add(request.timeout_ms));
        let Some(rx) = self.webhook_receiver.get(request.webhook.0 as usize).copied().flatten() else {
            // No such host on the network: the connect fails at once.
            return self.agenda.push(self.now, Message::answer(request.attempt, Outcome::Refused));
        };
        // Signed when the core sends it, over the bytes it carries: an attempt the sender then
        // holds (a delay) arrives with its older timestamp, as a paused worker's would.
        let headers = signing::sign(&self.world.signing, self.now, &request);
        let wire = Wire { attempt: request.attempt, body: request.body, headers, url: request.url };
        if let Some((rx, wire)) = self.delays.send(self.receivers[rx].host.name(), self.now, (rx, wire)) {
            self.connect_to(rx, wire);
        }
    }

    /// The attempt goes on the wire. Across a cut link the connect fails at once (`lose`).
    fn connect_to(&mut self, rx: usize, wire: Wire) {
        self.transmit(Peer::Dispatcher, Peer::Receiver(rx), Message::Connect { rx, wire });
    }

    /// Held attempts whose delay is over go on the wire, if their exchange is still open (the
    /// lingering limit may have closed it).
    fn send_delayed(&mut self, now: SimTime) {
        while let Some((rx, wire)) = self.delays.pop_due(now) {
            if self.exchanges.is_open(wire.attempt) {
                self.connect_to(rx, wire);
            }
        }
    }

    fn deliver(&mut self, message: Message) -> Result<(), EngineError> {
        match message {
            Message::Wire { from, to, cuts_made, message } => {
                if self.links.cut_since(cuts_made, self.peer_name(from), self.peer_name(to)) {
                    self.lose(*message);
                } else {
                    self.deliver(*message)?;
                }
            }
            Message::Connect { rx, wire } => self.connect(rx, wire),
            Message::Request { rx, wire, life } => self.request_arrives(rx, wire, life),
            Message::Handle { rx, wire, reply, life } => self.handle(rx, wire, reply, life)?,
            Message::Answer { attempt, outcome, retry_after } => {
                if self.exchanges.close(attempt) {
                    self.input(answer_input(attempt, outcome, retry_after.as_deref(), self.now))
                        .map_err(|e| dispatcher_error(self.now, &format!("answer to attempt {attempt}"), e))?;
                }
            }
            Message::MailConnect(letter) => self.mail_connect(letter),
            Message::Mail(letter) => self.mail_arrives(letter),
            Message::MailAnswer(attempt) => {
                self.outbox.tried(attempt, true, self.now);
            }
            Message::MailTake(letter) => self.mail_take(&letter),
            Message::MailTimeout(attempt) => self.letter_failed(attempt, Outcome::Timeout),
            Message::MailRefused(attempt) => self.letter_failed(attempt, Outcome::Refused),
        }
        Ok(())
    }

    /// A connection request reached a receiver: the connection opens (if the dispatcher still
    /// waits for it), and the request goes out on it.
    fn connect(&mut self, rx: usize, wire: Wire) {
        let receiver = &self.receivers[rx];
        if !self.exchanges.is_open(wire.attempt) {
            return;
        }
        if self.links.is_down(receiver.host.name()) {
            return self.waiting.push((receiver.host.clone(), Waiter::Attempt(wire.attempt)));
        }
        let life = receiver.life;
        self.transmit(Peer::Dispatcher, Peer::Receiver(rx), Message::Request { rx, wire, life });
    }

    fn request_arrives(&mut self, rx: usize, wire: Wire, life: u32) {
        let receiver = &mut self.receivers[rx];
        if self.links.is_down(receiver.host.name()) {
            return;
        }
        if receiver.life != life {
            // The connection died with the process that opened it: the sender sees a reset.
            let message = Message::answer(wire.attempt, Outcome::Reset);
            self.transmit(Peer::Receiver(rx), Peer::Dispatcher, message);
            return;
        }
        if let Some(outcome) = refuse_body(wire.body.len()) {
            let message = Message::answer(wire.attempt, outcome);
            self.transmit(Peer::Receiver(rx), Peer::Dispatcher, message);
            return;
        }
        let reply = receiver.conduct.next_reply();
        let at = self.now.plus_ms(SERVER_TURN_MS.saturating_add(reply.latency_ms));
        self.agenda.push(at, Message::Handle { rx, wire, reply, life });
    }

    /// The receiver answers: maybe acts, then replies (or drops the connection). A receiver that
    /// crashed since it took the request does neither: the crash ended what it was doing.
    fn handle(&mut self, rx: usize, wire: Wire, reply: Reply, life: u32) -> Result<(), EngineError> {
        let receiver = &self.receivers[rx];
        if self.links.is_down(receiver.host.name()) || receiver.life != life {
            return Ok(());
        }
        let play = play(reply.answer);
        let outcome = match play.runs_logic.then(|| self.verify(rx, &wire)) {
            Some(Err(rejection)) => rejection.outcome(),
            Some(Ok(())) => play.respond.outcome(Some(self.act(rx, &wire)?)),
            None => play.respond.outcome(None),
        };
        // Written at the receiver's now, read back by the dispatcher at its own (as on the wire).
        let retry_after = play.respond.retry_after(self.now).map(String::into_boxed_str);
        let answer = Message::Answer { attempt: wire.attempt, outcome, retry_after };
        self.transmit(Peer::Receiver(rx), Peer::Dispatcher, answer);
        Ok(())
    }

    /// A verifying receiver's check, before its logic sees the request; a rejection is traced.
    fn verify(&mut self, rx: usize, wire: &Wire) -> Result<(), signing::Rejection> {
        let receiver = &self.receivers[rx];
        let Some(gate) = &receiver.gate else { return Ok(()) };
        let headers = wire.headers.as_deref().unwrap_or(UNSIGNED);
        let checked = gate.check(headers, wire.body.as_bytes(), self.now);
        if let Err(rejection) = &checked {
            let events = &self.events;
            let (provider, body) = (self.world.provider, wire.body.as_bytes());
            let event = rejection.trace_event(receiver.host.name(), provider, headers, body, |u| events.event_of(u));
            self.trace.push(self.now, event);
        }
        checked
    }

    /// Runs the receiver's logic (the reference kind's, or the caller's own); returns the status
    /// it answers.
    fn act(&mut self, rx: usize, wire: &Wire) -> Result<u16, EngineError> {
        let receiver = &mut self.receivers[rx];
        if let Some(app) = receiver.app.as_mut() {
            let host = receiver.host.name();
            let broken = |why: String| EngineError::Simulation(contract_broken(host, self.now, &why));
            let events = &self.events;
            let signed = wire.headers.as_deref().unwrap_or(UNSIGNED);
            receiver.acts.note_shaped(self.world.provider, signed, wire.body.as_bytes(), |u| events.event_of(u));
            let headers: Vec<(&str, &str)> =
                wire.headers.iter().flat_map(|h| h.iter()).map(|(n, v)| (*n, v.as_str())).collect();
            let path = crate::world::parse_url(&wire.url).map_or_else(|| "/".to_string(), |u| u.path().to_string());
            let status = app.deliver(&path, &headers, wire.body.as_bytes()).map_err(&broken)?;
            let records = app.effects().map_err(&broken)?;
            for event in receiver.acts.record(host, &records).map_err(&broken)? {
                self.trace.push(self.now, event);
            }
            return Ok(status);
        }
        let headers = wire.headers.as_deref().unwrap_or(UNSIGNED);
        let events = &self.events;
        let handled = receiver::handle_shaped(
            receiver.kind,
            &mut receiver.book,
            self.world.provider,
            headers,
            wire.body.as_bytes(),
            |u| events.event_of(u),
        );
        if let Some(event) = receiver::trace_event(receiver.host.name(), &handled) {
            self.trace.push(self.now, event);
        }
        Ok(handled.status())
    }

    /// Starts a try for every letter due, while the dispatcher runs.
    fn send_letters(&mut self) {
        if !self.dispatcher_up() {
            return;
        }
        while let Some((attempt, email)) = self.outbox.take_due(self.now) {
            self.agenda.push(self.now.plus_ms(MAIL_TIMEOUT_MS), Message::MailTimeout(attempt));
            let letter = Letter { attempt, email };
            if self.links.path(Host::Dispatcher.name(), Host::Mail.name()) == Path::Partitioned {
                // Refused at once, stamped now (as the network engine decides it before connecting).
                self.letter_failed(attempt, Outcome::Refused);
            } else {
                self.transmit(Peer::Dispatcher, Peer::Mail, Message::MailConnect(letter));
            }
        }
    }

    fn mail_connect(&mut self, letter: Letter) {
        if !self.outbox.is_trying(letter.attempt) {
            return;
        }
        if self.links.is_down(Host::Mail.name()) {
            return self.waiting.push((Host::Mail, Waiter::Letter(letter.attempt)));
        }
        self.transmit(Peer::Dispatcher, Peer::Mail, Message::Mail(letter));
    }

    /// A letter arrived: the mail host reads it a server turn later.
    fn mail_arrives(&mut self, letter: Letter) {
        if !self.links.is_down(Host::Mail.name()) {
            self.agenda.push(self.now.plus_ms(SERVER_TURN_MS), Message::MailTake(letter));
        }
    }

    /// The mail host reads a letter: the owner gets it the first time its key is seen; every
    /// copy is answered as taken.
    fn mail_take(&mut self, letter: &Letter) {
        if self.links.is_down(Host::Mail.name()) {
            return;
        }
        if self.mail.take(letter.attempt.key) {
            let event = TraceEvent::EmailReceived { to: letter.email.to.clone(), webhook: letter.email.webhook };
            self.trace.push(self.now, event);
        }
        self.transmit(Peer::Mail, Peer::Dispatcher, Message::MailAnswer(letter.attempt));
    }

    /// A try that is still in flight failed: traced, and tried again later.
    fn letter_failed(&mut self, attempt: MailTry, outcome: Outcome) {
        if let Some((email, retry_at)) = self.outbox.tried(attempt, false, self.now) {
            let event = TraceEvent::EmailDeferred { webhook: email.webhook, outcome, retry_at };
            self.trace.push(self.now, event);
        }
    }
}
