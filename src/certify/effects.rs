//! The effects contract: how certification sees what a receiver acted on.
//!
//! `GET <effects-url>` answers 200 with
//! `{"effects": [{"uuid": "<delivery uuid>", "event": <body.id>, "action": "<free text>"}, ...]}`:
//! one entry each time the receiver did the work a delivery calls for (fulfil an order, create an
//! account), recorded before it answered the delivery. A delivery it skipped (a duplicate, a stale
//! payload, a path it ignores) has no entry. `event` (a number or a string) and `action` are
//! optional; other fields are ignored. The list may hold entries from earlier runs:
//! certification counts by uuid.

use super::client::{Answer, Client};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct EffectRecord {
    pub uuid: Uuid,
    /// The event id as the receiver stored it: a number, or a string (databases and PHP often
    /// give ids back as strings). Shown, never graded on.
    #[serde(default)]
    pub event: Option<serde_json::Value>,
    #[serde(default)]
    pub action: Option<String>,
}

#[derive(Deserialize)]
struct EffectsDoc {
    effects: Vec<EffectRecord>,
}

/// What the receiver reported, or why it could not be read (then effect cases are not verified).
#[derive(Clone, Debug)]
pub enum Effects {
    Read(Vec<EffectRecord>),
    Unavailable(String),
}

impl Effects {
    /// The entries for one delivery.
    pub fn for_uuid(&self, uuid: Uuid) -> Option<Vec<&EffectRecord>> {
        match self {
            Effects::Read(all) => Some(all.iter().filter(|e| e.uuid == uuid).collect()),
            Effects::Unavailable(_) => None,
        }
    }
}

/// Reads the effects list, at most `bytes_max` bytes of it: a larger answer is unavailable, not
/// guessed at.
pub async fn fetch(client: &Client, url: Option<&str>, bytes_max: usize) -> Effects {
    let Some(url) = url else {
        return Effects::Unavailable("no --effects-url given".into());
    };
    match client.get(url, bytes_max).await {
        Answer::Status { truncated: true, .. } => {
            Effects::Unavailable(format!("effects list larger than {bytes_max} bytes"))
        }
        Answer::Status { code: 200, body, .. } => match serde_json::from_slice::<EffectsDoc>(&body) {
            Ok(doc) => Effects::Read(doc.effects),
            Err(e) => Effects::Unavailable(format!("effects list is not in the contract's format: {e}")),
        },
        other => Effects::Unavailable(format!("GET {url} answered {}", other.describe(client.limits()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_needs_only_uuids_and_ignores_other_fields() {
        let doc: EffectsDoc = serde_json::from_str(
            r#"{"effects":[{"uuid":"00000000-0000-0000-0000-000000000007"},
                {"uuid":"00000000-0000-0000-0000-000000000008","event":5,"action":"fulfil","at":"now"}],
                "receiver":"php"}"#,
        )
        .unwrap();
        assert_eq!(doc.effects.len(), 2);
        assert_eq!(doc.effects[1].event, Some(serde_json::json!(5)));
        assert_eq!(doc.effects[1].action.as_deref(), Some("fulfil"));
        assert!(serde_json::from_str::<EffectsDoc>(r#"{"effects":[{"event":5}]}"#).is_err());
        assert!(serde_json::from_str::<EffectsDoc>(r#"[]"#).is_err());
    }
}
