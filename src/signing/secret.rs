//! Signing secrets as each scheme writes them, turned into HMAC key bytes.

use super::Scheme;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT as BASE64;

/// The Standard Webhooks secret prefix; the key is the base64 text after it.
pub const WHSEC_PREFIX: &str = "whsec_";

/// A secret's HMAC key bytes, never empty. `Debug` does not print them.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    key: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the secret is empty")]
    Empty,
    #[error("the secret is a bare `whsec_` prefix with no key after it")]
    BarePrefix,
    #[error("the secret after `whsec_` is not base64: {0}")]
    BadBase64(String),
}

impl Secret {
    /// Reads `text` as `scheme` writes secrets: Standard Webhooks decodes the base64 after an
    /// optional `whsec_` prefix (as its libraries do); Stripe and GitHub use the text's bytes as
    /// they are (a Stripe `whsec_...` secret included).
    pub fn parse(scheme: Scheme, text: &str) -> Result<Self, SecretError> {
        if text.is_empty() {
            return Err(SecretError::Empty);
        }
        let key = match scheme {
            Scheme::StandardWebhooks => {
                let encoded = text.strip_prefix(WHSEC_PREFIX).unwrap_or(text);
                if encoded.is_empty() {
                    return Err(SecretError::BarePrefix);
                }
                BASE64.decode(encoded).map_err(|e| SecretError::BadBase64(e.to_string()))?
            }
            Scheme::Stripe | Scheme::Github => text.as_bytes().to_vec(),
        };
        if key.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self { key })
    }

    pub(super) fn key(&self) -> &[u8] {
        &self.key
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.key.len())
    }
}
