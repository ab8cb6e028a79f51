//! Standard Webhooks' asymmetric `v1a` (Ed25519, proposed in the specification): `whsk_` keys
//! sign, `whpk_` keys only verify, and a rotation from HMAC to Ed25519 carries both signatures.
//! Signatures are checked against an independent implementation (Node's built-in crypto); Ed25519
//! signatures are deterministic, so the bytes must be equal.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hooksim::signing::{Scheme, SecretError, Signer, Verifier, VerifyError};

const SEED: [u8; 32] = [7; 32];
const HMAC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BODY: &[u8] = br#"{"test": 2432232314}"#;

fn secret_key(seed: [u8; 32]) -> String {
    format!("whsk_{}", BASE64.encode(seed))
}

fn public_key(seed: [u8; 32]) -> String {
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    format!("whpk_{}", BASE64.encode(public.as_bytes()))
}

fn signature(headers: &[(&'static str, String)]) -> String {
    headers.iter().find(|(n, _)| *n == "webhook-signature").unwrap().1.clone()
}

#[test]
fn a_v1a_signature_is_the_ed25519_signature_node_makes() {
    let headers = Signer::new(Scheme::StandardWebhooks, &[&secret_key(SEED)]).unwrap().sign("msg_1", 1614265330, BODY);
    let script = r#"
        const crypto = require('crypto');
        const [seed, content] = process.argv.slice(1);
        const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed, 'hex')]);
        const key = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
        process.stdout.write(crypto.sign(null, Buffer.from(content), key).toString('base64'));
    "#;
    let content = format!("msg_1.1614265330.{}", std::str::from_utf8(BODY).unwrap());
    let node = std::process::Command::new("node")
        .args(["-e", script, &hex::encode(SEED), &content])
        .output()
        .expect("node is installed");
    assert!(node.status.success(), "{}", String::from_utf8_lossy(&node.stderr));
    assert_eq!(signature(&headers), format!("v1a,{}", String::from_utf8(node.stdout).unwrap()));
}

#[test]
fn the_public_key_verifies_and_another_key_or_a_changed_body_does_not() {
    let headers = Signer::new(Scheme::StandardWebhooks, &[&secret_key(SEED)]).unwrap().sign("msg_1", 100, BODY);
    for key in [public_key(SEED), secret_key(SEED)] {
        assert_eq!(Verifier::new(Scheme::StandardWebhooks, &[&key]).unwrap().verify(&headers, BODY, 100), Ok(()));
    }
    let stranger = Verifier::new(Scheme::StandardWebhooks, &[&public_key([8; 32])]).unwrap();
    assert!(matches!(stranger.verify(&headers, BODY, 100), Err(VerifyError::NoMatch { .. })));
    let mine = Verifier::new(Scheme::StandardWebhooks, &[&public_key(SEED)]).unwrap();
    assert!(matches!(mine.verify(&headers, b"{}", 100), Err(VerifyError::NoMatch { .. })));
    // An HMAC-only receiver does not take `v1a`, and an Ed25519-only one does not take `v1`.
    let hmac_only = Verifier::new(Scheme::StandardWebhooks, &[HMAC_SECRET]).unwrap();
    assert!(matches!(hmac_only.verify(&headers, BODY, 100), Err(VerifyError::BadVersion { .. })));
    let v1 = Signer::new(Scheme::StandardWebhooks, &[HMAC_SECRET]).unwrap().sign("msg_1", 100, BODY);
    assert!(matches!(mine.verify(&v1, BODY, 100), Err(VerifyError::BadVersion { .. })));
    // A v1a tag cut short is a bad length, not a panic.
    let cut = vec![
        ("webhook-id", "msg_1".to_string()),
        ("webhook-timestamp", "100".to_string()),
        ("webhook-signature", signature(&headers)[..48].to_string()),
    ];
    assert!(matches!(mine.verify(&cut, BODY, 100), Err(VerifyError::BadLength { expected_bytes: 64, .. })));
}

#[test]
fn a_rotation_from_hmac_to_ed25519_carries_both_and_either_receiver_accepts() {
    let both = Signer::new(Scheme::StandardWebhooks, &[HMAC_SECRET, &secret_key(SEED)]).unwrap();
    let headers = both.sign("msg_2", 100, BODY);
    let sig = signature(&headers);
    assert!(sig.starts_with("v1,") && sig.contains(" v1a,"), "{sig}");
    for key in [HMAC_SECRET.to_string(), public_key(SEED)] {
        assert_eq!(Verifier::new(Scheme::StandardWebhooks, &[&key]).unwrap().verify(&headers, BODY, 100), Ok(()));
    }
}

#[test]
fn public_keys_cannot_sign_and_malformed_keys_are_errors() {
    assert_eq!(
        Signer::new(Scheme::StandardWebhooks, &[&public_key(SEED)]).unwrap_err(),
        SecretError::PublicKeyCannotSign
    );
    let err = |key: &str| Verifier::new(Scheme::StandardWebhooks, &[key]).unwrap_err();
    assert_eq!(err("whsk_"), SecretError::BarePrefix("whsk_"));
    assert_eq!(err("whpk_"), SecretError::BarePrefix("whpk_"));
    assert!(matches!(err("whpk_AAAA"), SecretError::BadKey("whpk_", _)));
    assert!(matches!(err("whsk_AAAA"), SecretError::BadKey("whsk_", _)));
    assert!(matches!(err("whsk_***"), SecretError::BadBase64("whsk_", _)));
    // A 64-byte key pair whose public half is not the seed's.
    let mut pair = [7u8; 64];
    pair[32..].copy_from_slice(&[9; 32]);
    assert!(matches!(err(&format!("whsk_{}", BASE64.encode(pair))), SecretError::BadKey("whsk_", _)));
}
