//! The effects contract: how certification sees what a receiver acted on.
//!
//! `GET <effects-url>` answers 200 with
//! `{"effects": [{"uuid": "<delivery uuid>", "event": <body.id>, "action": "<free text>"}, ...]}`:
//! one entry each time the receiver did the work a delivery calls for (fulfil an order, create an
//! account), recorded before it answered the delivery. A delivery it skipped (a duplicate, a stale
//! payload, a path it ignores) has no entry. `event` (a number or a string) and `action` are
//! optional; other fields are ignored. The list may hold entries from earlier runs:
//! certification counts by uuid.
//!
//! With a provider's deliveries (`certify receiver --provider`), `uuid` may be the provider's
//! dedup id as the delivery carried it (`evt_…`, `msg_…`, `Ev…`, a GUID): hooksim derives each
//! from the delivery's uuid, ending in its hex digits, and reads it back
//! ([`hooksim_core::provider::delivery_uuid`]).
//!
//! `kind` (optional, machine-readable) says what the act was: `fulfil`, `cancel`, `create` or
//! `other`. It lets a receiver record other work under a delivery (marking an invoice cancelled
//! under a stale `paid` delivery) without that entry reading as the work the delivery calls for.
//! Without `kind`, an entry counts as an act on its delivery (the work it calls for), whatever
//! its `action` says: the words are shown, never read ([`act_name`]). A check that must tell a
//! fulfilment from other work (the stale-payload cases) does not judge an entry without `kind`.

use serde::Deserialize;
use uuid::Uuid;

/// One entry of a receiver's effects list (`GET /effects`): `{"uuid", "event", "action", "kind"}`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct EffectRecord {
    /// The delivery it acted on (`uuid`; a provider's dedup id is read back as its delivery's
    /// uuid).
    #[serde(deserialize_with = "delivery_uuid")]
    pub uuid: Uuid,
    /// The event id as the receiver stored it: a number, or a string (databases and PHP often
    /// give ids back as strings). Shown, never graded on.
    #[serde(default)]
    pub event: Option<serde_json::Value>,
    /// The receiver's own words (`action`), shown, never graded on.
    #[serde(default)]
    pub action: Option<String>,
    /// What it did (`kind`: `fulfil`, `cancel`, `create`, `other`); absent, it counts as an act on
    /// its delivery.
    #[serde(default)]
    pub kind: Option<ActKind>,
}

/// A delivery uuid, or a provider's dedup id naming one.
fn delivery_uuid<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Uuid, D::Error> {
    let text = String::deserialize(d)?;
    hooksim_core::provider::delivery_uuid(&text).ok_or_else(|| {
        serde::de::Error::custom(format!("{text:?} is neither a delivery uuid nor a provider's dedup id"))
    })
}

/// What an entry of the effects list did, in the contract's optional `kind` field.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ActKind {
    /// `fulfil`: fulfilled the invoice (what a `paid` event calls for).
    Fulfil,
    /// `cancel`: undid or cancelled (what a `cancelled` event calls for).
    Cancel,
    /// `create`: created something (what `/client/add` calls for).
    Create,
    /// `other`: any other work, e.g. recording a stale `paid` delivery without fulfilling.
    Other,
}

impl ActKind {
    fn verb(self) -> &'static str {
        match self {
            ActKind::Fulfil => "fulfil",
            ActKind::Cancel => "cancel",
            ActKind::Create => "create",
            ActKind::Other => "other",
        }
    }
}

/// The delivery an entry is filed under, as far as naming its act needs: the event's `details`
/// and the entity it is about (`invoice`, 4).
#[derive(Clone, Copy, Debug)]
pub struct ActContext<'a> {
    /// The event's path, e.g. `/invoice/update/state`.
    pub path: &'a str,
    /// The event's `details`, e.g. `paid`.
    pub details: &'a str,
    /// `invoice` or `client`.
    pub entity_kind: &'a str,
    /// The entity's id.
    pub entity_id: u64,
}

impl ActContext<'_> {
    /// What the delivery's event calls for, in the reference receivers' words.
    fn calls_for(&self) -> Option<String> {
        let verb = match (self.path, self.details) {
            ("/invoice/update/state", "paid") => "fulfil",
            ("/invoice/update/state", "cancelled") => "cancel",
            ("/client/add", _) => "create",
            _ => return None,
        };
        Some(format!("{verb} {} {}", self.entity_kind, self.entity_id))
    }
}

