//! Standard Webhooks (and Svix): `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`,
//! several space-separated signatures during a key rotation.

use super::verify::{Candidate, Encoding, Expected, Window, any_matches, header_text};
use super::{Headers, Secret, VerifyError, mac};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

pub const ID: &str = "webhook-id";
pub const TIMESTAMP: &str = "webhook-timestamp";
pub const SIGNATURE: &str = "webhook-signature";

pub(super) fn sign(secrets: &[Secret], id: &str, timestamp_s: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    let timestamp = timestamp_s.to_string();
    let signed = signed_content(id, &timestamp, body);
    let signatures: Vec<String> =
        secrets.iter().map(|s| format!("v1,{}", BASE64.encode(mac::sign(s.key(), &signed)))).collect();
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
    let expected = Expected { header: SIGNATURE, version: "v1", encoding: Encoding::Base64, signed: &signed };
    any_matches(candidates, &expected, secrets)
}

fn signed_content<'a>(id: &'a str, timestamp: &'a str, body: &'a [u8]) -> [&'a [u8]; 5] {
    [id.as_bytes(), b".", timestamp.as_bytes(), b".", body]
}
