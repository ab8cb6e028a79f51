//! A dispatcher process that breaks the protocol gets a clear `ProtocolError` naming the line and
//! what was wrong: never a panic, never a hang. One test per kind of misbehaviour, each against a
//! tiny `sh` script playing a broken dispatcher.

use hooksim::core::{Dispatch, Input};
use hooksim::domain::{Change, Client, WebhookConfig};
use hooksim::policy::Profile;
use hooksim::protocol::{ProcessConfig, ProcessDispatcher, ProcessError, ProtocolError};
use hooksim::time::SimTime;
use hooksim::trace::Outcome;

const HELLO: &str = r#"{"type":"hello","version":1}"#;
const UUID: &str = "11111111-1111-4111-8111-111111111111";

fn hooks() -> Vec<WebhookConfig> {
    vec![WebhookConfig { url: "http://shop/webhook".into(), paths: vec![], owner_email: "ops@shop".into() }]
}

fn add_client() -> Input {
    Input::Change(Change::AddClient(Client { id: 1, name: "Ada".into(), email: "ada@example.com".into() }))
}

/// A dispatcher that answers `hello`, then writes `lines` (one `echo` each) after the first input.
fn config(after_first_input: &[&str]) -> ProcessConfig {
    let mut script = format!("read h; echo '{HELLO}'; read i; ");
    for line in after_first_input {
        script.push_str(&format!("echo '{line}'; "));
    }
    script.push_str("while read i; do echo '{\"type\":\"done\",\"wake_at\":null}'; done");
    ProcessConfig::new(vec!["sh".into(), "-c".into(), script])
}

fn spawn(config: ProcessConfig) -> ProcessDispatcher {
    ProcessDispatcher::spawn(config, &Profile::Snapbill.policy(), hooks(), 1).expect("the fake says hello")
}

fn send(attempt: u64, body: &str) -> String {
    format!(
        r#"{{"type":"send","attempt":{attempt},"delivery":"{UUID}","webhook":0,"event":1,"url":"http://shop/webhook","body":"{body}","timeout_ms":30000}}"#
    )
}

