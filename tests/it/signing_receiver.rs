//! Reference receivers that verify signatures, on loopback: a signed delivery is acted on; an
//! unsigned, forged, wrong-version, truncated, stale or future one gets a 4xx (never a 5xx) and no
//! act; a header listing several signatures passes when one matches; verification reads the raw
//! bytes. The receiver's clock is a parameter (here fixed), as a simulation's virtual time will be.
//! Negative control: the same forgeries against a receiver without a secret are acted on.

use hooksim::receiver::{ReceiverKind, ServeOptions, SignatureCheck, app, base_url, serve};
use hooksim::signing::{Scheme, Signer, Verifier};
use std::sync::Arc;
use tokio::net::TcpListener;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const NOW_S: i64 = 1_800_000_000;

/// A paid delivery with its own uuid, written with spacing no serialiser would produce, so that
/// a receiver verifying a re-serialised body would reject every one of them.
fn paid(n: u32) -> String {
    format!(
        r#"{{ "uuid" : "6f1c2a4e-0000-4000-8000-{n:012}", "body": {{"id": {n}, "path": "/invoice/update/state", "details": "paid", "invoice": {{"id": {n}, "state": "paid"}}}} }}"#
    )
}

struct Served {
    base: String,
    http: reqwest::Client,
}

impl Served {
    async fn start(scheme: Scheme, secrets: Option<&[&str]>) -> Self {
        let signature = secrets.map(|secrets| {
            let verifier = Verifier::new(scheme, secrets).unwrap();
            SignatureCheck::new(verifier, Arc::new(|| NOW_S))
        });
        let options = ServeOptions { signature, ..ServeOptions::default() };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = base_url(listener.local_addr().unwrap());
        tokio::spawn(serve(listener, app(ReceiverKind::Dedup, options).0, std::future::pending()));
        Self { base, http: hooksim::http::builder(None, "hooksim-tests").unwrap().build().unwrap() }
    }

    async fn post(&self, headers: &[(&str, String)], body: &str) -> u16 {
        let mut request = self.http.post(format!("{}/webhook", self.base)).body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.unwrap().status().as_u16()
    }

