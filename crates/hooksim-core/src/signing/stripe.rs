//! Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>`, one `v1` per
//! secret during a rotation. The secret's text (`whsec_...` included) is the key.

use super::secret::Algorithm;
use super::verify::{Candidate, Encoding, Expected, Version, Window, any_matches, header_text};
use super::{Headers, Secret, VerifyError};

pub(super) const SIGNATURE: &str = "stripe-signature";

pub(super) fn sign(secrets: &[Secret], timestamp_s: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    let timestamp = timestamp_s.to_string();
    let mut value = format!("t={timestamp}");
    for secret in secrets {
        let tag = secret.sign(&signed_payload(&timestamp, body));
        value.push_str(&format!(",v1={}", hex::encode(tag)));
    }
    vec![(SIGNATURE, value)]
}

pub(super) fn verify<H: Headers + ?Sized>(
    headers: &H,
    body: &[u8],
    secrets: &[Secret],
    window: Window,
) -> Result<(), VerifyError> {
    let value = header_text(headers, SIGNATURE)?;
    let items = items(value);
    let timestamp =
        items.iter().find(|(k, _)| *k == "t").map(|(_, v)| *v).ok_or(VerifyError::MissingTimestamp(SIGNATURE))?;
    window.check(timestamp)?;
    let candidates = items.iter().filter(|(k, _)| *k != "t").map(|(version, encoded)| Candidate { version, encoded });
    let signed = signed_payload(timestamp, body);
    let expected = Expected { header: SIGNATURE, versions: &[V1], signed: &signed };
    any_matches(candidates, &expected, secrets)
}

/// The header's `key=value` items; items that are not `key=value` are ignored, as Stripe's
/// libraries do.
fn items(value: &str) -> Vec<(&str, &str)> {
    value.split(',').filter_map(|item| item.trim().split_once('=')).collect()
}

/// The `t=` of `Stripe-Signature`, if there is one.
pub(super) fn timestamp<H: Headers + ?Sized>(headers: &H) -> Option<&str> {
    let value = header_text(headers, SIGNATURE).ok()?;
    items(value).into_iter().find(|(k, _)| *k == "t").map(|(_, v)| v)
}

const V1: Version = Version { label: "v1", algorithm: Algorithm::HmacSha256, encoding: Encoding::Hex };

fn signed_payload<'a>(timestamp: &'a str, body: &'a [u8]) -> [&'a [u8]; 3] {
    [timestamp.as_bytes(), b".", body]
}
