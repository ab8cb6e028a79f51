//! The scripted state of the network, as the driver knows it: partitions, holds, latency, and
//! which hosts are down. turmoil has no way to read a link's state back; a crash needs it to put
//! the crashed host's links back as they were scripted.

use crate::world::{Action, Host};
use std::collections::BTreeSet;
use std::time::Duration;
use turmoil::Sim;

/// Mirrors what turmoil does with each action, so that re-installing a pair gives its link the
/// state the scripted actions left it in.
#[derive(Clone, Debug, Default)]
pub(crate) struct Links {
    /// Directed `(from, to)`: messages from `from` to `to` are dropped.
    cut: BTreeSet<(String, String)>,
    /// Unordered pairs (smaller name first) whose messages are held until released.
    held: BTreeSet<(String, String)>,
    /// One-way latency bounds of every message, `min <= max`.
    latency_ms: (u64, u64),
    /// Hosts whose process is down.
    down: BTreeSet<String>,
}

fn pair(a: &str, b: &str) -> (String, String) {
    if a <= b { (a.to_string(), b.to_string()) } else { (b.to_string(), a.to_string()) }
}

/// Every message takes at least this long. With zero latency turmoil hands a message straight to
/// its destination's inbox, where the driver cannot see it (only messages still on a link are
/// visible), and the driver must see every message in flight before it skips time.
pub(crate) const LATENCY_MIN_MS: u64 = 1;

/// The bounds in order (turmoil refuses a max below the min), at least [`LATENCY_MIN_MS`].
fn ordered(min_ms: u64, max_ms: u64) -> (u64, u64) {
    (min_ms.min(max_ms).max(LATENCY_MIN_MS), min_ms.max(max_ms).max(LATENCY_MIN_MS))
}

impl Links {
    pub(crate) fn new(latency_ms: (u64, u64)) -> Links {
        Links { latency_ms: ordered(latency_ms.0, latency_ms.1), ..Links::default() }
    }

    pub(crate) fn latency_ms(&self) -> (u64, u64) {
        self.latency_ms
    }

    pub(crate) fn is_down(&self, host: &str) -> bool {
        self.down.contains(host)
    }

    pub(crate) fn set_down(&mut self, host: &Host, down: bool) {
        let name = host.name().to_string();
        if down {
            self.down.insert(name);
        } else {
            self.down.remove(&name);
        }
    }

    /// Records a network action as the model engine does: partitions and holds are separate
    /// facts (a repair leaves a hold, a release leaves a partition); a cut direction drops, a held
    /// pair keeps. Other actions are not this module's business.
    pub(crate) fn record(&mut self, action: &Action) {
        match action {
            Action::Partition { from, to, one_way } => {
                let (f, t) = (from.name().to_string(), to.name().to_string());
                if !one_way {
                    self.cut.insert((t.clone(), f.clone()));
                }
                self.cut.insert((f, t));
            }
            Action::Repair { a, b } => {
                let (a, b) = (a.name().to_string(), b.name().to_string());
                self.cut.remove(&(b.clone(), a.clone()));
                self.cut.remove(&(a, b));
            }
            Action::Hold { a, b } => {
                self.held.insert(pair(a.name(), b.name()));
            }
            Action::Release { a, b } => {
                self.held.remove(&pair(a.name(), b.name()));
            }
            Action::Latency { min_ms, max_ms } => self.latency_ms = ordered(*min_ms, *max_ms),
            _ => {}
        }
    }

    /// Held pairs, smaller name first.
    pub(crate) fn held(&self) -> impl Iterator<Item = (&str, &str)> {
        self.held.iter().map(|(a, b)| (a.as_str(), b.as_str()))
    }

    /// Re-imposes the recorded holds and cuts on the link between two registered hosts, after a
    /// turmoil call that reset it (turmoil's repair and release make a link healthy both ways).
    /// Holds first, then cuts: a cut direction drops even what a hold would keep.
    pub(crate) fn install_pair(&self, sim: &mut Sim<'_>, a: &str, b: &str) {
        if a == b {
            return;
        }
        if self.held.contains(&pair(a, b)) {
            sim.hold(a, b);
        }
        if self.cut.contains(&(a.to_string(), b.to_string())) {
            sim.partition_oneway(a, b);
        }
        if self.cut.contains(&(b.to_string(), a.to_string())) {
            sim.partition_oneway(b, a);
        }
    }

    /// Applies a latency change to every link of a running simulation.
    pub(crate) fn install_latency(&self, sim: &mut Sim<'_>, hosts: &[String]) {
        let (min, max) = self.latency_ms;
        for a in hosts {
            for b in hosts {
                if a < b {
                    sim.set_link_latency(a.as_str(), b.as_str(), Duration::from_millis(min));
                    sim.set_link_max_message_latency(a.as_str(), b.as_str(), Duration::from_millis(max));
                }
            }
        }
    }
}
