//! Every attempt's body is the store as it was when the attempt started: the envelope names the
//! attempt's event, and carries the entity as it stood at that moment, not as it was when the
//! event was recorded nor when an earlier attempt rendered it.
//!
//! Exact when the context has the changes (the store is replayed beside the trace: event `n` is
//! change `n - 1`). Without them the trace still implies part of the store: an invoice's state
//! is the `details` of its latest event, and between two changes of one entity every body that
//! carries it must carry the same bytes. A client's fields are not in the trace, so a stale
//! client goes unseen there when only one attempt renders it between two changes.

use super::{Breach, PropertyContext, Violation};
use hooksim_core::domain::{Change, EntityRef, Event, EventPath, Store};
use hooksim_core::provider::{Occurrence, Provider, Rendered};
use hooksim_core::trace::{Trace, TraceEvent};
use serde_json::Value;
use std::collections::BTreeMap;

/// What an event says, to compare with the envelope that claims to carry it.
#[derive(Clone, Copy)]
struct Recorded {
    path: EventPath,
    details: &'static str,
    entity: EntityRef,
}

/// The store as far as the checker knows it.
enum Truth<'a> {
    Replayed {
        store: Store,
        changes: &'a [Change],
    },
    /// The latest invoice state the trace implies, and the entity as the first body rendered
    /// it since that entity's last change (with the entry that rendered it).
    Implied {
        state: BTreeMap<u64, &'static str>,
        epoch: BTreeMap<EntityRef, (Value, usize)>,
    },
}

pub(super) fn check(trace: &Trace, ctx: &PropertyContext) -> Vec<Violation> {
    if ctx.provider != Provider::Snapbill {
        return match (&ctx.changes, ctx.provider.facts().rendered) {
            (Some(changes), Rendered::AtEvent) => check_snapshots(trace, ctx.provider, changes),
            // Without the history the snapshot cannot be rendered again: not judged.
            _ => Vec::new(),
        };
    }
    let mut out = Vec::new();
    let mut events: BTreeMap<u64, (Recorded, usize)> = BTreeMap::new();
    // Per delivery, the last body found right and how many events had been recorded then: the
    // same bytes with no change since are right again, without a parse.
    let mut fine: BTreeMap<uuid::Uuid, (&str, usize)> = BTreeMap::new();
    let mut truth = match &ctx.changes {
        Some(changes) => Truth::Replayed { store: Store::default(), changes },
        None => Truth::Implied { state: BTreeMap::new(), epoch: BTreeMap::new() },
    };
    for (i, e) in trace.entries().iter().enumerate() {
        match &e.event {
            TraceEvent::EventRecorded { event, path, details, entity } => {
                let r = Recorded { path: *path, details, entity: *entity };
                events.insert(*event, (r, i));
                if let Some(detail) = truth.record(*event, r) {
                    out.push(Violation::new(Breach::TraceDisagreesWithHistory, e.at, vec![i], detail));
                    truth = Truth::Implied { state: BTreeMap::new(), epoch: BTreeMap::new() };
                }
            }
            TraceEvent::AttemptStarted { event, body, delivery, number, .. } => {
                let Some(&(r, recorded_i)) = events.get(event) else { continue };
                // Compared by address first: a retry usually resends the very same allocation.
                let same = |(last, n): &(&str, usize)| {
                    *n == events.len() && (std::ptr::eq(*last, &**body) || *last == &**body)
                };
                if fine.get(delivery).is_some_and(same) {
                    continue;
                }
                let entries = vec![recorded_i, i];
                let what = format!("attempt {number} of delivery {delivery}");
                let envelope = match serde_json::from_str::<Value>(body) {
                    Ok(v) => v,
                    Err(err) => {
                        let detail = format!("{what}: the body is not JSON ({err})");
                        out.push(Violation::new(Breach::BodyUnreadable, e.at, entries, detail));
                        continue;
                    }
                };
                let carried = match carried_entity(&envelope, *event, r) {
                    Ok(c) => c,
                    Err(detail) => {
                        out.push(Violation::new(Breach::BodyWrongEvent, e.at, entries, format!("{what}: {detail}")));
                        continue;
                    }
                };
                let Some((detail, also)) = truth.stale(r.entity, carried, i) else {
                    fine.insert(*delivery, (body, events.len()));
                    continue;
                };
                let entries = also.into_iter().chain(entries).collect::<std::collections::BTreeSet<_>>();
                let detail = format!("{what} (event {event}): {detail}");
                out.push(Violation::new(Breach::BodyStale, e.at, entries.into_iter().collect(), detail));
            }
            _ => {}
        }
    }
    out
}

