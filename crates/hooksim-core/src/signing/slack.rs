//! Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:" + timestamp + ":" + raw body>` with the
//! timestamp (unix seconds) in `X-Slack-Request-Timestamp`, keyed by the app's signing secret (its
//! text's bytes). Slack's documentation advises refusing a timestamp more than five minutes from
//! the receiver's clock (a replay): [`super::TOLERANCE_S_DEFAULT`].

use super::secret::Algorithm;
use super::verify::{Candidate, Encoding, Expected, Version, Window, any_matches, header_text};
use super::{Headers, Secret, VerifyError};

pub(super) const TIMESTAMP: &str = "x-slack-request-timestamp";
pub(super) const SIGNATURE: &str = "x-slack-signature";

const V0: Version = Version { label: "v0", algorithm: Algorithm::HmacSha256, encoding: Encoding::Hex };

pub(super) fn sign(secret: &Secret, timestamp_s: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    let timestamp = timestamp_s.to_string();
    let tag = secret.sign(&base_string(&timestamp, body));
    vec![(TIMESTAMP, timestamp), (SIGNATURE, format!("v0={}", hex::encode(tag)))]
}

pub(super) fn verify<H: Headers + ?Sized>(
    headers: &H,
    body: &[u8],
    secrets: &[Secret],
    window: Window,
) -> Result<(), VerifyError> {
    let timestamp = header_text(headers, TIMESTAMP)?;
    let value = header_text(headers, SIGNATURE)?;
    window.check(timestamp)?;
    let (version, encoded) = value.split_once('=').unwrap_or((value, ""));
    // The timestamp is signed as sent, not as re-printed from the parsed number.
    let signed = base_string(timestamp, body);
    let expected = Expected { header: SIGNATURE, versions: &[V0], signed: &signed };
    any_matches([Candidate { version, encoded }], &expected, secrets)
}

/// The `X-Slack-Request-Timestamp` header's text, if there is one.
pub(super) fn timestamp<H: Headers + ?Sized>(headers: &H) -> Option<&str> {
    header_text(headers, TIMESTAMP).ok()
}

/// Slack's "base string": `v0:{timestamp}:{body}`.
fn base_string<'a>(timestamp: &'a str, body: &'a [u8]) -> [&'a [u8]; 4] {
    [b"v0:", timestamp.as_bytes(), b":", body]
}
