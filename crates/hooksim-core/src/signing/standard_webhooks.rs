//! Standard Webhooks (and Svix): `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`,
//! several space-separated signatures during a key rotation; `v1a,<base64 Ed25519 signature>` of
//! the same bytes with `whsk_`/`whpk_` keys (proposed in the specification, not yet merged).

use super::secret::Algorithm;
use super::verify::{Candidate, Encoding, Expected, Version, Window, any_matches, header_text};
use super::{Headers, Secret, VerifyError};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

pub(super) const ID: &str = "webhook-id";
pub(super) const TIMESTAMP: &str = "webhook-timestamp";
pub(super) const SIGNATURE: &str = "webhook-signature";

pub(super) fn sign(secrets: &[Secret], id: &str, timestamp_s: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    let timestamp = timestamp_s.to_string();
    let signed = signed_content(id, &timestamp, body);
    let signatures: Vec<String> =
        secrets.iter().map(|s| format!("{},{}", version_of(s).label, BASE64.encode(s.sign(&signed)))).collect();
    vec![(ID, id.to_string()), (TIMESTAMP, timestamp), (SIGNATURE, signatures.join(" "))]
}

pub(super) fn verify<H: Headers + ?Sized>(
    headers: &H,
    body: &[u8],
    secrets: &[Secret],
    window: Window,
) -> Result<(), VerifyError> {
    let id = header_text(headers, ID)?;
    let timestamp = header_text(headers, TIMESTAMP)?;
    let signatures = header_text(headers, SIGNATURE)?;
    window.check(timestamp)?;
    let candidates = signatures.split(' ').filter(|entry| !entry.is_empty()).map(|entry| {
        let (version, encoded) = entry.split_once(',').unwrap_or((entry, ""));
        Candidate { version, encoded }
    });
    // The timestamp is signed as sent, not as re-printed from the parsed number.
    let signed = signed_content(id, timestamp, body);
    // Only the versions the receiver holds keys for: a `v1a` signature to an HMAC-only receiver
    // is a version it does not take.
    let versions: Vec<Version> =
        [V1, V1A].into_iter().filter(|v| secrets.iter().any(|s| version_of(s).label == v.label)).collect();
    let expected = Expected { header: SIGNATURE, versions: &versions, signed: &signed };
    any_matches(candidates, &expected, secrets)
}

/// The `webhook-timestamp` header's text, if there is one.
pub(super) fn timestamp<H: Headers + ?Sized>(headers: &H) -> Option<&str> {
    header_text(headers, TIMESTAMP).ok()
}

const V1: Version = Version { label: "v1", algorithm: Algorithm::HmacSha256, encoding: Encoding::Base64 };
const V1A: Version = Version { label: "v1a", algorithm: Algorithm::Ed25519, encoding: Encoding::Base64 };

fn version_of(secret: &Secret) -> Version {
    match secret.algorithm() {
        Algorithm::HmacSha256 => V1,
        Algorithm::Ed25519 => V1A,
    }
}

fn signed_content<'a>(id: &'a str, timestamp: &'a str, body: &'a [u8]) -> [&'a [u8]; 5] {
    [id.as_bytes(), b".", timestamp.as_bytes(), b".", body]
}
