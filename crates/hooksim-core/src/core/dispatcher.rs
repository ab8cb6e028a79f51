//! The dispatcher state machine: events in, attempts and emails out, one trace of decisions.

use super::delivery::{Delivery, DeliveryIdx, DeliveryState};
use super::envelope::render;
use super::health::{Health, Verdict};
use super::queues::InFlightTable;
use crate::domain::{Change, ChangeError, Event, Store, WebhookConfig, WebhookId, WebhookStatus};
use crate::policy::Policy;
use crate::provider::{Occurrence, Provider, Rendered};
use crate::time::{SimTime, TimeQueue};
use crate::trace::DisableReason;
use crate::trace::{AbandonReason, Outcome, RefusedReason, TraceEntry, TraceEvent};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::sync::Arc;
use uuid::Uuid;

/// Attempt ids are sequential from 1; an answer names the attempt it answers.
pub type AttemptId = u64;

/// What the shell tells the core, with the instant it happened ([`Dispatcher::handle`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A user changed an entity: records one event and queues its deliveries.
    Change(Change),
    /// The shell's report of how an attempt ended.
    Answer {
        /// The attempt answered (from [`AttemptRequest::attempt`]).
        attempt: AttemptId,
        /// How it ended.
        outcome: Outcome,
    },
    /// An answer that asked the sender to wait: `status` (a `429` or `503`) with a
    /// `Retry-After` of `retry_after_ms` from the answer (the shell turns an HTTP date into
    /// milliseconds). Traced and handled as [`Input::Answer`] with that status; the policy
    /// decides how much of the wait to honour ([`Policy::retry_delay_ms`]). With any other
    /// status the wait is ignored.
    AnswerRetryAfter {
        /// The attempt answered (from [`AttemptRequest::attempt`]).
        attempt: AttemptId,
        /// The HTTP status, e.g. `429`.
        status: u16,
        /// The wait the answer asked for, in milliseconds.
        retry_after_ms: u64,
    },
    /// Re-enable a disabled webhook; its parked deliveries resume at once.
    Enable(WebhookId),
    /// The dispatcher process died. Its state survives (as a database would); attempts in flight
    /// are lost, and no attempt starts until [`Input::Restart`]. Changes are still recorded.
    Crash,
    /// The dispatcher process came back: attempts resume from its durable state
    /// (`dispatcher_restarted`).
    Restart,
}

/// What the shell must do.
#[derive(Clone, Debug, PartialEq, Eq)]
/// What the shell must do; see [`Dispatcher`] for a whole exchange.
pub enum Output {
    /// POST `body` to `url`; report the outcome with [`Input::Answer`]. The core times the attempt
    /// out by itself after `timeout_ms`; a later answer is ignored.
    Send(AttemptRequest),
    /// Send a warning email about a failing webhook; the shell's mail host receives it.
    Email(WarningEmail),
}

/// One attempt to POST: what the shell sends, and the id its answer must name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRequest {
    /// The id to name in [`Input::Answer`].
    pub attempt: AttemptId,
    /// The delivery's uuid, the same on every attempt (the `uuid` in the body).
    pub delivery: Uuid,
    /// The webhook posted to.
    pub webhook: WebhookId,
    /// The webhook's URL.
    pub url: Arc<str>,
    /// The exact bytes to POST, rendered from the store now.
    pub body: Arc<str>,
    /// How long the core waits for the answer, in milliseconds, before it times the attempt out
    /// itself.
    pub timeout_ms: u64,
    /// The attempt in a provider's shape: the id it names and the provider's own headers.
    /// `None`: SnapBill's envelope (the id is the delivery's uuid, no headers of its own).
    pub shape: Option<Arc<Shape>>,
}

/// What a provider's delivery carries besides its body ([`crate::provider::Message`]): the id
/// its signature names and a receiver deduplicates on, and the provider's own headers (lower
/// case, without the signature; a retry's headers included). The shell signs and sends them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The provider's dedup id (`evt_…`, `msg_…`, `Ev…`, a GUID), kept by every retry.
    pub id: String,
    /// The provider's own headers, lower case; a retry's included.
    pub headers: Vec<(&'static str, String)>,
}

