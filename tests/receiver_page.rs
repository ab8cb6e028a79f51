//! The receiver's page (`GET /` of `hooksim receiver`): the deliveries received, newest first,
//! each marked acted or skipped and why, the envelope pretty-printed, and everything a sender
//! sent set as text. `GET /deliveries` is checked directly; the page itself in headless
//! Chromium, which is skipped, saying so, where it is not installed. `RECEIVER_SCREENSHOT=path`
//! also saves a screenshot (docs/receiver-page.png is made so).

use hooksim::receiver::{DELIVERIES_SHOWN_MAX, ReceiverKind, ServeOptions, SignatureCheck, app, base_url, serve};
use hooksim::signing::{Scheme, Verifier};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The browser gets this long to render the page; past it the test fails (never hangs CI).
const BROWSER_TIMEOUT_MS: u64 = 120_000;
/// A body that would run script if it were ever set as markup.
const EVIL: &str = "<img src=x onerror=\"document.body.dataset.pwned=1\"><b>bold</b>";

fn envelope(uuid: u32, path: &str, details: &str, state: &str) -> String {
    format!(
        r#"{{"uuid":"6f1c2a4e-0000-4000-8000-{uuid:012}","body":{{"id":{uuid},"path":"{path}","details":"{details}","invoice":{{"id":7,"number":"{EVIL_JSON}","client_id":1,"total_cents":100,"state":"{state}"}}}}}}"#,
        EVIL_JSON = EVIL.replace('"', "\\\"")
    )
}

/// Serves a `kind` receiver (verifying `standard-webhooks` signatures when `secret` is given) on
/// loopback for as long as the test runs, in its own runtime; returns its base URL.
fn start(kind: ReceiverKind, secret: Option<&str>) -> String {
    let signature = secret.map(|s| {
        let verifier = Verifier::new(Scheme::StandardWebhooks, &[s]).unwrap();
        SignatureCheck::new(verifier, Arc::new(|| 1_800_000_000))
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(base_url(listener.local_addr().unwrap())).unwrap();
            let options = ServeOptions { signature, ..ServeOptions::default() };
            serve(listener, app(kind, options).0, std::future::pending()).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn post(base: &str, body: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new().post(format!("{base}/webhook")).body(body.to_string()).send().await.unwrap();
        r.status().as_u16()
    })
}

fn get(base: &str, path: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async { reqwest::get(format!("{base}{path}")).await.unwrap().text().await.unwrap() })
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
    let base = start(ReceiverKind::Dedup, None);
    five_deliveries(&base);
    let listing: serde_json::Value = serde_json::from_str(&get(&base, "/deliveries")).unwrap();
    assert_eq!(listing["kind"], "dedup");
    assert_eq!(listing["received"], 5);
    let marks: Vec<&str> =
        listing["deliveries"].as_array().unwrap().iter().map(|d| d["mark"].as_str().unwrap()).collect();
    assert_eq!(marks, ["unreadable-body", "unhandled-path", "stale-state", "duplicate-uuid", "acted"]);
    let acted = &listing["deliveries"][4];
    assert_eq!((acted["verdict"].as_str(), acted["status"].as_u64()), (Some("acted"), Some(200)));
    assert!(acted["body"].as_str().unwrap().contains("\n  \"body\": {"), "pretty-printed: {acted}");
    let page = get(&base, "/");
    assert!(page.contains("<script>") && page.contains("/deliveries"), "the page polls the listing");
}

#[test]
fn a_rejected_signature_is_listed_with_its_body_unread() {
    let base = start(ReceiverKind::Dedup, Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_eq!(post(&base, &envelope(1, "/invoice/update/state", "paid", "paid")), 400);
    let listing: serde_json::Value = serde_json::from_str(&get(&base, "/deliveries")).unwrap();
    let d = &listing["deliveries"][0];
    assert_eq!(
        (d["mark"].as_str(), d["verdict"].as_str(), d["body"].as_str()),
        (Some("rejected-signature"), Some("refused"), Some(""))
    );
}

#[test]
fn the_page_keeps_only_the_newest_deliveries() {
    let base = start(ReceiverKind::Naive, None);
    let extra = 3;
    for n in 0..DELIVERIES_SHOWN_MAX + extra {
        post(&base, &envelope(n as u32, "/invoice/update/state", "paid", "paid"));
    }
    let listing: serde_json::Value = serde_json::from_str(&get(&base, "/deliveries")).unwrap();
    assert_eq!(listing["received"], DELIVERIES_SHOWN_MAX + extra);
    let shown = listing["deliveries"].as_array().unwrap();
    assert_eq!(shown.len(), DELIVERIES_SHOWN_MAX);
    assert_eq!(shown[0]["number"], DELIVERIES_SHOWN_MAX + extra);
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        let out = Command::new("which").arg(name).output().ok()?;
        out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
}

/// Headless Chromium on `url` with `args` added, given virtual time to poll; its stdout.
fn browse(browser: &Path, url: &str, args: &[&str]) -> String {
    let profile = std::env::temp_dir().join(format!("hooksim-receiver-page-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    let dump = profile.with_extension("out");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=4000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(std::fs::File::create(&dump).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    // Wall clock only as a guard against a hung browser; nothing is asserted on time.
    let deadline = Instant::now() + Duration::from_millis(BROWSER_TIMEOUT_MS);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within {BROWSER_TIMEOUT_MS} ms");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = std::fs::read_to_string(&dump).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&profile);
    let _ = std::fs::remove_file(&dump);
    out
}

fn body_attr<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let body = &dom[dom.find("<body")?..];
    let body = &body[..body.find('>')?];
    let start = body.find(&format!("{name}=\""))? + name.len() + 2;
    Some(&body[start..start + body[start..].find('"')?])
}

#[test]
fn the_page_shows_every_delivery_as_text_in_chromium() {
    let Some(browser) = chromium() else {
        println!(
            "SKIPPED: chromium is not installed (apt-get install chromium); the receiver page is not checked in a browser"
        );
        return;
    };
    let base = start(ReceiverKind::Picky, None);
    five_deliveries(&base);
    let dom = browse(&browser, &format!("{base}/"), &["--dump-dom"]);
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
        browse(&browser, &format!("{base}/"), &[&format!("--screenshot={}", shot.display()), "--window-size=1200,900"]);
        assert!(shot.exists(), "no screenshot at {}", shot.display());
    }
}
