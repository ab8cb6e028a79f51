//! Signing and verifying, whatever the scheme: [`Signer`], [`Verifier`] and the one error type.

use super::secret::Algorithm;
use super::{Headers, Scheme, Secret, SecretError, github, shopify, slack, standard_webhooks, stripe};

/// How far a signed timestamp may be from the receiver's clock, either way: 5 minutes, the
/// Standard Webhooks and Stripe libraries' default and the window Slack's documentation advises.
pub const TOLERANCE_S_DEFAULT: i64 = 300;

/// Echoed input is cut to this many characters in error messages.
const ECHO_CHARS_MAX: usize = 40;

/// Why a request's signature was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The scheme's signature header (named) is absent.
    #[error("missing header `{0}`")]
    MissingHeader(&'static str),
    /// The header's value is not visible ASCII.
    #[error("header `{0}` is not text")]
    HeaderNotText(&'static str),
    /// The signature header has no `t=` part (Stripe).
    #[error("header `{0}` carries no timestamp (`t=`)")]
    MissingTimestamp(&'static str),
    /// The timestamp is not a whole number of unix seconds.
    #[error("timestamp {0:?} is not unix seconds")]
    TimestampUnparsable(String),
    /// The timestamp is more than the tolerance before `now`: a replay, or a sender's clock far
    /// behind.
    #[error("timestamp {timestamp_s} is {} s older than now ({now_s}), past the {tolerance_s} s tolerated", now_s.saturating_sub(*timestamp_s))]
    TimestampTooOld {
        /// The signed timestamp, unix seconds.
        timestamp_s: i64,
        /// The verifier's now, unix seconds.
        now_s: i64,
        /// How far either way is accepted, in seconds.
        tolerance_s: i64,
    },
    /// The timestamp is more than the tolerance after `now`.
    #[error("timestamp {timestamp_s} is {} s ahead of now ({now_s}), past the {tolerance_s} s tolerated", timestamp_s.saturating_sub(*now_s))]
    TimestampInFuture {
        /// The signed timestamp, unix seconds.
        timestamp_s: i64,
        /// The verifier's now, unix seconds.
        now_s: i64,
        /// How far either way is accepted, in seconds.
        tolerance_s: i64,
    },
    /// No signature of the scheme's version (e.g. `v1`) in the header.
    #[error("no `{expected}` signature in `{header}` (versions found: {found:?})")]
    BadVersion {
        /// The header read.
        header: &'static str,
        /// The version labels the scheme signs with, e.g. `v1`.
        expected: String,
        /// The labels that were there instead.
        found: Vec<String>,
    },
    /// The signature is not valid base64 or hex, as the scheme requires.
    #[error("signature {signature:?} in `{header}` is not {encoding}")]
    BadEncoding {
        /// The header read.
        header: &'static str,
        /// `base64` or `hex`.
        encoding: &'static str,
        /// The start of the signature as it came (cut short).
        signature: String,
    },
    /// The signature decodes to the wrong number of bytes.
    #[error("signature in `{header}` is {bytes} bytes long, not {expected_bytes} (truncated?)")]
    BadLength {
        /// The header read.
        header: &'static str,
        /// How many bytes it decodes to.
        bytes: usize,
        /// How many the scheme's signature has.
        expected_bytes: usize,
    },
    #[error(
        "none of the {signatures} signature(s) in `{header}` matches the body under any of the {secrets} secret(s)"
    )]
    /// Well-formed signatures, none of which matches the body under any secret.
    NoMatch {
        /// The header read.
        header: &'static str,
        /// Well-formed signatures tried.
        signatures: usize,
        /// Secrets tried against each.
        secrets: usize,
    },
}

impl VerifyError {
    /// What a receiver answers: 400 when the request is not signed at all, 401 when a signature
    /// is there but not acceptable. Never a 5xx: a sender retries those, and a forgery never
    /// gets better.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingHeader(_) => 400,
            _ => 401,
        }
    }
}

/// Signs outgoing requests with every secret of a rotation (the newest first).
#[derive(Clone, Debug)]
///
/// Sign a delivery as a sender would, and verify it as a receiver must (Standard Webhooks):
///
/// ```
/// use hooksim_core::signing::{Scheme, Signer, Verifier};
/// let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// let body = br#"{"uuid":"6a0e1d8e-0000-4000-8000-000000000001","body":{"id":1}}"#;
/// let headers = Signer::new(Scheme::StandardWebhooks, &[secret]).unwrap().sign("msg_1", 1_700_000_000, body);
/// let verifier = Verifier::new(Scheme::StandardWebhooks, &[secret]).unwrap();
/// assert!(verifier.verify(&headers[..], body, 1_700_000_010).is_ok());
/// // One byte changed (a framework re-serialised the JSON) and the signature no longer holds.
/// assert!(verifier.verify(&headers[..], &body[1..], 1_700_000_010).is_err());
/// // Ten minutes later the same request is stale (a replay).
/// assert!(verifier.verify(&headers[..], body, 1_700_000_600).is_err());
/// ```
pub struct Signer {
    scheme: Scheme,
    secrets: Vec<Secret>,
}