/// A warning that a webhook has been failing since `failing_since` (`warning_sent`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarningEmail {
    /// The address to mail (the webhook's `owner_email`).
    pub to: String,
    /// The failing webhook.
    pub webhook: WebhookId,
    /// Its URL, for the reader of the email.
    pub url: Arc<str>,
    /// When the failing streak began.
    pub failing_since: SimTime,
}

/// An input the core cannot take: nothing changes and nothing is traced.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The change does not apply to the store (an id that exists already, or does not exist).
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// No webhook has this id.
    #[error("no {0}")]
    UnknownWebhook(WebhookId),
    /// An answer for an attempt id the core never started.
    #[error("no attempt {0} was ever started")]
    UnknownAttempt(AttemptId),
}

/// A webhook as the dispatcher keeps it.
struct Endpoint {
    config: WebhookConfig,
    url: Arc<str>,
    health: Health,
    /// Due deliveries waiting for an in-flight slot, oldest first.
    ready: VecDeque<DeliveryIdx>,
    parked: Vec<DeliveryIdx>,
    in_flight: u32,
    /// Unfinished deliveries, bounded by `pending_per_webhook_max`.
    pending: u32,
}

struct InFlight {
    delivery: DeliveryIdx,
    deadline: SimTime,
}

/// Driven by hand, as every shell drives it: a change goes in, an attempt comes out, its answer
/// goes back in.
///
/// ```
/// use hooksim_core::core::{Dispatcher, Input, Output};
/// use hooksim_core::domain::{Change, Client, WebhookConfig};
/// use hooksim_core::policy::Profile;
/// use hooksim_core::time::SimTime;
/// use hooksim_core::trace::{Outcome, Trace};
///
/// let shop = WebhookConfig { url: "http://shop/webhook".into(), paths: vec![], owner_email: "ops@shop".into() };
/// let mut core = Dispatcher::new(Profile::Snapbill.policy(), vec![shop], 7);
/// let client = Client { id: 1, name: "Ada".into(), email: "ada@example.com".into() };
/// core.handle(SimTime::ZERO, Input::Change(Change::AddClient(client))).unwrap();
/// let Some(Output::Send(attempt)) = core.poll_output() else { panic!("an attempt") };
/// assert!(attempt.body.contains("/client/add"));
/// // The receiver answered 200 a second later: the delivery is done, nothing is left to do.
/// core.handle(SimTime::from_millis(1_000), Input::Answer { attempt: attempt.attempt, outcome: Outcome::Status { code: 200 } }).unwrap();
/// assert_eq!(core.poll_output(), None);
/// let mut trace = Trace::default();
/// core.drain_trace_into(&mut trace);
/// assert!(trace.len() >= 3, "event recorded, attempt started, attempt ended");
/// ```
pub struct Dispatcher {
    policy: Policy,
    rng: ChaCha8Rng,
    store: Store,
    endpoints: Vec<Endpoint>,
    /// Event `id` is at index `id - 1`.
    events: Vec<Event>,
    deliveries: Vec<Delivery>,
    /// Retry timers, ordered by due time then scheduling order.
    timers: TimeQueue<DeliveryIdx>,
    in_flight: InFlightTable<InFlight>,
    /// Attempt deadlines. An answered attempt's deadline stays here until it reaches the head
    /// and is purged ([`Dispatcher::purge_timeouts`]): the head is always a live deadline.
    timeouts: TimeQueue<AttemptId>,
    next_attempt: AttemptId,
    crashed: bool,
    /// The latest `now` seen; time never goes backwards inside the core.
    now: SimTime,
    outputs: VecDeque<Output>,
    trace: Vec<TraceEntry>,
    /// Whose shape attempts are rendered in ([`Dispatcher::with_provider`]).
    provider: Provider,
    /// Virtual time zero as unix seconds: the event time a provider's body carries.
    epoch_s: i64,
}

