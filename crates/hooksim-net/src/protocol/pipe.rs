//! The child process and its three pipes. Two threads read stdout (bounded lines) and stderr (a
//! bounded tail), so that the harness waits for a line with a wall-clock timeout and never blocks
//! on a process that says nothing. The wall clock is read here only to bound that wait: nothing
//! on the simulated path depends on it.
//!
//! The process starts in a process group of its own, and the whole group is ended with it: a
//! dispatcher's own children (a worker, a `sleep`) do not outlive the run, nor hold its pipes
//! open.

use std::io::{BufRead, BufReader, BufWriter, Read as _, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Bytes kept of a line over the limit: enough for [`super::QUOTE_CHARS_MAX`] characters of
/// up to four bytes each.
const START_BYTES_MAX: usize = 4 * super::QUOTE_CHARS_MAX;

/// What the stdout reader saw next.
pub(crate) enum Read {
    Line(String),
    /// A line past the limit: its first [`START_BYTES_MAX`] bytes, for the error to quote.
    TooLong(String),
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
    /// The process and its group were ended (and the process waited for): its id may be reused,
    /// so nothing is signalled again.
    ended: bool,
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
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
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
        Ok(Pipe { child, stdin: Some(stdin), lines, stderr, readers, ended: false })
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

    /// Ends the process and its group at once (a crash gives no warning). The reader threads end
    /// when the pipes close; they are not waited for, since a process that left the group may
    /// hold them open.
    pub(crate) fn kill(&mut self) {
        if self.ended {
            return;
        }
        self.stdin = None;
        group::signal(&self.child, group::Signal::Kill);
        let _ = self.child.kill();
        let _ = self.child.wait();
        // SIGKILL lands asynchronously; give the rest of the group its bounded moment to go, so
        // a run that returns has (almost always) left nothing behind.
        group::await_empty(&mut self.child);
        self.readers.clear();
        self.ended = true;
    }

    /// Ends the process and its group when the run ends or fails: SIGTERM, then SIGKILL for
    /// whatever is left after [`group::END_WAIT_MS`] (a process that ignores SIGTERM, or is slow
    /// to act on it, cannot hold the run).
    pub(crate) fn end(&mut self) {
        if self.ended {
            return;
        }
        self.stdin = None;
        group::signal(&self.child, group::Signal::Term);
        if group::await_empty(&mut self.child) {
            self.readers.clear();
            self.ended = true;
        } else {
            self.kill();
        }
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        self.end();
    }
}

/// The process group the dispatcher leads (its id is the process's).
mod group {
    use std::process::Child;
    use std::time::Duration;

    /// How long the group has to go after SIGTERM before SIGKILL.
    pub(super) const END_WAIT_MS: u64 = 500;
    /// How often the group is looked at meanwhile.
    const POLL_MS: u64 = 1;

    #[derive(Clone, Copy)]
    pub(super) enum Signal {
        Term,
        Kill,
    }

    /// Sends `signal` to every process in `child`'s group. Harmless once the group is gone.
    #[cfg(unix)]
    pub(super) fn signal(child: &Child, signal: Signal) {
        let Ok(pgid) = libc::pid_t::try_from(child.id()) else { return };
        let signal = match signal {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        // SAFETY: kill(2) takes plain integers and touches no memory of ours. A negative id names
        // the group `child` leads. The id is not reused while the group has a member (nor while
        // `child` is not waited for); a group gone empty is left alone by `end`.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }

    #[cfg(not(unix))]
    pub(super) fn signal(_child: &Child, _signal: Signal) {}

    /// Waits at most [`END_WAIT_MS`] for the group to empty (the leader reaped, its children
    /// gone); whether it did.
    #[cfg(unix)]
    pub(super) fn await_empty(child: &mut Child) -> bool {
        let Ok(pgid) = libc::pid_t::try_from(child.id()) else { return false };
        for _ in 0..END_WAIT_MS / POLL_MS {
            let _ = child.try_wait();
            // SAFETY: as in `signal`; signal 0 only asks whether the group has a member.
            if unsafe { libc::kill(-pgid, 0) } != 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(POLL_MS));
        }
        false
    }

    #[cfg(not(unix))]
    pub(super) fn await_empty(_child: &mut Child) -> bool {
        false
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
            Ok(_) => {
                let start = &buf[..buf.len().min(START_BYTES_MAX)];
                Read::TooLong(String::from_utf8_lossy(start).into_owned())
            }
            Err(e) => Read::Failed(e.to_string()),
        };
        let last = matches!(read, Read::Eof | Read::TooLong(_) | Read::Failed(_));
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
