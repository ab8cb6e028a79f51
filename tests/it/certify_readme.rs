//! The README's example receiver (Python, Flask), taken from the README itself, passes every
//! certification case: the example people copy must be one that certification passes.

use hooksim::certify::{CertifyOptions, Limits, Verdict, certify};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The first ```python block of the README's "Certifying a receiver" section.
fn readme_receiver() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme.find("## Certifying a receiver").expect("the section exists")..];
    let start = section.find("```python\n").expect("the section has a Python example") + "```python\n".len();
    let end = start + section[start..].find("```").unwrap();
    section[start..end].to_string()
}

struct Flask(Child);

impl Drop for Flask {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves the example with `flask run` on a free port; returns the process and the base URL
/// once it is listening.
fn serve(code: &str) -> (Flask, String) {
    let dir = std::env::temp_dir().join(format!("hooksim-readme-receiver-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("receiver.py"), code).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new("python3")
        .args(["-m", "flask", "--app", "receiver", "run", "--port", &port.to_string()])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with flask");
    // Flask says where it listens on stderr; the request log follows, unread.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.contains("Running on") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (Flask(child), format!("http://127.0.0.1:{port}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_example_receiver_passes_every_case() {
    if !Command::new("python3").args(["-c", "import flask"]).output().is_ok_and(|o| o.status.success()) {
        crate::support::skip::skipped(
            "Flask is not installed for python3 (`apt-get install python3-flask` or `pip install flask`), \
             so the README's example receiver is not run",
        );
        return;
    }
    let (_flask, base) = serve(&readme_receiver());
    let mut opts = CertifyOptions::new(format!("{base}/webhook"));
    opts.effects_url = Some(format!("{base}/effects"));
    opts.limits = Limits { timeout_ms: 5_000, ..Limits::default() };
    opts.settle.quiet_ms = 150;
    let report = certify(&opts).await.unwrap();
    let failed: Vec<&str> = report.cases.iter().filter(|c| c.verdict != Verdict::Passed).map(|c| c.name).collect();
    assert!(failed.is_empty(), "{}", report.to_table());
}
