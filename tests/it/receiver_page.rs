//! The receiver's page (`GET /` of `hooksim receiver`): the deliveries received, newest first,
//! each marked acted or skipped and why, the envelope pretty-printed, and everything a sender
//! sent set as text. `GET /deliveries` is checked directly; the page itself in headless
//! Chromium, which is skipped, saying so, where it is not installed. `RECEIVER_SCREENSHOT=path`
//! also saves a screenshot (docs/receiver-page.png is made so).

use crate::support;

use hooksim::receiver::{DELIVERIES_SHOWN_MAX, ReceiverKind, ServeOptions, SignatureCheck};
use hooksim::signing::{Scheme, Verifier};
use std::sync::Arc;
use support::browser::{body_attr, browse, chromium_or_skip};
use support::loopback::{Served, serve_with};

/// Chromium polls the page in virtual time: this much of it, then the DOM is dumped.
const VIRTUAL_TIME: &str = "--virtual-time-budget=4000";

/// A body that would run script if it were ever set as markup.
const EVIL: &str = "<img src=x onerror=\"document.body.dataset.pwned=1\"><b>bold</b>";

fn envelope(uuid: u32, path: &str, details: &str, state: &str) -> String {
    format!(
        r#"{{"uuid":"6f1c2a4e-0000-4000-8000-{uuid:012}","body":{{"id":{uuid},"path":"{path}","details":"{details}","invoice":{{"id":7,"number":"{EVIL_JSON}","client_id":1,"total_cents":100,"state":"{state}"}}}}}}"#,
        EVIL_JSON = EVIL.replace('"', "\\\"")
    )
}

/// Serves a `kind` receiver (verifying `standard-webhooks` signatures when `secret` is given) on
/// loopback until dropped.
fn start(kind: ReceiverKind, secret: Option<&str>) -> Served {
    let signature = secret.map(|s| {
        let verifier = Verifier::new(Scheme::StandardWebhooks, &[s]).unwrap();
        SignatureCheck::new(verifier, Arc::new(|| 1_800_000_000))
    });
    serve_with(kind, ServeOptions { signature, ..ServeOptions::default() })
}

fn post(base: &str, body: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let r = test_client().post(format!("{base}/webhook")).body(body.to_string()).send().await.unwrap();
        r.status().as_u16()
    })
}

fn get(base: &str, path: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async { test_client().get(format!("{base}{path}")).send().await.unwrap().text().await.unwrap() })
}

/// A paid delivery, the same again, a stale one, an unhandled path, and a body that is not JSON.
fn five_deliveries(base: &str) {
    let paid = envelope(1, "/invoice/update/state", "paid", "paid");
    assert_eq!(post(base, &paid), 200);
    assert_eq!(post(base, &paid), 200);
    assert_eq!(post(base, &envelope(2, "/invoice/update/state", "paid", "cancelled")), 200);
    // 200 from dedup, 500 from picky.
    post(base, &envelope(3, "/invoice/add", "", "unpaid"));
    assert_eq!(post(base, "not json </pre><script>document.body.dataset.pwned=1</script>"), 400);
}

#[test]
fn deliveries_are_listed_newest_first_and_marked() {
    let served = start(ReceiverKind::Dedup, None);
    let base = served.base.as_str();
    five_deliveries(base);
    let listing: serde_json::Value = serde_json::from_str(&get(base, "/deliveries")).unwrap();
    assert_eq!(listing["kind"], "dedup");
    assert_eq!(listing["received"], 5);
    let marks: Vec<&str> =
        listing["deliveries"].as_array().unwrap().iter().map(|d| d["mark"].as_str().unwrap()).collect();
    assert_eq!(marks, ["unreadable-body", "unhandled-path", "stale-state", "duplicate-uuid", "acted"]);
    let acted = &listing["deliveries"][4];
    assert_eq!((acted["verdict"].as_str(), acted["status"].as_u64()), (Some("acted"), Some(200)));
    assert!(acted["body"].as_str().unwrap().contains("\n  \"body\": {"), "pretty-printed: {acted}");
    let page = get(base, "/");
    assert!(page.contains("<script>") && page.contains("/deliveries"), "the page polls the listing");
}

#[test]
fn a_rejected_signature_is_listed_with_its_body_unread() {
    let served = start(ReceiverKind::Dedup, Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    let base = served.base.as_str();
    assert_eq!(post(base, &envelope(1, "/invoice/update/state", "paid", "paid")), 400);
    let listing: serde_json::Value = serde_json::from_str(&get(base, "/deliveries")).unwrap();
    let d = &listing["deliveries"][0];
    assert_eq!(
        (d["mark"].as_str(), d["verdict"].as_str(), d["body"].as_str()),
        (Some("rejected-signature"), Some("refused"), Some(""))
    );
}

#[test]
fn the_page_keeps_only_the_newest_deliveries() {
    let served = start(ReceiverKind::Naive, None);
    let base = served.base.as_str();
    let extra = 3;
    for n in 0..DELIVERIES_SHOWN_MAX + extra {
        post(base, &envelope(n as u32, "/invoice/update/state", "paid", "paid"));
    }
    let listing: serde_json::Value = serde_json::from_str(&get(base, "/deliveries")).unwrap();
    assert_eq!(listing["received"], DELIVERIES_SHOWN_MAX + extra);
    let shown = listing["deliveries"].as_array().unwrap();
    assert_eq!(shown.len(), DELIVERIES_SHOWN_MAX);
    assert_eq!(shown[0]["number"], DELIVERIES_SHOWN_MAX + extra);
}

#[test]
fn the_page_shows_every_delivery_as_text_in_chromium() {
    let Some(browser) = chromium_or_skip("the receiver page") else { return };
    let served = start(ReceiverKind::Picky, None);
    let base = served.base.as_str();
    five_deliveries(base);
    let dom = browse(&browser, &format!("{base}/"), &["--dump-dom", VIRTUAL_TIME]);
    assert_eq!(body_attr(&dom, "data-rendered"), Some("1"), "the page did not draw:\n{dom:.2000}");
    assert_eq!(body_attr(&dom, "data-errors"), Some("0"), "{:?}", body_attr(&dom, "data-error-text"));
    assert_eq!(body_attr(&dom, "data-deliveries"), Some("5"));
    assert_eq!(body_attr(&dom, "data-pwned"), None, "a body ran as script");
    assert!(!dom.contains("<b>bold</b>") && dom.contains("&lt;b&gt;bold&lt;/b&gt;"), "a body became markup");
    let marks: Vec<&str> = dom
        .match_indices("data-mark=\"")
        .map(|(i, m)| {
            let rest = &dom[i + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    // picky answers 500 to the path it does not handle.
    assert_eq!(marks, ["unreadable-body", "unhandled-path", "stale-state", "duplicate-uuid", "acted"]);
    if let Ok(shot) = std::env::var("RECEIVER_SCREENSHOT") {
        let shot = std::path::absolute(shot).unwrap();
        let screenshot = format!("--screenshot={}", shot.display());
        browse(&browser, &format!("{base}/"), &[&screenshot, "--window-size=1200,900", VIRTUAL_TIME]);
        assert!(shot.exists(), "no screenshot at {}", shot.display());
    }
}

fn test_client() -> reqwest::Client {
    hooksim::http::builder(None, "hooksim-tests").unwrap().build().unwrap()
}
