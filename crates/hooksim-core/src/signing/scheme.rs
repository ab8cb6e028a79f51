//! The signature schemes and the headers each one sends.

use std::fmt;
use std::str::FromStr;

/// A webhook signature scheme: which headers carry what, over which bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` (also Svix's).
    StandardWebhooks,
    /// `Stripe-Signature: t=<unix seconds>,v1=<hex>`.
    Stripe,
    /// `X-Hub-Signature-256: sha256=<hex>`, over the body alone (no timestamp, no replay window).
    Github,
    /// `X-Shopify-Hmac-Sha256: <base64>`, over the body alone (no timestamp, no replay window).
    Shopify,
    /// `X-Slack-Request-Timestamp: <unix seconds>`, `X-Slack-Signature: v0=<hex>`.
    Slack,
}

impl Scheme {
    /// Every scheme, in the order of `docs/`.
    pub const ALL: [Scheme; 5] = [Self::StandardWebhooks, Self::Stripe, Self::Github, Self::Shopify, Self::Slack];

    /// The name used in files and flags, e.g. `standard-webhooks`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StandardWebhooks => "standard-webhooks",
            Self::Stripe => "stripe",
            Self::Github => "github",
            Self::Shopify => "shopify",
            Self::Slack => "slack",
        }
    }

    /// Whether a timestamp is signed (and so a replay window can be checked): not GitHub's nor
    /// Shopify's, which sign the body alone.
    pub fn signs_timestamp(self) -> bool {
        !matches!(self, Self::Github | Self::Shopify)
    }

    /// Whether a request carries one signature per secret during a key rotation (Standard
    /// Webhooks, Stripe); the others carry one, made with the first secret.
    pub fn signs_with_every_secret(self) -> bool {
        matches!(self, Self::StandardWebhooks | Self::Stripe)
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scheme name that is not one hooksim knows.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown signature scheme {0:?} (known: standard-webhooks, stripe, github, shopify, slack)")]
pub struct UnknownScheme(String);

impl FromStr for Scheme {
    type Err = UnknownScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownScheme(s.to_string()))
    }
}
