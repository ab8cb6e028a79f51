//! GitHub: the event's own JSON, its name in `X-GitHub-Event`, the delivery's GUID in
//! `X-GitHub-Delivery` (the dedup id; a manual redelivery keeps it), signed with
//! `X-Hub-Signature-256` (docs/providers.md, GitHub).
//!
//! GitHub has no invoices: the world's invoice changes are played as `marketplace_purchase`
//! events (`purchased` when paid, `cancelled` when cancelled, `changed` otherwise, the invoice as
//! the plan) and client changes as `installation` events. The mapping is hooksim's.

use super::facts::{DAY_MS, Facts, Rendered, SECOND_MS};
use super::{Occurrence, entity, rfc3339};
use crate::domain::{Entity, EventPath, Invoice};
use crate::policy::Profile;
use crate::signing::Scheme;
use serde_json::{Value, json};

pub(super) const FACTS: Facts = Facts {
    timeout_ms: 10 * SECOND_MS,
    // No automatic retries; deliveries of the past 3 days can be redelivered by hand.
    retry_delays_ms: Some(&[]),
    retries_max: Some(0),
    redelivery_window_ms: 3 * DAY_MS,
    // 25 MB: a larger payload is not delivered at all.
    body_bytes_max: Some(25 * 1024 * 1024),
    rendered: Rendered::AtEvent,
    dedup_on: "the `X-GitHub-Delivery` header (a GUID)",
    retry_keeps_id: true,
    scheme: Some(Scheme::Github),
    profile: Profile::Github,
};

/// The webhook's id in `X-GitHub-Hook-ID`: one webhook, a fixed id.
const HOOK_ID: &str = "4242";

pub(super) fn render(o: &Occurrence<'_>) -> (String, Vec<(&'static str, String)>) {
    let (event, body) = match entity(o) {
        Some(Entity::Invoice(inv)) => {
            let action = match (o.event.path, o.event.details) {
                (EventPath::InvoiceUpdateState, "paid") => "purchased",
                (EventPath::InvoiceUpdateState, "cancelled") => "cancelled",
                _ => "changed",
            };
            let account = account(inv.client_id);
            let body = json!({
                "action": action,
                "effective_date": rfc3339(o.event_s),
                "marketplace_purchase": purchase(inv),
                "sender": account,
            });
            ("marketplace_purchase", body)
        }
        Some(Entity::Client(c)) => {
            let action = if o.event.path == EventPath::ClientAdd { "created" } else { "new_permissions_accepted" };
            let body = json!({"action": action, "installation": {"id": c.id, "account": account(c.id)}, "sender": account(c.id)});
            ("installation", body)
        }
        None => ("ping", Value::Null),
    };
    let headers = vec![("x-github-event", event.to_string()), ("x-github-hook-id", HOOK_ID.to_string())];
    (body.to_string(), headers)
}

fn account(client: u64) -> Value {
    json!({"id": client, "login": format!("client-{client}"), "type": "Organization"})
}

/// The invoice as a Marketplace purchase of a plan (the event's `marketplace_purchase`, and an
/// account's in the REST API's "list accounts for a plan").
pub(super) fn purchase(inv: &Invoice) -> Value {
    json!({
        "account": account(inv.client_id),
        "billing_cycle": "monthly",
        "unit_count": 1,
        "on_free_trial": false,
        "free_trial_ends_on": null,
        "next_billing_date": null,
        "plan": {
            "id": inv.id,
            "name": inv.number,
            "monthly_price_in_cents": inv.total_cents,
            "price_model": "FLAT_RATE",
            "unit_name": null,
            "bullets": [],
        },
    })
}

/// An account on a plan, as "list accounts for a plan" writes it: the account with its purchase.
pub(super) fn account_on_plan(inv: &Invoice) -> Value {
    let mut purchase = purchase(inv);
    if let Some(p) = purchase.as_object_mut() {
        p.remove("account");
    }
    let mut out = account(inv.client_id);
    if let Some(o) = out.as_object_mut() {
        o.insert("marketplace_purchase".into(), purchase);
        o.insert("marketplace_pending_change".into(), Value::Null);
    }
    out
}
