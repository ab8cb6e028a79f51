//! The stage: one turmoil simulation for the whole run, stepped at 1 ms only while something is
//! in flight, and never stepped across quiet gaps.
//!
//! turmoil advances a fixed tick and cannot skip idle time. Its clock therefore counts busy ticks
//! only, and the world's clock is turmoil's plus every gap skipped so far (`offset_ms`). A gap is
//! skipped only when the network is quiet: no task doing work on any host, nothing on the wire
//! that could still make something happen. Then no host can tell the jump: hosts measure only
//! durations inside busy stretches (timeouts, latencies), never absolute time (hyper's `Date`
//! header is off), and turmoil's epoch is pinned.
//!
//! Building a fresh simulation per busy period would also work (and was measured: about 33 us
//! each); keeping one avoids that cost on every retry, which is most of a ten-day run. What must
//! survive a crash still lives outside the hosts (the core, the outbox, the receivers' books):
//! crashes are real turmoil crashes, and restarts start the software again from that state.

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

/// Messages move at tick boundaries; an HTTP exchange costs a few ticks.
pub(crate) const TICK_MS: u64 = 1;

/// The hosts on the stage, and what their software needs.
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

pub(crate) struct Stage {
    sim: Sim<'static>,
    /// World ms minus turmoil's elapsed ms: the gaps skipped so far, less the warm-up tick.
    offset_ms: i64,
}

impl Stage {
    /// The simulation at virtual instant 0, with the world's initial latency; every scripted step
    /// (those at 0 too) is applied to it afterwards.
    ///
    /// It starts one tick early and runs that tick before returning: servers bind their listeners
    /// in their first tick, and a connection arriving before that would be refused. Nothing else
    /// happens in the warm-up tick.
    pub(crate) fn start(seed: u64, cast: &Cast, links: &Links) -> turmoil::Result<Stage> {
        let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_UNIX_SECS) - Duration::from_millis(TICK_MS);
        let (min_ms, max_ms) = links.latency_ms();
        let mut sim = turmoil::Builder::new()
            .epoch(epoch)
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
        sim.step()?;
        Ok(Stage { sim, offset_ms: -(TICK_MS as i64) })
    }

    fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.sim.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Virtual ms since the world started.
    pub(crate) fn now_ms(&self) -> u64 {
        self.offset_ms.saturating_add(self.elapsed_ms()).max(0) as u64
    }

    /// Skips a quiet gap: the world's clock reads `at_ms`, turmoil's has not moved.
    pub(crate) fn jump_to(&mut self, at_ms: u64) {
        let at_ms = i64::try_from(at_ms).unwrap_or(i64::MAX);
        self.offset_ms = at_ms.saturating_sub(self.elapsed_ms());
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

/// SplitMix64 of the world's seed: turmoil's seed, apart from the core's own RNG so that network
/// draws (latencies) never shift the core's ids.
pub(crate) fn turmoil_seed(world_seed: u64) -> u64 {
    let mut z = world_seed ^ 0x6E65_745F_7475_726D;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
