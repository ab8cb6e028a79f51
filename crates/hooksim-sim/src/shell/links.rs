//! The scripted state of the network and what it does to a message: one truth for both engines.
//!
//! Partitions and holds are separate facts (a repair leaves a hold, a release leaves a
//! partition). When both apply to a message, the partition wins: a connect across a cut link
//! fails at once (`refused`), held or not.

use super::limits::LATENCY_MIN_MS;
use crate::world::{Action, Host};
use std::collections::BTreeSet;

/// What happens to a message sent from one host to another right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Arrives after the link's latency.
    Open,
    /// Dropped: a connect fails at once (`refused`); an answer is lost.
    Partitioned,
    /// Kept until the link is released.
    Held,
    /// The destination's process is down: the message hangs (the sender's timeout decides).
    Down,
}

/// The state of the simulated network's links: partitions, holds, crashed hosts and latency, as the
/// timeline set them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// Directed `(from, to)`: messages from `from` to `to` are dropped.
    cut: BTreeSet<(String, String)>,
    /// Unordered pairs (smaller name first) whose messages are held until released.
    held: BTreeSet<(String, String)>,
    /// One-way latency bounds of every message, ordered, at least [`LATENCY_MIN_MS`].
    latency_ms: (u64, u64),
    /// Hosts whose process is down, sorted. A vector scanned with `==` (which compares lengths
    /// first) rather than a set: asked for every message and every instant while any host is down,
    /// of a handful of names, where a set's ordered search compared bytes each time.
    down: Vec<String>,
    /// Every directed cut ever made, in order: a message on the wire when its direction is cut
    /// is dropped ([`Links::cut_since`]).
    cut_log: Vec<(String, String)>,
}

/// Latency bounds as both engines use them: in order and at least [`LATENCY_MIN_MS`].
/// (`World::validate` refuses a range that runs backwards; this keeps the engines total.)
pub fn latency_bounds(min_ms: u64, max_ms: u64) -> (u64, u64) {
    (min_ms.min(max_ms).max(LATENCY_MIN_MS), min_ms.max(max_ms).max(LATENCY_MIN_MS))
}

fn pair(a: &str, b: &str) -> (String, String) {
    if a <= b { (a.to_string(), b.to_string()) } else { (b.to_string(), a.to_string()) }
}

impl Links {
    /// Links with nothing cut, held or down, and this one-way latency range (ms).
    pub fn new(latency_ms: (u64, u64)) -> Links {
        Links { latency_ms: latency_bounds(latency_ms.0, latency_ms.1), ..Links::default() }
    }

    /// The one-way latency range, in milliseconds.
    pub fn latency_ms(&self) -> (u64, u64) {
        self.latency_ms
    }

    /// What happens now to a message from `from` to `to`.
    pub fn path(&self, from: &str, to: &str) -> Path {
        if self.cut.is_empty() && self.held.is_empty() && self.down.is_empty() {
            return Path::Open; // the common case, without building keys
        }
        if self.is_cut(from, to) {
            Path::Partitioned
        } else if self.is_held(from, to) {
            Path::Held
        } else if self.is_down(to) {
            Path::Down
        } else {
            Path::Open
        }
    }

    /// Whether messages from `from` to `to` are dropped.
    pub fn is_cut(&self, from: &str, to: &str) -> bool {
        // A scan rather than `contains`: a world cuts a handful of links at most, and a lookup
        // key would cost two string allocations on every message sent while any link is cut.
        self.cut.iter().any(|(f, t)| f == from && t == to)
    }

    /// Whether messages between `a` and `b` are held.
    pub fn is_held(&self, a: &str, b: &str) -> bool {
        // Pairs are stored smaller name first; scanned for the same reason as `is_cut`.
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        self.held.iter().any(|(x, y)| x == a && y == b)
    }

    /// Whether the host is crashed.
    pub fn is_down(&self, host: &str) -> bool {
        self.down.iter().any(|h| h == host)
    }

