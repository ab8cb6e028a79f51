//! The two-command walkthrough, through the real binary: `hooksim receiver` prints the command
//! that certifies it, and `hooksim certify receiver` exits 0, 1 or 2.

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const HOOKSIM: &str = env!("CARGO_BIN_EXE_hooksim");

/// A served receiver; killed when dropped, and it stops by itself after a minute regardless.
struct Served {
    child: Child,
    command: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(kind: &str) -> Served {
    serve_with(&["--kind", kind])
}

fn serve_with(flags: &[&str]) -> Served {
    let mut child = Command::new(HOOKSIM)
        .args(["receiver", "--listen", "127.0.0.1:0"])
        .args(flags)
        .args(["--serve-for-ms", "60000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    Served { child, command: first.trim().to_string() }
}

/// Runs the printed command (with `extra` flags) and returns its exit status and stdout.
fn run_printed(command: &str, extra: &[&str]) -> (i32, String) {
    let args: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(args[..3], ["hooksim", "certify", "receiver"], "{command}");
    let out = Command::new(HOOKSIM).args(&args[1..]).args(extra).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{name}", std::process::id()))
}

#[test]
fn the_printed_command_certifies_the_dedup_receiver_with_effects() {
    let served = serve("dedup");
    assert!(served.command.starts_with("hooksim certify receiver --url http://127.0.0.1:"), "{}", served.command);
    assert!(served.command.contains("--effects-url http://127.0.0.1:"));
    let (json, junit) = (tmp("dedup.json"), tmp("dedup.xml"));
    let (code, table) =
        run_printed(&served.command, &["--json", json.to_str().unwrap(), "--junit", junit.to_str().unwrap()]);
    assert_eq!(code, 0, "{table}");
    assert!(table.contains("13 passed, 0 failed, 0 not verified"), "{table}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["cases"].as_array().unwrap().len(), 13);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(r#"tests="13""#) && xml.contains(r#"failures="0""#), "{xml}");
}

#[test]
fn a_failing_case_exits_1() {
    let served = serve("naive");
    let (code, table) = run_printed(&served.command, &[]);
    assert_eq!(code, 1, "{table}");
    assert!(table.contains("5 passed, 8 failed"), "{table}");
}

#[test]
fn bad_flags_and_an_unreachable_url_exit_2() {
    let status = |args: &[&str]| Command::new(HOOKSIM).args(args).output().unwrap().status;
    assert_eq!(status(&["certify", "receiver"]).code(), Some(2));
    let zero = ["certify", "receiver", "--url", "http://127.0.0.1:9/", "--timeout-ms", "0"];
    assert_eq!(status(&zero).code(), Some(2));
    assert_eq!(status(&["certify", "receiver", "--url", "not a url"]).code(), Some(2));
    assert_eq!(status(&["receiver", "--kind", "nosuch"]).code(), Some(2));
    // Bind a port, then free it: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/webhook");
    assert_eq!(status(&["certify", "receiver", "--url", &url]).code(), Some(2));
}

const PAID: &str = r#"{"uuid":"6f1c2a4e-0000-4000-8000-000000000001","body":{"id":41,"path":"/invoice/update/state","details":"paid","invoice":{"id":9,"state":"paid"}}}"#;

/// The headers `hooksim sign` prints for `body`, signed now.
fn signed_by_the_binary(secret: &str, body: &str) -> Vec<(String, String)> {
    let mut child = Command::new(HOOKSIM)
        .args(["sign", "--scheme", "standard-webhooks", "--secret", secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let headers = out.split("\n\n").next().unwrap();
    headers.lines().map(|l| l.split_once(": ").unwrap()).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// POSTs `body` with `headers` to the served receiver's webhook URL; the answer's status.
fn post(command: &str, headers: &[(String, String)], body: &str) -> u16 {
    let url = command.split_whitespace().nth(4).unwrap();
    let addr = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut request =
        format!("POST /webhook HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn with_a_secret_the_receiver_accepts_what_hooksim_sign_signs_and_refuses_the_rest() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let served = serve_with(&["--kind", "dedup", "--secret", secret, "--scheme", "standard-webhooks"]);
    assert_eq!(post(&served.command, &signed_by_the_binary(secret, PAID), PAID), 200);
    assert_eq!(post(&served.command, &[], PAID), 400);
    let forged = signed_by_the_binary("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", PAID);
    assert_eq!(post(&served.command, &forged, PAID), 401);
}

#[test]
fn a_bad_secret_or_a_scheme_without_one_exits_2() {
    let status = |args: &[&str]| Command::new(HOOKSIM).arg("receiver").args(args).output().unwrap().status.code();
    assert_eq!(status(&["--listen", "127.0.0.1:0", "--secret", "whsec_", "--serve-for-ms", "1"]), Some(2));
    assert_eq!(status(&["--listen", "127.0.0.1:0", "--scheme", "github", "--serve-for-ms", "1"]), Some(2));
}

/// `--effects-max`: at the limit a new act is refused with 503 (the sender retries it), so a
/// full receiver fails certification on its answers instead of passing with acts unseen.
#[test]
fn a_receiver_at_its_effects_max_refuses_new_acts_with_503_and_certification_says_so() {
    let served = serve_with(&["--kind", "dedup", "--effects-max", "1"]);
    let (code, table) = run_printed(&served.command, &["--effects-quiet-ms", "100", "--timeout-ms", "5000"]);
    assert_eq!(code, 1, "{table}");
    let valid = table.lines().find(|l| l.starts_with("valid-delivery")).unwrap();
    assert!(valid.contains("passed"), "{table}");
    let redelivery = table.lines().find(|l| l.starts_with("redelivery-once")).unwrap();
    assert!(redelivery.contains("FAILED") && redelivery.contains("503"), "{table}");
}