impl Signer {
    /// At least one secret; each must parse for `scheme` (see [`Secret::parse`]) and be able to
    /// sign (not a `whpk_` public key).
    pub fn new(scheme: Scheme, secrets: &[&str]) -> Result<Self, SecretError> {
        let secrets = parse_all(scheme, secrets)?;
        if !secrets.iter().all(Secret::can_sign) {
            return Err(SecretError::PublicKeyCannotSign);
        }
        Ok(Self { scheme, secrets })
    }

    /// The scheme it signs for.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The headers that sign `body` as message `id` sent at `timestamp_s` (unix seconds; in a
    /// simulation, the attempt's virtual time). Names are lower case. Standard Webhooks and Stripe
    /// carry one signature per secret (`v1` for HMAC, `v1a` for Ed25519); GitHub, Shopify and
    /// Slack, which send one signature, sign with the first.
    pub fn sign(&self, id: &str, timestamp_s: i64, body: &[u8]) -> Vec<(&'static str, String)> {
        match self.scheme {
            Scheme::StandardWebhooks => standard_webhooks::sign(&self.secrets, id, timestamp_s, body),
            Scheme::Stripe => stripe::sign(&self.secrets, timestamp_s, body),
            Scheme::Github => github::sign(&self.secrets[0], id, body),
            Scheme::Shopify => shopify::sign(&self.secrets[0], body),
            Scheme::Slack => slack::sign(&self.secrets[0], timestamp_s, body),
        }
    }
}

/// Checks incoming requests against one or more secrets (several during a rotation).
#[derive(Clone, Debug)]
pub struct Verifier {
    scheme: Scheme,
    secrets: Vec<Secret>,
    tolerance_s: i64,
}

impl Verifier {
    /// At least one secret; each must parse for `scheme`. Tolerance: [`TOLERANCE_S_DEFAULT`].
    pub fn new(scheme: Scheme, secrets: &[&str]) -> Result<Self, SecretError> {
        Ok(Self { scheme, secrets: parse_all(scheme, secrets)?, tolerance_s: TOLERANCE_S_DEFAULT })
    }

    /// How far (seconds, either way) a signed timestamp may be from `now`; negative counts as 0.
    pub fn with_tolerance_s(mut self, tolerance_s: i64) -> Self {
        self.tolerance_s = tolerance_s.max(0);
        self
    }

    /// The scheme it verifies.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// `Ok` when a signature in `headers` matches the raw `body` bytes (exactly as received, not
    /// re-serialised) under one of the secrets, and its timestamp is within the tolerance of
    /// `now_s` (unix seconds). GitHub and Shopify sign no timestamp, so `now_s` does not matter
    /// there.
    pub fn verify<H: Headers + ?Sized>(&self, headers: &H, body: &[u8], now_s: i64) -> Result<(), VerifyError> {
        let window = Window { now_s, tolerance_s: self.tolerance_s };
        match self.scheme {
            Scheme::StandardWebhooks => standard_webhooks::verify(headers, body, &self.secrets, window),
            Scheme::Stripe => stripe::verify(headers, body, &self.secrets, window),
            Scheme::Github => github::verify(headers, body, &self.secrets),
            Scheme::Shopify => shopify::verify(headers, body, &self.secrets),
            Scheme::Slack => slack::verify(headers, body, &self.secrets, window),
        }
    }

    /// The timestamp a request's signature headers carry (unix seconds), whether or not they
    /// verify; `None` where there is none to read, or the scheme signs none (GitHub, Shopify).
    pub fn timestamp_s<H: Headers + ?Sized>(&self, headers: &H) -> Option<i64> {
        let text = match self.scheme {
            Scheme::StandardWebhooks => standard_webhooks::timestamp(headers),
            Scheme::Stripe => stripe::timestamp(headers),
            Scheme::Slack => slack::timestamp(headers),
            Scheme::Github | Scheme::Shopify => None,
        };
        text?.trim().parse().ok()
    }
}

fn parse_all(scheme: Scheme, secrets: &[&str]) -> Result<Vec<Secret>, SecretError> {
    if secrets.is_empty() {
        return Err(SecretError::Empty);
    }
    secrets.iter().map(|s| Secret::parse(scheme, s)).collect()
}

