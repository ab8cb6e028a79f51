//! Signing secrets as each scheme writes them: HMAC keys, and for Standard Webhooks' asymmetric
//! `v1a` also Ed25519 keys (`whsk_` to sign, `whpk_` to verify only).

use super::{Scheme, mac};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT as BASE64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

/// The Standard Webhooks secret prefix; the HMAC key is the base64 text after it.
pub(super) const WHSEC_PREFIX: &str = "whsec_";
/// Standard Webhooks' Ed25519 secret key (base64 of a 32-byte seed or a 64-byte key pair).
pub(super) const WHSK_PREFIX: &str = "whsk_";
/// Standard Webhooks' Ed25519 public key (base64 of 32 bytes): verifies, cannot sign.
pub(super) const WHPK_PREFIX: &str = "whpk_";

/// A secret's key, never empty. `Debug` does not print it.
#[derive(Clone)]
pub struct Secret {
    key: Key,
}

#[derive(Clone)]
enum Key {
    Hmac(Vec<u8>),
    Ed25519(SigningKey),
    Ed25519Public(VerifyingKey),
}

/// What a signature tag is made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Algorithm {
    HmacSha256,
    Ed25519,
}

/// A secret that cannot be read as its scheme writes it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The secret is empty.
    #[error("the secret is empty")]
    Empty,
    /// Only a prefix such as `whsec_`, with no key after it.
    #[error("the secret is a bare `{0}` prefix with no key after it")]
    BarePrefix(&'static str),
    /// The key after the prefix is not base64 (the decoder's words after it).
    #[error("the secret after `{0}` is not base64: {1}")]
    BadBase64(&'static str, String),
    /// The key does not decode to an Ed25519 key.
    #[error("the `{0}` key is not an Ed25519 key: {1}")]
    BadKey(&'static str, String),
    /// A `whpk_` public key given where a signer needs the secret key.
    #[error("a `whpk_` public key verifies but cannot sign: give the `whsk_` secret key")]
    PublicKeyCannotSign,
}

impl Secret {
    /// Reads `text` as `scheme` writes secrets: Standard Webhooks decodes the base64 after a
    /// `whsec_` prefix (also without it, as its libraries do), or an Ed25519 `whsk_`/`whpk_` key;
    /// Stripe, GitHub, Shopify and Slack use the text's bytes as they are (a Stripe `whsec_...`
    /// secret included).
    pub fn parse(scheme: Scheme, text: &str) -> Result<Self, SecretError> {
        if text.is_empty() {
            return Err(SecretError::Empty);
        }
        let key = match scheme {
            Scheme::StandardWebhooks => standard_webhooks_key(text)?,
            Scheme::Stripe | Scheme::Github | Scheme::Shopify | Scheme::Slack => Key::Hmac(text.as_bytes().to_vec()),
        };
        Ok(Self { key })
    }

    pub(super) fn algorithm(&self) -> Algorithm {
        match self.key {
            Key::Hmac(_) => Algorithm::HmacSha256,
            Key::Ed25519(_) | Key::Ed25519Public(_) => Algorithm::Ed25519,
        }
    }

    pub(super) fn can_sign(&self) -> bool {
        !matches!(self.key, Key::Ed25519Public(_))
    }

    /// The tag of the concatenated `parts`; empty for a public key, which [`Self::can_sign`] rules out.
    pub(super) fn sign(&self, parts: &[&[u8]]) -> Vec<u8> {
        match &self.key {
            Key::Hmac(key) => mac::sign(key, parts).to_vec(),
            Key::Ed25519(key) => key.sign(&parts.concat()).to_bytes().to_vec(),
            Key::Ed25519Public(_) => Vec::new(),
        }
    }

    /// Whether `tag`, made with `algorithm`, signs the concatenated `parts` under this key.
    pub(super) fn matches(&self, algorithm: Algorithm, parts: &[&[u8]], tag: &[u8]) -> bool {
        let verifying = match (&self.key, algorithm) {
            (Key::Hmac(key), Algorithm::HmacSha256) => return mac::matches(key, parts, tag),
            (Key::Ed25519(key), Algorithm::Ed25519) => key.verifying_key(),
            (Key::Ed25519Public(key), Algorithm::Ed25519) => *key,
            _ => return false,
        };
        let Ok(signature) = ed25519_dalek::Signature::from_slice(tag) else { return false };
        // Strict: no small-order keys or malleable signatures.
        verifying.verify_strict(&parts.concat(), &signature).is_ok()
    }
}

fn standard_webhooks_key(text: &str) -> Result<Key, SecretError> {
    if let Some(encoded) = text.strip_prefix(WHSK_PREFIX) {
        let bytes = decode(WHSK_PREFIX, encoded)?;
        let key = match <[u8; 32]>::try_from(bytes.as_slice()) {
            Ok(seed) => SigningKey::from_bytes(&seed),
            Err(_) => <[u8; 64]>::try_from(bytes.as_slice())
                .map_err(|_| bad_key(WHSK_PREFIX, format!("{} bytes, not 32 or 64", bytes.len())))
                .and_then(|pair| SigningKey::from_keypair_bytes(&pair).map_err(|e| bad_key(WHSK_PREFIX, e)))?,
        };
        return Ok(Key::Ed25519(key));
    }
    if let Some(encoded) = text.strip_prefix(WHPK_PREFIX) {
        let bytes = decode(WHPK_PREFIX, encoded)?;
        let raw = <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| bad_key(WHPK_PREFIX, format!("{} bytes, not 32", bytes.len())))?;
        return VerifyingKey::from_bytes(&raw).map(Key::Ed25519Public).map_err(|e| bad_key(WHPK_PREFIX, e));
    }
    let key = decode(WHSEC_PREFIX, text.strip_prefix(WHSEC_PREFIX).unwrap_or(text))?;
    if key.is_empty() {
        return Err(SecretError::Empty);
    }
    Ok(Key::Hmac(key))
}

fn decode(prefix: &'static str, encoded: &str) -> Result<Vec<u8>, SecretError> {
    if encoded.is_empty() {
        return Err(SecretError::BarePrefix(prefix));
    }
    BASE64.decode(encoded).map_err(|e| SecretError::BadBase64(prefix, e.to_string()))
}

fn bad_key(prefix: &'static str, why: impl std::fmt::Display) -> SecretError {
    SecretError::BadKey(prefix, why.to_string())
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.key {
            Key::Hmac(key) => write!(f, "Secret(HMAC, {} bytes)", key.len()),
            Key::Ed25519(_) => f.write_str("Secret(Ed25519 secret key)"),
            Key::Ed25519Public(_) => f.write_str("Secret(Ed25519 public key)"),
        }
    }
}
