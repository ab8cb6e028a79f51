//! [`TimeQueue`]: things due at virtual instants, earliest first, ties first-in first-out.
//!
//! The one priority queue of the simulated path: the core's retry timers and attempt deadlines,
//! the model engine's messages in transit, and the network engine's alarms all use it, so they all
//! break ties the same, deterministic way.

use super::SimTime;

/// A min-queue of values keyed by `(SimTime, sequence)`: the earliest instant comes out first,
/// and values due at the same instant come out in the order they were pushed. The sequence
/// number is the queue's own push counter, so the order never depends on the values, on
/// addresses or on a hasher: the same pushes always pop in the same order.
///
/// A binary heap rather than a B-tree map: these queues often swing between empty and one entry,
/// and a heap keeps its buffer where a map allocates and frees a node each time. Written here
/// rather than `std::collections::BinaryHeap` because of the push: std's sift-up reads back the
/// entry it has just written, and that store-to-load stall was a tenth of a 10-day model run
/// (nearly every push is later than its parent, so a push is one write and one compare).
#[derive(Debug)]
pub struct TimeQueue<T> {
    /// A min-heap on `(at, seq)`: every entry is due no earlier than its parent.
    heap: Vec<Entry<T>>,
    next_seq: u64,
}

/// Ordered by `(at, seq)` only; the value rides along and needs no `Ord`.
#[derive(Debug)]
struct Entry<T> {
    at: SimTime,
    seq: u64,
    value: T,
}

impl<T> Entry<T> {
    fn key(&self) -> (SimTime, u64) {
        (self.at, self.seq)
    }
}

impl<T> Default for TimeQueue<T> {
    fn default() -> Self {
        TimeQueue { heap: Vec::new(), next_seq: 0 }
    }
}

impl<T> TimeQueue<T> {
    /// Queues `value` to come due at `at`, after everything already queued for `at`.
    pub fn push(&mut self, at: SimTime, value: T) {
        let key = (at, self.next_seq);
        self.next_seq += 1;
        let mut i = self.heap.len();
        self.heap.push(Entry { at, seq: key.1, value });
        // Sift up, comparing with the key held here rather than reading the new entry back.
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.heap[parent].key() <= key {
                break;
            }
            self.heap.swap(i, parent);
            i = parent;
        }
    }

    /// The earliest entry, without taking it.
    pub fn peek(&self) -> Option<(SimTime, &T)> {
        self.heap.first().map(|e| (e.at, &e.value))
    }

    /// The instant of the earliest entry.
    pub fn next_at(&self) -> Option<SimTime> {
        self.heap.first().map(|e| e.at)
    }

    /// Takes the earliest entry.
    pub fn pop(&mut self) -> Option<(SimTime, T)> {
        if self.heap.is_empty() {
            return None;
        }
        let earliest = self.heap.swap_remove(0);
        self.sift_down();
        Some((earliest.at, earliest.value))
    }

    /// Restores the heap order from the root down, after the last entry was moved there.
    fn sift_down(&mut self) {
        let len = self.heap.len();
        let mut i = 0;
        loop {
            let (left, right) = (2 * i + 1, 2 * i + 2);
            if left >= len {
                return;
            }
            let child = if right < len && self.heap[right].key() < self.heap[left].key() { right } else { left };
            if self.heap[i].key() <= self.heap[child].key() {
                return;
            }
            self.heap.swap(i, child);
            i = child;
        }
    }

    /// Takes the earliest entry if it is due at or before `now`.
    pub fn pop_due(&mut self, now: SimTime) -> Option<(SimTime, T)> {
        if self.next_at()? > now {
            return None;
        }
        self.pop()
    }

    /// How many items are queued.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is queued.
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
    fn any_mix_of_pushes_and_pops_comes_out_as_a_sorted_reference_would() {
        // A fixed pseudo-random walk (an LCG): pushes at near and far instants, pops between.
        let (mut q, mut reference) = (TimeQueue::default(), std::collections::BTreeMap::new());
        let (mut state, mut seq) = (7u64, 0u64);
        for _ in 0..20_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            if state >> 62 == 0 {
                let popped = q.pop();
                let expected = reference.pop_first().map(|((at, _), v)| (at, v));
                assert_eq!(popped, expected);
            } else {
                let at = at((state >> 33) % 64);
                q.push(at, seq);
                reference.insert((at, seq), seq);
                seq += 1;
            }
            assert_eq!(q.len(), reference.len());
            assert_eq!(q.next_at(), reference.keys().next().map(|(at, _)| *at));
        }
        while let Some(popped) = q.pop() {
            assert_eq!(Some(popped), reference.pop_first().map(|((at, _), v)| (at, v)));
        }
        assert!(reference.is_empty());
    }

    #[test]
    fn values_need_no_order_of_their_own() {
        struct Opaque;
        let mut q = TimeQueue::default();
        q.push(at(1), Opaque);
        assert!(matches!(q.pop(), Some((_, Opaque))));
    }
}
