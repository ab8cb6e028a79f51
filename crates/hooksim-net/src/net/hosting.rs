//! Which turmoil host each receiver listens on, and at which port.
//!
//! turmoil links every pair of hosts as they are added and, at every tick, walks every link for
//! every running host: its cost grows with the cube of the hosts while they are busy, and its
//! links take memory with their square (1,000 receivers on a host each: 500,000 links, 330 MB, and
//! 21 s for one delivery each). So receivers share hosts: up to [`POOL_RECEIVERS_MAX`] of them on
//! a pool host, each on its own port, with its own router, book and script, as before. A receiver
//! that a timeline step names by host (a partition, hold, release, repair, crash or restart) keeps
//! a host of its own, since those act on a whole host or its links.
//!
//! Nothing a receiver or the trace sees changes: a request still names the receiver in its `Host`
//! header, the receiver still answers under its own name, and the only link a receiver's segments
//! travel is the dispatcher's, whose holds and cuts never name a pool (a pooled receiver is named
//! by no such step).

use super::http::PORT;
use hooksim_sim::world::{Action, World};
use std::collections::BTreeMap;

/// At most this many receivers share one pool host. Each is a listener and its connections in one
/// host's runtime; 256 keep a pool's per-tick work small while 10,000 receivers need only 40 pools.
pub(crate) const POOL_RECEIVERS_MAX: usize = 256;

/// The first port of a pool host; its receivers take the next ones in world order.
const POOL_PORT_FIRST: u16 = 8_000;

/// Where a receiver listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Address {
    /// The turmoil host: the receiver's own name, or a pool's.
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// A turmoil host for receivers: its name and, in order, the receivers it carries with their
/// ports (indices into the world's receivers as the caller listed them).
pub(crate) struct Lodging {
    pub(crate) host: String,
    pub(crate) tenants: Vec<(usize, u16)>,
}

/// Every receiver's address, and the hosts that carry them.
pub(crate) struct Hosting {
    addresses: BTreeMap<String, Address>,
    lodgings: Vec<Lodging>,
}

impl Hosting {
    /// Lodges `receivers` (names, in world order): a host of its own for each one the timeline
    /// names by host, pools of at most [`POOL_RECEIVERS_MAX`] for the rest.
    pub(crate) fn plan(world: &World, receivers: &[&str]) -> Hosting {
        let own = named_by_host(world);
        let mut addresses = BTreeMap::new();
        let mut lodgings: Vec<Lodging> = Vec::new();
        let mut pool: Option<usize> = None;
        let mut pools = 0usize;
        for (index, name) in receivers.iter().enumerate() {
            if own.binary_search(name).is_ok() {
                addresses.insert(name.to_string(), Address { host: name.to_string(), port: PORT });
                lodgings.push(Lodging { host: name.to_string(), tenants: vec![(index, PORT)] });
                continue;
            }
            let open = pool.filter(|&at| lodgings[at].tenants.len() < POOL_RECEIVERS_MAX);
            let at = open.unwrap_or_else(|| {
                // `#` cannot be part of a URL's host, so no receiver is ever called this.
                lodgings.push(Lodging { host: format!("pool#{pools}"), tenants: Vec::new() });
                pools += 1;
                lodgings.len() - 1
            });
            pool = Some(at);
            let lodging = &mut lodgings[at];
            // At most POOL_RECEIVERS_MAX tenants, so the port stays far below the ephemeral ones.
            let port = POOL_PORT_FIRST + lodging.tenants.len() as u16;
            lodging.tenants.push((index, port));
            addresses.insert(name.to_string(), Address { host: lodging.host.clone(), port });
        }
        Hosting { addresses, lodgings }
    }

    /// Where the receiver called `name` listens; `None` for a name no receiver has.
    pub(crate) fn address(&self, name: &str) -> Option<&Address> {
        self.addresses.get(name)
    }

    pub(crate) fn lodgings(&self) -> &[Lodging] {
        &self.lodgings
    }
}

/// The hosts a timeline step acts on as a whole host or through its links.
fn named_by_host(world: &World) -> Vec<&str> {
    let mut named = Vec::new();
    for step in &world.timeline {
        match &step.action {
            Action::Partition { from: a, to: b, .. }
            | Action::Repair { a, b }
            | Action::Hold { a, b }
            | Action::Release { a, b } => named.extend([a.name(), b.name()]),
            Action::Crash(h) | Action::Restart(h) => named.push(h.name()),
            // A receiver's script and a sender-side delay act on the receiver, not its host.
            Action::Behave { .. }
            | Action::DelayAttempts { .. }
            | Action::Change(_)
            | Action::EnableWebhook(_)
            | Action::Latency { .. } => {}
        }
    }
    named.sort_unstable();
    named.dedup();
    named
}
