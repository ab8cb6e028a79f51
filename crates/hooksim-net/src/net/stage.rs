//! The stage: one turmoil simulation for the whole run, stepped at 1 ms only while something is
//! in flight, and never stepped across quiet gaps.
//!
//! turmoil advances a fixed tick and cannot skip idle time. Its clock therefore counts busy ticks
//! only, and the world's clock is turmoil's plus every gap skipped so far (`offset_ms`). The
//! driver skips a gap only when nothing can happen in it: nothing moving on the wire, and every
//! task on every host either done or waiting on an alarm (world-clock timers, see
//! [`super::alarm`]) or on a message that is held or sent to a crashed host. No host can tell
//! the jump: hosts never use turmoil's timers or read absolute time (hyper's `Date` header is
//! off), and turmoil's epoch is pinned.
//!
//! Building a fresh simulation per busy period would also work (and was measured: about 33 us
//! each); keeping one avoids that cost on every retry, which is most of a ten-day run. What must
//! survive a crash still lives outside the hosts (the core, the outbox, the receivers' books):
//! crashes are real turmoil crashes, and restarts start the software again from that state.
//!
//! Latency is not turmoil's either: every link is held in turmoil and [`Flight`] delivers each
//! segment at its due instant on the world clock, so time in flight is skipped like any other
//! wait. turmoil has no way to read a link's state back, so a crash, a repair and a release put
//! the links back as the shared link state has them ([`Stage::install_pair`]).

use super::alarm::Alarms;
use super::dispatcher_host::{self, Inbox};
use super::flight::{Flight, pair};
use super::hosting::Hosting;
use super::journal::{Journal, Work};
use super::mail_host;
use super::receiver_host::Receiver;
use hooksim_sim::shell::Links;
use hooksim_sim::shell::MailRecord;
use hooksim_sim::shell::limits::{IN_FLIGHT_MAX, LINGERING_MAX};
use hooksim_sim::world::{Action, DISPATCHER_HOST, Host, MAIL_HOST};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, SystemTime};
use turmoil::Sim;

/// The virtual clock's origin: 2024-01-01T00:00:00Z, never the real time.
pub const EPOCH_UNIX_SECS: u64 = 1_704_067_200;

/// The ports a host's connects take theirs from: every port but the privileged ones (turmoil's
/// default is a quarter of this). See [`UNFINISHED_CONNECTS_MAX`].
const EPHEMERAL_PORTS: std::ops::RangeInclusive<u16> = 1024..=65535;

/// At most this many connects of the dispatcher may end unfinished in one run (refused, or given
/// up while their SYN was held; attempts to a crashed receiver wait in the driver instead). turmoil keeps the socket of such a
/// connect, and so its port, for the rest of the run, and panics when a host runs out of ports.
/// The run stops with an error at this limit instead: the ephemeral ports less room for every
/// exchange that may be open at once (in flight, lingering, and one letter per webhook).
pub const UNFINISHED_CONNECTS_MAX: u64 = (65535 - 1024 + 1) - (2 * IN_FLIGHT_MAX + LINGERING_MAX) as u64;

/// Messages move at tick boundaries; an HTTP exchange costs a few ticks.
pub(crate) const TICK_MS: u64 = 1;

/// The hosts on the stage, and what their software needs.
pub(crate) struct Cast {
    pub(crate) inbox: Rc<Inbox>,
    pub(crate) journal: Journal,
    pub(crate) work: Work,
    pub(crate) alarms: Alarms,
    pub(crate) receivers: Vec<Receiver>,
    /// Which host and port each receiver listens on.
    pub(crate) hosting: Hosting,
    /// Every host's name: the dispatcher, the mail host, then the receivers' hosts in world order.
    pub(crate) names: Vec<String>,
    /// The mail host's record of the letters it took (durable: outlives its process).
    pub(crate) mail_record: Rc<RefCell<MailRecord>>,
    /// Accept backlog and per-stream buffer; at most this many connections may arrive in one tick.
    pub(crate) tcp_capacity: usize,
}

pub(crate) struct Stage {
    sim: Sim<'static>,
    /// World ms minus turmoil's elapsed ms: the gaps skipped so far, less the warm-up tick.
    offset_ms: i64,
    /// The segments on the wire and when each is due.
    flight: Flight,
}

