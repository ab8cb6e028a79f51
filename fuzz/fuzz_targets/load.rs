//! Any bytes, loaded as a scenario: an answer (a scenario or positioned errors), never a panic,
//! an abort or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(errors) = hooksim::scenario::load_bytes("fuzz.toml", data) {
        assert!(!errors.0.is_empty(), "an error without a message");
        for e in &errors.0 {
            assert!(e.line >= 1 && e.column >= 1 && !e.message.is_empty(), "{e:?}");
        }
    }
});
