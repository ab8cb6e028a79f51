//! Latency on the world clock: every message on the wire waits in turmoil, held, until the
//! driver delivers it at its due instant.
//!
//! turmoil's own link latency runs on turmoil's clock, which moves one 1 ms tick at a time: a
//! message 2 s in flight cost 2,000 ticks (a receiver failing for two days took 640× longer per
//! attempt with `latency = "2s"` than without). So every turmoil link is kept in turmoil's hold
//! state, where a segment sent waits without a deadline, and this ledger gives each one its due
//! instant on the world clock (sent + a latency drawn from the world's seed, the model engine's
//! draw). While hosts only wait, the driver jumps the world clock to one tick before the next due
//! instant, and delivers what is due just before the tick that ends at it: the instant turmoil's
//! latency would have delivered it. The wire's state changes for nothing else: a cut drops what
//! is on the link in its direction (turmoil drops it, the ledger mirrors it), a scripted hold
//! keeps what is on the link until the release, which delivers all of it in the next tick.
//!
//! The ledger mirrors turmoil's list of the segments on each link, in turmoil's order: segments
//! are only added during a tick or by a crash (read back at once by [`Flight::sync`]), and only
//! removed when delivered or dropped by a cut, both through this module.

use hooksim_core::seed::{Stream, rng};
use hooksim_sim::shell::Links;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use turmoil::{Protocol, Segment, Sim};

/// A turmoil link: its two ends, the smaller address first (turmoil's order).
pub(crate) type Pair = (IpAddr, IpAddr);

pub(crate) fn pair(a: IpAddr, b: IpAddr) -> Pair {
    if a <= b { (a, b) } else { (b, a) }
}

/// A segment on the wire.
struct Segmented {
    src: IpAddr,
    /// The end of the tick in which it is delivered; `None` while a scripted hold keeps it.
    due_ms: Option<u64>,
    /// A FIN or RST: it closes an exchange whose outcome may already be reported.
    closing: bool,
}

pub(crate) struct Flight {
    /// What is on each link, in turmoil's order.
    wire: BTreeMap<Pair, VecDeque<Segmented>>,
    /// Host names by address, for the shared link state.
    names: BTreeMap<IpAddr, String>,
    rng: ChaCha8Rng,
}

impl Flight {
    pub(crate) fn new(world_seed: u64, names: BTreeMap<IpAddr, String>) -> Flight {
        Flight { wire: BTreeMap::new(), names, rng: rng(world_seed, Stream::NetworkLatency) }
    }

    /// One latency draw, as the model engine draws it (no draw for a fixed latency).
    fn draw_ms(&mut self, (min, max): (u64, u64)) -> u64 {
        if min == max { min } else { self.rng.random_range(min..=max) }
    }

    fn is_held(&self, a: IpAddr, b: IpAddr, links: &Links) -> bool {
        match (self.names.get(&a), self.names.get(&b)) {
            (Some(a), Some(b)) => links.is_held(a, b),
            _ => false,
        }
    }

    /// Reads the segments turmoil took since the last call: sent at `now_ms`, each due after its
    /// own latency, or kept if its link is held. An error if turmoil's wire no longer matches the
    /// ledger (a change to the wire this module did not see).
    pub(crate) fn sync(&mut self, sim: &Sim<'_>, now_ms: u64, links: &Links) -> Result<(), String> {
        let mut new = Vec::new();
        let mut mismatch = None;
        sim.links(|turmoil_links| {
            for link in turmoil_links {
                let (a, b) = link.pair();
                let known = self.wire.get(&(a, b)).map_or(0, VecDeque::len);
                let mut seen = 0;
                for sent in link {
                    seen += 1;
                    if seen > known {
                        let closing = matches!(sent.protocol(), Protocol::Tcp(Segment::Fin(_) | Segment::Rst));
                        new.push(((a, b), sent.pair().0.ip(), sent.pair().1.ip(), closing));
                    }
                }
                if seen < known {
                    mismatch = Some((a, b));
                }
            }
        });
        if let Some((a, b)) = mismatch {
            return Err(format!("the wire between {a} and {b} lost segments the engine did not drop"));
        }
        for (link, src, dst, closing) in new {
            let due_ms = if self.is_held(src, dst, links) {
                None
            } else {
                Some(now_ms.saturating_add(self.draw_ms(links.latency_ms())))
            };
            self.wire.entry(link).or_default().push_back(Segmented { src, due_ms, closing });
        }
        Ok(())
    }

    /// The earliest due instant of a segment that can still make something happen; with
    /// `exchanges_done` (no task is working), closing segments do not count: they close
    /// exchanges whose outcome is already reported.
    pub(crate) fn next_due_ms(&self, exchanges_done: bool) -> Option<u64> {
        self.wire.values().flatten().filter(|s| !(s.closing && exchanges_done)).filter_map(|s| s.due_ms).min()
    }

    /// Lets turmoil deliver, in the tick that ends at `ends_at_ms`, every segment due by then.
    pub(crate) fn deliver_due(&mut self, sim: &Sim<'_>, ends_at_ms: u64) {
        let is_due = |s: &Segmented| s.due_ms.is_some_and(|due| due <= ends_at_ms);
        // A set: with thousands of busy receivers, a list's `contains` below cost a scan per link.
        let due_links: BTreeSet<Pair> =
            self.wire.iter().filter(|(_, on)| on.iter().any(is_due)).map(|(link, _)| *link).collect();
        if due_links.is_empty() {
            return;
        }
        sim.links(|turmoil_links| {
            for link in turmoil_links {
                let Some(on) = due_links.contains(&link.pair()).then(|| self.wire.get(&link.pair())).flatten() else {
                    continue;
                };
                for (sent, segment) in link.zip(on.iter()) {
                    if is_due(segment) {
                        sent.deliver();
                    }
                }
            }
        });
        for link in due_links {
            if let Some(on) = self.wire.get_mut(&link) {
                on.retain(|s| !is_due(s));
            }
        }
    }

    /// A scripted hold: what is on the link stays there until the release.
    pub(crate) fn hold(&mut self, link: Pair) {
        for segment in self.wire.get_mut(&link).into_iter().flatten() {
            segment.due_ms = None;
        }
    }

    /// A scripted release: everything on the link is delivered in the tick that ends at `due_ms`.
    pub(crate) fn release(&mut self, link: Pair, due_ms: u64) {
        for segment in self.wire.get_mut(&link).into_iter().flatten() {
            segment.due_ms = Some(due_ms);
        }
    }

    /// Both directions of the link cut: turmoil dropped everything on it.
    pub(crate) fn cut(&mut self, link: Pair) {
        self.wire.remove(&link);
    }

    /// The direction from `from` cut: turmoil dropped what `from` had sent on the link.
    pub(crate) fn cut_from(&mut self, link: Pair, from: IpAddr) {
        if let Some(on) = self.wire.get_mut(&link) {
            on.retain(|s| s.src != from);
        }
    }
}
