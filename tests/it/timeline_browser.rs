//! The timeline page in a real browser: headless Chromium renders a library scenario's page
//! with no script error and one `.attempt` arrow per attempt of the trace.
//! Skips, saying so, where `chromium` is not installed. `TIMELINE_SCREENSHOT=path` also saves a
//! 1400x900 screenshot of the page there (docs/timeline.png is made so).

use crate::support;

use hooksim::scenario::{evaluate, load_file};
use hooksim::timeline::{TimelineOptions, render};
use hooksim::trace::TraceEvent;
use std::path::{Path, PathBuf};
use support::browser::{body_attr, browse, chromium_or_skip};

/// Runs headless Chromium on the file `page` with `args` added; returns its stdout.
fn browse_file(browser: &Path, page: &Path, args: &[&str]) -> String {
    browse(browser, &format!("file://{}", page.display()), args)
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

#[test]
fn the_page_renders_every_attempt_without_errors_in_chromium() {
    let Some(browser) = chromium_or_skip("the timeline") else { return };
    let dir = tempdir("pages");
    for name in ["dispatcher-crash", "lost-answers-one-way-partition", "disabled-then-reenabled"] {
        let (html, attempts) = page_for(name, &[(60_000, "a marked failure </script><b>x</b>")]);
        let file = dir.join(format!("{name}.html"));
        std::fs::write(&file, &html).unwrap();
        let dom = browse_file(&browser, &file, &["--dump-dom"]);
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
        let screenshot = format!("--screenshot={}", shot.display());
        browse(&browser, &url, &[&screenshot, "--window-size=1400,900"]);
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
    let dom = browse_file(browser, &file, &["--dump-dom"]);
    assert_eq!(body_attr(&dom, "data-errors"), Some("0"), "{:?}", body_attr(&dom, "data-error-text"));
    assert_eq!(body_attr(&dom, "data-attempts"), Some("500"));
    assert!(dom.contains(&format!("the first 500 of {total} attempts are drawn")), "the page says it was cut");
}
