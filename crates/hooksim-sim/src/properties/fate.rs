//! Nothing is lost, to the end: how each delivery ended, as the trace says, and whether an
//! unfinished one has a reason to be unfinished that lasts until the run's end.

use super::{Breach, PropertyContext, Violation};
use crate::world::DISPATCHER_HOST;
use hooksim_core::domain::WebhookId;
use hooksim_core::time::SimTime;
use hooksim_core::trace::{AbandonReason, Trace, TraceEvent};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// How a delivery stands at the end of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// A 2xx ended it.
    Delivered,
    /// A policy limit ended it (`delivery_abandoned`, with its reason).
    Abandoned(AbandonReason),
    /// Its webhook is disabled: it waits for a re-enable.
    Parked,
    /// Unfinished for a reason that lasts until the end of the run.
    Pending(Pending),
    /// Unfinished with nothing left to move it: a lost delivery.
    Stuck,
    /// Unfinished, and its webhook and event went on under another uuid (the identity property
    /// reports the change; the new uuid's fate is the delivery's).
    Replaced,
}

/// Why a delivery may still be unfinished at the end without being lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// An attempt is in flight and its timeout falls after the end.
    InFlight,
    /// Its next retry is due at or after the end.
    RetryDue(SimTime),
    /// Every in-flight slot of its webhook is taken.
    WaitingForSlot,
    /// The dispatcher was down at the end.
    DispatcherDown,
    /// Its last attempt failed, and a dispatcher that reports no decisions (no retry, refusal,
    /// disable, give-up) sent nothing after: the policy allows that silence until the end (the
    /// latest its retry may be due is at or after the end, its webhook met the disable rule, or
    /// a limit allows giving up).
    Unreported,
}

/// Where a delivery stands while the trace is read.
#[derive(Clone, Copy, Debug)]
enum Stage {
    /// Queued, lost in a crash, just failed, or re-enabled: waiting to be started.
    Ready,
    InFlight {
        started: SimTime,
    },
    Timer {
        due: SimTime,
    },
    /// Its latest attempt failed at `at`, with no retry reported yet.
    Failed {
        at: SimTime,
    },
    Done(Fate),
}

struct Ledger {
    webhook: WebhookId,
    stage: Stage,
    /// The entries of this delivery, for a violation to show.
    entries: Vec<usize>,
    /// Its latest attempt was answered with a 2xx: what a `delivered` needs.
    answered_2xx: bool,
    /// How many times its webhook had been enabled again when this delivery last moved: a larger
    /// count at the end means an enable found it waiting, and nothing moved it after.
    enables_seen: u32,
    /// Failed attempts so far, and its event's time (what bounds its next retry and a give-up).
    failures: u32,
    starts: u32,
    event_at: SimTime,
    /// Another uuid was queued for its webhook and event later: left unfinished, it is not lost,
    /// its attempts went on under that uuid (the identity property reports the change).
    replaced: bool,
}

/// Every delivery's fate, in the order the deliveries were queued.
pub fn fates(trace: &Trace, ctx: &PropertyContext) -> Vec<(Uuid, Fate)> {
    let (book, end_state) = read(trace, ctx, &mut Vec::new());
    book.into_iter().map(|(uuid, l)| (uuid, fate_at_end(&l, &end_state, ctx))).collect()
}

pub(super) fn check(trace: &Trace, ctx: &PropertyContext) -> Vec<Violation> {
    let mut out = Vec::new();
    let (book, end_state) = read(trace, ctx, &mut out);
    for (uuid, l) in &book {
        let (breach, detail) = match (fate_at_end(l, &end_state, ctx), l.stage) {
            (Fate::Stuck, Stage::InFlight { started }) => (
                Breach::AttemptNeverFinished,
                format!("its attempt started at {started} never finished, though its timeout fell before the end"),
            ),
            (Fate::Stuck, _) if end_state.enables_of(l.webhook) > l.enables_seen => (
                Breach::ParkedNeverResumed,
                format!("parked while {} was disabled, and never moved after it was enabled again", l.webhook),
            ),
            (Fate::Stuck, _) => (
                Breach::DeliveryLost,
                "unfinished at the end with nothing to move it (no retry due, no attempt in flight, webhook \
                 enabled, a free slot, the dispatcher up)"
                    .to_string(),
            ),
            _ => continue,
        };
        out.push(Violation::new(
            breach,
            ctx.end,
            l.entries.clone(),
            format!("delivery {uuid} of {}: {detail}", l.webhook),
        ));
    }
    out
}