    /// Marks the host's process down or up; true if that changed anything.
    pub fn set_down(&mut self, host: &Host, down: bool) -> bool {
        let name = host.name();
        match (self.down.binary_search_by(|h| h.as_str().cmp(name)), down) {
            (Err(at), true) => self.down.insert(at, name.to_string()),
            (Ok(at), false) => {
                self.down.remove(at);
            }
            _ => return false,
        }
        true
    }

    /// Records a network action (partition, repair, hold, release, latency). Other actions are
    /// not this module's business.
    pub fn record(&mut self, action: &Action) {
        match action {
            Action::Partition { from, to, one_way } => {
                let (f, t) = (from.name().to_string(), to.name().to_string());
                if !one_way {
                    self.cut.insert((t.clone(), f.clone()));
                    self.cut_log.push((t.clone(), f.clone()));
                }
                self.cut_log.push((f.clone(), t.clone()));
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
            Action::Latency { min_ms, max_ms } => self.latency_ms = latency_bounds(*min_ms, *max_ms),
            // Not about links; named, so that a new action is placed here or there by choice.
            Action::Change(_)
            | Action::EnableWebhook(_)
            | Action::Behave { .. }
            | Action::Crash(_)
            | Action::Restart(_)
            | Action::DelayAttempts { .. } => {}
        }
    }

    /// How many directed cuts were made so far: stamp a message with it when it leaves.
    pub fn cuts_made(&self) -> usize {
        self.cut_log.len()
    }

    /// True if the direction `from → to` was cut after `cuts_made` was `since`: a message sent
    /// then and still on the wire is dropped (as turmoil drops what a partition finds on a link).
    pub fn cut_since(&self, since: usize, from: &str, to: &str) -> bool {
        self.cut_log.get(since..).is_some_and(|cuts| cuts.iter().any(|(f, t)| f == from && t == to))
    }

    /// Held pairs, smaller name first.
    pub fn held(&self) -> impl Iterator<Item = (&str, &str)> {
        self.held.iter().map(|(a, b)| (a.as_str(), b.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> Host {
        Host::Receiver("shop".into())
    }

    #[test]
    fn latency_is_ordered_and_floored_the_same_for_every_engine() {
        assert_eq!(latency_bounds(5, 1), (1, 5));
        assert_eq!(latency_bounds(0, 0), (LATENCY_MIN_MS, LATENCY_MIN_MS));
        let mut links = Links::new((0, 3));
        assert_eq!(links.latency_ms(), (1, 3));
        links.record(&Action::Latency { min_ms: 9, max_ms: 2 });
        assert_eq!(links.latency_ms(), (2, 9));
    }

    #[test]
    fn a_partition_wins_over_a_hold_and_a_repair_leaves_the_hold() {
        let mut links = Links::new((1, 1));
        links.record(&Action::Hold { a: Host::Dispatcher, b: shop() });
        links.record(&Action::Partition { from: Host::Dispatcher, to: shop(), one_way: true });
        assert_eq!(links.path("dispatcher", "shop"), Path::Partitioned);
        assert_eq!(links.path("shop", "dispatcher"), Path::Held);
        links.record(&Action::Repair { a: shop(), b: Host::Dispatcher });
        assert_eq!(links.path("dispatcher", "shop"), Path::Held);
        links.record(&Action::Release { a: shop(), b: Host::Dispatcher });
        assert_eq!(links.path("dispatcher", "shop"), Path::Open);
    }

    #[test]
    fn a_cut_drops_what_is_on_the_wire_in_its_direction_only() {
        let mut links = Links::new((1, 1));
        let since = links.cuts_made();
        links.record(&Action::Partition { from: shop(), to: Host::Dispatcher, one_way: true });
        assert!(links.cut_since(since, "shop", "dispatcher"));
        assert!(!links.cut_since(since, "dispatcher", "shop"));
        assert!(!links.cut_since(links.cuts_made(), "shop", "dispatcher"));
    }

    #[test]
    fn a_message_to_a_crashed_host_hangs() {
        let mut links = Links::new((1, 1));
        assert!(links.set_down(&shop(), true));
        assert!(!links.set_down(&shop(), true));
        assert_eq!(links.path("dispatcher", "shop"), Path::Down);
        assert_eq!(links.path("shop", "dispatcher"), Path::Open);
    }
}
