//! A child process waited for with a wall-clock bound: a hung process fails its test instead of
//! hanging the suite.

use std::io::Read;
use std::process::{Child, Command};
use std::time::Duration;

/// Kills `child` (by its own id) if it is still running after `wall_max`; returns its exit
/// status (-1 when killed by a signal) and the rest of its standard output, read from `stdout`.
pub fn wait_bounded(mut child: Child, mut stdout: impl Read + Send + 'static, wall_max: Duration) -> (i32, String) {
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let pid = child.id();
    let (done, waited) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if waited.recv_timeout(wall_max).is_err() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    });
    let status = child.wait().unwrap();
    let _ = done.send(());
    watchdog.join().unwrap();
    (status.code().unwrap_or(-1), reader.join().unwrap())
}

/// Runs `command` (its stdin empty) with [`wait_bounded`]'s bound: (exit status, stdout,
/// stderr), the status -1 when it had to be killed.
pub fn output_bounded(command: &mut Command, wall_max: Duration) -> (i32, String, String) {
    use std::process::Stdio;
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the command starts");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let stdout = child.stdout.take().expect("stdout is piped");
    let (code, out) = wait_bounded(child, stdout, wall_max);
    (code, out, stderr_reader.join().unwrap_or_default())
}

/// Whether process `pid` is gone (or a zombie, which runs nothing) within `wall_max`; a process
/// still running then is killed, so a failing test leaves no orphan. SIGKILL lands
/// asynchronously, so a process signalled an instant ago may still read as running: the bound is
/// a hang guard, not a timing claim.
pub fn gone_within(pid: &str, wall_max: Duration) -> bool {
    let alive = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next()) != Some(Some('Z')))
    };
    let deadline = std::time::Instant::now() + wall_max;
    while alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if alive() {
        let _ = Command::new("kill").args(["-9", pid]).status();
        return false;
    }
    true
}

/// A program under test that serves on loopback, killed when the test ends; `base` is
/// `http://127.0.0.1:PORT`.
pub struct Process {
    child: Child,
    pub base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `program args`, whose first line of stdout names its URL (a Python or Node receiver its
/// base URL; `hooksim receiver` a certify command line with its `/webhook` URL).
pub fn start(program: &str, args: &[&str]) -> Process {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the receiver starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http")).unwrap_or_default();
    let base = url.trim_end_matches("/webhook").to_string();
    Process { child, base }
}

/// Whether `python3` can import `module` (a test built on it skips, saying so, when it cannot).
pub fn python_has(module: &str) -> bool {
    Command::new("python3").args(["-c", &format!("import {module}")]).status().is_ok_and(|s| s.success())
}