/// What holds at the end of the trace, whatever the delivery.
struct EndState {
    disabled: BTreeSet<WebhookId>,
    /// Enables of each webhook so far: a count, so no delivery needs a visit at each enable.
    enables: BTreeMap<WebhookId, u32>,
    in_flight: BTreeMap<WebhookId, u32>,
    dispatcher_down: bool,
    /// `Some` when the dispatcher reported no decision at all (see [`Pending::Unreported`]):
    /// the webhooks that met the disable rule and got no attempt after, to the end.
    silent: Option<BTreeSet<WebhookId>>,
}

impl EndState {
    fn enables_of(&self, webhook: WebhookId) -> u32 {
        self.enables.get(&webhook).copied().unwrap_or(0)
    }
}

fn fate_at_end(l: &Ledger, end: &EndState, ctx: &PropertyContext) -> Fate {
    let timeout_ms = ctx.policy.attempt_timeout_ms();
    let stage = match l.stage {
        Stage::Done(fate) => return fate,
        _ if l.replaced => return Fate::Replaced,
        _ if end.disabled.contains(&l.webhook) => return Fate::Parked,
        _ if end.dispatcher_down => return Fate::Pending(Pending::DispatcherDown),
        s => s,
    };
    let full = end.in_flight.get(&l.webhook).copied().unwrap_or(0) >= ctx.policy.in_flight_per_webhook_max();
    match stage {
        Stage::InFlight { started } if started.plus_ms(timeout_ms) >= ctx.end => Fate::Pending(Pending::InFlight),
        Stage::Timer { due } if due >= ctx.end => Fate::Pending(Pending::RetryDue(due)),
        Stage::Timer { .. } | Stage::Ready | Stage::Failed { .. } if full => Fate::Pending(Pending::WaitingForSlot),
        Stage::Failed { at } if end.silent.as_ref().is_some_and(|silent| silent_allows(l, at, silent, ctx)) => {
            Fate::Pending(Pending::Unreported)
        }
        _ => Fate::Stuck,
    }
}

