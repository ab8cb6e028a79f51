//! Provider packs: how each webhook provider hooksim plays shapes a delivery, one small
//! declarative description per provider (docs/providers.md gives every fact its source).
//!
//! A pack renders one delivery of one of the world's events ([`Occurrence`]) in the provider's
//! shape ([`Message`]: the body, the provider's own headers, and the id a receiver deduplicates
//! on, which is also the id the signature names), and states its delivery facts ([`Facts`]:
//! timeout, retries, size cap, when the payload is rendered, the signature scheme). Pure: no
//! clock (the event's time is a parameter), no IO; the same occurrence renders the same bytes.
//!
//! `snapbill` is today's behaviour and the default: SnapBill's envelope
//! ([`crate::core::render`]), unsigned unless a scheme is chosen, rendered at send time.

mod api;
mod facts;
mod github;
mod reading;
mod shopify;
mod slack;
mod snapbill;
mod standard_webhooks;
mod stripe;

pub use api::{API_TARGET_BYTES_MAX, ApiAnswer};
pub use facts::{Facts, Rendered};
pub use reading::{About, Reading};

use crate::domain::{Entity, Event, Store};
use crate::signing::Scheme;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A webhook provider whose deliveries hooksim can play.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// SnapBill's envelope `{"uuid", "body": {...}}`: the reference behaviour.
    #[default]
    Snapbill,
    /// Stripe's `event` object, `Stripe-Signature` (`docs/providers.md`).
    Stripe,
    /// GitHub's payload with `X-GitHub-Delivery` and `X-Hub-Signature-256`.
    Github,
    /// Shopify's payload with `X-Shopify-Webhook-Id` and `X-Shopify-Hmac-Sha256`.
    Shopify,
    /// Slack's Events API envelope with `X-Slack-Signature` and its retry headers.
    Slack,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    StandardWebhooks,
}

/// Every provider and its name, once: [`Provider::name`], [`Provider::names`] and parsing read it.
const TABLE: [(Provider, &str); 6] = [
    (Provider::Snapbill, "snapbill"),
    (Provider::Stripe, "stripe"),
    (Provider::Github, "github"),
    (Provider::Shopify, "shopify"),
    (Provider::Slack, "slack"),
    (Provider::StandardWebhooks, "standard-webhooks"),
];

/// One delivery of one event: the delivery's uuid (hooksim's own handle on it, from which the
/// provider's dedup id is derived), the event, the store to render from, and when the event
/// happened (unix seconds; the bodies that carry an event time carry this one).
#[derive(Clone, Copy, Debug)]
pub struct Occurrence<'a> {
    /// The delivery's uuid, from which the provider's dedup id is derived.
    pub uuid: Uuid,
    /// The event delivered.
    pub event: &'a Event,
    /// The store to render the entity from, as it is at send time.
    pub store: &'a Store,
    /// When the event happened, in unix seconds.
    pub event_s: i64,
}

/// A delivery in a provider's shape. `headers` are the provider's own, lower case, without the
/// signature: sign `body` as message `id` ([`crate::signing::Signer::sign`]) and send both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The id a receiver deduplicates on ([`Facts::dedup_on`]), kept by every retry.
    pub id: String,
    /// The exact bytes to send (JSON).
    pub body: String,
    /// The provider's headers, lower-case names, without the signature.
    pub headers: Vec<(&'static str, String)>,
}