/// The receiver's clock and how far a timestamp may stray from it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    pub now_s: i64,
    pub tolerance_s: i64,
}

impl Window {
    /// The timestamp in `text` (unix seconds), if it is one and within the window.
    pub(super) fn check(self, text: &str) -> Result<(), VerifyError> {
        let timestamp_s: i64 = text.parse().map_err(|_| VerifyError::TimestampUnparsable(echo(text)))?;
        let (now_s, tolerance_s) = (self.now_s, self.tolerance_s);
        if now_s.saturating_sub(timestamp_s) > tolerance_s {
            return Err(VerifyError::TimestampTooOld { timestamp_s, now_s, tolerance_s });
        }
        if timestamp_s.saturating_sub(now_s) > tolerance_s {
            return Err(VerifyError::TimestampInFuture { timestamp_s, now_s, tolerance_s });
        }
        Ok(())
    }
}

/// The text of header `name`, or why there is none.
pub(super) fn header_text<'a, H: Headers + ?Sized>(headers: &'a H, name: &'static str) -> Result<&'a str, VerifyError> {
    let raw = headers.header(name).ok_or(VerifyError::MissingHeader(name))?;
    std::str::from_utf8(raw).map_err(|_| VerifyError::HeaderNotText(name))
}

/// One signature as found in a header: its version label and its encoded tag.
pub(super) struct Candidate<'a> {
    pub version: &'a str,
    pub encoded: &'a str,
}

/// What a scheme accepts in one header, and the bytes its tags cover.
pub(super) struct Expected<'a> {
    pub header: &'static str,
    pub versions: &'a [Version],
    pub signed: &'a [&'a [u8]],
}

/// One version label and how its tags are made and written.
#[derive(Clone, Copy)]
pub(super) struct Version {
    pub label: &'static str,
    pub algorithm: Algorithm,
    pub encoding: Encoding,
}

#[derive(Clone, Copy)]
pub(super) enum Encoding {
    Base64,
    Hex,
}

impl Expected<'_> {
    fn version(&self, label: &str) -> Option<Version> {
        self.versions.iter().copied().find(|v| v.label == label)
    }

    fn labels(&self) -> String {
        self.versions.iter().map(|v| v.label).collect::<Vec<_>>().join("` or `")
    }
}

/// `Ok` as soon as one candidate of an expected version matches under one secret. Otherwise the
/// most telling error: a well-formed signature that matched nothing beats a malformed one, which
/// beats finding no signature of an expected version at all.
pub(super) fn any_matches<'a>(
    candidates: impl IntoIterator<Item = Candidate<'a>>,
    expected: &Expected<'_>,
    secrets: &[Secret],
) -> Result<(), VerifyError> {
    let (mut well_formed, mut malformed, mut other_versions) = (0, None, Vec::new());
    for candidate in candidates {
        let Some(version) = expected.version(candidate.version) else {
            other_versions.push(echo(candidate.version));
            continue;
        };
        let tag = match decode(expected.header, version, candidate.encoded) {
            Ok(tag) => tag,
            Err(e) => {
                malformed.get_or_insert(e);
                continue;
            }
        };
        well_formed += 1;
        if secrets.iter().any(|s| s.matches(version.algorithm, expected.signed, &tag)) {
            return Ok(());
        }
    }
    let header = expected.header;
    if well_formed > 0 {
        return Err(VerifyError::NoMatch { header, signatures: well_formed, secrets: secrets.len() });
    }
    Err(malformed.unwrap_or(VerifyError::BadVersion { header, expected: expected.labels(), found: other_versions }))
}

fn decode(header: &'static str, version: Version, encoded: &str) -> Result<Vec<u8>, VerifyError> {
    use base64::Engine as _;
    let (decoded, encoding) = match version.encoding {
        Encoding::Base64 => (base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT.decode(encoded).ok(), "base64"),
        Encoding::Hex => (hex::decode(encoded).ok(), "hex"),
    };
    let tag = decoded.ok_or_else(|| VerifyError::BadEncoding { header, encoding, signature: echo(encoded) })?;
    let expected_bytes = match version.algorithm {
        Algorithm::HmacSha256 => 32,
        Algorithm::Ed25519 => 64,
    };
    if tag.len() != expected_bytes {
        return Err(VerifyError::BadLength { header, bytes: tag.len(), expected_bytes });
    }
    Ok(tag)
}

/// `text` cut to [`ECHO_CHARS_MAX`] characters, for error messages about hostile input.
fn echo(text: &str) -> String {
    match text.char_indices().nth(ECHO_CHARS_MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}
