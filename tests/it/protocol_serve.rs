//! `hooksim dispatcher --stdio` through the binary: a bad input line is refused with its number
//! (exit 2), the end of input ends the process cleanly (exit 0).

use std::io::Write;
use std::process::{Command, Stdio};

fn serve(input: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hooksim"))
        .args(["dispatcher", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn hello(dir: &std::path::Path) -> String {
    let hello = serde_json::json!({
        "type": "hello", "version": 1, "seed": 1,
        "policy": hooksim::policy::Profile::Snapbill.policy().spec(),
        "webhooks": [{"url": "http://shop/webhook", "paths": [], "owner_email": "ops@shop"}],
        "state_dir": dir, "resumed": false,
    });
    format!("{hello}\n")
}

#[test]
fn no_input_is_a_clean_exit() {
    assert_eq!(serve("").0, 0);
}

#[test]
fn bad_lines_are_refused_with_their_number() {
    let (code, _, stderr) = serve("not json\n");
    assert_eq!(code, 2);
    assert!(stderr.contains("input line 1"), "{stderr}");

    let dir = std::env::temp_dir().join(format!("hooksim-serve-test-{}", std::process::id()));
    let input = format!("{}{{\"type\":\"wake\"}}\n", hello(&dir));
    let (code, stdout, stderr) = serve(&input);
    assert_eq!(code, 2);
    assert!(stdout.starts_with("{\"type\":\"hello\",\"version\":1"), "{stdout}");
    assert!(stderr.contains("input line 2") && stderr.contains("now"), "{stderr}");

    let input = format!(
        "{}{{\"type\":\"answer\",\"now\":1,\"attempt\":7,\"outcome\":{{\"kind\":\"timeout\"}}}}\n",
        hello(&dir)
    );
    let (code, _, stderr) = serve(&input);
    assert_eq!(code, 2);
    assert!(stderr.contains("input line 2") && stderr.contains("no attempt 7"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
