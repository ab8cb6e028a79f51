//! The harness's own account of a dispatcher process: which attempts it started, which
//! deliveries exist, which events happened. Every line the process writes is checked against it
//! before it becomes an output or a trace entry; a line that contradicts it is a [`Problem`].
//!
//! Facts are optional. The ends of attempts the protocol itself fixes are recorded by the
//! harness when the process does not report them by its `done`: an attempt answered in flight
//! (at or before its deadline: an answer at the deadline comes before that instant's `wake`)
//! finished with that answer, and a 2xx delivered its delivery; an attempt
//! still in flight at a `wake` at or after its deadline timed out; a `crash` lost every attempt
//! in flight. A dispatcher that reports these facts gets exactly the trace it reported.

use super::error::Problem;
use super::message::{EntityMsg, EventMsg, FromDispatcher, ToDispatcher};
use hooksim_core::core::{AttemptRequest, InputError, Output, WarningEmail};
use hooksim_core::domain::{Change, Entity, EventPath, Store, WebhookConfig, WebhookId};
use hooksim_core::time::SimTime;
use hooksim_core::trace::{Outcome, TraceEvent};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// The input a line answers, as far as the checks need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// An event's `change`.
    Change {
        /// The event recorded.
        event: u64,
    },
    /// An `answer`.
    Answer {
        /// The attempt answered.
        attempt: u64,
        /// How it ended.
        outcome: Outcome,
    },
    /// An `enable`.
    Enable {
        /// The webhook enabled.
        webhook: WebhookId,
    },
    /// A `crash`.
    Crash,
    /// A `restart`.
    Restart,
    /// A `wake`.
    Wake,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AttemptState {
    Open,
    Finished,
    Lost,
}

struct AttemptRecord {
    delivery: Uuid,
    webhook: WebhookId,
    event: u64,
    deadline: SimTime,
    state: AttemptState,
    /// Finished with a 2xx (reported, or recorded from its answer).
    succeeded: bool,
}

struct DeliveryRecord {
    webhook: WebhookId,
    event: u64,
    starts: u32,
    /// Reported (or recorded) delivered or abandoned.
    ended: bool,
    /// First seen at a send while another delivery of the same webhook and event existed: the
    /// uuid it replaced (a uuid that changed on a retry), for the error that follows.
    replaces: Option<Uuid>,
}

/// What one line turned into.
#[derive(Default)]
pub struct Taken {
    /// The send or email the line asks for, if it is one.
    pub output: Option<Output>,
    /// Trace entries, in order (a first send of an unannounced delivery gives two).
    pub trace: Vec<TraceEvent>,
    /// `Some` for `done`: the wake-up asked for.
    pub done: Option<Option<SimTime>>,
}

/// The harness's account of a dispatcher's run: every line it says is checked against it before it
/// becomes an output or a trace entry.
pub struct Ledger {
    webhooks: Vec<WebhookConfig>,
    urls: Vec<Arc<str>>,
    /// Event `id` is at index `id - 1`.
    events: Vec<EventPath>,
    attempts: BTreeMap<u64, AttemptRecord>,
    deliveries: BTreeMap<Uuid, DeliveryRecord>,
    /// The latest delivery of each (webhook, event).
    by_pair: BTreeMap<(WebhookId, u64), Uuid>,
    /// The attempts in flight (state `Open`): a wake or a crash looks at these only.
    open: std::collections::BTreeSet<u64>,
}

fn bad(text: String) -> Problem {
    Problem::Inconsistent(text)
}

impl Ledger {
    /// A ledger for these webhooks, with nothing sent yet.
    pub fn new(webhooks: Vec<WebhookConfig>) -> Self {
        let urls = webhooks.iter().map(|w| Arc::from(w.url.as_str())).collect();
        Ledger {
            webhooks,
            urls,
            events: Vec::new(),
            attempts: BTreeMap::new(),
            deliveries: BTreeMap::new(),
            by_pair: BTreeMap::new(),
            open: std::collections::BTreeSet::new(),
        }
    }