impl Dispatcher {
    /// A dispatcher for these webhooks (ids are their positions) under `policy`, drawing delivery
    /// uuids and jitter from `seed`.
    pub fn new(policy: Policy, webhooks: Vec<WebhookConfig>, seed: u64) -> Self {
        let endpoints = webhooks
            .into_iter()
            .map(|config| Endpoint {
                url: Arc::from(config.url.as_str()),
                config,
                health: Health::default(),
                ready: VecDeque::new(),
                parked: Vec::new(),
                in_flight: 0,
                pending: 0,
            })
            .collect();
        Dispatcher {
            policy,
            rng: crate::seed::rng(seed, crate::seed::Stream::Core),
            store: Store::default(),
            endpoints,
            events: Vec::new(),
            deliveries: Vec::new(),
            timers: TimeQueue::default(),
            in_flight: InFlightTable::default(),
            timeouts: TimeQueue::default(),
            next_attempt: 1,
            crashed: false,
            now: SimTime::ZERO,
            outputs: VecDeque::new(),
            trace: Vec::new(),
            provider: Provider::Snapbill,
            epoch_s: 0,
        }
    }

    /// Renders every attempt in `provider`'s shape ([`crate::provider`]): its body, dedup id and
    /// headers, at send time (SnapBill, the default) or once when the event happens (the
    /// providers that send a snapshot). `epoch_s` is virtual time zero as unix seconds, for the
    /// event times the bodies carry.
    pub fn with_provider(mut self, provider: Provider, epoch_s: i64) -> Self {
        self.provider = provider;
        self.epoch_s = epoch_s;
        self
    }

    /// The provider whose shape its attempts take.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The policy it follows.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The entity store, as the last change left it.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A webhook's status (active, warned, disabled), or `None` for an unknown id.
    pub fn webhook_status(&self, webhook: WebhookId) -> Option<WebhookStatus> {
        self.endpoints.get(webhook.0 as usize).map(|e| e.health.status())
    }

    /// How many webhooks it delivers to.
    pub fn webhook_count(&self) -> usize {
        self.endpoints.len()
    }

    /// Deliveries not yet delivered nor given up (parked ones included).
    pub fn pending_deliveries(&self) -> usize {
        self.endpoints.iter().map(|e| e.pending as usize).sum()
    }

    /// Attempts started and not yet answered or timed out, across all webhooks.
    pub fn attempts_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// One input at `now`. In debug builds the bookkeeping is checked after it
    /// ([`Dispatcher::check_invariants`]), refused inputs included.
    pub fn handle(&mut self, now: SimTime, input: Input) -> Result<(), InputError> {
        let now = self.advance(now);
        let result = match input {
            Input::Change(change) => self.record(now, &change),
            Input::Answer { attempt, outcome } => self.answer(now, attempt, outcome, None),
            Input::AnswerRetryAfter { attempt, status, retry_after_ms } => {
                self.answer(now, attempt, Outcome::Status { code: status }, Some(retry_after_ms))
            }
            Input::Enable(webhook) => self.enable(now, webhook),
            Input::Crash => {
                self.crash(now);
                Ok(())
            }
            Input::Restart => {
                self.restart(now);
                Ok(())
            }
        };
        self.debug_check();
        result
    }

    /// Fires every attempt timeout and retry timer due at or before `now`, earliest first.
    pub fn handle_timeout(&mut self, now: SimTime) {
        let now = self.advance(now);
        self.fire_due(now);
        self.debug_check();
    }

    /// [`Dispatcher::check_invariants`] in debug builds (every test run); nothing in release,
    /// where it would cost a pass over every delivery per input.
    fn debug_check(&self) {
        if cfg!(debug_assertions) {
            self.check_invariants();
        }
    }

