//! The shared link state ([`hooksim_sim::shell::Links`]) installed into turmoil. turmoil has no way to
//! read a link's state back; a crash needs it to put the crashed host's links back as they were
//! scripted, and a latency change must reach every link.

use hooksim_sim::shell::Links;
use std::time::Duration;
use turmoil::Sim;

/// Re-imposes the recorded holds and cuts on the link between two registered hosts, after a
/// turmoil call that reset it (turmoil's repair and release make a link healthy both ways).
/// Holds first, then cuts.
pub(crate) fn install_pair(links: &Links, sim: &mut Sim<'_>, a: &str, b: &str) {
    if a == b {
        return;
    }
    if links.is_held(a, b) {
        sim.hold(a, b);
    }
    if links.is_cut(a, b) {
        sim.partition_oneway(a, b);
    }
    if links.is_cut(b, a) {
        sim.partition_oneway(b, a);
    }
}

/// Applies the recorded latency to every link of a running simulation.
pub(crate) fn install_latency(links: &Links, sim: &mut Sim<'_>, hosts: &[String]) {
    let (min, max) = links.latency_ms();
    for a in hosts {
        for b in hosts {
            if a < b {
                sim.set_link_latency(a.as_str(), b.as_str(), Duration::from_millis(min));
                sim.set_link_max_message_latency(a.as_str(), b.as_str(), Duration::from_millis(max));
            }
        }
    }
}
