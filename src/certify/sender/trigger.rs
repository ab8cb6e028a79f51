//! `--trigger CMD`: a shell command run once per event the endpoint wants, with the event's
//! number in `HOOKSIM_EVENT` (1-based) and the endpoint's URL in `HOOKSIM_URL`. Its output goes
//! to standard error, so standard output stays the report. Each trigger leads a process group of
//! its own; when the run ends, every trigger's group is killed, so a sender a trigger started in
//! the background (`python3 sender.py &`) does not outlive the run.

use std::process::{Child, Command, Stdio};

/// How long triggers still running at the end get to exit on their own before they are killed.
const EXIT_GRACE_MS: u64 = 1_000;
const EXIT_POLL_MS: u64 = 20;

pub(super) struct Triggers {
    command: String,
    url: String,
    running: Vec<(u32, Child)>,
    /// The process group of every trigger fired (its leader's id), ended with the run.
    groups: Vec<u32>,
    /// Events whose trigger did not start or exited with a failure.
    failed: std::collections::BTreeSet<u32>,
    /// What went wrong with a trigger, for the report.
    pub notes: Vec<String>,
}

/// How long the next trigger waits for the previous one's event to arrive (unless that trigger
/// failed first): one slow to start delays the others this much at most.
pub(super) const ARRIVAL_WAIT_MS: u64 = 5_000;

/// The order events are asked for: 1 to 5 one after another, each once the one before arrived
/// (so that events are numbered by `HOOKSIM_EVENT`, and play its failure), its trigger failed,
/// or [`ARRIVAL_WAIT_MS`] passed; 6 (the 410) once the others are settled, since a profile that
/// disables on it would stop them.
#[derive(Default)]
pub(super) struct Sequence {
    fired: u32,
    fired_at_ms: u64,
}

impl Sequence {
    /// Fires what is due at `now_ms`; `arrived(n)` says whether event `n` arrived, `others_settled`
    /// whether events 1 to 5 are. Returns the event fired, if any: its event is awaited.
    pub(super) fn advance(
        &mut self,
        triggers: &mut Triggers,
        now_ms: u64,
        arrived: impl Fn(u32) -> bool,
        others_settled: bool,
    ) -> Option<u32> {
        let last = self.fired;
        let next = last + 1;
        let ready = match next {
            1 => true,
            2..=5 => {
                arrived(last) || triggers.failed(last) || now_ms >= self.fired_at_ms.saturating_add(ARRIVAL_WAIT_MS)
            }
            6 => others_settled,
            _ => false,
        };
        if !ready {
            return None;
        }
        triggers.fire(next);
        self.fired = next;
        self.fired_at_ms = now_ms;
        Some(next)
    }
}

impl Triggers {
    pub(super) fn new(command: String, url: String) -> Triggers {
        Triggers {
            command,
            url,
            running: Vec::new(),
            groups: Vec::new(),
            failed: Default::default(),
            notes: Vec::new(),
        }
    }

    /// Whether event `event`'s trigger did not start or exited with a failure.
    pub(super) fn failed(&self, event: u32) -> bool {
        self.failed.contains(&event)
    }

    /// Starts the trigger for event `event` (1-based); does not wait for it.
    pub(super) fn fire(&mut self, event: u32) {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(&self.command)
            .env("HOOKSIM_EVENT", event.to_string())
            .env("HOOKSIM_URL", &self.url)
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::io::stderr()));
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let spawned = command.spawn();
        match spawned {
            Ok(child) => {
                self.groups.push(child.id());
                self.running.push((event, child));
            }
            Err(e) => {
                self.failed.insert(event);
                self.notes.push(format!("trigger for event {event} did not start: {e}"));
            }
        }
    }

    /// Notes triggers that ended with a failure status.
    pub(super) fn poll(&mut self) {
        let (notes, failed) = (&mut self.notes, &mut self.failed);
        self.running.retain_mut(|(event, child)| match child.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) => {
                if !status.success() {
                    failed.insert(*event);
                    notes.push(format!("trigger for event {event} exited with {status}"));
                }
                false
            }
            Err(e) => {
                failed.insert(*event);
                notes.push(format!("trigger for event {event}: {e}"));
                false
            }
        });
    }

    /// Kills the triggers still running after a short grace (a sender that just got its 2xx
    /// is still exiting), and reaps them.
    pub(super) fn stop(&mut self) {
        for _ in 0..EXIT_GRACE_MS / EXIT_POLL_MS {
            self.poll();
            if self.running.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(EXIT_POLL_MS));
        }
        for (event, child) in &mut self.running {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            self.notes.push(format!("trigger for event {event} was still running at the end: killed"));
        }
        self.running.clear();
        // What finished triggers left running in the background goes too.
        for group in self.groups.drain(..) {
            kill_group(group);
        }
    }
}

impl Drop for Triggers {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGKILL to every process in the group `leader` led. Harmless once the group is empty.
#[cfg(unix)]
fn kill_group(leader: u32) {
    let Ok(pgid) = libc::pid_t::try_from(leader) else { return };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; a negative id names the
    // group. A group id is not handed out again while the group has a member.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_leader: u32) {}