impl Provider {
    /// The name used in files and flags, e.g. `standard-webhooks`.
    pub fn name(self) -> &'static str {
        TABLE.iter().find(|(p, _)| *p == self).map_or("snapbill", |(_, n)| n)
    }

    /// Every provider's name, in the table's order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        TABLE.iter().map(|(_, n)| *n)
    }

    /// Every provider, in the table's order.
    pub fn all() -> impl Iterator<Item = Provider> {
        TABLE.iter().map(|(p, _)| *p)
    }

    /// What this provider promises: timeout, retries, redelivery window, size cap, dedup id,
    /// scheme.
    pub fn facts(self) -> &'static Facts {
        match self {
            Self::Snapbill => &snapbill::FACTS,
            Self::Stripe => &stripe::FACTS,
            Self::Github => &github::FACTS,
            Self::Shopify => &shopify::FACTS,
            Self::Slack => &slack::FACTS,
            Self::StandardWebhooks => &standard_webhooks::FACTS,
        }
    }

    /// The signature scheme the provider signs with; SnapBill publishes none.
    pub fn scheme(self) -> Option<Scheme> {
        self.facts().scheme
    }

    /// The id a receiver deduplicates on for the delivery `uuid`: `evt_…` (Stripe), `msg_…`
    /// (Standard Webhooks), `Ev…` (Slack), the uuid itself (SnapBill, GitHub, Shopify). Each ends
    /// in the uuid's hex digits, so [`delivery_uuid`] reads it back.
    pub fn dedup_id(self, uuid: Uuid) -> String {
        match self {
            Self::Snapbill | Self::Github | Self::Shopify => uuid.to_string(),
            Self::Stripe => stripe::event_id(uuid),
            Self::Slack => slack::event_id(uuid),
            Self::StandardWebhooks => standard_webhooks::message_id(uuid),
        }
    }

    /// The delivery of `o` in the provider's shape.
    pub fn render(self, o: &Occurrence<'_>) -> Message {
        let id = self.dedup_id(o.uuid);
        let (body, headers) = match self {
            Self::Snapbill => (crate::core::render(o.uuid, o.event, o.store), Vec::new()),
            Self::Stripe => (stripe::body(&id, o), Vec::new()),
            Self::Github => github::render(o),
            Self::Shopify => shopify::render(o),
            Self::Slack => (slack::body(&id, o), Vec::new()),
            Self::StandardWebhooks => (standard_webhooks::body(o), Vec::new()),
        };
        Message { id, body, headers }
    }

    /// The header that carries the dedup id when the signature's headers carry it (GitHub's
    /// `X-GitHub-Delivery`, Standard Webhooks' `webhook-id`): an unsigned delivery still sends it.
    pub fn id_header(self) -> Option<&'static str> {
        match self {
            Self::Github => Some("x-github-delivery"),
            Self::StandardWebhooks => Some("webhook-id"),
            _ => None,
        }
    }

    /// The headers retry number `retry` (from 1) carries beyond the first attempt's: Slack's
    /// `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`; none for the others.
    pub fn retry_headers(self, retry: u32) -> Vec<(&'static str, String)> {
        match self {
            Self::Slack => slack::retry_headers(retry),
            _ => Vec::new(),
        }
    }

    /// The provider's endpoint verification request, where it has one (Slack's
    /// `url_verification`), carrying `challenge`.
    pub fn handshake(self, challenge: &str) -> Option<String> {
        match self {
            Self::Slack => Some(slack::url_verification(challenge)),
            _ => None,
        }
    }
}

/// The delivery uuid a dedup id names: a uuid as text, or any id ending in a uuid's 32 hex
/// digits (`evt_…`, `msg_…`, `Ev…`, as [`Provider::dedup_id`] writes them).
pub fn delivery_uuid(id: &str) -> Option<Uuid> {
    if let Ok(u) = Uuid::parse_str(id) {
        return Some(u);
    }
    let tail = id.get(id.len().checked_sub(32)?..)?;
    Uuid::try_parse(tail).ok()
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A provider name that is not one hooksim knows.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown provider {0:?} (known: snapbill, stripe, github, shopify, slack, standard-webhooks)")]
pub struct UnknownProvider(String);

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TABLE.iter().find(|(_, n)| *n == s).map(|(p, _)| *p).ok_or_else(|| UnknownProvider(s.to_string()))
    }
}

/// RFC 3339 (UTC, whole seconds) of unix seconds `s`: a computation, not a clock read.
fn rfc3339(s: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(s).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}

/// The entity of `o`'s event as it is in the store now (for SnapBill, at send time; for the
/// others, the caller renders at event time and keeps the bytes).
fn entity<'a>(o: &Occurrence<'a>) -> Option<Entity<'a>> {
    o.store.get(o.event.entity)
}

#[cfg(test)]
mod tests;