/// The error of the first input, as text; asserts it is a protocol error.
fn first_error(config: ProcessConfig) -> String {
    let mut d = spawn(config);
    match d.handle(SimTime::from_millis(1_000), add_client()) {
        Err(ProcessError::Protocol(e)) => {
            let text = e.to_string();
            // Once broken, the process is not used again: every later step says so.
            let again =
                d.handle_timeout(SimTime::from_millis(2_000)).and(d.handle(SimTime::from_millis(2_000), add_client()));
            assert!(matches!(
                again,
                Err(ProcessError::Protocol(ProtocolError::Broken(_))) | Err(ProcessError::Input(_)) | Ok(())
            ));
            text
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

fn assert_has(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{text:?} should contain {part:?}");
    }
}

#[test]
fn a_malformed_line() {
    let e = first_error(config(&["this is not json"]));
    assert_has(&e, &["dispatcher line 2", "not a protocol message", "this is not json"]);
}

#[test]
fn an_unknown_message_type() {
    let e = first_error(config(&[r#"{"type":"explode","now":1}"#]));
    assert_has(&e, &["line 2", "unknown message type \"explode\""]);
}

#[test]
fn a_missing_field() {
    let e = first_error(config(&[r#"{"type":"done"}"#]));
    assert_has(&e, &["line 2", "wake_at"]);
}

#[test]
fn an_answer_to_no_question() {
    let done = r#"{"type":"done","wake_at":null}"#;
    let mut d = spawn(config(&[done, r#"{"type":"dispatcher_restarted"}"#]));
    d.handle(SimTime::from_millis(1), add_client()).expect("the first input is answered");
    // The stray line is found before the next input is written when it has arrived by then
    // ("no input was waiting"); a slower one is read as an answer to that input, which it is not.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let e = d.handle(SimTime::from_millis(2), add_client_2()).unwrap_err().to_string();
    assert_has(&e, &["line 3", "dispatcher_restarted"]);
}

fn add_client_2() -> Input {
    Input::Change(Change::AddClient(Client { id: 2, name: "Bob".into(), email: "bob@example.com".into() }))
}

#[test]
fn an_attempt_id_reused() {
    let body = r#"{\"uuid\":1}"#;
    let e = first_error(config(&[&send(1, body), &send(1, body)]));
    assert_has(&e, &["line 3", "attempt id 1 was used before"]);
}

#[test]
fn a_body_that_is_not_json() {
    let e = first_error(config(&[&send(1, "hello there")]));
    assert_has(&e, &["line 2", "the body is not JSON"]);
}

#[test]
fn a_wake_up_in_the_past() {
    let e = first_error(config(&[r#"{"type":"done","wake_at":999}"#]));
    assert_has(&e, &["line 2", "wake_at 0d 00:00:00.999 is in the past", "now is 0d 00:00:01.000"]);
}

#[test]
fn a_fact_about_nothing_the_harness_knows() {
    let e = first_error(config(&[&format!(
        r#"{{"type":"delivered","delivery":"{UUID}","webhook":0,"event":1,"attempts":1}}"#
    )]));
    assert_has(&e, &["line 2", "no delivery 11111111"]);
    let e = first_error(config(&[
        r#"{"type":"attempt_lost","attempt":9,"delivery":"11111111-1111-4111-8111-111111111111","webhook":0}"#,
    ]));
    assert_has(&e, &["only a crash loses attempts"]);
}

#[test]
fn a_send_to_another_url() {
    let line = send(1, r#"{}"#).replace("http://shop/webhook", "http://evil/");
    let e = first_error(config(&[&line]));
    assert_has(&e, &["line 2", "is not webhook#0's url"]);
}

#[test]
fn a_line_over_the_limit() {
    let long = format!(r#"{{"type":"webhook_recovered","webhook":0,"pad":"{}"}}"#, "x".repeat(500));
    let mut c = config(&[&long]);
    c.line_bytes_max = 200;
    let e = first_error(c);
    assert_has(&e, &["line 2", "longer than the 200-byte line limit"]);
    // Its first QUOTE_CHARS_MAX characters are quoted, and the cut is marked.
    let quoted = &long[..hooksim::protocol::QUOTE_CHARS_MAX];
    assert_has(&e, &[&format!("    {quoted}…")]);
    assert!(!e.contains(&long[..hooksim::protocol::QUOTE_CHARS_MAX + 1]), "no more than the limit: {e}");
}

#[test]
fn a_line_over_the_default_8_mib_limit_is_quoted() {
    // Written by a real process under the real limit: 8 MiB and one byte, no newline needed.
    let script = format!("read h; echo '{HELLO}'; read i; head -c 8388609 /dev/zero | tr '\\0' 'y'; echo; sleep 5");
    let e = first_error(ProcessConfig::new(vec!["sh".into(), "-c".into(), script]));
    assert_has(&e, &["line 2", "longer than the 8388608-byte line limit", &format!("    {}…", "y".repeat(200))]);
}

#[test]
fn too_many_outputs_for_one_input() {
    let recovered = r#"{"type":"webhook_recovered","webhook":0}"#;
    let mut c = config(&[recovered, recovered, recovered]);
    c.outputs_per_input_max = 2;
    let e = first_error(c);
    assert_has(&e, &["line 4", "more than 2 outputs for one input"]);
}

#[test]
fn a_process_that_exits_keeps_its_stderr_for_the_report() {
    let script = format!("read h; echo '{HELLO}'; read i; echo 'Traceback: boom at line 7' >&2; exit 3");
    let e = first_error(ProcessConfig::new(vec!["sh".into(), "-c".into(), script]));
    assert_has(&e, &["exited", "3", "`change`", "Traceback: boom at line 7"]);
}

#[test]
fn a_process_that_says_nothing() {
    let script = format!("read h; echo '{HELLO}'; read i; exec sleep 30");
    let mut c = ProcessConfig::new(vec!["sh".into(), "-c".into(), script]);
    c.reply_timeout_ms = 300;
    let e = first_error(c);
    assert_has(&e, &["said nothing for 300 ms", "reply_timeout_ms", "`change`"]);
}

#[test]
fn a_process_that_speaks_another_version() {
    let script = "read h; echo '{\"type\":\"hello\",\"version\":7}'".to_string();
    let c = ProcessConfig::new(vec!["sh".into(), "-c".into(), script]);
    let e = ProcessDispatcher::spawn(c, &Profile::Snapbill.policy(), hooks(), 1).err().expect("refused").to_string();
    assert_has(&e, &["line 1", "speaks protocol version 7; the harness speaks 1"]);
}

#[test]
fn a_command_that_does_not_exist() {
    let c = ProcessConfig::from_command_line("/nonexistent/dispatcher --fast");
    let e = ProcessDispatcher::spawn(c, &Profile::Snapbill.policy(), hooks(), 1).err().expect("refused").to_string();
    assert_has(&e, &["could not start the dispatcher `/nonexistent/dispatcher --fast`"]);
}

#[test]
fn answers_to_attempts_never_sent_are_the_callers_error() {
    let mut d = spawn(config(&[r#"{"type":"done","wake_at":null}"#]));
    let e = d.handle(SimTime::ZERO, Input::Answer { attempt: 4, outcome: Outcome::Timeout }).unwrap_err();
    assert!(matches!(e, ProcessError::Input(_)), "{e:?}");
}

#[test]
fn a_line_that_is_not_utf8() {
    let script = format!("read h; echo '{HELLO}'; read i; printf '\\377\\376\\n'; sleep 5");
    let e = first_error(ProcessConfig::new(vec!["sh".into(), "-c".into(), script]));
    assert_has(&e, &["line 2", "not UTF-8"]);
}

#[test]
fn a_process_that_never_reads_its_input() {
    // A `hello` larger than a pipe's buffer, to a process that reads nothing: the harness must
    // not block writing it, and gives up after the reply timeout.
    let many: Vec<WebhookConfig> = (0..2_000)
        .map(|i| WebhookConfig {
            url: format!("http://shop{i}/webhook"),
            paths: vec![],
            owner_email: "ops@shop".into(),
        })
        .collect();
    let mut c = ProcessConfig::new(vec!["sh".into(), "-c".into(), "exec sleep 30".into()]);
    c.reply_timeout_ms = 300;
    let e = ProcessDispatcher::spawn(c, &Profile::Snapbill.policy(), many, 1).err().expect("refused").to_string();
    assert_has(&e, &["said nothing for 300 ms", "`hello`"]);
}
