//! `docs/protocol.schema.json` describes every message: each example in `docs/protocol.md` and
//! every line the harness and `hooksim dispatcher --stdio` exchange in real runs validates
//! against it, and reads back into the Rust message types. Broken messages do not validate.

use crate::support::protocol::*;
use hooksim::core::Input;
use hooksim::domain::InvoiceState;
use hooksim::protocol::message::{FromDispatcher, ToDispatcher};
use hooksim::protocol::serve::JOURNAL_FILE;
use hooksim::time::{DAY_MS, HOUR_MS, MINUTE_MS};
use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Schemas {
    to_dispatcher: jsonschema::Validator,
    from_dispatcher: jsonschema::Validator,
}

fn schemas() -> Schemas {
    let text = std::fs::read_to_string(format!("{ROOT}/docs/protocol.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let part = |name: &str| {
        let sub = json!({
            "$schema": schema["$schema"],
            "$defs": schema["$defs"],
            "$ref": format!("#/$defs/{name}"),
        });
        jsonschema::draft202012::new(&sub).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    jsonschema::draft202012::new(&schema).expect("the whole schema compiles");
    Schemas { to_dispatcher: part("to_dispatcher"), from_dispatcher: part("from_dispatcher") }
}

fn check(validator: &jsonschema::Validator, line: &str) {
    let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{line}\n{errors:#?}");
}

/// The ```json harness / ```json dispatcher blocks of the spec, one message per line.
fn doc_examples() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(format!("{ROOT}/docs/protocol.md")).unwrap();
    let mut examples = Vec::new();
    let mut side: Option<String> = None;
    for line in doc.lines() {
        match (&side, line.strip_prefix("```json ")) {
            (None, Some(s)) => side = Some(s.trim().to_string()),
            (Some(_), _) if line.starts_with("```") => side = None,
            (Some(s), _) if !line.trim().is_empty() => examples.push((s.clone(), line.to_string())),
            _ => {}
        }
    }
    examples
}

#[test]
fn every_example_in_the_spec_validates_and_reads_back() {
    let schemas = schemas();
    let examples = doc_examples();
    assert!(examples.len() >= 25, "{} examples", examples.len());
    let mut types = std::collections::BTreeSet::new();
    for (side, line) in &examples {
        let value: Value = serde_json::from_str(line).unwrap();
        types.insert(format!("{side} {}", value["type"].as_str().unwrap()));
        match side.as_str() {
            "harness" => {
                check(&schemas.to_dispatcher, line);
                let m: ToDispatcher = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                assert_eq!(serde_json::to_value(&m).unwrap(), value, "reads back as written");
            }
            "dispatcher" => {
                check(&schemas.from_dispatcher, line);
                let m: FromDispatcher = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                assert_eq!(serde_json::to_value(&m).unwrap(), value, "reads back as written");
            }
            other => panic!("unknown example side {other}"),
        }
    }
    // Every message type has an example: 7 inputs, 16 outputs.
    assert_eq!(types.len(), 7 + 16, "{types:#?}");
}

#[test]
fn every_line_exchanged_in_real_runs_validates() {
    let schemas = schemas();
    let scripts = [
        Script {
            seed: 3,
            policy: snapbill(),
            webhooks: vec![hook("down", &[]), hook("up", &["/invoice/*"])],
            timeline: vec![
                (0, client(1)),
                (1, invoice(4, 1)),
                (2, set_state(4, InvoiceState::Paid)),
                (HOUR_MS, Input::Crash),
                (HOUR_MS + 1, client(2)),
                (2 * HOUR_MS, Input::Restart),
                (9 * DAY_MS, client(3)),
                (9 * DAY_MS + HOUR_MS, Input::Enable(webhook(0))),
            ],
            replies: vec![vec![status(500), silent()], vec![ok(40_000), ok(1)]],
            run_for_ms: 10 * DAY_MS,
        },
        Script {
            seed: 9,
            policy: quick_policy(),
            webhooks: vec![hook("a", &[])],
            timeline: (1..=8).map(|i| (i * MINUTE_MS, client(i))).collect(),
            replies: vec![vec![silent(), status(503), ok(2)]],
            run_for_ms: HOUR_MS,
        },
    ];
    let mut lines = 0;
    let mut seen = std::collections::BTreeSet::new();
    for script in &scripts {
        let mut process = reference_process(script, 1_000_000);
        let run = drive(&mut process, script);
        assert!(!run.log.iter().any(|l| l.contains("failed")), "{:#?}", run.log);
        for (direction, line) in process.transcript() {
            let value: Value = serde_json::from_str(line).unwrap();
            match direction {
                hooksim::protocol::Direction::ToDispatcher => {
                    check(&schemas.to_dispatcher, line);
                    seen.insert(format!("> {}", value["type"].as_str().unwrap()));
                }
                hooksim::protocol::Direction::FromDispatcher => {
                    check(&schemas.from_dispatcher, line);
                    seen.insert(format!("< {}", value["type"].as_str().unwrap()));
                }
            }
            lines += 1;
        }
        assert!(process.state_dir().join(JOURNAL_FILE).exists(), "the reference journals its inputs");
    }
    assert!(lines > 100, "{lines} lines");
    for kind in ["> hello", "> change", "> answer", "> enable", "> crash", "> restart", "> wake", "< send", "< email"] {
        assert!(seen.contains(kind), "{kind} exchanged: {seen:#?}");
    }
}

#[test]
fn broken_messages_do_not_validate() {
    let schemas = schemas();
    let bad_out = [
        r#"{"type":"done"}"#,
        r#"{"type":"done","wake_at":-1}"#,
        r#"{"type":"done","wake_at":null,"extra":1}"#,
        r#"{"type":"explode"}"#,
        r#"{"type":"send","attempt":1,"delivery":"not-a-uuid","webhook":0,"event":1,"url":"u","body":"{}","timeout_ms":1}"#,
        r#"{"type":"attempt_finished","attempt":1,"delivery":"bb343ad3-31b9-43b6-885f-26a39b9f7e63","webhook":0,"event":1,"outcome":{"kind":"teapot"}}"#,
    ];
    for line in bad_out {
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(!schemas.from_dispatcher.is_valid(&value), "{line} should not validate");
        assert!(serde_json::from_str::<FromDispatcher>(line).is_err(), "{line} should not parse");
    }
    let bad_in = [r#"{"type":"wake"}"#, r#"{"type":"answer","now":1,"attempt":1,"outcome":{"kind":"status"}}"#];
    for line in bad_in {
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(!schemas.to_dispatcher.is_valid(&value), "{line} should not validate");
    }
}
