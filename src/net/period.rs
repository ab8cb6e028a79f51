//! A busy period: one fresh turmoil simulation, built at the virtual instant where work starts and
//! dropped as soon as the network is quiet again.
//!
//! turmoil advances a fixed tick and cannot skip idle time. So the driver ticks at 1 ms only while
//! something is in flight, and jumps across quiet gaps (hours between retries) with no simulation
//! at all. Nothing is lost by dropping the simulation: what must outlive a process (the core, the
//! receivers' books, the outbox, the scripted link state) lives outside the hosts anyway, which is
//! also what the crash model needs.

use super::dispatcher_host::{self, Inbox};
use super::journal::{Journal, Work};
use super::links::Links;
use super::mail_host;
use super::receiver_host::Receiver;
use crate::world::{Action, DISPATCHER_HOST, Host, MAIL_HOST};
use std::rc::Rc;
use std::time::{Duration, SystemTime};
use turmoil::{Protocol, Segment, Sim};

/// The virtual clock's origin: 2024-01-01T00:00:00Z, never the real time.
pub const EPOCH_UNIX_SECS: u64 = 1_704_067_200;

/// Messages move at tick boundaries; an HTTP exchange costs two or three ticks.
pub(crate) const TICK_MS: u64 = 1;

/// The hosts every period runs, and what their software needs.
pub(crate) struct Cast {
    pub(crate) inbox: Rc<Inbox>,
    pub(crate) journal: Journal,
    pub(crate) work: Work,
    pub(crate) receivers: Vec<Receiver>,
    /// Registration order, which fixes turmoil's address assignment and host run order.
    pub(crate) names: Vec<String>,
    /// Accept backlog and per-stream buffer; at most this many connections may arrive in one tick.
    pub(crate) tcp_capacity: usize,
}

pub(crate) struct Period {
    sim: Sim<'static>,
    /// Virtual ms since the world started at which this simulation's clock reads zero: one tick
    /// before the period's start (-1 for a period at 0), see [`Period::start`].
    origin_ms: i64,
}

impl Period {
    /// A simulation at virtual instant `at_ms`, with the scripted link state and the down hosts
    /// already down.
    ///
    /// The simulation starts one tick early and runs that tick before returning: servers bind
    /// their listeners in their first tick, and a connection arriving before that is refused.
    /// Nothing else happens in the warm-up tick (the driver hands out work after it).
    pub(crate) fn start(at_ms: u64, seed: u64, cast: &Cast, links: &Links) -> turmoil::Result<Period> {
        let origin_ms = at_ms as i64 - TICK_MS as i64;
        let epoch_ms = (EPOCH_UNIX_SECS * 1_000).saturating_add_signed(origin_ms);
        let (min_ms, max_ms) = links.latency_ms();
        let mut sim = turmoil::Builder::new()
            .epoch(SystemTime::UNIX_EPOCH + Duration::from_millis(epoch_ms))
            .rng_seed(seed)
            .tick_duration(Duration::from_millis(TICK_MS))
            // No client host ever finishes, so this bound is never checked; keep it out of the way.
            .simulation_duration(Duration::MAX / 4)
            .min_message_latency(Duration::from_millis(min_ms))
            .max_message_latency(Duration::from_millis(max_ms))
            .tcp_capacity(cast.tcp_capacity)
            .build();
        let (inbox, journal) = (cast.inbox.clone(), cast.journal.clone());
        sim.host(DISPATCHER_HOST, move || dispatcher_host::software(inbox.clone(), journal.clone()));
        let journal = cast.journal.clone();
        sim.host(MAIL_HOST, move || mail_host::software(journal.clone()));
        for receiver in &cast.receivers {
            let (receiver, work) = (receiver.clone(), cast.work.clone());
            sim.host(receiver.host.clone(), move || receiver.software(work.clone()));
        }
        links.install(&mut sim, &cast.names);
        for host in links.down() {
            sim.crash(host);
        }
        sim.step()?;
        Ok(Period { sim, origin_ms })
    }

    /// Virtual ms since the world started.
    pub(crate) fn now_ms(&self) -> u64 {
        let elapsed_ms = i64::try_from(self.sim.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.origin_ms.saturating_add(elapsed_ms).max(0) as u64
    }

    pub(crate) fn step(&mut self) -> turmoil::Result {
        self.sim.step().map(|_| ())
    }

    /// True when no segment that could still make something happen is on the wire. Closing
    /// segments (FIN, RST) of finished exchanges do not count; held messages do, since a
    /// release delivers them.
    pub(crate) fn wire_is_quiet(&self) -> bool {
        let mut quiet = true;
        self.sim.links(|links| {
            for link in links {
                for sent in link {
                    if !matches!(sent.protocol(), Protocol::Tcp(Segment::Fin(_) | Segment::Rst)) {
                        quiet = false;
                    }
                }
            }
        });
        quiet
    }

    /// A scripted link action, on a running simulation. `links` already records it.
    pub(crate) fn apply(&mut self, action: &Action, links: &Links, names: &[String]) {
        let known = |h: &Host| names.iter().any(|n| n == h.name());
        match action {
            Action::Partition { from, to, one_way } if known(from) && known(to) && from != to => {
                if *one_way {
                    self.sim.partition_oneway(from.name(), to.name());
                } else {
                    self.sim.partition(from.name(), to.name());
                }
            }
            Action::Repair { a, b } if known(a) && known(b) && a != b => self.sim.repair(a.name(), b.name()),
            Action::Hold { a, b } if known(a) && known(b) && a != b => self.sim.hold(a.name(), b.name()),
            Action::Release { a, b } if known(a) && known(b) && a != b => self.sim.release(a.name(), b.name()),
            Action::Latency { .. } => links.install_latency(&mut self.sim, names),
            _ => {}
        }
    }

    /// The host's machine stops: its tasks die and whatever it would still send is lost, so its
    /// peers' connections hang (turmoil alone would send their FINs as the sockets drop). The
    /// host's outgoing links are cut for the instant of the crash, then put back as scripted.
    pub(crate) fn crash(&mut self, host: &str, links: &Links, names: &[String]) {
        if !names.iter().any(|n| n == host) || !self.sim.is_host_running(host) {
            return;
        }
        let others: Vec<&String> = names.iter().filter(|n| n.as_str() != host).collect();
        for other in &others {
            self.sim.partition_oneway(host, other.as_str());
        }
        self.sim.crash(host);
        for other in &others {
            self.sim.repair_oneway(host, other.as_str());
            links.install_pair(&mut self.sim, host, other);
        }
    }

    pub(crate) fn restart(&mut self, host: &str, names: &[String]) {
        if names.iter().any(|n| n == host) && !self.sim.is_host_running(host) {
            self.sim.bounce(host);
        }
    }
}

/// SplitMix64: a period's turmoil seed from the world's seed and the period's start, so periods
/// differ from each other and every run of one world gets the same seeds.
pub(crate) fn period_seed(world_seed: u64, at_ms: u64) -> u64 {
    let mut z = world_seed ^ at_ms.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
