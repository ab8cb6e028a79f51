//! How a request is read: where its delivery id is (`--id`), what groups its attempts into an
//! event (`--event-id`, or by default the body with the delivery id taken out, so a retry that
//! wrongly carries a new id is still seen as a retry), the envelope its body must be, and the
//! signature it must carry.

use crate::provider::Provider;
use crate::signing::{Headers as _, Verifier};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::str::FromStr;

/// Where a request's delivery id is: a JSON pointer into the body, or a header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum IdSource {
    /// A JSON pointer into the body (`--id /uuid`).
    Pointer(String),
    /// A header, by name (`--id header:webhook-id`).
    Header(String),
}

/// An `--id` that is neither a JSON pointer nor `header:NAME`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("bad --id {0:?}: give a JSON pointer (`/uuid`) or `header:NAME` (`header:webhook-id`)")]
pub struct BadIdSource(String);

impl FromStr for IdSource {
    type Err = BadIdSource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(name) = s.strip_prefix("header:") {
            let ok = !name.is_empty() && axum::http::HeaderName::from_bytes(name.as_bytes()).is_ok();
            return if ok { Ok(Self::Header(name.to_ascii_lowercase())) } else { Err(BadIdSource(s.into())) };
        }
        if s.starts_with('/') { Ok(Self::Pointer(s.into())) } else { Err(BadIdSource(s.into())) }
    }
}

impl std::fmt::Display for IdSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pointer(p) => f.write_str(p),
            Self::Header(h) => write!(f, "header:{h}"),
        }
    }
}

/// SnapBill's delivery id: `{"uuid": ...}`.
pub const SNAPBILL_ID_POINTER: &str = "/uuid";

impl IdSource {
    /// Where `provider` puts the id a receiver deduplicates on (docs/providers.md): Stripe's
    /// event `id`, Slack's `event_id`, GitHub's `X-GitHub-Delivery`, Shopify's
    /// `X-Shopify-Event-Id`, Standard Webhooks' `webhook-id`, SnapBill's `uuid`.
    pub fn of_provider(provider: Provider) -> IdSource {
        match provider {
            Provider::Stripe => Self::Pointer("/id".into()),
            Provider::Slack => Self::Pointer("/event_id".into()),
            Provider::Github => Self::Header("x-github-delivery".into()),
            Provider::Shopify => Self::Header("x-shopify-event-id".into()),
            Provider::StandardWebhooks => Self::Header("webhook-id".into()),
            _ => Self::Pointer(SNAPBILL_ID_POINTER.into()),
        }
    }
}

impl IdSource {
    /// The id as text (a JSON string as is, a number or other value as JSON), or why there is none.
    pub fn read(&self, headers: &[(String, Vec<u8>)], json: Option<&Value>) -> Result<String, String> {
        match self {
            Self::Header(name) => {
                let raw = headers.header(name).ok_or_else(|| format!("no `{name}` header"))?;
                let text = std::str::from_utf8(raw).map_err(|_| format!("header `{name}` is not text"))?;
                if text.is_empty() { Err(format!("header `{name}` is empty")) } else { Ok(text.to_string()) }
            }
            Self::Pointer(pointer) => match json.map(|v| v.pointer(pointer)) {
                None => Err("the body is not JSON".into()),
                Some(None) | Some(Some(Value::Null)) => Err(format!("no `{pointer}` in the body")),
                Some(Some(Value::String(s))) if s.is_empty() => Err(format!("`{pointer}` is empty")),
                Some(Some(Value::String(s))) => Ok(s.clone()),
                Some(Some(other)) => Ok(other.to_string()),
            },
        }
    }
}

/// The body every attempt must carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Envelope {
    /// `{"uuid": <text>, "body": {"id", "path": <text>, "details", "<entity kind>": <object>}}`.
    Snapbill,
    /// Any JSON value.
    Json,
    /// A provider's shape, headers included, read as its receivers read it ([`Provider::read`]):
    /// a Stripe Event, a GitHub event with `X-GitHub-Event` and `X-GitHub-Delivery`, ...
    Provider(Provider),
}

impl FromStr for Envelope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "snapbill" => Ok(Self::Snapbill),
            "json" => Ok(Self::Json),
            other => match other.parse::<Provider>() {
                Ok(p) => Ok(Self::Provider(p)),
                Err(_) => Err(format!(
                    "unknown envelope {other:?} (known: snapbill, json, or a provider's: {})",
                    Provider::names().filter(|n| *n != "snapbill").collect::<Vec<_>>().join(", ")
                )),
            },
        }
    }
}

