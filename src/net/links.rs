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

/// Turmoil refuses a latency range whose max is below its min: order the bounds.
fn ordered(min_ms: u64, max_ms: u64) -> (u64, u64) {
    (min_ms.min(max_ms), min_ms.max(max_ms))
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

    /// Records a network action; other actions are not this module's business.
    pub(crate) fn record(&mut self, action: &Action) {
        match action {
            Action::Partition { from, to, one_way } => {
                let (f, t) = (from.name(), to.name());
                self.cut.insert((f.to_string(), t.to_string()));
                if !one_way {
                    self.cut.insert((t.to_string(), f.to_string()));
                    // A two-way partition replaces a hold (turmoil drops the held messages).
                    self.held.remove(&pair(f, t));
                }
            }
            // Turmoil's repair and release both make the link healthy both ways.
            Action::Repair { a, b } | Action::Release { a, b } => {
                let (a, b) = (a.name(), b.name());
                self.cut.remove(&(a.to_string(), b.to_string()));
                self.cut.remove(&(b.to_string(), a.to_string()));
                self.held.remove(&pair(a, b));
            }
            Action::Hold { a, b } => {
                let (a, b) = (a.name(), b.name());
                self.cut.remove(&(a.to_string(), b.to_string()));
                self.cut.remove(&(b.to_string(), a.to_string()));
                self.held.insert(pair(a, b));
            }
            Action::Latency { min_ms, max_ms } => self.latency_ms = ordered(*min_ms, *max_ms),
            _ => {}
        }
    }

    /// Puts the link between two registered hosts into its recorded state. Holds first: a later
    /// one-way cut overrides one direction of a hold, as it did when it was scripted.
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
