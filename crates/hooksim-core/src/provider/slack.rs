//! Slack (Events API): an `event_callback` envelope (`{token, team_id, api_app_id, event, type,
//! event_id, event_time}`), signed with `X-Slack-Signature` over `v0:timestamp:body`;
//! deduplicate on `event_id`, which Slack's retries keep (they add `X-Slack-Retry-Num`). Before
//! events, the `url_verification` handshake (docs/providers.md, Slack).
//!
//! Slack has no invoices: the world's changes are played as `message` events of a billing bot,
//! the entity in the message's `metadata` (`event_type` `invoice_paid`, …, `event_payload` the
//! entity as hooksim's domain writes it). The mapping is hooksim's.

use super::facts::{Facts, MINUTE_MS, Rendered, SECOND_MS};
use super::{Occurrence, entity};
use crate::domain::{Entity, EventPath};
use crate::policy::Profile;
use crate::signing::Scheme;
use serde_json::{Value, json};
use uuid::Uuid;

/// Three retries: nearly immediately, after 1 minute, after 5 minutes.
const DELAYS_MS: [u64; 3] = [0, MINUTE_MS, 5 * MINUTE_MS];

pub(super) const FACTS: Facts = Facts {
    timeout_ms: 3 * SECOND_MS,
    retry_delays_ms: Some(&DELAYS_MS),
    retries_max: Some(3),
    // The delays read as between attempts: the last retry 6 minutes after the first attempt
    // (the later of the two readings of "after 5 minutes").
    redelivery_window_ms: 6 * MINUTE_MS,
    body_bytes_max: None,
    rendered: Rendered::AtEvent,
    dedup_on: "`event_id` of the body (`Ev…`)",
    retry_keeps_id: true,
    scheme: Some(Scheme::Slack),
    profile: Profile::Slack,
};

/// The workspace, app and verification token every delivery names: hooksim's.
const TEAM: &str = "T0HOOKSIM";
const APP: &str = "A0HOOKSIM";
const TOKEN: &str = "hooksim-verification-token";

pub(super) fn event_id(uuid: Uuid) -> String {
    format!("Ev{}", uuid.simple().to_string().to_uppercase())
}

pub(super) fn body(id: &str, o: &Occurrence<'_>) -> String {
    let (event_type, text, payload) = match entity(o) {
        Some(Entity::Invoice(inv)) => {
            let what = match o.event.path {
                EventPath::InvoiceAdd => "created",
                _ => o.event.details,
            };
            (format!("invoice_{what}"), format!("Invoice {} {what}", inv.number), json!(inv))
        }
        Some(Entity::Client(c)) => {
            let what = if o.event.path == EventPath::ClientAdd { "created" } else { "updated" };
            (format!("client_{what}"), format!("Client {} {what}", c.name), json!(c))
        }
        None => ("unknown".to_string(), String::new(), Value::Null),
    };
    let ts = format!("{}.000100", o.event_s);
    json!({
        "token": TOKEN,
        "team_id": TEAM,
        "api_app_id": APP,
        "event": {
            "type": "message",
            "channel": "C0BILLING",
            "user": "U0SNAPBILL",
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "metadata": {"event_type": event_type, "event_payload": payload},
        },
        "type": "event_callback",
        "event_id": id,
        "event_time": o.event_s,
    })
    .to_string()
}

/// A retry's headers: its number, and why (hooksim's retries follow a timeout).
pub(super) fn retry_headers(retry: u32) -> Vec<(&'static str, String)> {
    vec![("x-slack-retry-num", retry.to_string()), ("x-slack-retry-reason", "http_timeout".to_string())]
}

/// `{token, challenge, type: "url_verification"}`: sent (signed) when the Request URL is set; the
/// endpoint answers 200 with the challenge.
pub(super) fn url_verification(challenge: &str) -> String {
    json!({"token": TOKEN, "challenge": challenge, "type": "url_verification"}).to_string()
}
