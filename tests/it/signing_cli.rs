//! `hooksim sign` through the binary: the known answers of the published policies (docs/providers.md gives their sources), a curl line that
//! sends exactly the body, and exit 2 for bad secrets, schemes and bodies.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

const HOOKSIM: &str = env!("CARGO_BIN_EXE_hooksim");

fn sign(args: &[&str], body: &[u8]) -> Output {
    let mut child = Command::new(HOOKSIM)
        .arg("sign")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A refused invocation may exit before reading its input.
    let _ = child.stdin.take().unwrap().write_all(body);
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn prints_the_known_answers_of_standard_webhooks_and_github() {
    // the published policies, "Standard Webhooks signatures": the libraries' vector.
    let args = ["--scheme", "standard-webhooks", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"];
    let out = stdout(&sign(
        &[&args[..], &["--id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "--timestamp", "1614265330"]].concat(),
        br#"{"test": 2432232314}"#,
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek",
            "webhook-timestamp: 1614265330",
            "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "",
        ]
    );
    // the published policies, "GitHub signatures".
    let out = stdout(&sign(
        &["--scheme", "github", "--secret", "It's a Secret to Everybody", "--id", "d1"],
        b"Hello, World!",
    ));
    assert!(
        out.contains("x-hub-signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n"),
        "{out}"
    );
    assert!(out.contains("x-github-delivery: d1\n"), "{out}");
}

#[test]
fn the_curl_line_carries_every_header_and_exactly_the_body() {
    let body = b"@{\"note\": \"it's\"}\n";
    let args = ["--scheme", "stripe", "--secret", "whsec_a", "--secret", "whsec_b", "--url", "http://127.0.0.1:9/hook"];
    let out = stdout(&sign(&args, body));
    let (headers, curl) = out.split_once("\n\n").unwrap();
    let curl = curl.trim_end_matches('\n');
    assert_eq!(headers.lines().count(), 1, "{out}");
    assert!(headers.starts_with("stripe-signature: t=") && headers.matches(",v1=").count() == 2, "{headers}");
    assert!(curl.contains(&format!(" -H '{headers}'")), "{curl}");
    assert!(curl.contains(" 'http://127.0.0.1:9/hook' "), "{curl}");
    // The part before the pipe is what feeds curl: the shell must print the body byte for byte.
    let (printf, rest) = curl.split_once(" | curl ").unwrap();
    assert!(rest.ends_with("--data-binary @-"), "{rest}");
    let printed = Command::new("sh").args(["-c", printf]).output().unwrap();
    assert_eq!(printed.stdout, body);
}

#[test]
fn the_default_id_follows_the_body_and_the_default_timestamp_is_now() {
    let args = ["--scheme", "standard-webhooks", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"];
    let (a, b, c) = (stdout(&sign(&args, b"{}")), stdout(&sign(&args, b"{}")), stdout(&sign(&args, b"[]")));
    let id = |out: &str| out.lines().next().unwrap().to_string();
    assert_eq!(id(&a), id(&b));
    assert_ne!(id(&a), id(&c));
    let timestamp: i64 = a.lines().nth(1).unwrap().trim_start_matches("webhook-timestamp: ").parse().unwrap();
    assert!(timestamp > 1_700_000_000, "{a}");
}

#[test]
fn bad_secrets_schemes_and_bodies_exit_2_with_a_reason() {
    let refused = |args: &[&str], body: &[u8]| {
        let out = sign(args, body);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(refused(&["--scheme", "github", "--secret", ""], b"{}").contains("secret is empty"));
    assert!(refused(&["--scheme", "standard-webhooks", "--secret", "whsec_"], b"{}").contains("bare `whsec_`"));
    assert!(refused(&["--scheme", "standard-webhooks", "--secret", "whsec_!!"], b"{}").contains("not base64"));
    assert!(refused(&["--scheme", "svix-ish", "--secret", "k"], b"{}").contains("unknown signature scheme"));
    assert!(refused(&["--scheme", "github"], b"{}").contains("--secret"));
    let huge = vec![b' '; 4 * 1024 * 1024 + 1];
    assert!(refused(&["--scheme", "github", "--secret", "k"], &huge).contains("longer than"));
}

#[test]
fn ids_urls_and_timestamps_that_would_forge_a_header_or_a_bad_signature_exit_2() {
    let secret = ["--scheme", "standard-webhooks", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"];
    let refused = |extra: &[&str]| {
        let out = sign(&[&secret[..], extra].concat(), b"{}");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(out.stdout.is_empty(), "nothing is printed: {extra:?}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    };
    let injected = "msg_1\r\nx-injected: yes";
    assert!(refused(&["--id", injected]).contains("control character"));
    assert!(refused(&["--id", "msg_1\nx"]).contains("control character"));
    assert!(refused(&["--id", ""]).contains("empty"));
    assert!(refused(&["--id", &"m".repeat(257)]).contains("at most 256"));
    assert!(refused(&["--url", "http://a/\nrm -rf ~"]).contains("control character"));
    assert!(refused(&["--timestamp", "-1"]).contains("0..=253402300799"));
    assert!(refused(&["--timestamp", "253402300800"]).contains("0..=253402300799"));
    // At the limits: signed.
    for extra in [&["--id", &"m".repeat(256)][..], &["--timestamp", "0"], &["--timestamp", "253402300799"]] {
        stdout(&sign(&[&secret[..], extra].concat(), b"{}"));
    }
}

#[test]
fn prints_the_known_answers_of_slack_and_shopify() {
    // the published policies, "Slack request signatures": Slack's documented example.
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let args = ["--scheme", "slack", "--secret", "8f742231b10e8888abcd99yyyzzz85a5", "--timestamp", "1531420618"];
    let out = stdout(&sign(&args, body.as_bytes()));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "x-slack-request-timestamp: 1531420618",
            "x-slack-signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            "",
        ]
    );
    // tests/signing_known_answers.rs: computed as Shopify's documentation verifies (not published).
    let body = br#"{"id":450789469,"email":"bob.norman@mail.example.com","financial_status":"paid"}"#;
    let out = stdout(&sign(&["--scheme", "shopify", "--secret", "my_client_secret"], body));
    let (headers, curl) = out.split_once("\n\n").unwrap();
    assert_eq!(headers, "x-shopify-hmac-sha256: DlU1FAxI+OeSWepe1XtqVjCrMPX+GGbEXS6a2XjBIPA=");
    assert!(curl.contains(" -H 'x-shopify-hmac-sha256: DlU1FAxI+OeSWepe1XtqVjCrMPX+GGbEXS6a2XjBIPA='"), "{curl}");
}

#[test]
fn slack_and_shopify_refuse_an_empty_secret_and_are_listed_as_known() {
    for scheme in ["slack", "shopify"] {
        let out = sign(&["--scheme", scheme, "--secret", ""], b"{}");
        assert_eq!(out.status.code(), Some(2), "{scheme}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("secret is empty"), "{scheme}");
    }
    let out = sign(&["--scheme", "zoom", "--secret", "k"], b"{}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("shopify, slack"));
}
