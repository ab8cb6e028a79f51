//! Open exchanges of attempts: the one account both engines keep of which exchanges are still
//! open, until when, and which must close now.
//!
//! An exchange opens when the dispatcher sends an attempt and stays open past the core's timeout
//! for [`LINGER_MS`] (so a held request still reaches its receiver when released, and a slow
//! answer still comes back, late). At most [`LINGERING_MAX`] exchanges linger at once: opening
//! one more closes the oldest lingering one early. An exchange closes at its answer, at the end of
//! its linger, or when the dispatcher crashes (the process and its connections die).

use super::limits::{LINGER_MS, LINGERING_MAX};
use hooksim_core::core::AttemptId;

/// Two sorted vectors rather than B-tree maps: a world has a handful of exchanges open at a time,
/// and every attempt opens and closes one, which cost the maps a node allocation and free per
/// attempt (about a twentieth of a 10-day run). At the limit ([`LINGERING_MAX`]) an insert or a
/// removal shifts at most 64 KiB.
#[derive(Default)]
pub struct Lingering {
    /// `(lingers_from_ms, attempt)` for every open exchange, ascending: when its attempt's
    /// timeout passes. Every exchange lingers equally long, so this order is also the order of
    /// their ends.
    open: Vec<(u64, AttemptId)>,
    /// `(attempt, lingers_from_ms)`, ascending by attempt.
    by_attempt: Vec<(AttemptId, u64)>,
}

impl Lingering {
    /// Opens an exchange whose attempt times out at `lingers_from_ms`. Returns the exchanges that
    /// must close now to keep at most [`LINGERING_MAX`] lingering at `now_ms`, oldest first.
    pub fn open(&mut self, attempt: AttemptId, now_ms: u64, lingers_from_ms: u64) -> Vec<AttemptId> {
        let key = (lingers_from_ms, attempt);
        // Attempts usually open in the order of their timeouts: the insert is then at the end.
        let at = self.open.partition_point(|e| *e < key);
        self.open.insert(at, key);
        match self.by_attempt.binary_search_by_key(&attempt, |(a, _)| *a) {
            Ok(i) => {
                // Opened again while open: the newer timeout counts (as a map insert replaced it).
                let old = (self.by_attempt[i].1, attempt);
                self.by_attempt[i].1 = lingers_from_ms;
                if old != key {
                    self.remove_open(old);
                }
            }
            Err(i) => self.by_attempt.insert(i, (attempt, lingers_from_ms)),
        }
        if self.by_attempt.len() <= LINGERING_MAX {
            return Vec::new(); // the common case: no count needed
        }
        let lingering = self.open.partition_point(|(from, _)| *from <= now_ms);
        let evicted: Vec<AttemptId> =
            self.open.iter().take(lingering.saturating_sub(LINGERING_MAX)).map(|(_, a)| *a).collect();
        for attempt in &evicted {
            self.close(*attempt);
        }
        evicted
    }

    fn remove_open(&mut self, key: (u64, AttemptId)) -> bool {
        match self.open.binary_search(&key) {
            Ok(i) => {
                self.open.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// True while the exchange is open.
    pub fn is_open(&self, attempt: AttemptId) -> bool {
        self.by_attempt.binary_search_by_key(&attempt, |(a, _)| *a).is_ok()
    }

    /// The exchange ended (an answer, a reset, its linger ran out); false if it was not open.
    pub fn close(&mut self, attempt: AttemptId) -> bool {
        match self.by_attempt.binary_search_by_key(&attempt, |(a, _)| *a) {
            Ok(i) => {
                let (_, from) = self.by_attempt.remove(i);
                self.remove_open((from, attempt))
            }
            Err(_) => false,
        }
    }

    /// Closes every exchange whose linger ended at or before `now_ms`; returns them.
    pub fn expire(&mut self, now_ms: u64) -> Vec<AttemptId> {
        let count = self.open.partition_point(|(from, _)| from.saturating_add(LINGER_MS) <= now_ms);
        let ended: Vec<AttemptId> = self.open.drain(..count).map(|(_, a)| a).collect();
        for attempt in &ended {
            if let Ok(i) = self.by_attempt.binary_search_by_key(attempt, |(a, _)| *a) {
                self.by_attempt.remove(i);
            }
        }
        ended
    }

    /// When the next linger ends.
    pub fn next_end_ms(&self) -> Option<u64> {
        self.open.first().map(|(from, _)| from.saturating_add(LINGER_MS))
    }

    /// The dispatcher crashed: every exchange dies with its process.
    pub fn clear(&mut self) {
        self.open.clear();
        self.by_attempt.clear();
    }

    /// How many exchanges are open.
    pub fn len(&self) -> usize {
        self.by_attempt.len()
    }

    /// Whether no exchange is open.
    pub fn is_empty(&self) -> bool {
        self.by_attempt.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchanges_end_with_their_linger_and_the_oldest_lingering_go_first_at_the_limit() {
        let mut l = Lingering::default();
        assert!(l.open(1, 0, 30_000).is_empty());
        assert_eq!(l.next_end_ms(), Some(30_000 + LINGER_MS));
        assert!(l.expire(30_000 + LINGER_MS - 1).is_empty());
        assert_eq!(l.expire(30_000 + LINGER_MS), vec![1]);
        assert!(!l.is_open(1));
        for a in 0..LINGERING_MAX as u64 {
            assert!(l.open(a + 10, a, a + 1).is_empty());
        }
        // One more past its timeout: the oldest lingering closes.
        let now = LINGERING_MAX as u64 + 5;
        assert_eq!(l.open(99_999, now, now), vec![10]);
        // In flight (not yet timed out) counts for nothing.
        assert!(l.open(100_000, now, now + 30_000).is_empty());
        assert_eq!(l.len(), LINGERING_MAX + 1);
    }
}
