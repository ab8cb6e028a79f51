//! Attempts held at the sender before they go on the wire: the `delay_attempts` fault, one truth
//! for every engine.
//!
//! A real sender's connections are independent. One attempt can stall (a worker paused between
//! rendering the body and writing it, a connection stuck in retransmission) while later attempts
//! to the same receiver go ahead and overtake it; a FIFO link cannot say that. `delay_attempts`
//! says it for the next `count` attempts the dispatcher sends to one receiver: each is held `by`
//! at the sender, then goes on the wire, where the links decide its fate as for any attempt, at
//! that later instant (a partition then refuses it, a hold keeps it). Nothing waits behind a held
//! attempt: each attempt is its own connection.
//!
//! The body was rendered when the core sent the attempt, and the core's timeout runs from then:
//! an attempt held past its timeout reaches the receiver after the core has given up on it and
//! retried, and its answer, late, is ignored like any late answer. A held attempt goes on the
//! wire only while its exchange is open ([`super::Lingering`]; a delay is at most
//! [`ATTEMPT_DELAY_MS_MAX`], which is the linger, so only the lingering limit or a crash closes
//! it first). Held attempts are the dispatcher process's memory: a dispatcher crash loses them,
//! as it loses every attempt in flight. The plans (how many attempts are still to be held) are a
//! fact of the world and survive it.
//!
//! Bounds: a held attempt is an attempt in flight, so the policy's in-flight limit (and
//! `IN_FLIGHT_MAX` over all webhooks) bounds how many are held at once.

#[cfg(doc)]
use super::limits::ATTEMPT_DELAY_MS_MAX;
use crate::world::Action;
use hooksim_core::time::{SimTime, TimeQueue};
use std::collections::BTreeMap;

/// How the next attempts to one receiver are held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Plan {
    /// Attempts still to hold.
    left: u32,
    by_ms: u64,
}

/// The delay plans of the world's receivers and the attempts held now. `T` is what an engine
/// sends for an attempt (its request, or its job).
#[derive(Debug)]
pub struct Delays<T> {
    plans: BTreeMap<String, Plan>,
    held: TimeQueue<T>,
}

impl<T> Default for Delays<T> {
    fn default() -> Self {
        Delays { plans: BTreeMap::new(), held: TimeQueue::default() }
    }
}

impl<T> Delays<T> {
    /// Records a `delay_attempts` step; other actions are not this module's business. A step
    /// for a receiver that still has attempts to hold replaces what was left of that plan.
    pub fn record(&mut self, action: &Action) {
        if let Action::DelayAttempts { receiver, count, by_ms } = action {
            if *count == 0 {
                self.plans.remove(receiver);
            } else {
                self.plans.insert(receiver.clone(), Plan { left: *count, by_ms: *by_ms });
            }
        }
    }

    /// The dispatcher sends `attempt` to `receiver` at `now`. It comes back to go on the wire at
    /// once, or `None`: it is held, and [`Delays::pop_due`] gives it back when its delay is over.
    pub fn send(&mut self, receiver: &str, now: SimTime, attempt: T) -> Option<T> {
        if self.plans.is_empty() {
            return Some(attempt); // the common case, without building a key
        }
        let Some(plan) = self.plans.get_mut(receiver) else { return Some(attempt) };
        let by_ms = plan.by_ms;
        plan.left -= 1;
        if plan.left == 0 {
            self.plans.remove(receiver);
        }
        self.held.push(now.plus_ms(by_ms), attempt);
        None
    }

    /// When the next held attempt goes on the wire.
    pub fn next_at(&self) -> Option<SimTime> {
        self.held.next_at()
    }

    /// A held attempt whose delay is over at `now`, earliest first (ties in send order).
    pub fn pop_due(&mut self, now: SimTime) -> Option<T> {
        self.held.pop_due(now).map(|(_, attempt)| attempt)
    }

    /// The dispatcher crashed: the attempts it held die with its process.
    pub fn crashed(&mut self) {
        self.held.clear();
    }

    /// Attempts held now.
    pub fn held(&self) -> usize {
        self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delay(receiver: &str, count: u32, by_ms: u64) -> Action {
        Action::DelayAttempts { receiver: receiver.into(), count, by_ms }
    }

    #[test]
    fn the_next_count_attempts_to_the_receiver_are_held_and_later_ones_overtake_them() {
        let mut d = Delays::default();
        d.record(&delay("shop", 2, 100));
        let t = SimTime::from_millis;
        assert_eq!(d.send("shed", t(0), "shed-1"), Some("shed-1"), "another receiver");
        assert_eq!(d.send("shop", t(0), "shop-1"), None);
        assert_eq!(d.send("shop", t(10), "shop-2"), None);
        assert_eq!(d.send("shop", t(20), "shop-3"), Some("shop-3"), "the plan is used up");
        assert_eq!((d.held(), d.next_at()), (2, Some(t(100))));
        assert_eq!(d.pop_due(t(99)), None);
        assert_eq!(d.pop_due(t(110)), Some("shop-1"));
        assert_eq!(d.pop_due(t(110)), Some("shop-2"));
        assert_eq!(d.pop_due(t(110)), None);
    }

    #[test]
    fn a_new_step_replaces_the_plan_and_a_crash_loses_what_is_held_but_not_the_plan() {
        let mut d = Delays::default();
        d.record(&delay("shop", 5, 100));
        assert_eq!(d.send("shop", SimTime::ZERO, 1), None);
        d.record(&delay("shop", 1, 7));
        d.crashed();
        assert_eq!(d.held(), 0);
        assert_eq!(d.send("shop", SimTime::ZERO, 2), None);
        assert_eq!(d.next_at(), Some(SimTime::from_millis(7)));
        assert_eq!(d.send("shop", SimTime::ZERO, 3), Some(3));
        d.record(&delay("shop", 4, 7));
        d.record(&delay("shop", 0, 7));
        assert_eq!(d.send("shop", SimTime::ZERO, 4), Some(4), "count 0 ends the plan");
    }
}
