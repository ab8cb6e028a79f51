//! SnapBill-shaped deliveries for certification, drawn from a seeded RNG so a run is reproducible:
//! the same seed sends the same uuids, event ids and entities.

use crate::core::render;
use crate::domain::{Change, Client, Event, Invoice, InvoiceState, Store};
use crate::time::SimTime;
use bytes::Bytes;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use uuid::Uuid;

/// One delivery: the envelope's `uuid`, its `body.id`, and the bytes on the wire.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub uuid: Uuid,
    pub event: u64,
    pub body: Bytes,
}

/// A miniature SnapBill account: entities change, events are recorded, and each delivery renders
/// the entity as it is when it is sent (as SnapBill does).
pub struct Deck {
    rng: ChaCha8Rng,
    store: Store,
    next_event: u64,
    next_entity: u64,
}

impl Deck {
    pub fn new(seed: u64) -> Deck {
        // The world's seed discipline: certification draws from its own stream of the seed.
        let mut rng = crate::seed::rng(seed, crate::seed::Stream::Certify);
        // Ids start at a seeded offset: runs with different seeds do not collide in a receiver
        // that remembers event ids.
        let next_event = rng.random_range(1_000..1_000_000_000);
        let next_entity = rng.random_range(1_000..1_000_000_000);
        Deck { rng, store: Store::default(), next_event, next_entity }
    }

    /// Adds a client and an unpaid invoice of theirs; returns the invoice id.
    pub fn invoice(&mut self) -> u64 {
        let client = self.client();
        let id = self.entity_id();
        let invoice = Invoice {
            id,
            number: format!("INV-{id}"),
            client_id: client,
            total_cents: self.rng.random_range(100..1_000_000),
            state: InvoiceState::Unpaid,
        };
        self.apply(Change::AddInvoice(invoice));
        id
    }

    /// Sets the invoice's state; returns the `/invoice/update/state` event it records.
    pub fn set_state(&mut self, invoice: u64, state: InvoiceState) -> Event {
        self.apply(Change::SetInvoiceState { id: invoice, state })
    }

    /// Renames a client; returns the `/client/update` event.
    pub fn client_update(&mut self) -> Event {
        let id = self.client();
        let renamed = Client { id, name: format!("Client {id} (renamed)"), email: format!("billing+{id}@example.com") };
        self.apply(Change::UpdateClient(renamed))
    }

    /// A new delivery of `event`, rendered now, under a fresh uuid: an RFC 4122 version 4 uuid
    /// (random bits, with the version and variant bits set), as real senders send and as
    /// receivers that validate uuids expect.
    pub fn deliver(&mut self, event: &Event) -> Delivery {
        let uuid = uuid::Builder::from_random_bytes(self.rng.random()).into_uuid();
        Delivery { uuid, event: event.id, body: render(uuid, event, &self.store).into() }
    }

    /// The same delivery (same uuid) rendered again now: what a redelivery is.
    pub fn redeliver(&self, d: &Delivery, event: &Event) -> Delivery {
        Delivery { uuid: d.uuid, event: event.id, body: render(d.uuid, event, &self.store).into() }
    }

    /// Corrects the invoice's total in place (a billing edit that records no event of its own,
    /// as hooksim's domain has none): the next rendering of any of its events differs.
    pub fn correct_total(&mut self, invoice: u64) {
        if let Some(inv) = self.store.invoices_mut().get_mut(&invoice) {
            inv.total_cents += 1;
        }
    }

    fn client(&mut self) -> u64 {
        let id = self.entity_id();
        let client = Client { id, name: format!("Client {id}"), email: format!("billing+{id}@example.com") };
        self.apply(Change::AddClient(client));
        id
    }

    fn entity_id(&mut self) -> u64 {
        self.next_entity += 1;
        self.next_entity
    }

    fn apply(&mut self, change: Change) -> Event {
        let (path, details, entity) = match change.apply(&mut self.store) {
            Ok(recorded) => recorded,
            // Ids are fresh and references made just before: a refusal is a bug in this file.
            Err(e) => unreachable!("certification deck made a bad change: {e}"),
        };
        self.next_event += 1;
        Event { id: self.next_event, path, details, entity, at: SimTime::ZERO }
    }
}

/// The delivery with fields SnapBill might add one day, at every level of the envelope.
pub fn with_unknown_fields(d: &Delivery) -> Delivery {
    edit(d, |v| {
        v["api_version"] = json!("2031-01-01");
        v["body"]["account"] = json!({"id": 77, "name": "Acme"});
        if let Some(inv) = v["body"].get_mut("invoice") {
            inv["currency"] = json!("ZAR");
            inv["tags"] = json!(["new", {"nested": [1, 2.5, null, true]}]);
        }
    })
}

/// The delivery padded to at least `bytes_min` bytes with JSON whitespace: only the size is new,
/// so a receiver that fails this case fails it on size alone (a framework's body limit), not on
/// some field it did not expect.
pub fn with_size(d: &Delivery, bytes_min: usize) -> Delivery {
    let body = String::from_utf8_lossy(&d.body);
    let pad = bytes_min.saturating_sub(body.len());
    // Between the last two closing braces: inside the envelope, after `body`.
    let cut = body.len().saturating_sub(1);
    let padded = format!("{}{}{}", &body[..cut], " ".repeat(pad), &body[cut..]);
    Delivery { uuid: d.uuid, event: d.event, body: padded.into() }
}

fn edit(d: &Delivery, change: impl FnOnce(&mut Value)) -> Delivery {
    let mut value: Value = match serde_json::from_slice(&d.body) {
        Ok(v) => v,
        Err(e) => unreachable!("a rendered envelope is JSON: {e}"),
    };
    change(&mut value);
    Delivery { uuid: d.uuid, event: d.event, body: value.to_string().into() }
}

/// Bodies no receiver can read as an envelope: what a proxy or a bug might put on the wire.
pub fn malformed() -> Vec<(&'static str, Bytes)> {
    vec![
        ("truncated JSON", Bytes::from_static(br#"{"uuid":"0a1b","body":{"id":1,"pa"#)),
        ("not JSON", Bytes::from_static(b"uuid=1&path=/client/add")),
        ("empty body", Bytes::new()),
        ("JSON without an envelope", Bytes::from_static(b"[1,2,3]")),
    ]
}

/// `/invoice/update/state paid (invoice 9)`, `/client/update (client 4)`: for case details.
pub fn describe(event: &Event) -> String {
    let what = format!("{} {}", event.path.as_str(), event.details);
    format!("{} ({})", what.trim_end(), event.entity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_uuids_are_rfc_4122_version_4_and_seeded() {
        let mut deck = Deck::new(7);
        let invoice = deck.invoice();
        let event = deck.set_state(invoice, InvoiceState::Paid);
        let uuids: Vec<Uuid> = (0..200).map(|_| deck.deliver(&event).uuid).collect();
        for u in &uuids {
            assert_eq!(u.get_version(), Some(uuid::Version::Random), "{u}");
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122, "{u}");
        }
        let mut again = Deck::new(7);
        let invoice = again.invoice();
        let event = again.set_state(invoice, InvoiceState::Paid);
        assert_eq!(again.deliver(&event).uuid, uuids[0], "the same seed sends the same uuids");
    }
}
