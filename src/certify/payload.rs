//! Deliveries for certification, drawn from a seeded RNG so a run is reproducible: the same seed
//! sends the same uuids, event ids and entities. SnapBill-shaped by default; in a provider's shape
//! ([`crate::provider`]) with `--provider`.

use crate::core::render;
use crate::domain::{Change, Client, Event, Invoice, InvoiceState, Store};
use crate::provider::{Occurrence, Provider, Rendered};
use crate::time::SimTime;
use bytes::Bytes;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use uuid::Uuid;

/// One delivery: the envelope's `uuid`, its `body.id`, and the bytes on the wire; `id` is what
/// the signature names and a receiver deduplicates on (the uuid for SnapBill, the provider's
/// dedup id otherwise), `headers` the provider's own headers (none for SnapBill).
#[derive(Clone, Debug)]
pub struct Delivery {
    /// hooksim's handle on the delivery: the SnapBill `uuid`, or what the provider's dedup id
    /// derives from.
    pub uuid: Uuid,
    /// The event's id.
    pub event: u64,
    /// The exact bytes to POST.
    pub body: Bytes,
    /// The id a signature names and a receiver deduplicates on.
    pub id: String,
    /// The provider's headers (none for SnapBill).
    pub headers: Vec<(String, String)>,
}

impl Delivery {
    /// The same delivery carrying other bytes.
    pub fn with_body(&self, body: Bytes) -> Delivery {
        Delivery { body, ..self.clone() }
    }
}

/// When the deck's events happen, in unix seconds, until a case moves its clock
/// ([`Deck::advance_s`]): 2026-01-01T00:00:00Z. Fixed, so bodies that carry an event time are
/// the same every run.
pub const EVENT_EPOCH_S: i64 = 1_767_225_600;

/// A miniature account at the provider: entities change, events are recorded, and each delivery
/// renders the entity as it is when it is sent (SnapBill), or as it was when the event happened
/// (the providers that send a snapshot).
pub struct Deck {
    rng: ChaCha8Rng,
    store: Store,
    next_event: u64,
    next_entity: u64,
    provider: Provider,
    clock_s: i64,
    /// Where each change is published for the simulated provider API, when one is served.
    view: Option<crate::live::StoreView>,
}

impl Deck {
    /// A SnapBill deck drawn from `seed`.
    pub fn new(seed: u64) -> Deck {
        Deck::for_provider(seed, Provider::Snapbill)
    }

    /// A deck whose deliveries are in `provider`'s shape (the same draws as [`Deck::new`]).
    pub fn for_provider(seed: u64, provider: Provider) -> Deck {
        // The world's seed discipline: certification draws from its own stream of the seed.
        let mut rng = crate::seed::rng(seed, crate::seed::Stream::Certify);
        // Ids start at a seeded offset: runs with different seeds do not collide in a receiver
        // that remembers event ids.
        let next_event = rng.random_range(1_000..1_000_000_000);
        let next_entity = rng.random_range(1_000..1_000_000_000);
        Deck { rng, store: Store::default(), next_event, next_entity, provider, clock_s: EVENT_EPOCH_S, view: None }
    }

    /// The deck that publishes its store after every change to `view` (what the simulated
    /// provider API reads during the hand-sent cases).
    pub fn publishing_to(mut self, view: crate::live::StoreView) -> Deck {
        self.view = Some(view);
        self
    }

    /// Whose deliveries it deals.
    pub(crate) fn provider(&self) -> Provider {
        self.provider
    }

    /// When the next events happen, in unix seconds (the events' own clock).
    pub fn clock_s(&self) -> i64 {
        self.clock_s
    }

    /// Moves the time the next events happen at (the events' own clock, carried in their bodies).
    pub fn advance_s(&mut self, s: i64) {
        self.clock_s = self.clock_s.saturating_add(s);
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
        self.render(uuid, event)
    }