/// An entry as a trace action (`fulfil invoice 4`): its `kind` on the delivery's entity when
/// given; without `kind`, the work the delivery calls for (an entry means the receiver acted on
/// the delivery), or `acted on client 1` when it calls for none. The receiver's words are never
/// read: no verdict depends on how an act is worded (they are shown, from
/// `hooksim_net::live::ActNote`).
pub fn act_name(record: &EffectRecord, context: Option<ActContext<'_>>) -> String {
    let text = record.action.as_deref().unwrap_or("acted");
    match (record.kind, context) {
        (Some(ActKind::Other), _) => format!("other: {text}"),
        (Some(kind), Some(c)) => format!("{} {} {}", kind.verb(), c.entity_kind, c.entity_id),
        (Some(kind), None) => format!("{}: {text}", kind.verb()),
        (None, Some(c)) => c.calls_for().unwrap_or_else(|| format!("acted on {} {}", c.entity_kind, c.entity_id)),
        (None, None) => "acted".to_string(),
    }
}

/// Whether an entry counts as the work a `paid` delivery calls for (fulfilling its invoice):
/// `kind` `fulfil`, or no `kind` at all (an entry is an act on its delivery). Hand-sent cases
/// count these; other kinds are other work, allowed beside it.
pub fn is_fulfilment(record: &EffectRecord) -> bool {
    matches!(record.kind, None | Some(ActKind::Fulfil))
}

/// The effects list as a receiver serves it: `{"effects": [...]}`.
#[derive(Deserialize)]
pub struct EffectsDoc {
    /// The entries, oldest first.
    pub effects: Vec<EffectRecord>,
}

/// What the receiver reported, or why it could not be read (then effect cases are not verified).
#[derive(Clone, Debug)]
pub enum Effects {
    /// The list, as read.
    Read(Vec<EffectRecord>),
    /// Why it could not be read, in words.
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
        let typo = r#"{"effects":[{"uuid":"00000000-0000-0000-0000-000000000007","kind":"fulfill"}]}"#;
        assert!(serde_json::from_str::<EffectsDoc>(typo).is_err(), "an unknown kind is an error, not a guess");
    }

    #[test]
    fn a_providers_dedup_id_names_its_delivery() {
        let doc: EffectsDoc = serde_json::from_str(
            r#"{"effects":[{"uuid":"evt_6a0e1d8e000040008000000000001234"},{"uuid":"Ev6A0E1D8E000040008000000000001234"}]}"#,
        )
        .unwrap();
        let uuid = Uuid::from_u128(0x6a0e1d8e_0000_4000_8000_000000001234);
        assert!(doc.effects.iter().all(|e| e.uuid == uuid));
        let bad = serde_json::from_str::<EffectsDoc>(r#"{"effects":[{"uuid":"evt_1"}]}"#).err().unwrap();
        assert!(bad.to_string().contains("dedup id"), "{bad}");
    }

    fn record(action: Option<&str>, kind: Option<ActKind>) -> EffectRecord {
        EffectRecord { uuid: Uuid::nil(), event: None, action: action.map(String::from), kind }
    }

    #[test]
    fn acts_are_named_by_kind_else_by_what_the_delivery_calls_for_never_by_their_words() {
        let paid =
            Some(ActContext { path: "/invoice/update/state", details: "paid", entity_kind: "invoice", entity_id: 4 });
        assert_eq!(act_name(&record(Some("shipped"), Some(ActKind::Fulfil)), paid), "fulfil invoice 4");
        assert_eq!(act_name(&record(Some("marked cancelled"), Some(ActKind::Cancel)), paid), "cancel invoice 4");
        assert_eq!(act_name(&record(Some("noted"), Some(ActKind::Other)), paid), "other: noted");
        // Without kind, the words never matter: the delivery's own call names the act.
        for words in ["cancel invoice 4", "mark invoice 4 cancelled (no fulfilment)", "shipped the order"] {
            assert_eq!(act_name(&record(Some(words), None), paid), "fulfil invoice 4", "{words}");
        }
        assert_eq!(act_name(&record(None, None), paid), "fulfil invoice 4");
        let update = Some(ActContext { path: "/client/update", details: "", entity_kind: "client", entity_id: 1 });
        assert_eq!(act_name(&record(Some("synced"), None), update), "acted on client 1");
        assert_eq!(act_name(&record(Some("fulfil invoice 4"), None), None), "acted");
    }
}