    /// How many webhooks the dispatcher delivers to.
    pub fn webhook_count(&self) -> usize {
        self.webhooks.len()
    }

    /// A change, as every harness of the protocol sends it: applied to the harness's `store`,
    /// its event numbered, and the trace entry, message and question that go with it.
    pub fn change(
        &mut self,
        store: &mut Store,
        now: SimTime,
        change: Change,
    ) -> Result<(TraceEvent, ToDispatcher, Asked), InputError> {
        let (path, details, entity) = change.apply(store)?;
        let id = self.record_event(path);
        let recorded = TraceEvent::EventRecorded { event: id, path, details, entity };
        let entity_msg = match store.get(entity) {
            Some(Entity::Client(c)) => EntityMsg::Client(c.clone()),
            Some(Entity::Invoice(i)) => EntityMsg::Invoice(i.clone()),
            None => unreachable!("a change that applied leaves its entity in the store"),
        };
        let event = EventMsg { id, path, details: details.to_string(), kind: entity.kind, entity_id: entity.id };
        Ok((recorded, ToDispatcher::Change { now, event, entity: entity_msg, change }, Asked::Change { event: id }))
    }

    pub(crate) fn record_event(&mut self, path: EventPath) -> u64 {
        self.events.push(path);
        self.events.len() as u64
    }

    /// Whether an attempt with this id was ever sent.
    pub fn knows_attempt(&self, attempt: u64) -> bool {
        self.attempts.contains_key(&attempt)
    }

