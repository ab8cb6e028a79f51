//! Headless Chromium for the page tests: found on the PATH, or the test is skipped, saying so.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The browser gets this long to render a page; past it the test fails (never hangs CI).
pub const BROWSER_TIMEOUT_MS: u64 = 120_000;

/// The first of `chromium`, `chromium-browser`, `google-chrome` on the PATH.
pub fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        let out = Command::new("which").arg(name).output().ok()?;
        out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
}

/// [`chromium`], or `None` after printing that the test is skipped and that `what` is not
/// checked in a browser.
pub fn chromium_or_skip(what: &str) -> Option<PathBuf> {
    let browser = chromium();
    if browser.is_none() {
        crate::support::skip::skipped(&format!(
            "chromium is not installed (apt-get install chromium); {what} is not checked in a browser"
        ));
    }
    browser
}

/// Runs headless Chromium on `url` with `args` added (`--dump-dom`, `--screenshot=...`), in a
/// fresh profile; returns its stdout.
pub fn browse(browser: &std::path::Path, url: &str, args: &[&str]) -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::SeqCst);
    let profile = std::env::temp_dir().join(format!("hooksim-browser-{}-{call}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    // Into a file, not a pipe: a big DOM would fill the pipe while nothing reads it.
    let dump = profile.with_extension("out");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
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

/// The value of attribute `name` on the dumped DOM's `<body>`.
pub fn body_attr<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let body = &dom[dom.find("<body")?..];
    let body = &body[..body.find('>')?];
    let start = body.find(&format!("{name}=\""))? + name.len() + 2;
    Some(&body[start..start + body[start..].find('"')?])
}