    fn fire_due(&mut self, now: SimTime) {
        if self.crashed {
            return;
        }
        loop {
            let timeout = self.timeouts.peek().filter(|(at, _)| *at <= now).map(|(at, a)| (at, *a));
            let timer = self.timers.peek().filter(|(at, _)| *at <= now).map(|(at, d)| (at, *d));
            match (timeout, timer) {
                (Some((t_at, attempt)), timer) if timer.is_none_or(|(r_at, _)| t_at <= r_at) => {
                    self.timeouts.pop();
                    if let Some(f) = self.in_flight.remove(attempt) {
                        self.purge_timeouts();
                        self.finish(now, attempt, f.delivery, Outcome::Timeout, None);
                    }
                }
                (_, Some((_, idx))) => {
                    self.timers.pop();
                    self.make_ready(now, idx);
                }
                _ => break,
            }
        }
    }

    /// The next instant at which [`Dispatcher::handle_timeout`] has work, if any.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        if self.crashed {
            return None;
        }
        let timeout = self.timeouts.next_at();
        let timer = self.timers.next_at();
        match (timeout, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next thing the shell must do, in order; `None` when there is nothing left until the next
    /// input or timeout.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Moves the trace entries recorded since the last call to the end of `trace`, in one copy.
    pub fn drain_trace_into(&mut self, trace: &mut crate::trace::Trace) {
        trace.append(&mut self.trace);
    }

    /// Takes the trace entries recorded since the last call, in order.
    pub fn drain_trace(&mut self) -> std::vec::Drain<'_, TraceEntry> {
        self.trace.drain(..)
    }

    fn advance(&mut self, now: SimTime) -> SimTime {
        self.now = self.now.max(now);
        self.now
    }

    fn log(&mut self, at: SimTime, event: TraceEvent) {
        self.trace.push(TraceEntry { at, event });
    }

    fn record(&mut self, now: SimTime, change: &Change) -> Result<(), InputError> {
        let (path, details, entity) = change.apply(&mut self.store)?;
        let id = self.events.len() as u64 + 1;
        self.events.push(Event { id, path, details, entity, at: now });
        self.log(now, TraceEvent::EventRecorded { event: id, path, details, entity });
        for w in 0..self.endpoints.len() {
            if self.endpoints[w].config.wants(path) {
                self.queue(now, WebhookId(w as u32), id);
            }
        }
        Ok(())
    }

    fn queue(&mut self, now: SimTime, webhook: WebhookId, event: u64) {
        let pending_max = self.policy.pending_per_webhook_max();
        let ep = &self.endpoints[webhook.0 as usize];
        let refused = if ep.health.status() == WebhookStatus::Disabled {
            Some(RefusedReason::WebhookDisabled)
        } else if ep.pending >= pending_max {
            Some(RefusedReason::QueueFull)
        } else {
            None
        };
        if let Some(reason) = refused {
            self.log(now, TraceEvent::DeliveryRefused { webhook, event, reason });
            return;
        }
        let uuid = uuid::Builder::from_random_bytes(self.rng.random()).into_uuid();
        let idx = self.deliveries.len() as DeliveryIdx;
        self.deliveries.push(Delivery {
            uuid,
            webhook,
            event,
            attempts: 0,
            failures: 0,
            state: DeliveryState::Waiting,
            rendered: None,
            snapshot: None,
        });
        if self.provider.facts().rendered == Rendered::AtEvent {
            let shaped = self.render_shaped(uuid, event);
            self.deliveries[idx as usize].snapshot = Some(shaped);
        }
        self.log(now, TraceEvent::DeliveryQueued { delivery: uuid, webhook, event });
        let ep = &mut self.endpoints[webhook.0 as usize];
        ep.pending += 1;
        ep.ready.push_back(idx);
        self.pump(now, webhook);
    }

    /// Starts due attempts of `webhook` while it has in-flight slots.
    fn pump(&mut self, now: SimTime, webhook: WebhookId) {
        if self.crashed {
            return;
        }
        let max = self.policy.in_flight_per_webhook_max();
        loop {
            let ep = &mut self.endpoints[webhook.0 as usize];
            if ep.health.status() == WebhookStatus::Disabled || ep.in_flight >= max {
                return;
            }
            let Some(idx) = ep.ready.pop_front() else {
                return;
            };
            self.start_attempt(now, idx);
        }
    }

    fn start_attempt(&mut self, now: SimTime, idx: DeliveryIdx) {
        let attempt = self.next_attempt;
        self.next_attempt += 1;
        let d = &mut self.deliveries[idx as usize];
        d.attempts += 1;
        d.state = DeliveryState::InFlight;
        let (uuid, webhook, event_id, number) = (d.uuid, d.webhook, d.event, d.attempts);
        let snapshot = d.snapshot.clone();
        let (body, shape) = match snapshot {
            Some((body, shape)) => (body, Some(shape)),
            None if self.provider != Provider::Snapbill => {
                let (body, shape) = self.render_shaped(uuid, event_id);
                (body, Some(shape))
            }
            None => (self.render_at_send(idx), None),
        };
        let shape = shape.map(|s| self.with_retry_headers(s, number));
        let ep = &mut self.endpoints[webhook.0 as usize];
        ep.in_flight += 1;
        let timeout_ms = self.policy.attempt_timeout_ms();
        let deadline = now.plus_ms(timeout_ms);
        self.in_flight.insert(attempt, InFlight { delivery: idx, deadline });
        self.timeouts.push(deadline, attempt);
        let url = ep.url.clone();
        self.log(
            now,
            TraceEvent::AttemptStarted {
                attempt,
                delivery: uuid,
                webhook,
                event: event_id,
                number,
                body: body.clone(),
            },
        );
        self.outputs.push_back(Output::Send(AttemptRequest {
            attempt,
            delivery: uuid,
            webhook,
            url,
            body,
            timeout_ms,
            shape,
        }));
    }

    /// SnapBill's envelope of delivery `idx` from the store as it is now, reused while the store's
    /// revision is unchanged (it would render the same bytes).
    fn render_at_send(&mut self, idx: DeliveryIdx) -> Arc<str> {
        let revision = self.store.revision();
        let d = &mut self.deliveries[idx as usize];
        match &d.rendered {
            Some((at_revision, body)) if *at_revision == revision => body.clone(),
            _ => {
                let event = &self.events[d.event as usize - 1];
                let body: Arc<str> = Arc::from(render(d.uuid, event, &self.store));
                d.rendered = Some((revision, body.clone()));
                body
            }
        }
    }

    /// Delivery `uuid` of event `event` in the provider's shape, from the store as it is now.
    fn render_shaped(&self, uuid: Uuid, event: u64) -> (Arc<str>, Arc<Shape>) {
        let event = &self.events[event as usize - 1];
        let event_s = self.epoch_s.saturating_add(i64::try_from(event.at.as_millis() / 1_000).unwrap_or(i64::MAX));
        let mut m = self.provider.render(&Occurrence { uuid, event, store: &self.store, event_s });
        // The signature's headers carry the id too; the shell keeps theirs when it signs.
        if let Some(name) = self.provider.id_header() {
            m.headers.push((name, m.id.clone()));
        }
        (Arc::from(m.body), Arc::new(Shape { id: m.id, headers: m.headers }))
    }

    /// The shape of attempt `number`: a retry adds the provider's retry headers (Slack's).
    fn with_retry_headers(&self, shape: Arc<Shape>, number: u32) -> Arc<Shape> {
        let retry = if number > 1 { self.provider.retry_headers(number - 1) } else { Vec::new() };
        if retry.is_empty() {
            return shape;
        }
        let mut headers = shape.headers.clone();
        headers.extend(retry);
        Arc::new(Shape { id: shape.id.clone(), headers })
    }

    /// Drops deadlines of attempts that already finished from the head of the queue, so that
    /// [`Dispatcher::poll_timeout`] never names a dead deadline.
    fn purge_timeouts(&mut self) {
        while let Some((at, &attempt)) = self.timeouts.peek() {
            if self.in_flight.get(attempt).is_some_and(|f| f.deadline == at) {
                return;
            }
            self.timeouts.pop();
        }
    }

    fn answer(
        &mut self,
        now: SimTime,
        attempt: AttemptId,
        outcome: Outcome,
        retry_after_ms: Option<u64>,
    ) -> Result<(), InputError> {
        if attempt == 0 || attempt >= self.next_attempt {
            return Err(InputError::UnknownAttempt(attempt));
        }
        match self.in_flight.remove(attempt) {
            Some(f) => {
                self.purge_timeouts();
                self.finish(now, attempt, f.delivery, outcome, retry_after_ms);
            }
            // A timeout already finished it (the shell reports its own timeout too: same fact).
            None if outcome == Outcome::Timeout => {}
            None => self.log(now, TraceEvent::LateAnswerIgnored { attempt, outcome }),
        }
        Ok(())
    }

    fn finish(
        &mut self,
        now: SimTime,
        attempt: AttemptId,
        idx: DeliveryIdx,
        outcome: Outcome,
        retry_after_ms: Option<u64>,
    ) {
        let d = &self.deliveries[idx as usize];
        let (delivery, webhook, event) = (d.uuid, d.webhook, d.event);
        self.log(now, TraceEvent::AttemptFinished { attempt, delivery, webhook, event, outcome });
        self.endpoints[webhook.0 as usize].in_flight -= 1;
        if outcome.is_success() {
            self.succeed(now, idx);
        } else {
            self.fail(now, idx, outcome, retry_after_ms);
        }
        self.pump(now, webhook);
    }

    fn succeed(&mut self, now: SimTime, idx: DeliveryIdx) {
        let d = &mut self.deliveries[idx as usize];
        d.state = DeliveryState::Delivered;
        d.rendered = None;
        d.snapshot = None;
        let (delivery, webhook, event, attempts) = (d.uuid, d.webhook, d.event, d.attempts);
        self.log(now, TraceEvent::Delivered { delivery, webhook, event, attempts });
        let ep = &mut self.endpoints[webhook.0 as usize];
        ep.pending -= 1;
        if ep.health.on_success() {
            self.log(now, TraceEvent::WebhookRecovered { webhook });
        }
    }

    fn fail(&mut self, now: SimTime, idx: DeliveryIdx, outcome: Outcome, retry_after_ms: Option<u64>) {
        let webhook = self.deliveries[idx as usize].webhook;
        self.deliveries[idx as usize].failures += 1;
        let status = match outcome {
            Outcome::Status { code } => Some(code),
            _ => None,
        };
        let health = &mut self.endpoints[webhook.0 as usize].health;
        let verdict = match status {
            Some(code) if self.policy.disables_at_once(code) => health.on_gone(now),
            _ => health.on_failure(now, &self.policy),
        };
        match verdict {
            Verdict::Nothing => {}
            Verdict::Warn { failing_since } => self.warn(now, webhook, failing_since),
            Verdict::Disable { failing_since, reason } => self.disable(now, webhook, failing_since, reason),
        }
        if self.endpoints[webhook.0 as usize].health.status() == WebhookStatus::Disabled {
            self.park(idx);
        } else {
            self.schedule_retry(now, idx, status, retry_after_ms);
        }
    }

    fn warn(&mut self, now: SimTime, webhook: WebhookId, failing_since: SimTime) {
        let ep = &self.endpoints[webhook.0 as usize];
        let to = ep.config.owner_email.clone();
        let url = ep.url.clone();
        self.log(now, TraceEvent::WarningSent { webhook, to: to.clone(), failing_since });
        self.outputs.push_back(Output::Email(WarningEmail { to, webhook, url, failing_since }));
    }

    fn disable(&mut self, now: SimTime, webhook: WebhookId, failing_since: SimTime, reason: DisableReason) {
        self.log(now, TraceEvent::WebhookDisabled { webhook, failing_since, reason });
        let ep = &mut self.endpoints[webhook.0 as usize];
        let ready: Vec<DeliveryIdx> = ep.ready.drain(..).collect();
        for idx in ready {
            self.park(idx);
        }
    }

    fn park(&mut self, idx: DeliveryIdx) {
        let d = &mut self.deliveries[idx as usize];
        d.state = DeliveryState::Parked;
        self.endpoints[d.webhook.0 as usize].parked.push(idx);
    }

    /// The next attempt after a failure whose answer was `status` (`None`: no answer), at the
    /// backoff's delay or later if the answer asked to wait.
    fn schedule_retry(&mut self, now: SimTime, idx: DeliveryIdx, status: Option<u16>, retry_after_ms: Option<u64>) {
        let d = &self.deliveries[idx as usize];
        let event_at = self.events[d.event as usize - 1].at;
        let (attempts, failures) = (d.attempts, d.failures);
        let reason = if self.policy.attempts_max().is_some_and(|max| attempts >= max) {
            Some(AbandonReason::AttemptsExhausted)
        } else {
            None
        };
        let backoff_ms = self.policy.schedule().delay_ms(failures, &mut self.rng);
        let at = now.plus_ms(self.policy.retry_delay_ms(backoff_ms, status, retry_after_ms));
        let reason = reason.or_else(|| {
            let window = self.policy.retry_window_ms()?;
            (at.ms_since(event_at) > window).then_some(AbandonReason::RetryWindowExpired)
        });
        let d = &mut self.deliveries[idx as usize];
        let (delivery, webhook, event) = (d.uuid, d.webhook, d.event);
        match reason {
            Some(reason) => {
                d.state = DeliveryState::Abandoned;
                d.rendered = None;
                d.snapshot = None;
                self.endpoints[webhook.0 as usize].pending -= 1;
                self.log(now, TraceEvent::DeliveryAbandoned { delivery, webhook, event, attempts, reason });
            }
            None => {
                d.state = DeliveryState::Waiting;
                self.timers.push(at, idx);
                self.log(now, TraceEvent::RetryScheduled { delivery, webhook, at, failures });
            }
        }
    }

    /// A retry timer fired: into the ready queue, or parked if its webhook is disabled.
    fn make_ready(&mut self, now: SimTime, idx: DeliveryIdx) {
        let webhook = self.deliveries[idx as usize].webhook;
        if self.endpoints[webhook.0 as usize].health.status() == WebhookStatus::Disabled {
            self.park(idx);
            return;
        }
        self.endpoints[webhook.0 as usize].ready.push_back(idx);
        self.pump(now, webhook);
    }

    fn enable(&mut self, now: SimTime, webhook: WebhookId) -> Result<(), InputError> {
        let ep = self.endpoints.get_mut(webhook.0 as usize).ok_or(InputError::UnknownWebhook(webhook))?;
        if !ep.health.enable() {
            return Ok(());
        }
        let parked = std::mem::take(&mut ep.parked);
        for idx in &parked {
            self.deliveries[*idx as usize].state = DeliveryState::Waiting;
        }
        self.endpoints[webhook.0 as usize].ready.extend(parked);
        self.log(now, TraceEvent::WebhookEnabled { webhook });
        self.pump(now, webhook);
        Ok(())
    }

    fn crash(&mut self, now: SimTime) {
        if self.crashed {
            return;
        }
        self.crashed = true;
        // Sends not yet taken by the shell die with the process; their attempts are lost below.
        self.outputs.retain(|o| !matches!(o, Output::Send(_)));
        self.timeouts.clear();
        let lost = self.in_flight.take_all();
        for (attempt, f) in &lost {
            let d = &mut self.deliveries[f.delivery as usize];
            d.state = DeliveryState::Waiting;
            let (delivery, webhook) = (d.uuid, d.webhook);
            let ep = &mut self.endpoints[webhook.0 as usize];
            ep.in_flight -= 1;
            if ep.health.status() == WebhookStatus::Disabled {
                self.park(f.delivery);
            }
            self.log(now, TraceEvent::AttemptLost { attempt: *attempt, delivery, webhook });
        }
        // Lost attempts go before what was already waiting (they were due first), oldest first:
        // prepending newest to oldest leaves the oldest at the front.
        for (_, f) in lost.iter().rev() {
            let webhook = self.deliveries[f.delivery as usize].webhook;
            let ep = &mut self.endpoints[webhook.0 as usize];
            if ep.health.status() != WebhookStatus::Disabled {
                ep.ready.push_front(f.delivery);
            }
        }
    }

    fn restart(&mut self, now: SimTime) {
        if !self.crashed {
            return;
        }
        self.crashed = false;
        self.log(now, TraceEvent::DispatcherRestarted);
        self.fire_due(now);
        for w in 0..self.endpoints.len() {
            self.pump(now, WebhookId(w as u32));
        }
    }

    /// Checks the bookkeeping that every step must preserve, and panics naming the first that
    /// does not hold. Called after every input in debug builds; tests may call it too.
    pub fn check_invariants(&self) {
        let mut pending = vec![0usize; self.endpoints.len()];
        let mut in_flight = vec![0usize; self.endpoints.len()];
        for d in &self.deliveries {
            let w = d.webhook.0 as usize;
            pending[w] += usize::from(!d.is_finished());
            in_flight[w] += usize::from(d.state == DeliveryState::InFlight);
        }
        for (w, ep) in self.endpoints.iter().enumerate() {
            assert_eq!(ep.pending as usize, pending[w], "pending count of webhook {w}");
            assert_eq!(ep.in_flight as usize, in_flight[w], "in-flight count of webhook {w}");
            assert!(ep.in_flight <= self.policy.in_flight_per_webhook_max(), "in-flight limit of webhook {w}");
            if ep.health.status() == WebhookStatus::Disabled {
                assert!(ep.ready.is_empty(), "a disabled webhook has nothing ready");
            }
            for &idx in &ep.ready {
                let d = &self.deliveries[idx as usize];
                assert_eq!((d.webhook.0 as usize, d.state), (w, DeliveryState::Waiting), "ready delivery {idx}");
            }
            for &idx in &ep.parked {
                let d = &self.deliveries[idx as usize];
                assert_eq!((d.webhook.0 as usize, d.state), (w, DeliveryState::Parked), "parked delivery {idx}");
            }
        }
        assert_eq!(self.in_flight.len(), in_flight.iter().sum::<usize>(), "in-flight table");
        if self.crashed {
            assert_eq!(self.in_flight.len(), 0, "a crashed dispatcher has nothing in flight");
        }
        if let Some((at, &attempt)) = self.timeouts.peek() {
            assert_eq!(self.in_flight.get(attempt).map(|f| f.deadline), Some(at), "the head deadline is live");
        }
    }
}