    /// Checks one line the process wrote in answer to `asked` at `now`, and records it.
    pub fn take(
        &mut self,
        now: SimTime,
        asked: Asked,
        crashed: bool,
        message: FromDispatcher,
    ) -> Result<Taken, Problem> {
        let mut taken = Taken::default();
        let event = match message {
            FromDispatcher::Hello { .. } => {
                return Err(Problem::Unexpected { got: "hello".into(), expected: "an output or `done`" });
            }
            FromDispatcher::Done { wake_at } => {
                match wake_at {
                    Some(at) if at < now => return Err(Problem::WakeInPast { wake_at: at, now }),
                    Some(at) if at == now && asked == Asked::Wake => {
                        return Err(Problem::WakeNotLater { wake_at: at, now });
                    }
                    _ => {}
                }
                taken.done = Some(wake_at);
                self.unreported_ends(now, asked, &mut taken.trace);
                return Ok(taken);
            }
            FromDispatcher::Send { attempt, delivery, webhook, event, url, body, timeout_ms } => {
                if crashed {
                    return Err(bad("a send while the dispatcher is down (after `crash`, before `restart`)".into()));
                }
                if self.attempts.contains_key(&attempt) {
                    return Err(Problem::AttemptReused(attempt));
                }
                let url = self.check_url(webhook, &url)?;
                self.check_subscribed(webhook, event)?;
                if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&body) {
                    return Err(Problem::BodyNotJson(e.to_string()));
                }
                if timeout_ms == 0 {
                    return Err(bad("timeout_ms must be greater than zero".into()));
                }
                if let std::collections::btree_map::Entry::Vacant(slot) = self.deliveries.entry(delivery) {
                    // Never announced with `delivery_queued`: the harness records it here.
                    let replaces = self.by_pair.insert((webhook, event), delivery);
                    slot.insert(DeliveryRecord { webhook, event, starts: 0, ended: false, replaces });
                    taken.trace.push(TraceEvent::DeliveryQueued { delivery, webhook, event });
                }
                let number = {
                    let d = self.delivery(delivery, webhook, Some(event))?;
                    d.starts += 1;
                    d.starts
                };
                let deadline = now.plus_ms(timeout_ms);
                let record =
                    AttemptRecord { delivery, webhook, event, deadline, state: AttemptState::Open, succeeded: false };
                self.attempts.insert(attempt, record);
                self.open.insert(attempt);
                let body: Arc<str> = Arc::from(body);
                taken.output = Some(Output::Send(AttemptRequest {
                    attempt,
                    delivery,
                    webhook,
                    url,
                    body: body.clone(),
                    timeout_ms,
                    // A dispatcher process renders SnapBill's envelope.
                    shape: None,
                }));
                TraceEvent::AttemptStarted { attempt, delivery, webhook, event, number, body }
            }
            FromDispatcher::Email { to, webhook, url, failing_since } => {
                let url = self.check_url(webhook, &url)?;
                let owner = &self.webhooks[webhook.0 as usize].owner_email;
                if *owner != to {
                    return Err(bad(format!("the warning goes to {to:?}, not to the webhook's owner {owner:?}")));
                }
                self.not_future("failing_since", failing_since, now)?;
                taken.output = Some(Output::Email(WarningEmail { to: to.clone(), webhook, url, failing_since }));
                TraceEvent::WarningSent { webhook, to, failing_since }
            }
            FromDispatcher::DeliveryQueued { delivery, webhook, event } => {
                self.check_event_of_change(asked, event, "delivery_queued")?;
                self.check_subscribed(webhook, event)?;
                if self.deliveries.contains_key(&delivery) {
                    return Err(bad(format!("delivery {delivery} was queued before")));
                }
                self.deliveries
                    .insert(delivery, DeliveryRecord { webhook, event, starts: 0, ended: false, replaces: None });
                self.by_pair.insert((webhook, event), delivery);
                TraceEvent::DeliveryQueued { delivery, webhook, event }
            }
            FromDispatcher::DeliveryRefused { webhook, event, reason } => {
                self.check_event_of_change(asked, event, "delivery_refused")?;
                self.check_subscribed(webhook, event)?;
                TraceEvent::DeliveryRefused { webhook, event, reason: reason.into() }
            }
            FromDispatcher::AttemptFinished { attempt, delivery, webhook, event, outcome } => {
                let outcome: Outcome = outcome.into();
                let a = self.open_attempt(attempt, delivery, webhook)?;
                if a.event != event {
                    return Err(bad(format!("attempt {attempt} is of event {}, not {event}", a.event)));
                }
                match asked {
                    Asked::Answer { attempt: answered, outcome: told } if answered == attempt => {
                        if told != outcome {
                            return Err(bad(format!(
                                "attempt {attempt} was answered {told:?}, but finished as {outcome:?}"
                            )));
                        }
                    }
                    _ if outcome == Outcome::Timeout && now >= a.deadline => {}
                    _ => {
                        return Err(bad(format!(
                            "attempt {attempt} finished as {outcome:?} without that answer (a timeout only at its \
                             deadline {})",
                            a.deadline
                        )));
                    }
                }
                a.state = AttemptState::Finished;
                a.succeeded = outcome.is_success();
                self.open.remove(&attempt);
                TraceEvent::AttemptFinished { attempt, delivery, webhook, event, outcome }
            }
            FromDispatcher::LateAnswerIgnored { attempt, outcome } => {
                let outcome: Outcome = outcome.into();
                if asked != (Asked::Answer { attempt, outcome }) {
                    return Err(bad(format!("late_answer_ignored for attempt {attempt}, which was not just answered")));
                }
                if self.attempts.get(&attempt).is_some_and(|a| a.state == AttemptState::Open) {
                    return Err(bad(format!("attempt {attempt} is in flight: its answer is not late")));
                }
                TraceEvent::LateAnswerIgnored { attempt, outcome }
            }
            FromDispatcher::AttemptLost { attempt, delivery, webhook } => {
                if asked != Asked::Crash {
                    return Err(bad(format!("attempt {attempt} lost, but only a crash loses attempts")));
                }
                self.open_attempt(attempt, delivery, webhook)?.state = AttemptState::Lost;
                self.open.remove(&attempt);
                TraceEvent::AttemptLost { attempt, delivery, webhook }
            }
            FromDispatcher::RetryScheduled { delivery, webhook, at, failures } => {
                self.delivery(delivery, webhook, None)?;
                if at < now {
                    return Err(bad(format!("a retry scheduled in the past ({at}; now is {now})")));
                }
                TraceEvent::RetryScheduled { delivery, webhook, at, failures }
            }
            FromDispatcher::Delivered { delivery, webhook, event, attempts } => {
                self.check_attempt_count(delivery, webhook, event, attempts)?;
                self.end_delivery(delivery);
                TraceEvent::Delivered { delivery, webhook, event, attempts }
            }
            FromDispatcher::DeliveryAbandoned { delivery, webhook, event, attempts, reason } => {
                self.check_attempt_count(delivery, webhook, event, attempts)?;
                self.end_delivery(delivery);
                TraceEvent::DeliveryAbandoned { delivery, webhook, event, attempts, reason: reason.into() }
            }
            FromDispatcher::WebhookDisabled { webhook, failing_since, reason } => {
                self.check_webhook(webhook)?;
                self.not_future("failing_since", failing_since, now)?;
                TraceEvent::WebhookDisabled { webhook, failing_since, reason }
            }
            FromDispatcher::WebhookRecovered { webhook } => {
                self.check_webhook(webhook)?;
                TraceEvent::WebhookRecovered { webhook }
            }
            FromDispatcher::WebhookEnabled { webhook } => {
                if asked != (Asked::Enable { webhook }) {
                    return Err(bad(format!("{webhook} enabled, but the input was not its `enable`")));
                }
                TraceEvent::WebhookEnabled { webhook }
            }
            FromDispatcher::DispatcherRestarted => {
                if asked != Asked::Restart {
                    return Err(bad("dispatcher_restarted, but the input was not `restart`".into()));
                }
                TraceEvent::DispatcherRestarted
            }
        };
        taken.trace.push(event);
        Ok(taken)
    }

    fn end_delivery(&mut self, delivery: Uuid) {
        if let Some(d) = self.deliveries.get_mut(&delivery) {
            d.ended = true;
        }
    }

    /// At the `done` of the input `asked`: the trace entries of the attempt ends the protocol
    /// fixes and the process did not report (see the module doc), in attempt order.
    fn unreported_ends(&mut self, now: SimTime, asked: Asked, trace: &mut Vec<TraceEvent>) {
        match asked {
            Asked::Answer { attempt, outcome } => {
                let Some(a) = self.attempts.get_mut(&attempt) else { return };
                if a.state == AttemptState::Open && now <= a.deadline {
                    a.state = AttemptState::Finished;
                    a.succeeded = outcome.is_success();
                    self.open.remove(&attempt);
                    let (delivery, webhook, event) = (a.delivery, a.webhook, a.event);
                    trace.push(TraceEvent::AttemptFinished { attempt, delivery, webhook, event, outcome });
                }
                // A 2xx ends its delivery: the one that finished this attempt, not a late one.
                let Some(a) = self.attempts.get(&attempt).filter(|a| a.succeeded) else { return };
                let (delivery, webhook, event) = (a.delivery, a.webhook, a.event);
                if let Some(d) = self.deliveries.get_mut(&delivery).filter(|d| !d.ended) {
                    d.ended = true;
                    trace.push(TraceEvent::Delivered { delivery, webhook, event, attempts: d.starts });
                }
            }
            Asked::Wake | Asked::Crash => {
                let crash = asked == Asked::Crash;
                let attempts = &mut self.attempts;
                self.open.retain(|attempt| {
                    let a = attempts.get_mut(attempt).expect("an open attempt is recorded");
                    if !(crash || a.deadline <= now) {
                        return true;
                    }
                    let (attempt, delivery, webhook, event) = (*attempt, a.delivery, a.webhook, a.event);
                    trace.push(if crash {
                        a.state = AttemptState::Lost;
                        TraceEvent::AttemptLost { attempt, delivery, webhook }
                    } else {
                        a.state = AttemptState::Finished;
                        TraceEvent::AttemptFinished { attempt, delivery, webhook, event, outcome: Outcome::Timeout }
                    });
                    false
                });
            }
            _ => {}
        }
    }

    fn check_webhook(&self, webhook: WebhookId) -> Result<&WebhookConfig, Problem> {
        self.webhooks
            .get(webhook.0 as usize)
            .ok_or_else(|| bad(format!("no {webhook}: there are {} webhooks", self.webhooks.len())))
    }

    fn check_url(&self, webhook: WebhookId, url: &str) -> Result<Arc<str>, Problem> {
        self.check_webhook(webhook)?;
        let known = &self.urls[webhook.0 as usize];
        if **known != *url {
            return Err(bad(format!("url {url:?} is not {webhook}'s url {known:?}")));
        }
        Ok(known.clone())
    }

    fn check_subscribed(&self, webhook: WebhookId, event: u64) -> Result<(), Problem> {
        let config = self.check_webhook(webhook)?;
        let path = event
            .checked_sub(1)
            .and_then(|i| self.events.get(i as usize))
            .ok_or_else(|| bad(format!("no event {event}: {} events so far", self.events.len())))?;
        if !config.wants(*path) {
            return Err(bad(format!("{webhook} does not subscribe to event {event} ({})", path.as_str())));
        }
        Ok(())
    }

    fn check_event_of_change(&self, asked: Asked, event: u64, what: &str) -> Result<(), Problem> {
        match asked {
            Asked::Change { event: e } if e == event => Ok(()),
            _ => Err(bad(format!("{what} for event {event}, but the input was not that event's change"))),
        }
    }

    fn not_future(&self, field: &str, at: SimTime, now: SimTime) -> Result<(), Problem> {
        if at > now {
            return Err(bad(format!("{field} {at} is in the future (now is {now})")));
        }
        Ok(())
    }

    fn delivery(&mut self, uuid: Uuid, webhook: WebhookId, event: Option<u64>) -> Result<&mut DeliveryRecord, Problem> {
        let d = self.deliveries.get_mut(&uuid).ok_or_else(|| bad(format!("no delivery {uuid} was queued or sent")))?;
        if d.webhook != webhook || event.is_some_and(|e| e != d.event) {
            return Err(bad(format!(
                "delivery {uuid} is of {} and event {}, not {webhook} and event {}",
                d.webhook,
                d.event,
                event.unwrap_or(d.event)
            )));
        }
        Ok(d)
    }

    fn check_attempt_count(
        &mut self,
        uuid: Uuid,
        webhook: WebhookId,
        event: u64,
        attempts: u32,
    ) -> Result<(), Problem> {
        let d = self.delivery(uuid, webhook, Some(event))?;
        if d.starts != attempts {
            let starts = d.starts;
            return Err(bad(format!(
                "delivery {uuid} had {starts} attempts, not {attempts}{}",
                self.uuid_changes(uuid)
            )));
        }
        Ok(())
    }

    /// For a count that does not add up: the uuids `uuid` replaced, oldest first, when it first
    /// came at a send in place of another delivery of the same webhook and event.
    fn uuid_changes(&self, uuid: Uuid) -> String {
        let mut chain = vec![uuid];
        while let Some(old) = self.deliveries.get(chain.last().unwrap()).and_then(|d| d.replaces) {
            if chain.contains(&old) || chain.len() > 16 {
                break;
            }
            chain.push(old);
        }
        if chain.len() == 1 {
            return String::new();
        }
        let counts: Vec<String> =
            chain.iter().rev().map(|u| format!("{u} ({} sent)", self.deliveries[u].starts)).collect();
        format!(
            "; the uuid changed on a retry: {} replaced {} for the same webhook and event ({}), but a \
             delivery keeps its uuid across retries",
            uuid,
            chain[1],
            counts.join(" -> ")
        )
    }

    fn open_attempt(
        &mut self,
        attempt: u64,
        delivery: Uuid,
        webhook: WebhookId,
    ) -> Result<&mut AttemptRecord, Problem> {
        let a = self.attempts.get_mut(&attempt).ok_or_else(|| bad(format!("no attempt {attempt} was sent")))?;
        if a.state != AttemptState::Open {
            return Err(bad(format!("attempt {attempt} is no longer in flight")));
        }
        if a.delivery != delivery || a.webhook != webhook {
            return Err(bad(format!("attempt {attempt} is of delivery {} to {}", a.delivery, a.webhook)));
        }
        Ok(a)
    }
}
