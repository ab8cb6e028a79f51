//! The reference core speaking the protocol: what `hooksim dispatcher --stdio` serves over a
//! pipe, and [`ReferenceSpeaker`] speaks in the process ([`super::spoken`]). Both derive, from
//! the protocol's lines alone, a trace byte-identical to the in-process core's: the proof that
//! the protocol carries everything.

use super::VERSION;
use super::message::{FromDispatcher, ToDispatcher};
use super::spoken::Speaks;
use hooksim_core::core::{Dispatcher, Input, Output};
use hooksim_core::trace::{Outcome, TraceEvent};

/// Applies one message (not `hello`) to the core.
pub fn apply(core: &mut Dispatcher, message: ToDispatcher) -> Result<(), String> {
    let result = match message {
        ToDispatcher::Hello { .. } => return Err("`hello` comes once, first".into()),
        ToDispatcher::Change { now, change, .. } => core.handle(now, Input::Change(change)),
        ToDispatcher::Answer { now, attempt, outcome, retry_after_ms } => {
            let input = match (Outcome::from(outcome), retry_after_ms) {
                (Outcome::Status { code: status }, Some(retry_after_ms)) => {
                    Input::AnswerRetryAfter { attempt, status, retry_after_ms }
                }
                (outcome, _) => Input::Answer { attempt, outcome },
            };
            core.handle(now, input)
        }
        ToDispatcher::Enable { now, webhook } => core.handle(now, Input::Enable(webhook)),
        ToDispatcher::Crash { now } => core.handle(now, Input::Crash),
        ToDispatcher::Restart { now } => core.handle(now, Input::Restart),
        ToDispatcher::Wake { now } => {
            core.handle_timeout(now);
            Ok(())
        }
    };
    result.map_err(|e| e.to_string())
}

/// The core's outputs as protocol messages, in the order of its trace, then `done`.
pub fn emit(core: &mut Dispatcher) -> Result<Vec<FromDispatcher>, String> {
    let entries: Vec<_> = core.drain_trace().collect();
    let mut said = Vec::with_capacity(entries.len() + 1);
    for entry in entries {
        let message = match entry.event {
            // The harness records the event itself: it made the change.
            TraceEvent::EventRecorded { .. } => continue,
            TraceEvent::AttemptStarted { attempt, event, .. } => match core.poll_output() {
                Some(Output::Send(r)) if r.attempt == attempt => FromDispatcher::Send {
                    attempt,
                    delivery: r.delivery,
                    webhook: r.webhook,
                    event,
                    url: r.url.to_string(),
                    body: r.body.to_string(),
                    timeout_ms: r.timeout_ms,
                },
                other => return Err(format!("attempt {attempt} started but the core's next output is {other:?}")),
            },
            TraceEvent::WarningSent { webhook, .. } => match core.poll_output() {
                Some(Output::Email(e)) if e.webhook == webhook => {
                    FromDispatcher::Email { to: e.to, webhook, url: e.url.to_string(), failing_since: e.failing_since }
                }
                other => return Err(format!("a warning about {webhook} but the core's next output is {other:?}")),
            },
            other => fact(other).ok_or("a shell's trace entry from the core")?,
        };
        said.push(message);
    }
    if let Some(left) = core.poll_output() {
        return Err(format!("an output with no trace entry: {left:?}"));
    }
    said.push(FromDispatcher::Done { wake_at: core.poll_timeout() });
    Ok(said)
}

/// The fact that carries a core trace entry (`None` for the shells' entries).
fn fact(event: TraceEvent) -> Option<FromDispatcher> {
    Some(match event {
        TraceEvent::DeliveryQueued { delivery, webhook, event } => {
            FromDispatcher::DeliveryQueued { delivery, webhook, event }
        }
        TraceEvent::DeliveryRefused { webhook, event, reason } => {
            FromDispatcher::DeliveryRefused { webhook, event, reason: reason.into() }
        }
        TraceEvent::AttemptFinished { attempt, delivery, webhook, event, outcome } => {
            FromDispatcher::AttemptFinished { attempt, delivery, webhook, event, outcome: outcome.into() }
        }
        TraceEvent::LateAnswerIgnored { attempt, outcome } => {
            FromDispatcher::LateAnswerIgnored { attempt, outcome: outcome.into() }
        }
        TraceEvent::AttemptLost { attempt, delivery, webhook } => {
            FromDispatcher::AttemptLost { attempt, delivery, webhook }
        }
        TraceEvent::RetryScheduled { delivery, webhook, at, failures } => {
            FromDispatcher::RetryScheduled { delivery, webhook, at, failures }
        }
        TraceEvent::Delivered { delivery, webhook, event, attempts } => {
            FromDispatcher::Delivered { delivery, webhook, event, attempts }
        }
        TraceEvent::DeliveryAbandoned { delivery, webhook, event, attempts, reason } => {
            FromDispatcher::DeliveryAbandoned { delivery, webhook, event, attempts, reason: reason.into() }
        }
        TraceEvent::WebhookDisabled { webhook, failing_since, reason } => {
            FromDispatcher::WebhookDisabled { webhook, failing_since, reason }
        }
        TraceEvent::WebhookRecovered { webhook } => FromDispatcher::WebhookRecovered { webhook },
        TraceEvent::WebhookEnabled { webhook } => FromDispatcher::WebhookEnabled { webhook },
        TraceEvent::DispatcherRestarted => FromDispatcher::DispatcherRestarted,
        _ => return None,
    })
}

/// The reference core as a [`Speaks`]: its durable state is the journal of every message it
/// was sent, replayed into a fresh core after a crash (the core is deterministic), as the
/// served core replays its journal file.
#[derive(Default)]
pub struct ReferenceSpeaker {
    core: Option<Dispatcher>,
    journal: Vec<ToDispatcher>,
}

impl Speaks for ReferenceSpeaker {
    fn answer(&mut self, message: &ToDispatcher) -> Vec<FromDispatcher> {
        if let ToDispatcher::Hello { seed, policy, webhooks, resumed, .. } = message {
            let Ok(policy) = policy.clone().build() else { return Vec::new() };
            let mut core = Dispatcher::new(policy, webhooks.clone(), *seed);
            if *resumed {
                for earlier in &self.journal {
                    if apply(&mut core, earlier.clone()).is_err() {
                        return Vec::new();
                    }
                    while core.poll_output().is_some() {}
                    core.drain_trace().for_each(drop);
                }
            } else {
                self.journal.clear();
            }
            self.core = Some(core);
            return vec![FromDispatcher::Hello { version: VERSION, name: Some("hooksim reference core".into()) }];
        }
        let Some(core) = self.core.as_mut() else { return Vec::new() };
        self.journal.push(message.clone());
        // An error leaves the answer without `done`, which the harness reports.
        apply(core, message.clone()).and_then(|()| emit(core)).unwrap_or_default()
    }
}
