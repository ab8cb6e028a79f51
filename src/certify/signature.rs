//! The signature cases (`--secret K [--scheme S]`): deliveries signed as the scheme's senders
//! sign them, and forged in each way a verifier must refuse.
//!
//! Sent by hand, not as scenarios: the scenario vocabulary signs nothing, and the point here is
//! the headers and bytes themselves. Timestamps are the wall clock's (the receiver judges them
//! against its own), read by the caller ([`super::script`]).

use super::payload::Delivery;
use super::script::{Acts, Sent, Target};
use crate::signing::{Scheme, SecretError, Signer};
use bytes::Bytes;

/// A signing setup: the receiver's secret and scheme.
#[derive(Clone, Debug)]
pub struct Signing {
    /// The scheme the receiver verifies (`--scheme`).
    pub scheme: Scheme,
    /// Its secret (`--secret`), as the scheme writes it.
    pub secret: String,
}

impl Signing {
    /// Checks the secret can sign for its scheme (bad input before the run otherwise).
    pub fn signer(&self) -> Result<Signer, SecretError> {
        Signer::new(self.scheme, &[self.secret.as_str()])
    }

    /// A secret of the same scheme that the receiver does not know.
    fn stranger(&self) -> Signer {
        let forged = match self.scheme {
            // 24 bytes of base64 behind the prefix, as the scheme writes secrets.
            Scheme::StandardWebhooks => "whsec_Zm9yZ2VkLWJ5LWhvb2tzaW0tY2VydGlmeS0x",
            Scheme::Stripe => "whsec_forged_by_hooksim_certify",
            Scheme::Github | Scheme::Shopify | Scheme::Slack => "forged-by-hooksim-certify",
        };
        Signer::new(self.scheme, &[forged]).expect("the forged secrets are well-formed")
    }
}

/// How far in the past the stale delivery is signed: far outside any tolerance (5 minutes is
/// the common default).
pub const STALE_S: i64 = 60 * 60;

/// Headers for `d`, signed by `signer` at `timestamp_s`.
fn signed(signer: &Signer, d: &Delivery, timestamp_s: i64) -> Vec<(String, String)> {
    let signature = signer.sign(&d.id, timestamp_s, &d.body).into_iter().map(|(n, v)| (n.to_string(), v));
    d.headers.iter().cloned().chain(signature).collect()
}

/// `webhook-signature`, `stripe-signature`, `x-hub-signature-256`, `x-slack-signature`, and
/// Shopify's `x-shopify-hmac-sha256`.
fn is_signature(name: &str) -> bool {
    name.contains("signature") || name.contains("hmac")
}

/// Every signature value in `headers` changed by `change`.
fn with_signature(headers: &[(String, String)], change: impl Fn(&str) -> String) -> Vec<(String, String)> {
    headers.iter().map(|(n, v)| (n.clone(), if is_signature(n) { change(v) } else { v.clone() })).collect()
}

/// The signature with its version prefix changed to one the scheme does not define. Shopify's
/// has no prefix: the same tag is written in hex, as a GitHub-style sender would write it.
fn wrong_version(scheme: Scheme, value: &str) -> String {
    match scheme {
        Scheme::StandardWebhooks => value.replace("v1,", "v2,").replace("v1a,", "v2,"),
        Scheme::Stripe => value.replace("v1=", "v0="),
        Scheme::Github => value.replace("sha256=", "sha1="),
        Scheme::Slack => value.replace("v0=", "v1="),
        Scheme::Shopify => {
            use base64::Engine as _;
            hex::encode(base64::engine::general_purpose::STANDARD.decode(value).unwrap_or_default())
        }
    }
}

/// The signature cut to half its length (a proxy that truncates headers, a buggy sender).
fn truncated(value: &str) -> String {
    let mut cut = value.len() / 2;
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    value[..cut].to_string()
}

/// A validly signed delivery: a 2xx, acted on once.
pub async fn valid(d: &Delivery, s: &Signing, now_s: i64, t: &Target<'_>, sent: &mut Sent) {
    let headers = signed(&s.signer().expect("checked before the run"), d, now_s);
    let a = t.post_with(d.body.clone(), &headers).await;
    sent.require_2xx("validly signed delivery", &a, t.client);
    sent.expect(d, Acts::Once, "the validly signed delivery", true);
}