/// A provider that sends a snapshot: every attempt of a delivery carries exactly the provider's
/// rendering of its event from the store as it was when the event was recorded (replayed from
/// the history), under the delivery's id, with the event's time; never the store at send time.
fn check_snapshots(trace: &Trace, provider: Provider, changes: &[Change]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut store = Store::default();
    let mut events: BTreeMap<u64, (Event, usize)> = BTreeMap::new();
    let mut expected: BTreeMap<uuid::Uuid, (String, usize)> = BTreeMap::new();
    for (i, e) in trace.entries().iter().enumerate() {
        match &e.event {
            TraceEvent::EventRecorded { event, path, details, entity } => {
                let applied = changes.get(*event as usize - 1).map(|c| c.apply(&mut store));
                if !matches!(applied, Some(Ok(r)) if r == (*path, *details, *entity)) {
                    let detail = format!("event {event} is not the history's change {event} ({applied:?})");
                    out.push(Violation::new(Breach::TraceDisagreesWithHistory, e.at, vec![i], detail));
                    return out;
                }
                let recorded = Event { id: *event, path: *path, details, entity: *entity, at: e.at };
                events.insert(*event, (recorded, i));
            }
            // Queued as the event is recorded: the store is the event's.
            TraceEvent::DeliveryQueued { delivery, event, .. } => {
                let Some((recorded, _)) = events.get(event) else { continue };
                let event_s = crate::shell::signing::unix_s(recorded.at);
                let m = provider.render(&Occurrence { uuid: *delivery, event: recorded, store: &store, event_s });
                expected.insert(*delivery, (m.body, i));
            }
            TraceEvent::AttemptStarted { delivery, event, body, number, .. } => {
                let Some((snapshot, queued)) = expected.get(delivery) else { continue };
                if snapshot.as_str() != &**body {
                    let detail = format!(
                        "attempt {number} of delivery {delivery} (event {event}) is not {provider}'s snapshot of the \
                         event: {body} instead of {snapshot}"
                    );
                    out.push(Violation::new(Breach::BodyStale, e.at, vec![*queued, i], detail));
                }
            }
            _ => {}
        }
    }
    out
}

/// The entity the envelope carries, once its `body` is checked to be event `id`.
fn carried_entity(envelope: &Value, id: u64, r: Recorded) -> Result<&Value, String> {
    let body = envelope.get("body").ok_or("the envelope has no body")?;
    let kind = r.entity.kind.as_str();
    let said = (body.get("id"), body.get("path"), body.get("details"));
    let expected = (Value::from(id), Value::from(r.path.as_str()), Value::from(r.details));
    if said != (Some(&expected.0), Some(&expected.1), Some(&expected.2)) {
        return Err(format!(
            "it says id {:?}, path {:?}, details {:?}; the event is {id}, {}, {:?}",
            said.0,
            said.1,
            said.2,
            r.path.as_str(),
            r.details
        ));
    }
    let entity = body.get(kind).ok_or_else(|| format!("the body has no {kind:?}"))?;
    if entity.get("id") != Some(&Value::from(r.entity.id)) {
        return Err(format!("it carries {kind} {:?}, the event is about {kind} {}", entity.get("id"), r.entity.id));
    }
    Ok(entity)
}

impl Truth<'_> {
    /// Event `id` was recorded: the store moves on. Returns why the trace and the history
    /// disagree, if they do.
    fn record(&mut self, id: u64, r: Recorded) -> Option<String> {
        match self {
            Truth::Replayed { store, changes } => {
                let Some(change) = changes.get(id as usize - 1) else {
                    return Some(format!("event {id} has no change in the history ({} changes)", changes.len()));
                };
                match change.apply(store) {
                    Ok((path, details, entity)) if (path, details, entity) == (r.path, r.details, r.entity) => None,
                    Ok((path, details, _)) => Some(format!(
                        "event {id} is {} {:?} in the trace, {} {details:?} in the history",
                        r.path.as_str(),
                        r.details,
                        path.as_str()
                    )),
                    Err(e) => Some(format!("event {id}: the history's change fails: {e}")),
                }
            }
            Truth::Implied { state, epoch } => {
                epoch.remove(&r.entity);
                if matches!(r.path, EventPath::InvoiceAdd | EventPath::InvoiceUpdateState) {
                    state.insert(r.entity.id, r.details);
                }
                None
            }
        }
    }

    /// Why `carried`, rendered at entry `i`, is not the entity as the store holds it now; with
    /// the entry that rendered the truth, when that is where it comes from.
    fn stale(&mut self, entity: EntityRef, carried: &Value, i: usize) -> Option<(String, Option<usize>)> {
        match self {
            Truth::Replayed { store, .. } => {
                let now = serde_json::to_value(store.get(entity)).ok()?;
                (now != *carried).then(|| (format!("carries {carried}, the store holds {now}"), None))
            }
            Truth::Implied { state, epoch } => {
                if let Some(s) = state.get(&entity.id).filter(|_| entity.kind.as_str() == "invoice") {
                    let said = carried.get("state").and_then(Value::as_str);
                    if said != Some(*s) {
                        return Some((format!("carries state {said:?}, the latest event made it {s:?}"), None));
                    }
                }
                match epoch.get(&entity) {
                    Some((first, j)) if first != carried => {
                        Some((format!("carries {carried}, an attempt since the last change carried {first}"), Some(*j)))
                    }
                    Some(_) => None,
                    None => {
                        epoch.insert(entity, (carried.clone(), i));
                        None
                    }
                }
            }
        }
    }
}
