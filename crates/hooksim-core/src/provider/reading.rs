//! A delivery in a provider's shape read back, as a receiver of that provider reads it: the
//! dedup id where the provider puts it, when the event happened (the provider's own field), and
//! what the event says in hooksim's words. The inverse of each pack's rendering; pure.

use super::Provider;
use crate::signing::Headers;
use serde_json::Value;
use uuid::Uuid;

/// One delivery as its provider's receiver reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    /// The id to deduplicate on ([`super::Facts::dedup_on`]).
    pub id: String,
    /// The delivery's uuid the id ends in ([`super::delivery_uuid`]), when it does.
    pub uuid: Option<Uuid>,
    /// When the event happened, in unix seconds, as the body or headers say.
    pub event_s: i64,
    /// The provider's name for the event (`invoice.paid`, `orders/paid`, ...), for messages.
    pub name: String,
    /// What the event says.
    pub about: About,
}

/// What the event is about, in hooksim's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum About {
    /// An invoice's state changed to `to` (`paid`, `cancelled`, ...); `state` is the state the
    /// body carries (the snapshot's, for a provider that renders at event time).
    InvoiceState {
        /// The invoice's id.
        invoice: u64,
        /// The state the event says it changed to.
        to: String,
        /// The state the body's invoice object is in.
        state: String,
    },
    /// A client was added.
    ClientAdded {
        /// The client's id.
        client: u64,
    },
    /// Anything else (an invoice created, a client updated): nothing the reference receivers do.
    Other,
}

impl Provider {
    /// Reads a delivery of this provider from its headers and raw body; `Err` says what is
    /// missing or unreadable. SnapBill's envelope is read by the receivers themselves.
    pub fn read<H: Headers + ?Sized>(self, headers: &H, body: &[u8]) -> Result<Reading, String> {
        let doc: Value = serde_json::from_slice(body).map_err(|e| format!("unreadable body: {e}"))?;
        let header = |name: &str| -> Result<String, String> {
            let raw = headers.header(name).ok_or_else(|| format!("no {name} header"))?;
            String::from_utf8(raw.to_vec()).map_err(|_| format!("{name} is not text"))
        };
        let (id, event_s, name, about) = match self {
            Provider::Snapbill => return Err("SnapBill's envelope is not a provider's shape".into()),
            Provider::Stripe => stripe(&doc)?,
            Provider::Github => {
                let (event_s, name, about) = github(&doc, &header("x-github-event")?)?;
                (header("x-github-delivery")?, event_s, name, about)
            }
            Provider::Shopify => {
                let topic = header("x-shopify-topic")?;
                let event_s = seconds(&header("x-shopify-triggered-at")?)?;
                (header("x-shopify-event-id")?, event_s, topic.clone(), shopify(&doc, &topic)?)
            }
            Provider::Slack => slack(&doc)?,
            Provider::StandardWebhooks => {
                let (event_s, name, about) = standard_webhooks(&doc)?;
                (header("webhook-id")?, event_s, name, about)
            }
        };
        Ok(Reading { uuid: super::delivery_uuid(&id), id, event_s, name, about })
    }
}

type Read = (String, i64, String, About);

fn text<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, String> {
    field(v, path)?.as_str().ok_or_else(|| format!("`{}` is not a string", path.join(".")))
}

fn number(v: &Value, path: &[&str]) -> Result<u64, String> {
    field(v, path)?.as_u64().ok_or_else(|| format!("`{}` is not a number", path.join(".")))
}

fn field<'a>(v: &'a Value, path: &[&str]) -> Result<&'a Value, String> {
    path.iter().try_fold(v, |v, k| v.get(k)).ok_or_else(|| format!("no `{}`", path.join(".")))
}

/// `in_4`, `cus_1`: the number after the prefix.
fn prefixed(v: &Value, path: &[&str], prefix: &str) -> Result<u64, String> {
    let t = text(v, path)?;
    t.strip_prefix(prefix)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("`{}` is not {prefix}<id>", path.join(".")))
}

/// RFC 3339 as unix seconds.
fn seconds(t: &str) -> Result<i64, String> {
    let at = humantime::parse_rfc3339(t).map_err(|e| format!("{t:?} is not an RFC 3339 time: {e}"))?;
    let s = at.duration_since(std::time::UNIX_EPOCH).map_err(|_| format!("{t:?} is before 1970"))?.as_secs();
    Ok(i64::try_from(s).unwrap_or(i64::MAX))
}

