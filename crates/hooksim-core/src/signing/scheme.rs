//! The signature schemes and the headers each one sends.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` (also Svix's).
    StandardWebhooks,
    /// `Stripe-Signature: t=<unix seconds>,v1=<hex>`.
    Stripe,
    /// `X-Hub-Signature-256: sha256=<hex>`, over the body alone (no timestamp, no replay window).
    Github,
}

impl Scheme {
    pub const ALL: [Scheme; 3] = [Self::StandardWebhooks, Self::Stripe, Self::Github];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StandardWebhooks => "standard-webhooks",
            Self::Stripe => "stripe",
            Self::Github => "github",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown signature scheme {0:?} (known: standard-webhooks, stripe, github)")]
pub struct UnknownScheme(String);

impl FromStr for Scheme {
    type Err = UnknownScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownScheme(s.to_string()))
    }
}
