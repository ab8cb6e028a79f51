//! `--trigger CMD`: a shell command run once per event the endpoint wants, with the event's
//! number in `HOOKSIM_EVENT` (1-based) and the endpoint's URL in `HOOKSIM_URL`. Its output goes
//! to standard error, so standard output stays the report. A trigger still running when the run
//! ends is killed (`sh` is; a long-running command should `exec` to be killed itself).

use std::process::{Child, Command, Stdio};

/// How long triggers still running at the end get to exit on their own before they are killed.
const EXIT_GRACE_MS: u64 = 1_000;
const EXIT_POLL_MS: u64 = 20;

pub struct Triggers {
    command: String,
    url: String,
    running: Vec<(u32, Child)>,
    /// What went wrong with a trigger, for the report.
    pub notes: Vec<String>,
}

impl Triggers {
    pub fn new(command: String, url: String) -> Triggers {
        Triggers { command, url, running: Vec::new(), notes: Vec::new() }
    }

    /// Starts the trigger for event `event` (1-based); does not wait for it.
    pub fn fire(&mut self, event: u32) {
        let spawned = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .env("HOOKSIM_EVENT", event.to_string())
            .env("HOOKSIM_URL", &self.url)
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::io::stderr()))
            .spawn();
        match spawned {
            Ok(child) => self.running.push((event, child)),
            Err(e) => self.notes.push(format!("trigger for event {event} did not start: {e}")),
        }
    }

    /// Notes triggers that ended with a failure status.
    pub fn poll(&mut self) {
        let notes = &mut self.notes;
        self.running.retain_mut(|(event, child)| match child.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) => {
                if !status.success() {
                    notes.push(format!("trigger for event {event} exited with {status}"));
                }
                false
            }
            Err(e) => {
                notes.push(format!("trigger for event {event}: {e}"));
                false
            }
        });
    }

    /// Kills the triggers still running after a short grace (a sender that just got its 2xx
    /// is still exiting), and reaps them.
    pub fn stop(&mut self) {
        for _ in 0..EXIT_GRACE_MS / EXIT_POLL_MS {
            self.poll();
            if self.running.is_empty() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(EXIT_POLL_MS));
        }
        for (event, child) in &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
            self.notes.push(format!("trigger for event {event} was still running at the end: killed"));
        }
        self.running.clear();
    }
}

impl Drop for Triggers {
    fn drop(&mut self) {
        self.stop();
    }
}
