//! [`TimeQueue`]: things due at virtual instants, earliest first, ties first-in first-out.
//!
//! The one priority queue of the simulated path: the core's retry timers and attempt deadlines,
//! the model engine's messages in transit, and the network engine's alarms all use it, so they all
//! break ties the same, deterministic way.

use super::SimTime;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// A min-queue of values keyed by `(SimTime, sequence)`: the earliest instant comes out first,
/// and values due at the same instant come out in the order they were pushed. The sequence
/// number is the queue's own push counter, so the order never depends on the values, on
/// addresses or on a hasher: the same pushes always pop in the same order.
///
/// A heap rather than a B-tree map: these queues often swing between empty and one entry, and a
/// heap keeps its buffer where a map allocates and frees a node each time.
#[derive(Debug)]
pub struct TimeQueue<T> {
    heap: BinaryHeap<Reverse<Entry<T>>>,
    next_seq: u64,
}

/// Ordered by `(at, seq)` only; the value rides along and needs no `Ord`.
#[derive(Debug)]
struct Entry<T> {
    at: SimTime,
    seq: u64,
    value: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<T> Default for TimeQueue<T> {
    fn default() -> Self {
        TimeQueue { heap: BinaryHeap::new(), next_seq: 0 }
    }
}

impl<T> TimeQueue<T> {
    /// Queues `value` to come due at `at`, after everything already queued for `at`.
    pub fn push(&mut self, at: SimTime, value: T) {
        self.heap.push(Reverse(Entry { at, seq: self.next_seq, value }));
        self.next_seq += 1;
    }

    /// The earliest entry, without taking it.
    pub fn peek(&self) -> Option<(SimTime, &T)> {
        self.heap.peek().map(|Reverse(e)| (e.at, &e.value))
    }

    /// The instant of the earliest entry.
    pub fn next_at(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse(e)| e.at)
    }

    /// Takes the earliest entry.
    pub fn pop(&mut self) -> Option<(SimTime, T)> {
        self.heap.pop().map(|Reverse(e)| (e.at, e.value))
    }

    /// Takes the earliest entry if it is due at or before `now`.
    pub fn pop_due(&mut self, now: SimTime) -> Option<(SimTime, T)> {
        if self.next_at()? > now {
            return None;
        }
        self.pop()
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Drops every entry (the push counter goes on, which keeps later ties in push order).
    pub fn clear(&mut self) {
        self.heap.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    #[test]
    fn earliest_first_and_ties_in_push_order() {
        let mut q = TimeQueue::default();
        for (ms, v) in [(5, 'a'), (1, 'b'), (5, 'c'), (3, 'd'), (5, 'e'), (1, 'f')] {
            q.push(at(ms), v);
        }
        assert_eq!(q.len(), 6);
        assert_eq!(q.peek(), Some((at(1), &'b')));
        let order: Vec<char> = std::iter::from_fn(|| q.pop()).map(|(_, v)| v).collect();
        assert_eq!(order, ['b', 'f', 'd', 'a', 'c', 'e']);
        assert!(q.is_empty());
    }

    #[test]
    fn pop_due_takes_only_what_is_due() {
        let mut q = TimeQueue::default();
        q.push(at(10), 1);
        q.push(at(20), 2);
        assert_eq!(q.pop_due(at(9)), None);
        assert_eq!(q.pop_due(at(15)), Some((at(10), 1)));
        assert_eq!(q.pop_due(at(15)), None);
        assert_eq!(q.next_at(), Some(at(20)));
        q.clear();
        assert_eq!(q.pop_due(at(99)), None);
    }

    #[test]
    fn values_need_no_order_of_their_own() {
        struct Opaque;
        let mut q = TimeQueue::default();
        q.push(at(1), Opaque);
        assert!(matches!(q.pop(), Some((_, Opaque))));
    }
}
