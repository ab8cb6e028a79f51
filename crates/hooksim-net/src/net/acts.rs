//! What a caller's own receiver (an axum router given to [`super::run_with_apps`]) acted on,
//! read through the effects contract (`GET /effects`,
//! [`hooksim_sim::receiver::effects`]) after each delivery it handled, and recorded in the trace
//! as `receiver_acted`, named as the live shell names a real receiver's acts.
//!
//! The deliveries it was sent are noted as they arrive (their uuid, event and entity), so an
//! act filed under a delivery is named for what that delivery calls for. An effects list that
//! cannot be read, or that shrinks, breaks the contract: the run stops (nothing unseen passes).

use super::journal::{Journal, Note};
use axum::Router;
use axum::body::Body;
use hooksim_core::trace::TraceEvent;
use hooksim_sim::receiver::effects::{ActContext, EffectRecord, EffectsDoc, act_name};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use tower_service::Service;
use uuid::Uuid;

/// Bytes of one effects list read; a longer list breaks the contract (the run stops).
pub(crate) const EFFECTS_BYTES_MAX: usize = 8 * 1024 * 1024;

/// Deliveries remembered for naming acts; past this, later deliveries' acts are named `acted`.
pub(crate) const DELIVERIES_NOTED_MAX: usize = 100_000;

/// A delivery as its envelope names it.
struct Delivery {
    event: u64,
    path: String,
    details: String,
    entity_kind: String,
    entity_id: u64,
}

pub(crate) struct Acts {
    receiver: String,
    journal: Journal,
    /// Entries of the effects list already recorded.
    seen: Cell<usize>,
    deliveries: RefCell<BTreeMap<Uuid, Delivery>>,
}

impl Acts {
    pub(crate) fn new(receiver: &str, journal: &Journal) -> Acts {
        Acts {
            receiver: receiver.to_string(),
            journal: journal.clone(),
            seen: Cell::new(0),
            deliveries: RefCell::new(BTreeMap::new()),
        }
    }

    /// Remembers a delivery's ids from its body (an unreadable body is not remembered).
    pub(crate) fn note_delivery(&self, body: &[u8]) {
        let mut deliveries = self.deliveries.borrow_mut();
        if deliveries.len() >= DELIVERIES_NOTED_MAX {
            return;
        }
        if let Some((uuid, delivery)) = read_envelope(body) {
            deliveries.insert(uuid, delivery);
        }
    }

    /// Reads the router's effects list and records each entry not seen before.
    pub(crate) async fn read(&self, router: &mut Router) {
        match effects(router).await {
            Ok(records) => self.record(records),
            Err(why) => self.broken(why),
        }
    }

    fn record(&self, records: Vec<EffectRecord>) {
        let seen = self.seen.get();
        if records.len() < seen {
            return self.broken(format!("its effects list shrank from {seen} entries to {}", records.len()));
        }
        let deliveries = self.deliveries.borrow();
        for record in &records[seen..] {
            let delivery = deliveries.get(&record.uuid);
            let context = delivery.map(|d| ActContext {
                path: &d.path,
                details: &d.details,
                entity_kind: &d.entity_kind,
                entity_id: d.entity_id,
            });
            let event = delivery.map(|d| d.event).or_else(|| record_event(record)).unwrap_or(0);
            self.journal.push(Note::Event(TraceEvent::ReceiverActed {
                receiver: self.receiver.clone(),
                delivery: record.uuid,
                event,
                action: act_name(record, context),
            }));
        }
        self.seen.set(records.len());
    }

    fn broken(&self, why: String) {
        self.journal.push(Note::ContractBroken { receiver: self.receiver.clone(), why });
    }
}

/// `GET /effects` on the router, in the process: the entries, or why they cannot be read.
async fn effects(router: &mut Router) -> Result<Vec<EffectRecord>, String> {
    let request = hyper::Request::get("/effects").body(Body::empty()).map_err(|e| e.to_string())?;
    let response = match router.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    if status != 200 {
        return Err(format!("GET /effects answered {status}, not 200"));
    }
    let bytes = axum::body::to_bytes(response.into_body(), EFFECTS_BYTES_MAX)
        .await
        .map_err(|_| format!("GET /effects answered more than {EFFECTS_BYTES_MAX} bytes"))?;
    serde_json::from_slice::<EffectsDoc>(&bytes).map(|doc| doc.effects).map_err(|e| {
        format!("GET /effects is not in the contract's format ({{\"effects\": [{{\"uuid\": ...}}]}}): {e}")
    })
}

/// The event id an entry gives itself (a number, or a string of one).
fn record_event(record: &EffectRecord) -> Option<u64> {
    match record.event.as_ref()? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The ids of a delivery's envelope: `{"uuid", "body": {"id", "path", "details", <entity>: {"id"}}}`.
fn read_envelope(body: &[u8]) -> Option<(Uuid, Delivery)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let uuid = value.get("uuid")?.as_str()?.parse().ok()?;
    let inner = value.get("body")?.as_object()?;
    let text = |key: &str| inner.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let (entity_kind, entity_id) = inner
        .iter()
        .find(|(key, v)| !matches!(key.as_str(), "id" | "path" | "details") && v.get("id").is_some())
        .map(|(key, v)| (key.clone(), v.get("id").and_then(|id| id.as_u64()).unwrap_or(0)))
        .unwrap_or_default();
    let delivery = Delivery {
        event: inner.get("id")?.as_u64()?,
        path: text("path"),
        details: text("details"),
        entity_kind,
        entity_id,
    };
    Some((uuid, delivery))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_gives_its_ids_and_entity() {
        let body = br#"{"uuid":"00000000-0000-0000-0000-000000000007","body":{"id":3,"path":"/invoice/update/state","details":"paid","invoice":{"id":4,"state":"paid"}}}"#;
        let (uuid, d) = read_envelope(body).unwrap();
        assert_eq!(uuid, Uuid::from_u128(7));
        assert_eq!((d.event, d.path.as_str(), d.details.as_str()), (3, "/invoice/update/state", "paid"));
        assert_eq!((d.entity_kind.as_str(), d.entity_id), ("invoice", 4));
        assert!(read_envelope(b"not json").is_none());
    }
}