/// Each forgery gets a 4xx (not a 2xx, which accepts it, nor a 5xx, which asks for it again) and
/// is never acted on. `deliveries` gives one delivery per forgery (four).
pub async fn forgeries(deliveries: [Delivery; 4], s: &Signing, now_s: i64, t: &Target<'_>, sent: &mut Sent) {
    let signer = s.signer().expect("checked before the run");
    let [unsigned, forged, version, cut] = deliveries;
    let plain: Vec<(String, String)> =
        signed(&signer, &unsigned, now_s).into_iter().filter(|(n, _)| !is_signature(n)).collect();
    let cases = [
        ("unsigned delivery", &unsigned, plain),
        ("delivery signed with another secret", &forged, signed(&s.stranger(), &forged, now_s)),
        (
            "delivery with a signature of an unknown version",
            &version,
            with_signature(&signed(&signer, &version, now_s), |v| wrong_version(s.scheme, v)),
        ),
        ("delivery with a truncated signature", &cut, with_signature(&signed(&signer, &cut, now_s), truncated)),
    ];
    for (what, d, headers) in cases {
        let a = t.post_with(d.body.clone(), &headers).await;
        sent.require_4xx(what, &a, t.client);
        sent.expect(d, Acts::Never, what, true);
    }
}

/// Signed correctly an hour ago: a replay, refused with a 4xx and not acted on.
pub async fn stale(d: &Delivery, s: &Signing, now_s: i64, t: &Target<'_>, sent: &mut Sent) {
    let headers = signed(&s.signer().expect("checked before the run"), d, now_s - STALE_S);
    let a = t.post_with(d.body.clone(), &headers).await;
    sent.require_4xx("delivery signed an hour ago", &a, t.client);
    sent.expect(d, Acts::Never, "the delivery signed an hour ago", true);
}

/// During a key rotation the header carries a signature per secret, the unknown new one first:
/// accepted when one matches.
pub async fn rotation(d: &Delivery, s: &Signing, now_s: i64, t: &Target<'_>, sent: &mut Sent) {
    let both = Signer::new(s.scheme, &[stranger_secret(s), s.secret.as_str()]).expect("checked before the run");
    let headers = signed(&both, d, now_s);
    let a = t.post_with(d.body.clone(), &headers).await;
    sent.require_2xx("delivery signed by two secrets (one the receiver's)", &a, t.client);
    sent.expect(d, Acts::Once, "the delivery signed during a rotation", true);
}

fn stranger_secret(s: &Signing) -> &'static str {
    match s.scheme {
        Scheme::StandardWebhooks => "whsec_Zm9yZ2VkLWJ5LWhvb2tzaW0tY2VydGlmeS0x",
        Scheme::Stripe | Scheme::Github | Scheme::Shopify | Scheme::Slack => "whsec_forged_by_hooksim_certify",
    }
}

/// The same envelope written differently (indented, keys in another order, slashes escaped),
/// signed over exactly those bytes: a receiver that verifies a re-serialised body fails.
pub async fn raw_bytes(d: &Delivery, s: &Signing, now_s: i64, t: &Target<'_>, sent: &mut Sent) {
    let unusual = unusual_bytes(d);
    let headers = signed(&s.signer().expect("checked before the run"), &unusual, now_s);
    let a = t.post_with(unusual.body.clone(), &headers).await;
    sent.require_2xx("delivery written unusually, signed over its bytes", &a, t.client);
    sent.expect(d, Acts::Once, "the unusually written delivery", true);
}

/// `d`'s envelope pretty-printed, keys sorted, `/` escaped: the same JSON value, other bytes.
pub fn unusual_bytes(d: &Delivery) -> Delivery {
    let value: serde_json::Value = serde_json::from_slice(&d.body).unwrap_or_default();
    let text = serde_json::to_string_pretty(&value).unwrap_or_default().replace('/', "\\/");
    d.with_body(Bytes::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgeries_change_only_what_they_say() {
        assert_eq!(wrong_version(Scheme::StandardWebhooks, "v1,abc v1,def"), "v2,abc v2,def");
        assert_eq!(wrong_version(Scheme::Stripe, "t=1,v1=ab"), "t=1,v0=ab");
        assert_eq!(wrong_version(Scheme::Github, "sha256=ab"), "sha1=ab");
        assert_eq!(wrong_version(Scheme::Slack, "v0=ab"), "v1=ab");
        assert_eq!(wrong_version(Scheme::Shopify, "q80="), "abcd");
        assert!(is_signature("x-shopify-hmac-sha256") && is_signature("x-slack-signature"));
        assert!(!is_signature("x-slack-request-timestamp") && !is_signature("webhook-id"));
        assert_eq!(truncated("v1,abcdef"), "v1,a");
        for scheme in Scheme::ALL {
            let s = Signing { scheme, secret: stranger_secret(&Signing { scheme, secret: String::new() }).into() };
            s.signer().unwrap();
            s.stranger();
        }
    }

    #[test]
    fn the_unusual_body_is_the_same_value_in_other_bytes() {
        let d = Delivery {
            uuid: uuid::Uuid::nil(),
            event: 1,
            body: Bytes::from_static(br#"{"uuid":"u","body":{"id":1,"path":"/invoice/update/state"}}"#),
            id: uuid::Uuid::nil().to_string(),
            headers: vec![],
        };
        let u = unusual_bytes(&d);
        assert_ne!(u.body, d.body);
        let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).unwrap();
        assert_eq!(parse(&u.body), parse(&d.body));
    }
}
