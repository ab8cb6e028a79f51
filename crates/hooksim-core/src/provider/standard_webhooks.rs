//! Standard Webhooks: `{type, timestamp, data}` with `webhook-id`, `webhook-timestamp` and
//! `webhook-signature`; deduplicate on `webhook-id` (docs/providers.md, the specification).

use super::facts::{Facts, HOUR_MS, MINUTE_MS, Rendered, SECOND_MS};
use super::{Occurrence, entity, rfc3339};
use crate::domain::{Entity, EventPath};
use crate::policy::Profile;
use crate::signing::Scheme;
use serde_json::{Value, json};
use uuid::Uuid;

/// The specification's example schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
/// 14 h, 20 h, 24 h.
const DELAYS_MS: [u64; 9] = [
    5 * SECOND_MS,
    5 * MINUTE_MS,
    30 * MINUTE_MS,
    2 * HOUR_MS,
    5 * HOUR_MS,
    10 * HOUR_MS,
    14 * HOUR_MS,
    20 * HOUR_MS,
    24 * HOUR_MS,
];

const fn sum(delays: &[u64]) -> u64 {
    let mut total = 0;
    let mut i = 0;
    while i < delays.len() {
        total += delays[i];
        i += 1;
    }
    total
}

pub(super) const FACTS: Facts = Facts {
    // 15 to 30 s recommended: the strict end.
    timeout_ms: 15 * SECOND_MS,
    retry_delays_ms: Some(&DELAYS_MS),
    retries_max: Some(DELAYS_MS.len() as u32),
    redelivery_window_ms: sum(&DELAYS_MS),
    // Recommended: under 20 kB.
    body_bytes_max: Some(20 * 1024),
    rendered: Rendered::AtEvent,
    dedup_on: "the `webhook-id` header (`msg_…`)",
    retry_keeps_id: true,
    scheme: Some(Scheme::StandardWebhooks),
    profile: Profile::StandardWebhooks,
};

pub(super) fn message_id(uuid: Uuid) -> String {
    format!("msg_{}", uuid.simple())
}

/// A "full" payload: the entity as hooksim's domain writes it.
pub(super) fn body(o: &Occurrence<'_>) -> String {
    let (kind, data) = match entity(o) {
        Some(Entity::Invoice(inv)) => {
            let kind = match o.event.path {
                EventPath::InvoiceAdd => "invoice.created".to_string(),
                _ => format!("invoice.{}", o.event.details),
            };
            (kind, json!(inv))
        }
        Some(Entity::Client(c)) => {
            let kind = if o.event.path == EventPath::ClientAdd { "client.created" } else { "client.updated" };
            (kind.to_string(), json!(c))
        }
        None => ("unknown".to_string(), Value::Null),
    };
    json!({"type": kind, "timestamp": rfc3339(o.event_s), "data": data}).to_string()
}
