//! The child process and its three pipes. Two threads read stdout (bounded lines) and stderr (a
//! bounded tail), so that the harness waits for a line with a wall-clock timeout and never blocks
//! on a process that says nothing. The wall clock is read here only to bound that wait: nothing
//! on the simulated path depends on it.

use std::io::{BufRead, BufReader, BufWriter, Read as _, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the stdout reader saw next.
pub(crate) enum Read {
    Line(String),
    TooLong,
    NotUtf8(String),
    /// The process closed its stdout (it exited, most likely).
    Eof,
    Failed(String),
}

pub(crate) struct Pipe {
    child: Child,
    /// Lines for the writer thread: a process that stops reading cannot block the harness on a
    /// full pipe; it is caught by the reply timeout instead.
    stdin: Option<mpsc::Sender<String>>,
    lines: Receiver<Read>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Pipe {
    pub(crate) fn spawn(
        argv: &[String],
        env: &[(&str, &std::ffi::OsStr)],
        line_bytes_max: usize,
        stderr_bytes_max: usize,
    ) -> std::io::Result<Pipe> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "the command is empty"))?;
        let mut command = Command::new(program);
        command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn()?;
        let writer = child.stdin.take().map(BufWriter::new).expect("stdin is piped");
        let (stdin, to_write) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr_pipe = child.stderr.take().expect("stderr is piped");
        let (sender, lines) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let tail = stderr.clone();
        let readers = vec![
            std::thread::spawn(move || write_lines(writer, &to_write)),
            std::thread::spawn(move || read_lines(BufReader::new(stdout), line_bytes_max, &sender)),
            std::thread::spawn(move || keep_tail(stderr_pipe, &tail, stderr_bytes_max)),
        ];
        Ok(Pipe { child, stdin: Some(stdin), lines, stderr, readers })
    }

    /// Hands `line` to the writer thread (which adds the newline and flushes). Fails once the
    /// process stopped taking input.
    pub(crate) fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        let stdin = self.stdin.as_ref().ok_or_else(|| std::io::Error::other("stdin is closed"))?;
        stdin.send(line.to_string()).map_err(|_| std::io::Error::other("its stdin is closed"))
    }

    /// The next thing read from stdout, or `None` after `timeout` of silence.
    pub(crate) fn next(&self, timeout: Duration) -> Option<Read> {
        match self.lines.recv_timeout(timeout) {
            Ok(read) => Some(read),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Read::Eof),
        }
    }

    /// A line already written that nobody asked for, if any.
    pub(crate) fn unsolicited(&self) -> Option<Read> {
        self.lines.try_recv().ok()
    }

    /// The last bytes the process wrote to stderr, as text.
    pub(crate) fn stderr_tail(&self) -> String {
        let tail = self.stderr.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&tail).into_owned()
    }

    /// How the process ended, if it has (waits briefly: its stdout just closed). Once it has, also
    /// waits briefly for the stderr reader to reach the end of the pipe, so that the tail a report
    /// quotes holds the last words the process wrote (a traceback, say).
    pub(crate) fn exit_status(&mut self) -> Option<String> {
        for _ in 0..50 {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.await_stderr();
                return Some(status.to_string());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Waits at most half a second for the stderr reader (the last of `readers`) to finish: a
    /// child of the process may hold the pipe open, so this never waits for good.
    fn await_stderr(&self) {
        let Some(reader) = self.readers.last() else { return };
        for _ in 0..50 {
            if reader.is_finished() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Ends the process at once (a crash gives no warning). The reader threads end when the
    /// pipes close; they are not waited for, since a child of the process may hold them open.
    pub(crate) fn kill(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.readers.clear();
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        self.kill();
    }
}

fn write_lines(mut stdin: BufWriter<ChildStdin>, lines: &Receiver<String>) {
    for line in lines {
        let written =
            stdin.write_all(line.as_bytes()).and_then(|()| stdin.write_all(b"\n")).and_then(|()| stdin.flush());
        if written.is_err() {
            return;
        }
    }
}

fn read_lines(mut reader: impl BufRead, line_bytes_max: usize, sender: &mpsc::Sender<Read>) {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let limit = line_bytes_max as u64 + 1;
        let read = match (&mut reader).take(limit).read_until(b'\n', &mut buf) {
            Ok(0) => Read::Eof,
            Ok(_) if buf.last() == Some(&b'\n') || buf.len() <= line_bytes_max => {
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
                match String::from_utf8(std::mem::take(&mut buf)) {
                    Ok(line) => Read::Line(line),
                    Err(e) => Read::NotUtf8(String::from_utf8_lossy(e.as_bytes()).into_owned()),
                }
            }
            Ok(_) => Read::TooLong,
            Err(e) => Read::Failed(e.to_string()),
        };
        let last = matches!(read, Read::Eof | Read::TooLong | Read::Failed(_));
        if sender.send(read).is_err() || last {
            return;
        }
    }
}

/// Keeps the last `max` bytes of stderr (a traceback ends there).
fn keep_tail(mut stderr: impl std::io::Read, tail: &Mutex<Vec<u8>>, max: usize) {
    let mut chunk = [0u8; 8192];
    while let Ok(n) = stderr.read(&mut chunk) {
        if n == 0 {
            return;
        }
        let Ok(mut kept) = tail.lock() else { return };
        kept.extend_from_slice(&chunk[..n]);
        if kept.len() > max {
            let cut = kept.len() - max;
            kept.drain(..cut);
        }
    }
}