#[cfg(all(test, debug_assertions))]
mod invariant_tests {
    use super::*;

    /// The check runs after every input (here a harmless one) and can fail.
    #[test]
    #[should_panic(expected = "pending count of webhook 0")]
    fn every_input_checks_the_bookkeeping() {
        let hook = WebhookConfig { url: "http://a/webhook".into(), paths: vec![], owner_email: "ops@a".into() };
        let mut core = Dispatcher::new(Policy::default(), vec![hook], 1);
        core.handle(SimTime::ZERO, Input::Enable(WebhookId(0))).unwrap();
        core.endpoints[0].pending = 7;
        let _ = core.handle(SimTime::ZERO, Input::Enable(WebhookId(0)));
    }

    #[test]
    #[should_panic(expected = "ready delivery")]
    fn a_timeout_checks_the_bookkeeping() {
        let hook = WebhookConfig { url: "http://a/webhook".into(), paths: vec![], owner_email: "ops@a".into() };
        let mut core = Dispatcher::new(Policy::default(), vec![hook], 1);
        core.endpoints[0].ready.push_back(0);
        core.deliveries.push(Delivery {
            uuid: Uuid::nil(),
            webhook: WebhookId(0),
            event: 1,
            attempts: 0,
            failures: 0,
            state: DeliveryState::Delivered,
            rendered: None,
            snapshot: None,
        });
        core.handle_timeout(SimTime::ZERO);
    }
}