/// Reads the trace once: every delivery's last stage, and the violations seen on the way.
fn read(trace: &Trace, ctx: &PropertyContext, out: &mut Vec<Violation>) -> (Vec<(Uuid, Ledger)>, EndState) {
    let may_abandon = ctx.policy.attempts_max().is_some() || ctx.policy.retry_window_ms().is_some();
    let mut order: Vec<Uuid> = Vec::new();
    // Keyed by the uuid as one integer: compared in registers, where a uuid compares as bytes
    // (a call to memcmp per step of every lookup, on every entry of the trace).
    let mut book: BTreeMap<u128, Ledger> = BTreeMap::new();
    let mut retries = super::identity::Retries::default();
    let mut events: BTreeMap<u64, SimTime> = BTreeMap::new();
    let mut end = EndState {
        disabled: BTreeSet::new(),
        enables: BTreeMap::new(),
        in_flight: BTreeMap::new(),
        dispatcher_down: false,
        silent: (!reports_decisions(trace)).then(|| {
            super::health::silent_disables(trace, ctx)
                .into_iter()
                .filter(|&(_, _, until)| until == usize::MAX)
                .map(|(webhook, _, _)| webhook)
                .collect()
        }),
    };
    for (i, e) in trace.entries().iter().enumerate() {
        let at = e.at;
        let here = (i, at, matches!(e.event, TraceEvent::Delivered { .. }));
        if let TraceEvent::DeliveryQueued { delivery, webhook, event } = &e.event
            && let Some((old, _)) = retries.replaced(*webhook, *event, *delivery, i)
            && let Some(l) = book.get_mut(&old.as_u128())
        {
            l.replaced = true;
        }
        match &e.event {
            // A reused uuid is the identity property's to report; the first delivery keeps it.
            TraceEvent::EventRecorded { event, .. } => {
                events.insert(*event, at);
            }
            TraceEvent::DeliveryQueued { delivery, webhook, event } if !book.contains_key(&delivery.as_u128()) => {
                order.push(*delivery);
                book.insert(
                    delivery.as_u128(),
                    Ledger {
                        webhook: *webhook,
                        stage: Stage::Ready,
                        entries: vec![i],
                        answered_2xx: false,
                        enables_seen: end.enables_of(*webhook),
                        replaced: false,
                        failures: 0,
                        starts: 0,
                        event_at: events.get(event).copied().unwrap_or(at),
                    },
                );
            }
            TraceEvent::AttemptStarted { delivery, webhook, .. } => {
                *end.in_flight.entry(*webhook).or_default() += 1;
                if let Some(l) = book.get_mut(&delivery.as_u128()) {
                    l.starts += 1;
                }
                advance(&mut book, &end, *delivery, Stage::InFlight { started: at }, here, out);
            }
            TraceEvent::AttemptFinished { delivery, webhook, outcome, .. } => {
                settle(&mut end, *webhook);
                if let Some(l) = book.get_mut(&delivery.as_u128()) {
                    l.answered_2xx = outcome.is_success();
                    l.failures += u32::from(!outcome.is_success());
                }
                let stage = if outcome.is_success() { Stage::Ready } else { Stage::Failed { at } };
                advance(&mut book, &end, *delivery, stage, here, out);
            }
            TraceEvent::AttemptLost { delivery, webhook, .. } => {
                settle(&mut end, *webhook);
                advance(&mut book, &end, *delivery, Stage::Ready, here, out);
            }
            TraceEvent::RetryScheduled { delivery, at: due, .. } => {
                advance(&mut book, &end, *delivery, Stage::Timer { due: *due }, here, out)
            }
            TraceEvent::Delivered { delivery, .. } => {
                if let Some(l) =
                    book.get(&delivery.as_u128()).filter(|l| !l.answered_2xx && !matches!(l.stage, Stage::Done(_)))
                {
                    let detail = format!("delivery {delivery} of {} counted delivered with no 2xx answer", l.webhook);
                    out.push(Violation::new(Breach::DeliveredWithout2xx, at, vec![i], detail));
                }
                advance(&mut book, &end, *delivery, Stage::Done(Fate::Delivered), here, out)
            }
            TraceEvent::DeliveryAbandoned { delivery, attempts, reason, .. } => {
                advance(&mut book, &end, *delivery, Stage::Done(Fate::Abandoned(*reason)), here, out);
                if let Some(v) = abandon_breach(*attempts, *reason, may_abandon, ctx) {
                    out.push(Violation::new(v.0, at, vec![i], format!("delivery {delivery}: {}", v.1)));
                }
            }
            TraceEvent::WebhookDisabled { webhook, .. } => {
                end.disabled.insert(*webhook);
            }
            TraceEvent::WebhookEnabled { webhook } => {
                end.disabled.remove(webhook);
                *end.enables.entry(*webhook).or_default() += 1;
            }
            // A restart is the world's too, for a dispatcher that does not report `dispatcher_restarted`.
            TraceEvent::WorldChanged { change } => {
                if let Some(down) = change.dispatcher_down(DISPATCHER_HOST) {
                    end.dispatcher_down = down;
                }
            }
            TraceEvent::DispatcherRestarted => end.dispatcher_down = false,
            _ => {}
        }
    }
    let book = order.into_iter().filter_map(|u| book.remove(&u.as_u128()).map(|l| (u, l))).collect();
    (book, end)
}

