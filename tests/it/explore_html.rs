//! `hooksim run --html DIR`: one self-contained timeline page per run, failed expectations marked.

use crate::support;

use std::process::Command;
use support::scratch::Scratch;

fn scratch(name: &str) -> Scratch {
    support::scratch::scratch("explore-html", name)
}

#[test]
fn run_html_writes_a_page_per_run_with_failures_marked() {
    let dir = scratch("pages");
    let text = std::fs::read_to_string("scenarios/out-of-order.toml").unwrap();
    let broken = dir.join("broken.toml");
    std::fs::write(&broken, text.replacen("exactly = 1", "exactly = 2", 1)).unwrap();
    let html = dir.join("html");
    let out = Command::new(env!("CARGO_BIN_EXE_hooksim"))
        .args(["run", "scenarios/hold-and-release.toml", broken.to_str().unwrap(), "--engine", "both", "--html"])
        .arg(&html)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<String> =
        std::fs::read_dir(&html).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "broken.model.seed13.html",
            "broken.net.seed13.html",
            "hold-and-release.model.seed18.html",
            "hold-and-release.net.seed18.html"
        ]
        .map(String::from)
    );
    let passing = std::fs::read_to_string(html.join("hold-and-release.model.seed18.html")).unwrap();
    let failing = std::fs::read_to_string(html.join("broken.model.seed13.html")).unwrap();
    assert!(passing.starts_with("<!DOCTYPE html>") || passing.starts_with("<!doctype html>"), "{}", &passing[..40]);
    assert!(passing.contains(r#""failures":[]"#));
    assert!(failing.contains("expected exactly 2"), "the failed expectation is on the page");
    assert!(!failing.contains("<script src="), "self-contained");
}