fn stripe(doc: &Value) -> Result<Read, String> {
    let id = text(doc, &["id"])?.to_string();
    let created = field(doc, &["created"])?.as_i64().ok_or("`created` is not a number")?;
    let kind = text(doc, &["type"])?.to_string();
    let object = field(doc, &["data", "object"])?;
    let about = match kind.as_str() {
        "invoice.paid" | "invoice.voided" => {
            let to = if kind == "invoice.paid" { "paid" } else { "cancelled" };
            let state = match text(object, &["status"])? {
                "open" => "unpaid",
                "void" => "cancelled",
                other => other,
            };
            About::InvoiceState { invoice: prefixed(object, &["id"], "in_")?, to: to.into(), state: state.into() }
        }
        "customer.created" => About::ClientAdded { client: prefixed(object, &["id"], "cus_")? },
        _ => About::Other,
    };
    Ok((id, created, kind, about))
}

fn github(doc: &Value, event: &str) -> Result<(i64, String, About), String> {
    // Events such as `push` carry no `action`: read, about nothing hooksim's pack sends.
    let Some(action) = doc.get("action").and_then(Value::as_str) else {
        return Ok((0, event.to_string(), About::Other));
    };
    let name = format!("{event}.{action}");
    match (event, action) {
        ("marketplace_purchase", "purchased" | "cancelled") => {
            let to = if action == "purchased" { "paid" } else { "cancelled" };
            let invoice = number(doc, &["marketplace_purchase", "plan", "id"])?;
            let event_s = seconds(text(doc, &["effective_date"])?)?;
            // The plan carries no state: a purchase is the state its action names.
            Ok((event_s, name, About::InvoiceState { invoice, to: to.into(), state: to.into() }))
        }
        ("installation", "created") => {
            // Installation events carry no time of their own: ordered as the oldest.
            Ok((0, name, About::ClientAdded { client: number(doc, &["installation", "id"])? }))
        }
        ("marketplace_purchase", _) => Ok((seconds(text(doc, &["effective_date"])?)?, name, About::Other)),
        _ => Ok((0, name, About::Other)),
    }
}

fn shopify(doc: &Value, topic: &str) -> Result<About, String> {
    Ok(match topic {
        "orders/paid" | "orders/cancelled" => {
            let to = if topic == "orders/paid" { "paid" } else { "cancelled" };
            let state = match text(doc, &["financial_status"])? {
                "voided" => "cancelled",
                "pending" => "unpaid",
                other => other,
            };
            About::InvoiceState { invoice: number(doc, &["id"])?, to: to.into(), state: state.into() }
        }
        "customers/create" => About::ClientAdded { client: number(doc, &["id"])? },
        _ => About::Other,
    })
}

fn slack(doc: &Value) -> Result<Read, String> {
    let id = text(doc, &["event_id"])?.to_string();
    let event_s = field(doc, &["event_time"])?.as_i64().ok_or("`event_time` is not a number")?;
    // Message metadata is hooksim's pack's; any other event is read by its `event.type`.
    let Ok(kind) = text(doc, &["event", "metadata", "event_type"]) else {
        return Ok((id, event_s, text(doc, &["event", "type"])?.to_string(), About::Other));
    };
    let kind = kind.to_string();
    let payload = field(doc, &["event", "metadata", "event_payload"])?;
    let about = match kind.as_str() {
        "invoice_paid" | "invoice_cancelled" => About::InvoiceState {
            invoice: number(payload, &["id"])?,
            to: kind["invoice_".len()..].to_string(),
            state: text(payload, &["state"])?.to_string(),
        },
        "client_created" => About::ClientAdded { client: number(payload, &["id"])? },
        _ => About::Other,
    };
    Ok((id, event_s, kind, about))
}

fn standard_webhooks(doc: &Value) -> Result<(i64, String, About), String> {
    let kind = text(doc, &["type"])?.to_string();
    let event_s = seconds(text(doc, &["timestamp"])?)?;
    let data = field(doc, &["data"])?;
    let about = match kind.as_str() {
        "invoice.paid" | "invoice.cancelled" => About::InvoiceState {
            invoice: number(data, &["id"])?,
            to: kind["invoice.".len()..].to_string(),
            state: text(data, &["state"])?.to_string(),
        },
        "client.created" => About::ClientAdded { client: number(data, &["id"])? },
        _ => About::Other,
    };
    Ok((event_s, kind, about))
}
