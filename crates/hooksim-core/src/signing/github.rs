//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, and the delivery id in
//! `X-GitHub-Delivery`. Nothing time-bound is signed, so a captured request can be replayed: a
//! receiver dedups on the delivery id instead.

use super::secret::Algorithm;
use super::verify::{Candidate, Encoding, Expected, Version, any_matches, header_text};
use super::{Headers, Secret, VerifyError};

pub(super) const SIGNATURE: &str = "x-hub-signature-256";
pub(super) const DELIVERY: &str = "x-github-delivery";

pub(super) fn sign(secret: &Secret, id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let tag = secret.sign(&[body]);
    vec![(DELIVERY, id.to_string()), (SIGNATURE, format!("sha256={}", hex::encode(tag)))]
}

pub(super) fn verify<H: Headers + ?Sized>(headers: &H, body: &[u8], secrets: &[Secret]) -> Result<(), VerifyError> {
    let value = header_text(headers, SIGNATURE)?;
    let (version, encoded) = value.split_once('=').unwrap_or((value, ""));
    let sha256 = Version { label: "sha256", algorithm: Algorithm::HmacSha256, encoding: Encoding::Hex };
    let expected = Expected { header: SIGNATURE, versions: &[sha256], signed: &[body] };
    any_matches([Candidate { version, encoded }], &expected, secrets)
}