    /// The same delivery (same uuid) sent again: rendered again now (SnapBill), or the same
    /// snapshot (the others), carrying the provider's retry headers.
    pub fn redeliver(&self, d: &Delivery, event: &Event) -> Delivery {
        let mut again = match self.provider.facts().rendered {
            Rendered::AtSend => self.render(d.uuid, event),
            Rendered::AtEvent => d.clone(),
        };
        let retry = self.provider.retry_headers(1).into_iter().map(|(n, v)| (n.to_string(), v));
        again.headers.extend(retry);
        again
    }

    fn render(&self, uuid: Uuid, event: &Event) -> Delivery {
        if self.provider == Provider::Snapbill {
            let id = uuid.to_string();
            return Delivery {
                uuid,
                event: event.id,
                body: render(uuid, event, &self.store).into(),
                id,
                headers: vec![],
            };
        }
        let occurrence = Occurrence { uuid, event, store: &self.store, event_s: self.clock_s };
        let m = self.provider.render(&occurrence);
        let headers = m.headers.into_iter().map(|(n, v)| (n.to_string(), v)).collect();
        Delivery { uuid, event: event.id, body: m.body.into(), id: m.id, headers }
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
        if let Some(view) = &self.view {
            view.publish(self.clock_s, &self.store);
        }
        self.next_event += 1;
        Event { id: self.next_event, path, details, entity, at: SimTime::ZERO }
    }
}

/// The delivery with fields SnapBill might add one day, at every level of the envelope; in a
/// provider's shape, a new field in every object of the body.
pub fn with_unknown_fields(d: &Delivery, provider: Provider) -> Delivery {
    if provider != Provider::Snapbill {
        return edit(d, add_everywhere);
    }
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
    d.with_body(padded.into())
}

/// `"x_hooksim_future": {...}` in every object of `v`.
fn add_everywhere(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.values_mut().for_each(add_everywhere);
            map.insert("x_hooksim_future".into(), json!({"tags": ["new", {"nested": [1, 2.5, null, true]}]}));
        }
        Value::Array(items) => items.iter_mut().for_each(add_everywhere),
        _ => {}
    }
}

fn edit(d: &Delivery, change: impl FnOnce(&mut Value)) -> Delivery {
    let mut value: Value = match serde_json::from_slice(&d.body) {
        Ok(v) => v,
        Err(e) => unreachable!("a rendered envelope is JSON: {e}"),
    };
    change(&mut value);
    d.with_body(value.to_string().into())
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

    #[test]
    fn a_providers_deck_draws_as_snapbills_and_redelivers_its_snapshot() {
        let mut snapbill = Deck::new(7);
        let mut stripe = Deck::for_provider(7, Provider::Stripe);
        let (a, b) = (snapbill.invoice(), stripe.invoice());
        assert_eq!(a, b, "the same entities");
        let (pa, pb) = (snapbill.set_state(a, InvoiceState::Paid), stripe.set_state(b, InvoiceState::Paid));
        let (da, db) = (snapbill.deliver(&pa), stripe.deliver(&pb));
        assert_eq!(da.uuid, db.uuid, "the same uuids");
        assert_eq!(da.id, da.uuid.to_string());
        assert_eq!(db.id, format!("evt_{}", db.uuid.simple()));
        assert!(String::from_utf8_lossy(&db.body).contains(r#""type":"invoice.paid""#));
        snapbill.correct_total(a);
        stripe.correct_total(b);
        assert_ne!(snapbill.redeliver(&da, &pa).body, da.body, "SnapBill renders at send time");
        assert_eq!(stripe.redeliver(&db, &pb).body, db.body, "Stripe resends the event's snapshot");
        let slack = Deck::for_provider(7, Provider::Slack);
        let retry = slack.redeliver(&db, &pb);
        assert!(retry.headers.iter().any(|(n, v)| n == "x-slack-retry-num" && v == "1"));
    }
}
