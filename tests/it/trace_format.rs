//! The trace's JSON-lines form reads back: every library scenario's trace, on both engines,
//! written and read again, is the same trace with the same SHA-256.

use hooksim::scenario::{discover, load_file};
use hooksim::trace::Trace;

#[test]
fn every_library_trace_reads_back_equal_on_both_engines() {
    let files = discover(&["scenarios"]);
    assert!(files.len() >= 15, "the library has {} scenarios", files.len());
    for f in &files {
        let scenario = load_file(f).unwrap();
        for (engine, out) in
            [("model", hooksim::model::run(&scenario.world)), ("net", hooksim::net::run(&scenario.world))]
        {
            let trace = out.unwrap_or_else(|e| panic!("{} on {engine}: {e}", f.display())).trace;
            let text = trace.to_json_lines();
            let back = Trace::from_json_lines(&text).unwrap_or_else(|e| panic!("{} on {engine}: {e}", f.display()));
            assert_eq!(back, trace, "{} on {engine}", f.display());
            assert_eq!(back.sha256(), trace.sha256(), "{} on {engine}", f.display());
            assert_eq!(back.to_json_lines(), text, "{} on {engine}", f.display());
        }
    }
}
