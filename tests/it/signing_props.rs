//! Properties of signing: whatever the headers say, verification answers without panicking; what
//! a signer signs, a verifier with one of its secrets accepts, and reads its timestamp back; any
//! change to the body is caught.

use hooksim::signing::{Scheme, Secret, Signer, Verifier};
use proptest::prelude::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// An Ed25519 `v1a` key (32 bytes of 7): Standard Webhooks verifiers hold both kinds.
const ED25519_SECRET: &str = "whsk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
const HEADER_NAMES: [&str; 9] = [
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "stripe-signature",
    "x-hub-signature-256",
    "x-shopify-hmac-sha256",
    "x-slack-request-timestamp",
    "x-slack-signature",
    "x-other",
];

fn scheme() -> impl Strategy<Value = Scheme> {
    prop::sample::select(Scheme::ALL.to_vec())
}

/// Header values biased towards what the parsers look for (versions, separators, digits, base64).
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        "(v1,|v1a,|v2,|t=|v1=|v0=|sha256=| |,|=|[0-9]{1,20}|-|[A-Za-z0-9+/=]{0,88}|[0-9a-f]{0,64}){0,8}"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #[test]
    fn arbitrary_headers_never_panic(
        scheme in scheme(),
        headers in prop::collection::vec((prop::sample::select(HEADER_NAMES.to_vec()), header_value()), 0..6),
        body in any::<Vec<u8>>(),
        now_s in any::<i64>(),
        tolerance_s in any::<i64>(),
    ) {
        let verifier = Verifier::new(scheme, &[SECRET, ED25519_SECRET]).unwrap().with_tolerance_s(tolerance_s);
        let _ = verifier.timestamp_s(&headers);
        if let Err(e) = verifier.verify(&headers, &body, now_s) {
            prop_assert!((400..500).contains(&e.status()));
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn arbitrary_secrets_never_panic(scheme in scheme(), text in any::<String>()) {
        let _ = Secret::parse(scheme, &text);
    }

    #[test]
    fn what_is_signed_verifies_and_a_changed_body_does_not(
        scheme in scheme(),
        id in "[a-zA-Z0-9_]{1,32}",
        timestamp_s in 0i64..4_000_000_000,
        body in prop::collection::vec(any::<u8>(), 1..256),
        flip in any::<prop::sample::Index>(),
    ) {
        let secrets: &[&str] = if scheme == Scheme::StandardWebhooks { &[ED25519_SECRET, SECRET] } else { &[SECRET] };
        let signed = Signer::new(scheme, secrets).unwrap().sign(&id, timestamp_s, &body);
        let verifier = Verifier::new(scheme, &["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", SECRET]).unwrap();
        prop_assert_eq!(verifier.verify(&signed, &body, timestamp_s), Ok(()));
        let mut changed = body.clone();
        changed[flip.index(body.len())] ^= 1;
        prop_assert!(verifier.verify(&signed, &changed, timestamp_s).is_err());
        // The signed timestamp reads back (`certify sender` judges its freshness); GitHub and
        // Shopify sign none.
        let expected = scheme.signs_timestamp().then_some(timestamp_s);
        prop_assert_eq!(verifier.timestamp_s(&signed), expected);
    }
}
