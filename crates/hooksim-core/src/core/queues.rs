//! The core's table of attempts in flight, chosen for the hot path: every attempt adds and
//! removes an entry, often taking the table from empty to one and back. A B-tree map allocates
//! and frees a node on each such swing; this keeps its buffer. (Timers use the shared
//! [`crate::time::TimeQueue`], for the same reason.)

use super::dispatcher::AttemptId;

/// Attempts in flight, in attempt order. Ids only grow, so an insert is a push; a removal is a
/// binary search and a shift over at most the in-flight limits' worth of entries.
#[derive(Debug)]
pub(super) struct InFlightTable<V> {
    entries: Vec<(AttemptId, V)>,
}

impl<V> Default for InFlightTable<V> {
    fn default() -> Self {
        InFlightTable { entries: Vec::new() }
    }
}

impl<V> InFlightTable<V> {
    pub(super) fn insert(&mut self, attempt: AttemptId, value: V) {
        debug_assert!(self.entries.last().is_none_or(|(last, _)| *last < attempt), "attempt ids only grow");
        self.entries.push((attempt, value));
    }

    pub(super) fn get(&self, attempt: AttemptId) -> Option<&V> {
        self.entries.binary_search_by_key(&attempt, |(a, _)| *a).ok().map(|i| &self.entries[i].1)
    }

    pub(super) fn remove(&mut self, attempt: AttemptId) -> Option<V> {
        let i = self.entries.binary_search_by_key(&attempt, |(a, _)| *a).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// Empties the table, oldest attempt first.
    pub(super) fn take_all(&mut self) -> Vec<(AttemptId, V)> {
        std::mem::take(&mut self.entries)
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_table_finds_and_removes_by_attempt() {
        let mut t = InFlightTable::default();
        for a in [2, 3, 7, 9] {
            t.insert(a, a * 10);
        }
        assert_eq!(t.remove(7), Some(70));
        assert_eq!(t.remove(7), None);
        assert_eq!(t.get(9), Some(&90));
        assert_eq!(t.take_all(), vec![(2, 20), (3, 30), (9, 90)]);
        assert_eq!(t.len(), 0);
    }
}