    async fn acted_on(&self) -> Vec<String> {
        let effects: serde_json::Value =
            self.http.get(format!("{}/effects", self.base)).send().await.unwrap().json().await.unwrap();
        effects["effects"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
    }
}

type SignedHeaders = Vec<(&'static str, String)>;

fn signed(scheme: Scheme, secret: &str, n: u32, timestamp_s: i64) -> Vec<(&'static str, String)> {
    Signer::new(scheme, &[secret]).unwrap().sign(&format!("msg_{n}"), timestamp_s, paid(n).as_bytes())
}

fn replace(mut headers: Vec<(&'static str, String)>, name: &str, value: &str) -> Vec<(&'static str, String)> {
    headers.iter_mut().filter(|(n, _)| *n == name).for_each(|(_, v)| *v = value.to_string());
    headers
}

/// Every way a Standard Webhooks delivery can be wrongly signed, each for its own delivery `n`.
fn forgeries() -> Vec<(&'static str, u32, SignedHeaders)> {
    let sw = Scheme::StandardWebhooks;
    let good = |n| signed(sw, SECRET, n, NOW_S);
    let signature = |n| good(n).into_iter().find(|(k, _)| *k == "webhook-signature").unwrap().1;
    vec![
        ("unsigned", 10, Vec::new()),
        ("no signature header", 11, good(11).into_iter().filter(|(k, _)| *k != "webhook-signature").collect()),
        ("forged with another secret", 12, signed(sw, OTHER_SECRET, 12, NOW_S)),
        ("wrong version", 13, replace(good(13), "webhook-signature", &signature(13).replacen("v1,", "v2,", 1))),
        ("truncated", 14, replace(good(14), "webhook-signature", &signature(14)[..20])),
        ("stale", 15, signed(sw, SECRET, 15, NOW_S - 301)),
        ("from the future", 16, signed(sw, SECRET, 16, NOW_S + 301)),
        ("another delivery's signature", 17, replace(good(17), "webhook-signature", &signature(18))),
        ("timestamp changed after signing", 19, replace(good(19), "webhook-timestamp", &(NOW_S - 1).to_string())),
    ]
}

#[tokio::test]
async fn a_verifying_receiver_acts_on_signed_deliveries_only() {
    let served = Served::start(Scheme::StandardWebhooks, Some(&[SECRET])).await;
    assert_eq!(served.post(&signed(Scheme::StandardWebhooks, SECRET, 1, NOW_S), &paid(1)).await, 200);
    for (what, n, headers) in forgeries() {
        let status = served.post(&headers, &paid(n)).await;
        assert!(status == 400 || status == 401, "{what}: {status}");
    }
    // Within the tolerance on either side.
    for (n, t) in [(2, NOW_S - 300), (3, NOW_S + 300)] {
        assert_eq!(served.post(&signed(Scheme::StandardWebhooks, SECRET, n, t), &paid(n)).await, 200);
    }
    assert_eq!(served.acted_on().await, ["fulfil invoice 1", "fulfil invoice 2", "fulfil invoice 3"]);
}

#[tokio::test]
async fn a_header_with_several_signatures_passes_when_one_matches() {
    // The receiver rotated to the new secret; the sender signs with the old and the new one.
    let served = Served::start(Scheme::StandardWebhooks, Some(&[OTHER_SECRET])).await;
    let both = Signer::new(Scheme::StandardWebhooks, &[SECRET, OTHER_SECRET]).unwrap();
    assert_eq!(served.post(&both.sign("msg_4", NOW_S, paid(4).as_bytes()), &paid(4)).await, 200);
    // ...and a receiver holding both secrets accepts a sender still on the old one.
    let served = Served::start(Scheme::StandardWebhooks, Some(&[OTHER_SECRET, SECRET])).await;
    assert_eq!(served.post(&signed(Scheme::StandardWebhooks, SECRET, 5, NOW_S), &paid(5)).await, 200);
}

#[tokio::test]
async fn verification_reads_the_raw_bytes() {
    let served = Served::start(Scheme::StandardWebhooks, Some(&[SECRET])).await;
    let headers = signed(Scheme::StandardWebhooks, SECRET, 6, NOW_S);
    // The same JSON value, re-serialised: not the bytes that were signed.
    let reserialised = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&paid(6)).unwrap()).unwrap();
    assert_eq!(served.post(&headers, &reserialised).await, 401);
    assert_eq!(served.post(&headers, &paid(6)).await, 200);
    assert_eq!(served.acted_on().await, ["fulfil invoice 6"]);
}

#[tokio::test]
async fn stripe_and_github_receivers_verify_too() {
    for scheme in [Scheme::Stripe, Scheme::Github] {
        let served = Served::start(scheme, Some(&["s3cret"])).await;
        assert_eq!(served.post(&signed(scheme, "s3cret", 7, NOW_S), &paid(7)).await, 200, "{scheme}");
        assert_eq!(served.post(&signed(scheme, "guess", 8, NOW_S), &paid(8)).await, 401, "{scheme}");
        assert_eq!(served.post(&[], &paid(9)).await, 400, "{scheme}");
        assert_eq!(served.acted_on().await, ["fulfil invoice 7"], "{scheme}");
    }
}

#[tokio::test]
async fn without_a_secret_the_same_forgeries_are_acted_on() {
    let served = Served::start(Scheme::StandardWebhooks, None).await;
    let forgeries = forgeries();
    for (what, n, headers) in &forgeries {
        assert_eq!(served.post(headers, &paid(*n)).await, 200, "{what}");
    }
    assert_eq!(served.acted_on().await.len(), forgeries.len());
}
