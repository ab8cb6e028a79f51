//! Shopify: the topic's resource (an Order for `orders/paid`) with `X-Shopify-Topic`,
//! `X-Shopify-Event-Id` (the dedup id), `X-Shopify-Triggered-At` and the other `X-Shopify-*`
//! headers, signed with `X-Shopify-Hmac-Sha256` (docs/providers.md, Shopify).
//!
//! The world's invoices are played as orders (`financial_status` `paid`/`pending`/`voided`,
//! `cancelled_at` set when cancelled), its clients as customers. The mapping is hooksim's.

use super::facts::{Facts, HOUR_MS, Rendered, SECOND_MS};
use super::{Occurrence, entity, rfc3339};
use crate::domain::{Entity, EventPath, Invoice, InvoiceState};
use crate::policy::Profile;
use crate::signing::Scheme;
use serde_json::{Value, json};

pub(super) const FACTS: Facts = Facts {
    // Connections accepted within 1 s, an answer within 5 s.
    timeout_ms: 5 * SECOND_MS,
    // 8 retries over 4 hours, exponential backoff; the exact delays are not published.
    retry_delays_ms: None,
    retries_max: Some(8),
    redelivery_window_ms: 4 * HOUR_MS,
    body_bytes_max: None,
    rendered: Rendered::AtEvent,
    dedup_on: "the `X-Shopify-Event-Id` header",
    retry_keeps_id: true,
    scheme: Some(Scheme::Shopify),
    profile: Profile::Shopify,
};

/// The shop and API version every delivery names: hooksim's choice.
const SHOP_DOMAIN: &str = "hooksim-test.myshopify.com";
pub(super) const API_VERSION: &str = "2025-07";

pub(super) fn render(o: &Occurrence<'_>) -> (String, Vec<(&'static str, String)>) {
    let at = rfc3339(o.event_s);
    let (topic, body) = match entity(o) {
        Some(Entity::Invoice(inv)) => {
            let topic = match (o.event.path, o.event.details) {
                (EventPath::InvoiceAdd, _) => "orders/create",
                (_, "paid") => "orders/paid",
                (_, "cancelled") => "orders/cancelled",
                _ => "orders/updated",
            };
            (topic, order(inv, &at))
        }
        Some(Entity::Client(c)) => {
            let topic = if o.event.path == EventPath::ClientAdd { "customers/create" } else { "customers/update" };
            (topic, json!({"id": c.id, "first_name": c.name, "email": c.email, "updated_at": at}))
        }
        None => ("shop/update", Value::Null),
    };
    let headers = vec![
        ("x-shopify-topic", topic.to_string()),
        ("x-shopify-shop-domain", SHOP_DOMAIN.to_string()),
        ("x-shopify-api-version", API_VERSION.to_string()),
        // Whether Shopify keeps the webhook id across retries is not settled: kept here.
        ("x-shopify-webhook-id", o.uuid.to_string()),
        ("x-shopify-event-id", o.uuid.to_string()),
        ("x-shopify-triggered-at", at),
    ];
    (body.to_string(), headers)
}

/// The invoice as a Shopify Order (the `orders/*` topics' body, and the REST Admin API's
/// `order`), `at` its `updated_at` (and `cancelled_at` when voided).
pub(super) fn order(inv: &Invoice, at: &str) -> Value {
    let financial_status = match inv.state {
        InvoiceState::Paid => "paid",
        InvoiceState::Cancelled => "voided",
        InvoiceState::Draft | InvoiceState::Unpaid => "pending",
    };
    let cancelled_at = if inv.state == InvoiceState::Cancelled { json!(at) } else { Value::Null };
    json!({
        "id": inv.id,
        "name": format!("#{}", inv.number),
        "financial_status": financial_status,
        "cancelled_at": cancelled_at,
        "currency": "USD",
        "total_price": format!("{}.{:02}", inv.total_cents / 100, inv.total_cents % 100),
        "customer": {"id": inv.client_id},
        "updated_at": at,
    })
}
