//! Webhook signatures as real senders make them: Standard Webhooks (`webhook-signature: v1,...`),
//! Stripe (`Stripe-Signature: t=...,v1=...`), GitHub (`X-Hub-Signature-256: sha256=...`), Shopify
//! (`X-Shopify-Hmac-Sha256: <base64>`) and Slack (`X-Slack-Signature: v0=...`).
//!
//! Pure and clock-free: [`Signer::sign`] takes the message id, the timestamp and the exact body
//! bytes and returns the headers to send; [`Verifier::verify`] takes the headers, the raw body
//! bytes and `now` (unix seconds) and returns `Ok` or a precise [`VerifyError`]. Whoever calls
//! them decides what "now" is: the wall clock on the real network, virtual time in a simulation.
//! No input makes either panic.

mod github;
mod headers;
mod mac;

/// HMAC-SHA256 of `message` under `key` (Zoom's endpoint validation answers it, hex-encoded,
/// over its `plainToken`).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    mac::sign(key, &[message])
}
mod scheme;
mod secret;
mod shopify;
mod slack;
mod standard_webhooks;
mod stripe;
mod verify;

pub use headers::Headers;
pub use scheme::{Scheme, UnknownScheme};
pub use secret::{Secret, SecretError};
pub use verify::{Signer, TOLERANCE_S_DEFAULT, Verifier, VerifyError};
