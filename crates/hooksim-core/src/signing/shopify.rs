//! Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>`, keyed by the app's
//! client secret (its text's bytes). Like GitHub's, nothing time-bound is signed, so a captured
//! request can be replayed: a receiver dedups on the event id instead (`X-Shopify-Event-Id`).

use super::secret::Algorithm;
use super::verify::{Candidate, Encoding, Expected, Version, any_matches, header_text};
use super::{Headers, Secret, VerifyError};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

pub(super) const SIGNATURE: &str = "x-shopify-hmac-sha256";

/// The header carries the tag alone: no version label to read.
const UNLABELLED: Version = Version { label: "", algorithm: Algorithm::HmacSha256, encoding: Encoding::Base64 };

pub(super) fn sign(secret: &Secret, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![(SIGNATURE, BASE64.encode(secret.sign(&[body])))]
}

pub(super) fn verify<H: Headers + ?Sized>(headers: &H, body: &[u8], secrets: &[Secret]) -> Result<(), VerifyError> {
    let encoded = header_text(headers, SIGNATURE)?;
    let expected = Expected { header: SIGNATURE, versions: &[UNLABELLED], signed: &[body] };
    any_matches([Candidate { version: "", encoded }], &expected, secrets)
}
