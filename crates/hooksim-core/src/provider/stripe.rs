//! Stripe: an Event object (`{id, object: "event", api_version, created, data: {object}, type, …}`)
//! signed with `Stripe-Signature`; deduplicate on the event `id` (docs/providers.md, Stripe).

use super::facts::{DAY_MS, Facts, Rendered, SECOND_MS};
use super::{Occurrence, entity};
use crate::domain::{Entity, EventPath, Invoice, InvoiceState};
use crate::policy::Profile;
use crate::signing::Scheme;
use serde_json::{Value, json};
use uuid::Uuid;

pub(super) const FACTS: Facts = Facts {
    timeout_ms: 30 * SECOND_MS,
    // Exponential backoff for up to three days; the exact delays are not published.
    retry_delays_ms: None,
    retries_max: None,
    redelivery_window_ms: 3 * DAY_MS,
    body_bytes_max: None,
    rendered: Rendered::AtEvent,
    dedup_on: "`id` of the event (`evt_…`)",
    retry_keeps_id: true,
    scheme: Some(Scheme::Stripe),
    profile: Profile::Stripe,
};

/// The API version the events are rendered with: one fixed version, hooksim's choice (a real
/// event carries the account's version at the time).
pub(super) const API_VERSION: &str = "2024-06-20";

pub(super) fn event_id(uuid: Uuid) -> String {
    format!("evt_{}", uuid.simple())
}

pub(super) fn body(id: &str, o: &Occurrence<'_>) -> String {
    let (kind, object) = match entity(o) {
        Some(Entity::Invoice(inv)) => {
            let object = invoice_object(inv);
            (invoice_type(o), object)
        }
        Some(Entity::Client(c)) => {
            let object = json!({"id": format!("cus_{}", c.id), "object": "customer", "name": c.name, "email": c.email});
            let kind = if o.event.path == EventPath::ClientAdd { "customer.created" } else { "customer.updated" };
            (kind, object)
        }
        None => ("unknown", Value::Null),
    };
    json!({
        "id": id,
        "object": "event",
        "api_version": API_VERSION,
        "created": o.event_s,
        "data": {"object": object},
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": kind,
    })
    .to_string()
}

/// `invoice.paid`, `invoice.voided`, …: the event a change of invoice records.
fn invoice_type(o: &Occurrence<'_>) -> &'static str {
    match (o.event.path, o.event.details) {
        (EventPath::InvoiceAdd, _) => "invoice.created",
        (_, "paid") => "invoice.paid",
        (_, "cancelled") => "invoice.voided",
        (_, "unpaid") => "invoice.finalized",
        _ => "invoice.updated",
    }
}

/// The invoice as Stripe's API writes it (`data.object` of an `invoice.*` event, and
/// `GET /v1/invoices/{id}`): `status` is `draft`, `open`, `paid` or `void`.
pub(super) fn invoice_object(inv: &Invoice) -> Value {
    let status = match inv.state {
        InvoiceState::Draft => "draft",
        InvoiceState::Unpaid => "open",
        InvoiceState::Paid => "paid",
        InvoiceState::Cancelled => "void",
    };
    json!({
        "id": format!("in_{}", inv.id),
        "object": "invoice",
        "number": inv.number,
        "customer": format!("cus_{}", inv.client_id),
        "currency": "usd",
        "total": inv.total_cents,
        "status": status,
    })
}