impl Serialize for Envelope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Envelope {
    /// The name `--envelope` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Snapbill => "snapbill",
            Self::Json => "json",
            Self::Provider(p) => p.name(),
        }
    }

    /// Whether the request, its `headers` and its `raw` body (`json` when it parsed), is of this
    /// envelope; `Err` says how it is not.
    pub(crate) fn check(self, headers: &[(String, Vec<u8>)], raw: &[u8], json: Option<&Value>) -> Result<(), String> {
        let value = json.ok_or("the body is not JSON")?;
        match self {
            Self::Json => return Ok(()),
            Self::Provider(p) if p != Provider::Snapbill => {
                return p.read(headers, raw).map(drop).map_err(|why| format!("not {p}'s delivery: {why}"));
            }
            _ => {}
        }
        let text = |v: Option<&Value>, name: &str| match v {
            Some(Value::String(s)) if !s.is_empty() => Ok(()),
            _ => Err(format!("`{name}` is not a non-empty string")),
        };
        text(value.get("uuid"), "uuid")?;
        let body = value.get("body").and_then(Value::as_object).ok_or("`body` is not an object")?;
        if !body.get("id").is_some_and(|id| id.is_u64() || id.is_string()) {
            return Err("`body.id` is not an event id (a number or a string)".into());
        }
        text(body.get("path"), "body.path")?;
        if !body.contains_key("details") {
            return Err("`body.details` is missing".into());
        }
        let entities: Vec<&String> = body.keys().filter(|k| !["id", "path", "details"].contains(&k.as_str())).collect();
        match entities.as_slice() {
            [kind] if body[kind.as_str()].is_object() => Ok(()),
            [kind] => Err(format!("`body.{kind}` (the entity) is not an object")),
            [] => Err("`body` carries no entity (`invoice`, `client`, ...)".into()),
            many => Err(format!("`body` carries {} entity keys ({many:?}); SnapBill sends one", many.len())),
        }
    }
}

/// How requests are identified and checked.
#[derive(Clone, Debug)]
pub struct Reading {
    /// Where the delivery id is.
    pub id: IdSource,
    /// A JSON pointer to the event's own id; `None`: the body without the delivery id.
    pub event_id: Option<String>,
    /// The body format expected.
    pub envelope: Envelope,
    /// Checks every attempt's signature (`--secret`), when given.
    pub verifier: Option<Verifier>,
}

/// The key that groups a request's attempts: the event id where one is named, else a digest of
/// the body with the delivery id taken out (or of the raw bytes, when the body is not JSON).
pub(super) fn event_key(reading: &Reading, json: Option<Value>, raw: &[u8]) -> String {
    let Some(mut json) = json else { return digest(raw) };
    if let Some(pointer) = &reading.event_id {
        return match json.pointer(pointer) {
            Some(v) => format!("event {v}"),
            None => digest(raw),
        };
    }
    if let IdSource::Pointer(pointer) = &reading.id
        && let Some(id) = json.pointer_mut(pointer)
    {
        *id = Value::Null;
    }
    digest(json.to_string().as_bytes())
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_providers_envelope_is_its_body_and_headers() {
        assert_eq!("stripe".parse(), Ok(Envelope::Provider(Provider::Stripe)));
        assert!("paypal".parse::<Envelope>().unwrap_err().contains("standard-webhooks"));
        assert_eq!(IdSource::of_provider(Provider::Github), IdSource::Header("x-github-delivery".into()));
        let body = br#"{"type":"invoice.paid","timestamp":"2026-01-01T00:00:00Z","data":{"id":4,"state":"paid"}}"#;
        let json: Value = serde_json::from_slice(body).unwrap();
        let sw = Envelope::Provider(Provider::StandardWebhooks);
        let headers = vec![("webhook-id".to_string(), b"msg_1".to_vec())];
        assert_eq!(sw.check(&headers, body, Some(&json)), Ok(()));
        assert!(sw.check(&[], body, Some(&json)).unwrap_err().contains("no webhook-id header"));
        let stripe = Envelope::Provider(Provider::Stripe).check(&headers, body, Some(&json));
        assert!(stripe.unwrap_err().starts_with("not stripe's delivery"));
    }

    #[test]
    fn ids_come_from_a_pointer_or_a_header() {
        assert_eq!("header:Webhook-Id".parse(), Ok(IdSource::Header("webhook-id".into())));
        assert!("uuid".parse::<IdSource>().is_err());
        assert!("header:".parse::<IdSource>().is_err());
        let headers = vec![("webhook-id".to_string(), b"msg_1".to_vec())];
        assert_eq!(IdSource::Header("webhook-id".into()).read(&headers, None), Ok("msg_1".into()));
        let json = serde_json::json!({"uuid": "u", "n": 3});
        assert_eq!(IdSource::Pointer("/uuid".into()).read(&[], Some(&json)), Ok("u".into()));
        assert_eq!(IdSource::Pointer("/n".into()).read(&[], Some(&json)), Ok("3".into()));
        assert!(IdSource::Pointer("/x".into()).read(&[], Some(&json)).is_err());
    }

    #[test]
    fn the_snapbill_envelope_is_checked_field_by_field() {
        let ok = serde_json::json!({"uuid": "u", "body": {"id": 1, "path": "/invoice/create", "details": null, "invoice": {"id": 1}}});
        assert_eq!(Envelope::Snapbill.check(&[], b"", Some(&ok)), Ok(()));
        for bad in [
            serde_json::json!({"body": {}}),
            serde_json::json!({"uuid": "u", "body": {"id": 1, "path": "/p", "details": null}}),
            serde_json::json!({"uuid": "u", "body": {"path": "/p", "details": null, "invoice": {}}}),
            serde_json::json!({"uuid": "u", "body": {"id": 1, "path": "/p", "details": null, "invoice": {}, "client": {}}}),
        ] {
            assert!(Envelope::Snapbill.check(&[], b"", Some(&bad)).is_err(), "{bad}");
        }
        assert!(Envelope::Snapbill.check(&[], b"", None).is_err());
        assert_eq!(Envelope::Json.check(&[], b"", Some(&serde_json::json!([1]))), Ok(()));
    }
}
