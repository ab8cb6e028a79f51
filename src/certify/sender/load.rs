//! The listener's load: when every connection slot was held (the listener *saturated*: a
//! sender's connections waited in the kernel's accept queue meanwhile), and what it could not
//! read. A judgement of time or absence that saturation may have distorted is not observed.

use serde::Serialize;

/// How long after a saturated span the listener is taken to be draining its accept queue: a
/// request whole this soon after may have waited there.
pub const QUEUE_DRAIN_MS: u64 = 100;

/// The most saturated spans a run keeps; past it the last one grows (see
/// [`ListenerLoad::saturation_began`]).
pub const SATURATED_SPANS_MAX: usize = 1_000;

/// A span of the run (ms since it started), both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Its start, ms since the run started.
    pub from_ms: u64,
    /// Its end, ms since the run started.
    pub to_ms: u64,
}

/// What the listener saw besides requests: how it was loaded, and what it could not read.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ListenerLoad {
    /// When every connection slot was held ([`super::limits::CONNECTIONS_MAX`]): a sender's
    /// connections waited in the kernel's accept queue meanwhile.
    pub saturated: Vec<Span>,
    /// Connections closed without a whole request (a slow or silent client, or one that hung up).
    pub unread_connections: u64,
    /// Requests answered with an error before they were read (413, 431, 400, 408), by status.
    pub refused: std::collections::BTreeMap<u16, u64>,
}

impl ListenerLoad {
    /// Slots were all held from `from_ms`; [`Self::saturation_ended`] closes the span. A span
    /// that begins while the last one's queue may still be draining, or past
    /// [`SATURATED_SPANS_MAX`], reopens the last one instead (hiding more, never less).
    pub fn saturation_began(&mut self, from_ms: u64) {
        let full = self.saturated.len() >= SATURATED_SPANS_MAX;
        match self.saturated.last_mut() {
            Some(last) if full || from_ms <= last.to_ms.saturating_add(QUEUE_DRAIN_MS) => last.to_ms = u64::MAX,
            _ => self.saturated.push(Span { from_ms, to_ms: u64::MAX }),
        }
    }

    /// A slot came free at `to_ms`: the open saturation span, if any, ends there.
    pub fn saturation_ended(&mut self, to_ms: u64) {
        if let Some(last) = self.saturated.last_mut().filter(|s| s.to_ms == u64::MAX) {
            last.to_ms = to_ms;
        }
    }

    /// Spans still open at the end close at `end_ms`.
    pub fn close(&mut self, end_ms: u64) {
        self.saturation_ended(end_ms);
    }

    /// Whether `[from_ms, to_ms]` comes within `margin_ms` of a saturated span.
    pub fn hides(&self, from_ms: u64, to_ms: u64, margin_ms: u64) -> bool {
        self.saturated.iter().any(|s| from_ms <= s.to_ms.saturating_add(margin_ms) && s.from_ms <= to_ms)
    }

    pub(crate) fn saturated_ms(&self) -> u64 {
        self.saturated.iter().map(|s| s.to_ms.saturating_sub(s.from_ms)).sum()
    }

    /// Requests refused unread (413, 431, 400, 408), all reasons together.
    pub fn refused_total(&self) -> u64 {
        self.refused.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saturated_span_hides_what_overlaps_it_or_its_drain_and_spans_are_bounded() {
        let mut load = ListenerLoad::default();
        load.saturation_began(1_000);
        assert!(load.hides(5_000, 5_000, 0), "an open span hides everything after it began");
        load.saturation_ended(2_000);
        assert!(load.hides(0, 1_000, 0));
        assert!(load.hides(2_050, 3_000, QUEUE_DRAIN_MS), "requests let in while the queue drains");
        assert!(!load.hides(2_200, 3_000, QUEUE_DRAIN_MS));
        assert!(!load.hides(0, 999, QUEUE_DRAIN_MS));
        load.saturation_began(2_050);
        load.saturation_ended(2_500);
        assert_eq!(load.saturated, [Span { from_ms: 1_000, to_ms: 2_500 }], "a span that begins draining is one");
        for n in 0..2 * SATURATED_SPANS_MAX as u64 {
            load.saturation_began(10_000 + 1_000 * n);
            load.saturation_ended(10_000 + 1_000 * n + 1);
        }
        assert_eq!(load.saturated.len(), SATURATED_SPANS_MAX);
        assert!(load.hides(
            10_000 + 1_500 * SATURATED_SPANS_MAX as u64,
            10_000 + 1_500 * SATURATED_SPANS_MAX as u64,
            0
        ));
    }
}