impl Stage {
    /// The simulation at virtual instant 0, with the world's initial latency; every scripted step
    /// (those at 0 too) is applied to it afterwards.
    ///
    /// It starts one tick early and runs that tick before returning: servers bind their listeners
    /// in their first tick, and a connection arriving before that would be refused. Nothing else
    /// happens in the warm-up tick.
    pub(crate) fn start(world_seed: u64, cast: &Cast, links: &Links) -> Result<Stage, String> {
        let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_UNIX_SECS) - Duration::from_millis(TICK_MS);
        let mut sim = turmoil::Builder::new()
            .epoch(epoch)
            .rng_seed(turmoil_seed(world_seed))
            .tick_duration(Duration::from_millis(TICK_MS))
            // No client host ever finishes, so this bound is never checked; keep it out of the way.
            .simulation_duration(Duration::MAX / 4)
            .tcp_capacity(cast.tcp_capacity)
            .ephemeral_ports(EPHEMERAL_PORTS)
            .build();
        // Servers first, the dispatcher last: turmoil runs hosts in registration order, so within
        // one tick a server that just (re)started binds before the dispatcher connects, and the
        // dispatcher reads what the servers sent in the same tick (an exchange costs a tick less).
        for lodging in cast.hosting.lodgings() {
            let tenants: Vec<(Receiver, u16)> =
                lodging.tenants.iter().map(|&(index, port)| (cast.receivers[index].clone(), port)).collect();
            let (work, alarms) = (cast.work.clone(), cast.alarms.clone());
            sim.host(lodging.host.as_str(), move || lodge(tenants.clone(), work.clone(), alarms.clone()));
        }
        let journal = cast.journal.clone();
        let record = cast.mail_record.clone();
        sim.host(MAIL_HOST, move || mail_host::software(journal.clone(), record.clone()));
        let (inbox, journal, alarms) = (cast.inbox.clone(), cast.journal.clone(), cast.alarms.clone());
        sim.host(DISPATCHER_HOST, move || dispatcher_host::software(inbox.clone(), journal.clone(), alarms.clone()));
        let names = cast.names.iter().map(|name| (sim.lookup(name.as_str()), name.clone())).collect();
        let mut stage = Stage { sim, offset_ms: -(TICK_MS as i64), flight: Flight::new(world_seed, names) };
        for (i, a) in cast.names.iter().enumerate() {
            for b in &cast.names[i + 1..] {
                stage.install_pair(links, a, b);
            }
        }
        stage.sim.step().map_err(|e| e.to_string())?;
        stage.flight.sync(&stage.sim, stage.now_ms(), links)?;
        Ok(stage)
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

    /// One tick: what is due by its end is delivered in it; what the hosts send in it is on
    /// the wire from its end.
    pub(crate) fn step(&mut self, links: &Links) -> Result<(), String> {
        self.flight.deliver_due(&self.sim, self.now_ms() + TICK_MS);
        self.sim.step().map_err(|e| e.to_string())?;
        self.flight.sync(&self.sim, self.now_ms(), links)
    }

    /// When the next segment that could still make something happen is due (see
    /// [`Flight::next_due_ms`]). Segments on held links are not due: only a scripted release
    /// moves them, and it is a deadline the driver knows.
    pub(crate) fn next_due_ms(&self, exchanges_done: bool) -> Option<u64> {
        self.flight.next_due_ms(exchanges_done)
    }

    /// A scripted link action, on a running simulation. `links` already records it.
    pub(crate) fn apply(&mut self, action: &Action, links: &Links, names: &[String]) {
        let known = |h: &Host| names.iter().any(|n| n == h.name());
        let (a, b) = match action {
            Action::Partition { from, to, one_way: true } => (from, to),
            Action::Partition { from: a, to: b, .. }
            | Action::Repair { a, b }
            | Action::Hold { a, b }
            | Action::Release { a, b } => (a, b),
            // A latency is drawn for each segment as it goes on the wire.
            Action::Latency { .. }
            | Action::Change(_)
            | Action::EnableWebhook(_)
            | Action::Behave { .. }
            | Action::Crash(_)
            | Action::Restart(_)
            | Action::DelayAttempts { .. } => return,
        };
        if !known(a) || !known(b) || a == b {
            return;
        }
        let link = pair(self.sim.lookup(a.name()), self.sim.lookup(b.name()));
        match action {
            Action::Partition { one_way: true, .. } => self.cut_from(a.name(), b.name()),
            Action::Partition { .. } => {
                self.sim.partition(a.name(), b.name());
                self.flight.cut(link);
            }
            Action::Repair { .. } => self.sim.repair(a.name(), b.name()),
            Action::Hold { .. } => self.flight.hold(link),
            Action::Release { .. } => self.flight.release(link, self.now_ms() + TICK_MS),
            // Left above; a pair is only read for the actions on links.
            Action::Latency { .. }
            | Action::Change(_)
            | Action::EnableWebhook(_)
            | Action::Behave { .. }
            | Action::Crash(_)
            | Action::Restart(_)
            | Action::DelayAttempts { .. } => return,
        }
        self.install_pair(links, a.name(), b.name());
    }

