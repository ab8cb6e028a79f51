//! A test skipped for a missing tool says so in `target/skipped-tests.txt` (`support/skip.rs`),
//! which `.ci/run` prints after the tests: here each part of that is shown to work, on a list in
//! a scratch folder (the real list only ever holds real skips).

use crate::support::scratch::scratch;
use crate::support::skip::{append, current_test, line, list_path};

#[test]
fn a_skip_is_a_line_with_the_tests_name_and_its_reason() {
    let dir = scratch("skip-list", "lines");
    let list = dir.join("skipped-tests.txt");
    append(&list, &line("topic::first", "`frob` is not installed"));
    append(&list, &line("topic::second", "no `grue` package (pip install grue)"));
    let text = std::fs::read_to_string(&list).unwrap();
    assert_eq!(
        text,
        "SKIPPED topic::first: `frob` is not installed\nSKIPPED topic::second: no `grue` package (pip install grue)\n"
    );
}

#[test]
fn a_skip_is_named_after_the_test_that_skipped() {
    assert_eq!(current_test(), "skip_list::a_skip_is_named_after_the_test_that_skipped");
}

#[test]
fn skips_on_many_threads_at_once_are_whole_lines() {
    let dir = scratch("skip-list", "threads");
    let list = dir.join("skipped-tests.txt");
    std::thread::scope(|s| {
        for t in 0..8 {
            let list = &list;
            s.spawn(move || (0..50).for_each(|n| append(list, &line(&format!("topic::t{t}_{n}"), "a reason"))));
        }
    });
    let text = std::fs::read_to_string(&list).unwrap();
    assert_eq!(text.lines().count(), 400);
    assert!(text.lines().all(|l| l.starts_with("SKIPPED topic::t") && l.ends_with(": a reason")), "{text}");
}

#[test]
fn the_list_is_in_the_target_directory() {
    let list = list_path();
    assert_eq!(list.file_name().unwrap(), "skipped-tests.txt");
    assert_eq!(list.parent(), std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).parent());
}

/// The negative control: a skip that cannot be recorded is not a silent pass.
#[test]
fn a_list_that_cannot_be_written_fails_the_test() {
    let dir = scratch("skip-list", "unwritable");
    let list = dir.join("no-such-folder").join("skipped-tests.txt");
    let recorded = std::panic::catch_unwind(|| append(&list, &line("topic::lost", "a reason")));
    assert!(recorded.is_err(), "a skip that could not be written passed silently");
}
