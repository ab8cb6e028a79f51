//! Known answers for the signature schemes. Every vector below is copied, as data, from
//! the published policies (docs/providers.md gives their sources) ("Standard Webhooks signatures", "GitHub signatures", "Slack request
//! signatures"), which read them in the specification's, the providers' and the libraries' own
//! documentation and tests; the Stripe vector is checked against an independent implementation
//! (Python's `hmac`), and the Shopify one was computed the way Shopify's documentation verifies.

use hooksim::signing::{Scheme, Secret, SecretError, Signer, Verifier, VerifyError};

/// the published policies: the specification's example.
const SPEC: Vector = Vector {
    secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
    timestamp_s: 1649367553,
    body: r#"{"email":"test@example.com","username":"test_user"}"#,
    signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
};

/// the published policies: the vector most Standard Webhooks libraries test (a space after the colon).
const LIBRARIES: Vector = Vector {
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    timestamp_s: 1614265330,
    body: r#"{"test": 2432232314}"#,
    signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

/// the published policies: signatures the libraries reject with the LIBRARIES secret, id and body.
const FORGED: [&str; 5] = [
    "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
    "v1,dawfeoifkpqwoekfpqoekf",
    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", // one character off
    "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", // wrong version
    "v1,",
];

/// the published policies: GitHub's documented example.
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const GITHUB_BODY: &str = "Hello, World!";
const GITHUB_SIGNATURE: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

struct Vector {
    secret: &'static str,
    id: &'static str,
    timestamp_s: i64,
    body: &'static str,
    signature: &'static str,
}

impl Vector {
    fn headers(&self, signature: &str) -> Vec<(&'static str, String)> {
        vec![
            ("webhook-id", self.id.to_string()),
            ("webhook-timestamp", self.timestamp_s.to_string()),
            ("webhook-signature", signature.to_string()),
        ]
    }

    fn verify(&self, headers: &[(&'static str, String)], now_s: i64) -> Result<(), VerifyError> {
        let verifier = Verifier::new(Scheme::StandardWebhooks, &[self.secret]).unwrap();
        verifier.verify(headers, self.body.as_bytes(), now_s)
    }
}

fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> &'a str {
    &headers.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn standard_webhooks_vectors_sign_and_verify() {
    for v in [&SPEC, &LIBRARIES] {
        let signed =
            Signer::new(Scheme::StandardWebhooks, &[v.secret]).unwrap().sign(v.id, v.timestamp_s, v.body.as_bytes());
        assert_eq!(header(&signed, "webhook-signature"), v.signature);
        assert_eq!(header(&signed, "webhook-id"), v.id);
        assert_eq!(header(&signed, "webhook-timestamp"), v.timestamp_s.to_string());
        assert_eq!(v.verify(&v.headers(v.signature), v.timestamp_s), Ok(()));
        assert_eq!(v.verify(&signed, v.timestamp_s + 300), Ok(()), "the edge of the tolerance is inside");
    }
}

#[test]
fn every_forged_signature_of_the_libraries_is_rejected_with_its_reason() {
    let v = &LIBRARIES;
    let now = v.timestamp_s;
    let errors: Vec<VerifyError> = FORGED.iter().map(|sig| v.verify(&v.headers(sig), now).unwrap_err()).collect();
    assert!(matches!(errors[0], VerifyError::NoMatch { signatures: 1, secrets: 1, .. }), "{:?}", errors[0]);
    // Its last symbol leaves stray bits: not canonical base64.
    assert!(matches!(errors[1], VerifyError::BadEncoding { .. }), "{:?}", errors[1]);
    assert!(matches!(errors[2], VerifyError::NoMatch { .. }), "{:?}", errors[2]);
    assert!(matches!(&errors[3], VerifyError::BadVersion { found, .. } if found == &["v2"]), "{:?}", errors[3]);
    assert!(matches!(errors[4], VerifyError::BadLength { bytes: 0, .. }), "{:?}", errors[4]);
    // A valid header cut to 8 characters.
    let cut = &v.signature[..8];
    assert!(matches!(v.verify(&v.headers(cut), now), Err(VerifyError::BadEncoding { .. })));
    assert!(errors.iter().all(|e| e.status() == 401));
}

#[test]
fn a_space_separated_list_is_accepted_when_any_entry_matches() {
    let v = &LIBRARIES;
    let list = format!("{} {} {}", FORGED[0], FORGED[3], v.signature);
    assert_eq!(v.verify(&v.headers(&list), v.timestamp_s), Ok(()));
    let forged_only = FORGED.join(" ");
    assert!(matches!(v.verify(&v.headers(&forged_only), v.timestamp_s), Err(VerifyError::NoMatch { .. })));
}

#[test]
fn missing_headers_are_errors_naming_the_header() {
    let v = &LIBRARIES;
    for missing in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let headers: Vec<_> = v.headers(v.signature).into_iter().filter(|(n, _)| *n != missing).collect();
        assert_eq!(v.verify(&headers, v.timestamp_s), Err(VerifyError::MissingHeader(missing)));
        assert_eq!(VerifyError::MissingHeader(missing).status(), 400);
    }
}

#[test]
fn bad_timestamps_are_errors() {
    let v = &LIBRARIES;
    let mut headers = v.headers(v.signature);
    headers[1].1 = "hello".to_string();
    assert_eq!(v.verify(&headers, v.timestamp_s), Err(VerifyError::TimestampUnparsable("hello".into())));
    // More than 5 minutes past, and more than 5 minutes ahead of the receiver's clock.
    let good = v.headers(v.signature);
    assert!(matches!(v.verify(&good, v.timestamp_s + 301), Err(VerifyError::TimestampTooOld { .. })));
    assert!(matches!(v.verify(&good, v.timestamp_s - 301), Err(VerifyError::TimestampInFuture { .. })));
    assert!(matches!(v.verify(&good, i64::MIN), Err(VerifyError::TimestampInFuture { .. })));
    assert!(matches!(v.verify(&good, i64::MAX), Err(VerifyError::TimestampTooOld { .. })));
}

#[test]
fn empty_secrets_and_a_bare_prefix_are_errors() {
    assert_eq!(Secret::parse(Scheme::StandardWebhooks, "").unwrap_err(), SecretError::Empty);
    assert_eq!(Secret::parse(Scheme::StandardWebhooks, "whsec_").unwrap_err(), SecretError::BarePrefix("whsec_"));
    assert!(matches!(Secret::parse(Scheme::StandardWebhooks, "whsec_not base64!"), Err(SecretError::BadBase64(..))));
    for scheme in [Scheme::Stripe, Scheme::Github] {
        assert_eq!(Secret::parse(scheme, "").unwrap_err(), SecretError::Empty);
    }
    assert_eq!(Verifier::new(Scheme::Github, &[]).unwrap_err(), SecretError::Empty);
    // Without the prefix the base64 key is read the same (as the libraries do).
    let bare = LIBRARIES.secret.trim_start_matches("whsec_");
    let signed = Signer::new(Scheme::StandardWebhooks, &[bare]).unwrap().sign(
        LIBRARIES.id,
        LIBRARIES.timestamp_s,
        LIBRARIES.body.as_bytes(),
    );
    assert_eq!(header(&signed, "webhook-signature"), LIBRARIES.signature);
}

#[test]
fn github_vector_signs_and_verifies_and_one_character_off_does_not() {
    let signer = Signer::new(Scheme::Github, &[GITHUB_SECRET]).unwrap();
    let signed = signer.sign("72d3162e-cc78-11e3-81ab-4c9367dc0958", 0, GITHUB_BODY.as_bytes());
    assert_eq!(header(&signed, "x-hub-signature-256"), GITHUB_SIGNATURE);
    assert_eq!(header(&signed, "x-github-delivery"), "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    let verifier = Verifier::new(Scheme::Github, &["an old secret", GITHUB_SECRET]).unwrap();
    let with = |sig: &str| vec![("X-Hub-Signature-256", sig.to_string())];
    // No timestamp is signed: any `now` will do.
    assert_eq!(verifier.verify(&with(GITHUB_SIGNATURE), GITHUB_BODY.as_bytes(), i64::MIN), Ok(()));
    let off = GITHUB_SIGNATURE.replace("e17", "e18");
    assert!(matches!(
        verifier.verify(&with(&off), GITHUB_BODY.as_bytes(), 0),
        Err(VerifyError::NoMatch { secrets: 2, .. })
    ));
    let sha1 = "sha1=757107ea0eb2509fc211221cce984b8a37570b6d";
    assert!(matches!(verifier.verify(&with(sha1), GITHUB_BODY.as_bytes(), 0), Err(VerifyError::BadVersion { .. })));
    assert!(matches!(
        verifier.verify(&with(&GITHUB_SIGNATURE[..20]), GITHUB_BODY.as_bytes(), 0),
        Err(VerifyError::BadEncoding { .. })
    ));
    assert_eq!(
        verifier.verify(&Vec::<(&str, &str)>::new(), GITHUB_BODY.as_bytes(), 0),
        Err(VerifyError::MissingHeader("x-hub-signature-256"))
    );
}

#[test]
fn stripe_signatures_match_an_independent_hmac_and_verify_within_the_tolerance() {
    let (secret, body, t) = ("whsec_test_secret", r#"{"id":"evt_1","object":"event"}"#, 1_700_000_000);
    let python = std::process::Command::new("python3")
        .args(["-c", "import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), (sys.argv[2]+'.'+sys.argv[3]).encode(), hashlib.sha256).hexdigest())", secret, &t.to_string(), body])
        .output()
        .expect("python3 is installed");
    let expected = String::from_utf8(python.stdout).unwrap();
    let signed = Signer::new(Scheme::Stripe, &[secret]).unwrap().sign("evt_1", t, body.as_bytes());
    assert_eq!(header(&signed, "stripe-signature"), format!("t={t},v1={}", expected.trim()));
    let verifier = Verifier::new(Scheme::Stripe, &[secret]).unwrap();
    assert_eq!(verifier.verify(&signed, body.as_bytes(), t + 299), Ok(()));
    assert!(matches!(verifier.verify(&signed, body.as_bytes(), t + 301), Err(VerifyError::TimestampTooOld { .. })));
    // The body as received, byte for byte: re-serialised JSON (a space added) does not verify.
    assert!(matches!(
        verifier.verify(&signed, br#"{"id": "evt_1","object":"event"}"#, t),
        Err(VerifyError::NoMatch { .. })
    ));
    let no_t = vec![("stripe-signature", format!("v1={}", expected.trim()))];
    assert_eq!(verifier.verify(&no_t, body.as_bytes(), t), Err(VerifyError::MissingTimestamp("stripe-signature")));
    let v0_only = vec![("stripe-signature", format!("t={t},v0={}", expected.trim()))];
    assert!(matches!(verifier.verify(&v0_only, body.as_bytes(), t), Err(VerifyError::BadVersion { .. })));
}

#[test]
fn a_rotation_signs_with_every_secret_and_either_secret_verifies() {
    let (old, new) = (LIBRARIES.secret, SPEC.secret);
    for scheme in [Scheme::StandardWebhooks, Scheme::Stripe] {
        let signed = Signer::new(scheme, &[new, old]).unwrap().sign("msg_1", 10, b"{}");
        for secret in [old, new] {
            assert_eq!(Verifier::new(scheme, &[secret]).unwrap().verify(&signed, b"{}", 10), Ok(()), "{scheme}");
        }
    }
}

/// Slack's documented example (<https://api.slack.com/authentication/verifying-requests-from-slack>,
/// via the published policies, "Slack request signatures"): a slash command's form body.
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const SLACK_TIMESTAMP_S: i64 = 1531420618;
const SLACK_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SLACK_SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

/// Shopify publishes no example vector. This one was COMPUTED, not published: with Python's
/// `hmac` and `base64` exactly as the Python verification sample of Shopify's documentation
/// (<https://shopify.dev/docs/apps/build/webhooks/subscribe/https>, "Verify the webhook") does,
/// `base64.b64encode(hmac.new(CLIENT_SECRET.encode('utf-8'), data, hashlib.sha256).digest())`.
const SHOPIFY_SECRET: &str = "my_client_secret";
const SHOPIFY_BODY: &str = r#"{"id":450789469,"email":"bob.norman@mail.example.com","financial_status":"paid"}"#;
const SHOPIFY_HMAC: &str = "DlU1FAxI+OeSWepe1XtqVjCrMPX+GGbEXS6a2XjBIPA=";
/// The same body re-serialised (a space after the first colon), computed the same way.
const SHOPIFY_RESERIALISED: &str =
    r#"{"id": 450789469,"email":"bob.norman@mail.example.com","financial_status":"paid"}"#;

fn slack_headers(timestamp: &str, signature: &str) -> Vec<(&'static str, String)> {
    vec![("X-Slack-Request-Timestamp", timestamp.to_string()), ("X-Slack-Signature", signature.to_string())]
}

#[test]
fn slack_documented_example_signs_and_verifies() {
    let signed =
        Signer::new(Scheme::Slack, &[SLACK_SECRET]).unwrap().sign("unused", SLACK_TIMESTAMP_S, SLACK_BODY.as_bytes());
    assert_eq!(header(&signed, "x-slack-signature"), SLACK_SIGNATURE);
    assert_eq!(header(&signed, "x-slack-request-timestamp"), "1531420618");
    assert_eq!(signed.len(), 2, "no id header: Slack signs none");
    let verifier = Verifier::new(Scheme::Slack, &[SLACK_SECRET]).unwrap();
    let documented = slack_headers("1531420618", SLACK_SIGNATURE);
    assert_eq!(verifier.verify(&documented, SLACK_BODY.as_bytes(), SLACK_TIMESTAMP_S), Ok(()));
    assert_eq!(verifier.timestamp_s(&documented), Some(SLACK_TIMESTAMP_S));
    // Five minutes either way are inside Slack's replay window; a second more is not.
    assert_eq!(verifier.verify(&documented, SLACK_BODY.as_bytes(), SLACK_TIMESTAMP_S + 300), Ok(()));
    assert_eq!(verifier.verify(&documented, SLACK_BODY.as_bytes(), SLACK_TIMESTAMP_S - 300), Ok(()));
}

#[test]
fn slack_refuses_another_secret_another_body_a_stale_timestamp_and_a_malformed_header() {
    let (t, body) = (SLACK_TIMESTAMP_S, SLACK_BODY.as_bytes());
    let documented = slack_headers("1531420618", SLACK_SIGNATURE);
    let wrong_secret = Verifier::new(Scheme::Slack, &["8f742231b10e8888abcd99yyyzzz85a6"]).unwrap();
    assert!(matches!(wrong_secret.verify(&documented, body, t), Err(VerifyError::NoMatch { .. })));
    let verifier = Verifier::new(Scheme::Slack, &[SLACK_SECRET]).unwrap();
    // The form body decoded and encoded again (`%2F` written `/`): other bytes.
    let reencoded = SLACK_BODY.replace("%2F", "/");
    assert!(matches!(verifier.verify(&documented, reencoded.as_bytes(), t), Err(VerifyError::NoMatch { .. })));
    assert!(matches!(verifier.verify(&documented, body, t + 301), Err(VerifyError::TimestampTooOld { .. })));
    assert!(matches!(verifier.verify(&documented, body, t - 301), Err(VerifyError::TimestampInFuture { .. })));
    // The timestamp is signed: moving it (into the window) breaks the signature.
    let moved = slack_headers("1531420619", SLACK_SIGNATURE);
    assert!(matches!(verifier.verify(&moved, body, t), Err(VerifyError::NoMatch { .. })));
    let v1 = slack_headers("1531420618", &SLACK_SIGNATURE.replace("v0=", "v1="));
    assert!(matches!(verifier.verify(&v1, body, t), Err(VerifyError::BadVersion { .. })));
    let cut = slack_headers("1531420618", &SLACK_SIGNATURE[..20]);
    assert!(matches!(verifier.verify(&cut, body, t), Err(VerifyError::BadEncoding { .. })));
    let not_seconds = slack_headers("yesterday", SLACK_SIGNATURE);
    assert!(matches!(verifier.verify(&not_seconds, body, t), Err(VerifyError::TimestampUnparsable(_))));
    for missing in ["X-Slack-Request-Timestamp", "X-Slack-Signature"] {
        let headers: Vec<_> = documented.iter().filter(|(n, _)| *n != missing).cloned().collect();
        let err = verifier.verify(&headers, body, t).unwrap_err();
        assert_eq!(
            err,
            VerifyError::MissingHeader(if missing.ends_with("Timestamp") {
                "x-slack-request-timestamp"
            } else {
                "x-slack-signature"
            })
        );
        assert_eq!(err.status(), 400);
    }
}

#[test]
fn shopify_computed_vector_signs_and_verifies_at_any_time() {
    let signed = Signer::new(Scheme::Shopify, &[SHOPIFY_SECRET]).unwrap().sign("unused", 0, SHOPIFY_BODY.as_bytes());
    assert_eq!(signed, vec![("x-shopify-hmac-sha256", SHOPIFY_HMAC.to_string())]);
    let verifier = Verifier::new(Scheme::Shopify, &["an old secret", SHOPIFY_SECRET]).unwrap();
    let with = |hmac: &str| vec![("X-Shopify-Hmac-SHA256", hmac.to_string())];
    // No timestamp is signed: any `now` will do, and there is none to read back.
    for now_s in [i64::MIN, 0, i64::MAX] {
        assert_eq!(verifier.verify(&with(SHOPIFY_HMAC), SHOPIFY_BODY.as_bytes(), now_s), Ok(()));
    }
    assert_eq!(verifier.timestamp_s(&with(SHOPIFY_HMAC)), None);
}

#[test]
fn shopify_refuses_another_secret_a_reserialised_body_hex_and_a_cut_header() {
    let body = SHOPIFY_BODY.as_bytes();
    let with = |hmac: &str| vec![("x-shopify-hmac-sha256", hmac.to_string())];
    let wrong_secret = Verifier::new(Scheme::Shopify, &["my_client_secreT"]).unwrap();
    assert!(matches!(wrong_secret.verify(&with(SHOPIFY_HMAC), body, 0), Err(VerifyError::NoMatch { .. })));
    let verifier = Verifier::new(Scheme::Shopify, &[SHOPIFY_SECRET]).unwrap();
    // The same JSON value in other bytes: the signature covers the bytes.
    let reserialised = SHOPIFY_RESERIALISED.as_bytes();
    assert!(matches!(verifier.verify(&with(SHOPIFY_HMAC), reserialised, 0), Err(VerifyError::NoMatch { .. })));
    assert_eq!(verifier.verify(&with("CXiPUnpGromfdsgU0/BrcKsGSBZyHp6FXel4dgxpS+0="), reserialised, 0), Ok(()));
    // The right tag written in hex (as GitHub writes its own) is not Shopify's base64.
    let hex_tag = "0e5535140c48f8e79259ea5ed57b6a5630ab30f5fe1866c45d2e9ad978c120f0";
    assert!(matches!(verifier.verify(&with(hex_tag), body, 0), Err(VerifyError::BadLength { bytes: 48, .. })));
    assert!(matches!(verifier.verify(&with(&SHOPIFY_HMAC[..24]), body, 0), Err(VerifyError::BadLength { .. })));
    assert!(matches!(verifier.verify(&with("not base64!"), body, 0), Err(VerifyError::BadEncoding { .. })));
    assert!(matches!(verifier.verify(&with(""), body, 0), Err(VerifyError::BadLength { bytes: 0, .. })));
    assert_eq!(
        verifier.verify(&Vec::<(&str, &str)>::new(), body, 0),
        Err(VerifyError::MissingHeader("x-shopify-hmac-sha256"))
    );
    for scheme in [Scheme::Shopify, Scheme::Slack] {
        assert_eq!(Secret::parse(scheme, "").unwrap_err(), SecretError::Empty);
    }
}

#[test]
fn schemes_with_one_signature_sign_with_the_first_secret_of_a_rotation() {
    let signed =
        Signer::new(Scheme::Shopify, &[SHOPIFY_SECRET, "another"]).unwrap().sign("m", 0, SHOPIFY_BODY.as_bytes());
    assert_eq!(header(&signed, "x-shopify-hmac-sha256"), SHOPIFY_HMAC);
    let signed = Signer::new(Scheme::Slack, &[SLACK_SECRET, "another"]).unwrap().sign(
        "m",
        SLACK_TIMESTAMP_S,
        SLACK_BODY.as_bytes(),
    );
    assert_eq!(header(&signed, "x-slack-signature"), SLACK_SIGNATURE);
    assert!(!Scheme::Shopify.signs_with_every_secret() && !Scheme::Slack.signs_with_every_secret());
    assert!(Scheme::Slack.signs_timestamp() && !Scheme::Shopify.signs_timestamp());
    assert_eq!("shopify".parse::<Scheme>(), Ok(Scheme::Shopify));
    assert_eq!("slack".parse::<Scheme>(), Ok(Scheme::Slack));
}