    /// Holds the link between two hosts on the stage in turmoil (see [`Flight`]), then cuts the
    /// directions the shared link state has cut, after a turmoil call that reset it (turmoil's
    /// repair makes a link healthy both ways).
    fn install_pair(&mut self, links: &Links, a: &str, b: &str) {
        if a == b {
            return;
        }
        self.sim.hold(a, b);
        if links.is_cut(a, b) {
            self.cut_from(a, b);
        }
        if links.is_cut(b, a) {
            self.cut_from(b, a);
        }
    }

    /// Cuts the direction from `from` to `to`: what `from` had on the link is dropped.
    fn cut_from(&mut self, from: &str, to: &str) {
        self.sim.partition_oneway(from, to);
        let (from, to) = (self.sim.lookup(from), self.sim.lookup(to));
        self.flight.cut_from(pair(from, to), from);
    }

    /// The host's process dies: its tasks and connections with it.
    ///
    /// A crashed server must leave its callers hanging until their timeout (as in the model
    /// engine), but turmoil sends a FIN for each socket the crash drops, which the callers would
    /// see as a reset. So for any host but the dispatcher, its outgoing links are cut for the
    /// instant of the crash (dropping those FINs and whatever else it had not yet delivered), then
    /// put back as scripted. The dispatcher's FINs go out: its receivers have already taken the
    /// requests that reached them and act on them anyway (handling is detached from the
    /// connection), and requests still on the wire arrive, as in the model engine.
    pub(crate) fn crash(&mut self, host: &str, links: &Links, names: &[String]) -> Result<(), String> {
        if !names.iter().any(|n| n == host) || !self.sim.is_host_running(host) {
            return Ok(());
        }
        if host == DISPATCHER_HOST {
            return self.crash_now(host, links);
        }
        let others: Vec<&String> = names.iter().filter(|n| n.as_str() != host).collect();
        for other in &others {
            self.cut_from(host, other.as_str());
        }
        self.crash_now(host, links)?;
        for other in &others {
            self.sim.repair_oneway(host, other.as_str());
            self.install_pair(links, host, other);
        }
        Ok(())
    }

    /// turmoil's crash, whose dropped sockets may put segments on the wire now.
    fn crash_now(&mut self, host: &str, links: &Links) -> Result<(), String> {
        self.sim.crash(host);
        self.flight.sync(&self.sim, self.now_ms(), links)
    }

    pub(crate) fn restart(&mut self, host: &str, names: &[String]) {
        if names.iter().any(|n| n == host) && !self.sim.is_host_running(host) {
            self.sim.bounce(host);
        }
    }

    /// Stops the mail host's software while no email is on its way: turmoil ticks every running
    /// host at every tick, and the mail host is idle but for a warning a week. Only the
    /// dispatcher ever connects to it, and only for an email, so [`Stage::wake_mail`] before each
    /// email hides the pause. A scripted crash of the mail host is left as scripted.
    pub(crate) fn rest_mail(&mut self, links: &Links) -> Result<(), String> {
        if !links.is_down(MAIL_HOST) && self.sim.is_host_running(MAIL_HOST) {
            return self.crash_now(MAIL_HOST, links);
        }
        Ok(())
    }

    /// Starts the mail host's software again (it binds before the dispatcher, which runs after
    /// it in the same tick, connects).
    pub(crate) fn wake_mail(&mut self, links: &Links) {
        if !links.is_down(MAIL_HOST) && !self.sim.is_host_running(MAIL_HOST) {
            self.sim.bounce(MAIL_HOST);
        }
    }
}

/// A receivers' host's software: each receiver's server on its port, until one fails.
async fn lodge(tenants: Vec<(Receiver, u16)>, work: Work, alarms: Alarms) -> turmoil::Result {
    let mut servers = tokio::task::JoinSet::new();
    for (receiver, port) in tenants {
        servers.spawn_local(receiver.software(port, work.clone(), alarms.clone()));
    }
    while let Some(ended) = servers.join_next().await {
        // A server only ends on an error (its listener failed); the host fails with it.
        ended.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// Turmoil's seed: its own stream of the world's seed, so that network draws (latencies) never
/// shift the core's ids.
pub(crate) fn turmoil_seed(world_seed: u64) -> u64 {
    hooksim_core::seed::sub_seed(world_seed, hooksim_core::seed::Stream::Turmoil)
}
