//! The links between the live shell's hosts: the shared link state ([`hooksim_sim::shell::Links`]:
//! partitions, holds, latency bounds, crashed hosts, and which of them wins), with a latency drawn
//! for each message. They act at the harness's edge: what crosses a partition is not sent (or its
//! answer not taken), what is held waits for the release, latency is virtual delay.

use hooksim_sim::shell;
use hooksim_sim::world::{Action, Host};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

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
    shared: shell::Links,
}

impl Links {
    pub(super) fn new(latency_ms: (u64, u64)) -> Self {
        Links { shared: shell::Links::new(latency_ms) }
    }

    /// The shared verdict for `from → to`; an open link draws the message's latency.
    pub(super) fn path(&self, from: &Host, to: &Host, rng: &mut ChaCha8Rng) -> Path {
        match self.shared.path(from.name(), to.name()) {
            shell::Path::Open => {
                let (min, max) = self.shared.latency_ms();
                Path::Open { latency_ms: if min == max { min } else { rng.random_range(min..=max) } }
            }
            shell::Path::Partitioned => Path::Partitioned,
            shell::Path::Held => Path::Held,
            shell::Path::Down => Path::Down,
        }
    }

    pub(super) fn is_down(&self, host: &Host) -> bool {
        self.shared.is_down(host.name())
    }

    /// A partition, repair, hold, release or latency change of the timeline.
    pub(super) fn record(&mut self, action: &Action) {
        self.shared.record(action);
    }

    pub(super) fn set_down(&mut self, host: &Host, down: bool) {
        self.shared.set_down(host, down);
    }
}