/// Moves a delivery to `stage`; an entry for a delivery that had already ended is a violation
/// (and the delivery stays ended). `(i, at, delivered)` describe the entry.
fn advance(
    book: &mut BTreeMap<u128, Ledger>,
    end: &EndState,
    uuid: Uuid,
    stage: Stage,
    (i, at, delivered): (usize, SimTime, bool),
    out: &mut Vec<Violation>,
) {
    let Some(l) = book.get_mut(&uuid.as_u128()) else { return };
    l.entries.push(i);
    l.enables_seen = end.enables_of(l.webhook);
    if let Stage::Done(_) = l.stage {
        let breach = if delivered { Breach::DeliveredTwice } else { Breach::AttemptAfterEnd };
        let detail = format!("delivery {uuid} of {} had already ended", l.webhook);
        out.push(Violation::new(breach, at, l.entries.clone(), detail));
        return;
    }
    l.stage = stage;
}

fn settle(end: &mut EndState, webhook: WebhookId) {
    let n = end.in_flight.entry(webhook).or_default();
    *n = n.saturating_sub(1);
}

/// A give-up needs a limit in the policy, reached.
fn abandon_breach(
    attempts: u32,
    reason: AbandonReason,
    may_abandon: bool,
    ctx: &PropertyContext,
) -> Option<(Breach, String)> {
    if !may_abandon {
        return Some((Breach::AbandonedWithoutLimit, "the policy has no attempts_max nor retry_window".into()));
    }
    match (reason, ctx.policy.attempts_max(), ctx.policy.retry_window_ms()) {
        (AbandonReason::AttemptsExhausted, Some(max), _) if attempts < max => {
            Some((Breach::AbandonedEarly, format!("gave up after {attempts} attempts, attempts_max is {max}")))
        }
        (AbandonReason::AttemptsExhausted, None, _) => {
            Some((Breach::AbandonedWithoutLimit, "attempts exhausted, but the policy has no attempts_max".into()))
        }
        (AbandonReason::RetryWindowExpired, _, None) => {
            Some((Breach::AbandonedWithoutLimit, "retry window expired, but the policy has no retry_window".into()))
        }
        _ => None,
    }
}

/// Whether the trace holds a decision only a dispatcher reports (never one the harness records
/// from answers and deadlines): a retry, a refusal, a disable, a give-up, a recovery, an enable,
/// a restart, a late answer ignored.
pub(super) fn reports_decisions(trace: &Trace) -> bool {
    trace.entries().iter().any(|e| {
        matches!(
            e.event,
            TraceEvent::RetryScheduled { .. }
                | TraceEvent::DeliveryRefused { .. }
                | TraceEvent::WebhookDisabled { .. }
                | TraceEvent::DeliveryAbandoned { .. }
                | TraceEvent::WebhookRecovered { .. }
                | TraceEvent::WebhookEnabled { .. }
                | TraceEvent::DispatcherRestarted
                | TraceEvent::LateAnswerIgnored { .. }
        )
    })
}

/// A delivery whose last attempt failed at `failed_at`, never sent again by a dispatcher that
/// reports no decisions: its silence is allowed when its retry may still be due at the end (the
/// longest delay the policy allows: the backoff at its jitter's top, plus what a Retry-After may
/// add), its webhook met the disable rule (`silent`), or a limit lets it give up.
fn silent_allows(l: &Ledger, failed_at: SimTime, silent: &BTreeSet<WebhookId>, ctx: &PropertyContext) -> bool {
    let schedule = ctx.policy.schedule();
    let base_ms = schedule.base_delay_ms(l.failures);
    let jitter_ms = base_ms / 100 * u64::from(schedule.jitter_percent) + 1;
    let retry_after_ms = ctx.policy.spec().retry_after_past_backoff_max_ms.unwrap_or(0);
    let latest = failed_at.plus_ms(base_ms.saturating_add(jitter_ms).saturating_add(retry_after_ms));
    let gives_up = ctx.policy.attempts_max().is_some_and(|max| l.starts >= max)
        || ctx.policy.retry_window_ms().is_some_and(|w| latest.ms_since(l.event_at) > w);
    latest >= ctx.end || silent.contains(&l.webhook) || gives_up
}
