//! The links between the live shell's hosts, as the timeline scripts them: partitions, holds,
//! latency and crashed hosts. They act at the harness's edge: what crosses a partition is not
//! sent (or its answer not taken), what is held waits for the release, latency is virtual delay.
//!
//! The same rules as the model engine's network, written here until the shared shell layer
//! lands. // to move onto src/shell once merged

use crate::world::Host;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;

/// What happens to a message sent from one host to another right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Path {
    /// Arrives after this many milliseconds.
    Open { latency_ms: u64 },
    /// Dropped: a connect fails at once; an answer is lost.
    Partitioned,
    /// Kept until the link is released.
    Held,
    /// The destination is down: the message hangs (the sender's timeout decides).
    Down,
}

pub(super) struct Links {
    /// Directed: `(from, to)` drops messages from `from` to `to`.
    partitions: BTreeSet<(Host, Host)>,
    /// Undirected, stored with the smaller host first.
    holds: BTreeSet<(Host, Host)>,
    down: BTreeSet<Host>,
    latency_ms: (u64, u64),
}

impl Links {
    pub fn new(latency_ms: (u64, u64)) -> Self {
        Links { partitions: BTreeSet::new(), holds: BTreeSet::new(), down: BTreeSet::new(), latency_ms }
    }

    pub fn path(&self, from: &Host, to: &Host, rng: &mut ChaCha8Rng) -> Path {
        if self.partitions.is_empty() && self.holds.is_empty() && self.down.is_empty() {
            return self.open(rng); // the common case, without building keys
        }
        if self.partitions.contains(&(from.clone(), to.clone())) {
            Path::Partitioned
        } else if self.holds.contains(&pair(from, to)) {
            Path::Held
        } else if self.down.contains(to) {
            Path::Down
        } else {
            self.open(rng)
        }
    }

    fn open(&self, rng: &mut ChaCha8Rng) -> Path {
        let (min, max) = self.latency_ms;
        let latency_ms = if min == max { min } else { rng.random_range(min..=max) };
        Path::Open { latency_ms }
    }

    pub fn is_down(&self, host: &Host) -> bool {
        !self.down.is_empty() && self.down.contains(host)
    }

    pub fn partition(&mut self, from: &Host, to: &Host, one_way: bool) {
        self.partitions.insert((from.clone(), to.clone()));
        if !one_way {
            self.partitions.insert((to.clone(), from.clone()));
        }
    }

    pub fn repair(&mut self, a: &Host, b: &Host) {
        self.partitions.remove(&(a.clone(), b.clone()));
        self.partitions.remove(&(b.clone(), a.clone()));
    }

    pub fn hold(&mut self, a: &Host, b: &Host) {
        self.holds.insert(pair(a, b));
    }

    pub fn release(&mut self, a: &Host, b: &Host) {
        self.holds.remove(&pair(a, b));
    }

    pub fn set_latency(&mut self, min_ms: u64, max_ms: u64) {
        self.latency_ms = (min_ms, max_ms.max(min_ms));
    }

    pub fn crash(&mut self, host: &Host) {
        self.down.insert(host.clone());
    }

    pub fn restart(&mut self, host: &Host) {
        self.down.remove(host);
    }
}

fn pair(a: &Host, b: &Host) -> (Host, Host) {
    if a <= b { (a.clone(), b.clone()) } else { (b.clone(), a.clone()) }
}
