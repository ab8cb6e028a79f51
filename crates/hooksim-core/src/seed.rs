//! One seed, independent random streams: every random draw of a run comes from the world's one
//! `u64` seed, through [`rng`] or [`sub_seed`] with the [`Stream`] that names its user.
//!
//! Each stream is a ChaCha8 generator keyed by the seed, on its own stream number
//! ([`ChaCha8Rng::set_stream`]): streams of one key never overlap, so draws in one (a network
//! latency) never shift another (the core's delivery uuids and jitter). That is what lets the
//! two engines, which draw latencies differently, give the core the same ids and delays.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Who draws. The numbers are part of the trace format: changing one changes traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// The dispatcher core: delivery uuids and retry jitter.
    Core = 0,
    /// The model engine's network: latencies.
    ModelNetwork = 1,
    /// The network engine's simulator (turmoil), which takes a `u64` seed of its own.
    Turmoil = 2,
    /// Certification payloads sent to a real receiver.
    Certify = 3,
    /// The network engine's latencies, drawn per segment on the world clock.
    NetworkLatency = 4,
}

/// The generator of `stream` for `seed`.
pub fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream as u64);
    rng
}

/// A seed for a library that seeds itself from a `u64`: the first draw of `stream`.
pub fn sub_seed(seed: u64, stream: Stream) -> u64 {
    rng(seed, stream).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(seed: u64, stream: Stream) -> Vec<u64> {
        let mut r = rng(seed, stream);
        (0..8).map(|_| r.next_u64()).collect()
    }

    #[test]
    fn same_seed_and_stream_same_draws() {
        assert_eq!(draws(7, Stream::Core), draws(7, Stream::Core));
        assert_eq!(sub_seed(7, Stream::Turmoil), sub_seed(7, Stream::Turmoil));
    }

    #[test]
    fn streams_and_seeds_are_independent() {
        let all = [Stream::Core, Stream::ModelNetwork, Stream::Turmoil, Stream::Certify, Stream::NetworkLatency];
        let mut seen = std::collections::BTreeSet::new();
        for seed in [0, 1, u64::MAX] {
            for stream in all {
                assert!(seen.insert(draws(seed, stream)), "{stream:?} of seed {seed} repeats another stream");
            }
        }
    }
}
