//! A receiver whose logic is the caller's own code (an axum router, through
//! `hooksim_net::net::RouterApp`), on any engine: [`App`] takes each delivery as the webhook URL
//! names it and answers a status; what it acted on is read through the effects contract
//! ([`super::effects`]) and recorded in the trace by an [`ActsBook`], as the live shell records a
//! real receiver's acts.
//!
//! The deliveries it was sent are noted as they arrive (their uuid, event and entity), so an act
//! filed under a delivery is named for what that delivery calls for. An effects list that cannot
//! be read, or that shrinks, breaks the contract: the engine stops (nothing unseen passes).

use super::effects::{ActContext, EffectRecord, act_name};
use hooksim_core::provider::{About, Provider};
use hooksim_core::signing::Headers;
use hooksim_core::trace::TraceEvent;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The caller's receiver logic, run in the engine's thread at the instant a delivery is handled.
pub trait App {
    /// Handles one delivery: `POST path` with `headers` and `body`. The answer's status, or why
    /// it could not answer (the engine stops with it).
    fn deliver(&mut self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<u16, String>;

    /// The whole effects list (`GET /effects`), or why it cannot be read.
    fn effects(&mut self) -> Result<Vec<EffectRecord>, String>;
}

/// Deliveries remembered for naming acts; past this, later deliveries' acts are named `acted`.
pub const DELIVERIES_NOTED_MAX: usize = 100_000;

/// A delivery as its envelope names it.
struct Delivery {
    event: u64,
    path: String,
    details: String,
    entity_kind: String,
    entity_id: u64,
}

/// What one app receiver has reported acting on so far.
#[derive(Default)]
pub struct ActsBook {
    /// Entries of the effects list already recorded.
    seen: usize,
    deliveries: BTreeMap<Uuid, Delivery>,
}

impl ActsBook {
    /// Remembers a delivery's ids from its body (an unreadable body is not remembered).
    pub fn note_delivery(&mut self, body: &[u8]) {
        if self.deliveries.len() >= DELIVERIES_NOTED_MAX {
            return;
        }
        if let Some((uuid, delivery)) = read_envelope(body) {
            self.deliveries.insert(uuid, delivery);
        }
    }

    /// [`ActsBook::note_delivery`] for a delivery in `provider`'s shape (SnapBill's: the same),
    /// read as its receivers read it; a provider's body does not name hooksim's event, so
    /// `event_of` does (see [`super::handle_shaped`]).
    pub fn note_shaped<H: Headers + ?Sized>(
        &mut self,
        provider: Provider,
        headers: &H,
        body: &[u8],
        event_of: impl Fn(Uuid) -> Option<u64>,
    ) {
        if provider == Provider::Snapbill {
            return self.note_delivery(body);
        }
        if self.deliveries.len() >= DELIVERIES_NOTED_MAX {
            return;
        }
        let Ok(reading) = provider.read(headers, body) else { return };
        let Some((uuid, event)) = reading.uuid.and_then(|u| Some((u, event_of(u)?))) else { return };
        let (path, details, entity_kind, entity_id) = match reading.about {
            About::InvoiceState { invoice, to, .. } => ("/invoice/update/state".to_string(), to, "invoice", invoice),
            About::ClientAdded { client } => ("/client/add".to_string(), String::new(), "client", client),
            About::Other => (reading.name, String::new(), "", 0),
        };
        let entity_kind = entity_kind.to_string();
        self.deliveries.insert(uuid, Delivery { event, path, details, entity_kind, entity_id });
    }

    /// The trace entries for the entries of `records` not seen before, or how the list broke the
    /// contract.
    pub fn record(&mut self, receiver: &str, records: &[EffectRecord]) -> Result<Vec<TraceEvent>, String> {
        if records.len() < self.seen {
            return Err(format!("its effects list shrank from {} entries to {}", self.seen, records.len()));
        }
        let events = records[self.seen..]
            .iter()
            .map(|record| {
                let delivery = self.deliveries.get(&record.uuid);
                let context = delivery.map(|d| ActContext {
                    path: &d.path,
                    details: &d.details,
                    entity_kind: &d.entity_kind,
                    entity_id: d.entity_id,
                });
                let event = delivery.map(|d| d.event).or_else(|| record_event(record)).unwrap_or(0);
                TraceEvent::ReceiverActed {
                    receiver: receiver.to_string(),
                    delivery: record.uuid,
                    event,
                    action: act_name(record, context),
                }
            })
            .collect();
        self.seen = records.len();
        Ok(events)
    }
}

/// Why a receiver's contract broke, as an engine's error message.
pub fn contract_broken(receiver: &str, at: impl std::fmt::Display, why: &str) -> String {
    format!(
        "receiver {receiver} (the caller's own) broke the effects contract at {at}: {why}; what it acted on \
         cannot be seen, so nothing about it is judged"
    )
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

    #[test]
    fn new_entries_become_acts_named_for_their_delivery_and_a_shrinking_list_breaks_the_contract() {
        let mut book = ActsBook::default();
        book.note_delivery(br#"{"uuid":"00000000-0000-0000-0000-000000000007","body":{"id":3,"path":"/invoice/update/state","details":"paid","invoice":{"id":4}}}"#);
        let entry: EffectRecord = serde_json::from_str(r#"{"uuid":"00000000-0000-0000-0000-000000000007"}"#).unwrap();
        let acts = book.record("shop", std::slice::from_ref(&entry)).unwrap();
        assert!(
            matches!(&acts[..], [TraceEvent::ReceiverActed { event: 3, action, .. }] if action == "fulfil invoice 4")
        );
        assert!(book.record("shop", std::slice::from_ref(&entry)).unwrap().is_empty(), "seen already");
        assert!(book.record("shop", &[]).unwrap_err().contains("shrank"));
    }
}
