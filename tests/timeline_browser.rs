//! The timeline page in a real browser: headless Chromium renders a library scenario's page
//! with no script error and one `.attempt` arrow per attempt of the trace.
//! Skips, saying so, where `chromium` is not installed. `TIMELINE_SCREENSHOT=path` also saves a
//! 1400x900 screenshot of the page there (docs/timeline.png is made so).

use hooksim::scenario::{evaluate, load_file};
use hooksim::timeline::{TimelineOptions, render};
use hooksim::trace::TraceEvent;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser gets this long to render a page; past it the test fails (never hangs CI).
const BROWSER_TIMEOUT_MS: u64 = 120_000;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        let out = Command::new("which").arg(name).output().ok()?;
        out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
}

/// Runs headless Chromium on `page` with `args` added; returns its stdout.
fn browse(browser: &Path, page: &Path, args: &[&str]) -> String {
    browse_url(browser, &format!("file://{}", page.display()), args)
}

fn browse_url(browser: &Path, url: &str, args: &[&str]) -> String {
    let profile = tempdir("profile");
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

fn tempdir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hooksim-timeline-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The page of a library scenario's model-engine trace, with its failed expectations (none)
/// plus `extra` failures marked.
fn page_for(name: &str, extra: &[(u64, &str)]) -> (String, usize) {
    let scenario = load_file(format!("scenarios/{name}.toml")).unwrap();
    let out = hooksim::model::run(&scenario.world).unwrap();
    assert!(evaluate(&scenario, &out.trace).is_empty());
    let mut options = TimelineOptions::for_world(&scenario.world);
    options.failures = extra.iter().map(|(t, m)| (hooksim::time::SimTime::from_millis(*t), m.to_string())).collect();
    let attempts = out.trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::AttemptStarted { .. })).count();
    (render(&out.trace, &options), attempts)
}

fn body_attr<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let body = &dom[dom.find("<body")?..];
    let body = &body[..body.find('>')?];
    let start = body.find(&format!("{name}=\""))? + name.len() + 2;
    Some(&body[start..start + body[start..].find('"')?])
}

#[test]
fn the_page_renders_every_attempt_without_errors_in_chromium() {
    let Some(browser) = chromium() else {
        println!(
            "SKIPPED: chromium is not installed (apt-get install chromium); the timeline is not checked in a browser"
        );
        return;
    };
    let dir = tempdir("pages");
    for name in ["dispatcher-crash", "lost-answers-one-way-partition", "disabled-then-reenabled"] {
        let (html, attempts) = page_for(name, &[(60_000, "a marked failure </script><b>x</b>")]);
        let file = dir.join(format!("{name}.html"));
        std::fs::write(&file, &html).unwrap();
        let dom = browse(&browser, &file, &["--dump-dom"]);
        assert_eq!(
            body_attr(&dom, "data-rendered"),
            Some("1"),
            "{name}: the page did not finish drawing:\n{dom:.2000}"
        );
        assert_eq!(body_attr(&dom, "data-errors"), Some("0"), "{name}: {:?}", body_attr(&dom, "data-error-text"));
        assert_eq!(body_attr(&dom, "data-attempts"), Some(attempts.to_string().as_str()), "{name}");
        assert_eq!(dom.matches("class=\"attempt").count(), attempts, "{name}: one arrow per attempt");
        assert!(attempts > 0);
        assert!(!dom.contains("<b>x</b>"), "{name}: a failure's text became markup");
        assert!(dom.contains("a marked failure"), "{name}: the failure is listed");
    }
    huge_trace_is_cut_and_says_so(&browser, &dir);
    if let Ok(shot) = std::env::var("TIMELINE_SCREENSHOT") {
        let (html, _) = page_for(&std::env::var("TIMELINE_SCENARIO").unwrap_or("dispatcher-crash".into()), &[]);
        let file = dir.join("shot.html");
        std::fs::write(&file, html).unwrap();
        let shot = std::path::absolute(shot).unwrap();
        // `TIMELINE_PIN=N` opens the page with attempt N's body shown.
        // `TIMELINE_AT=ms` opens it scrolled to that time.
        let pin = std::env::var("TIMELINE_PIN").map(|n| format!("#attempt={n}")).unwrap_or_default();
        let pin = std::env::var("TIMELINE_AT").map(|ms| format!("#at={ms}")).unwrap_or(pin);
        let url = format!("file://{}{pin}", file.display());
        browse_url(&browser, &url, &[&format!("--screenshot={}", shot.display()), "--window-size=1400,900"]);
        assert!(shot.exists(), "no screenshot at {}", shot.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The 10-day failing world with 20 invoices has thousands of attempts: the page draws the first
/// `attempts_max`, says where it was cut, and still renders without errors.
fn huge_trace_is_cut_and_says_so(browser: &Path, dir: &Path) {
    let world = hooksim::world::sample::failing_world(10, 20);
    let out = hooksim::model::run(&world).unwrap();
    let total = out.trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::AttemptStarted { .. })).count();
    let mut options = TimelineOptions::for_world(&world);
    options.attempts_max = 500;
    assert!(total > options.attempts_max, "{total} attempts");
    let file = dir.join("huge.html");
    std::fs::write(&file, render(&out.trace, &options)).unwrap();
    let dom = browse(browser, &file, &["--dump-dom"]);
    assert_eq!(body_attr(&dom, "data-errors"), Some("0"), "{:?}", body_attr(&dom, "data-error-text"));
    assert_eq!(body_attr(&dom, "data-attempts"), Some("500"));
    assert!(dom.contains(&format!("the first 500 of {total} attempts are drawn")), "the page says it was cut");
}
