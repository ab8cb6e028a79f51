//! The SnapBill envelope, rendered from the store at send time (never cached at event time).
//!
//! `{"uuid": <delivery uuid>, "body": {"id": <event id>, "path", "details", "<kind>": <entity>}}`.

use crate::domain::{Entity, Event, Store};
use serde::ser::{Serialize, SerializeMap, Serializer};
use uuid::Uuid;

struct Envelope<'a> {
    uuid: Uuid,
    body: Body<'a>,
}

struct Body<'a> {
    event: &'a Event,
    entity: Option<Entity<'a>>,
}

impl Serialize for Envelope<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("uuid", &self.uuid)?;
        m.serialize_entry("body", &self.body)?;
        m.end()
    }
}

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("id", &self.event.id)?;
        m.serialize_entry("path", self.event.path.as_str())?;
        m.serialize_entry("details", self.event.details)?;
        // An entity is never deleted in hooksim's domain; `null` would only show a store bug.
        m.serialize_entry(self.event.entity.kind.as_str(), &self.entity)?;
        m.end()
    }
}

/// The JSON body of one attempt of delivery `uuid` of `event`, with the entity as it is *now*.
pub fn render(uuid: Uuid, event: &Event, store: &Store) -> String {
    let envelope = Envelope { uuid, body: Body { event, entity: store.get(event.entity) } };
    serde_json::to_string(&envelope).expect("an envelope always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Change, Client, EntityKind, EntityRef, EventPath, Invoice, InvoiceState};
    use crate::time::SimTime;

    #[test]
    fn a_paid_event_renders_the_invoice_as_it_is_at_send_time() {
        let mut store = Store::default();
        let client = Client { id: 1, name: "Ada".into(), email: "ada@example.com".into() };
        Change::AddClient(client).apply(&mut store).unwrap();
        let inv =
            Invoice { id: 4, number: "INV-4".into(), client_id: 1, total_cents: 1250, state: InvoiceState::Unpaid };
        Change::AddInvoice(inv).apply(&mut store).unwrap();
        Change::SetInvoiceState { id: 4, state: InvoiceState::Paid }.apply(&mut store).unwrap();
        let paid = Event {
            id: 3,
            path: EventPath::InvoiceUpdateState,
            details: "paid",
            entity: EntityRef { kind: EntityKind::Invoice, id: 4 },
            at: SimTime::ZERO,
        };
        let uuid = Uuid::from_u128(0x1234);
        Change::SetInvoiceState { id: 4, state: InvoiceState::Cancelled }.apply(&mut store).unwrap();
        assert_eq!(
            render(uuid, &paid, &store),
            r#"{"uuid":"00000000-0000-0000-0000-000000001234","body":{"id":3,"path":"/invoice/update/state","details":"paid","invoice":{"id":4,"number":"INV-4","client_id":1,"total_cents":1250,"state":"cancelled"}}}"#
        );
    }
}
