//! The live shell's virtual clock: it jumps while nothing is in flight on the real network, and
//! runs at wall speed while something is (a real request takes real time, and the attempt
//! timeout is real).
//!
//! This file reads the wall clock (`Instant::now`): it is on ARCHITECTURE.md's allow-list. The
//! simulated engines never use it.

use crate::time::SimTime;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(super) struct Clock {
    /// The virtual time while nothing is in flight.
    frozen: SimTime,
    /// While requests are in flight: the virtual time and the wall instant the clock started
    /// running at.
    running: Option<(SimTime, Instant)>,
}

impl Clock {
    pub fn new() -> Clock {
        Clock { frozen: SimTime::ZERO, running: None }
    }

    /// Virtual time now.
    pub fn now(&self) -> SimTime {
        match self.running {
            Some((at, wall)) => at.plus_ms(millis(wall.elapsed())),
            None => self.frozen,
        }
    }

    /// The virtual time of a wall instant, while running (otherwise the frozen time).
    pub fn at(&self, instant: Instant) -> SimTime {
        match self.running {
            Some((at, wall)) => at.plus_ms(millis(instant.saturating_duration_since(wall))),
            None => self.frozen,
        }
    }

    /// The wall instant at which the running clock reads `t` (now, if `t` is past or the clock
    /// is frozen).
    pub fn wall_at(&self, t: SimTime) -> Instant {
        match self.running {
            Some((at, wall)) => wall + Duration::from_millis(t.ms_since(at)),
            None => Instant::now(),
        }
    }

    /// Skips quiet time: only while frozen, and never backwards.
    pub fn jump(&mut self, t: SimTime) {
        debug_assert!(self.running.is_none(), "the clock jumps only while nothing is in flight");
        self.frozen = self.frozen.max(t);
    }

    /// A request goes on the real network: from now on the clock runs with the wall clock.
    pub fn run(&mut self) {
        if self.running.is_none() {
            self.running = Some((self.frozen, Instant::now()));
        }
    }

    /// Nothing is in flight any more: the clock stops where it is, and may jump again.
    pub fn stop(&mut self) {
        self.frozen = self.now();
        self.running = None;
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumps_while_frozen_and_never_back() {
        let mut clock = Clock::new();
        clock.jump(SimTime::from_millis(5_000));
        clock.jump(SimTime::from_millis(1_000));
        assert_eq!(clock.now(), SimTime::from_millis(5_000));
        clock.run();
        assert!(clock.now() >= SimTime::from_millis(5_000));
        clock.stop();
        let stopped = clock.now();
        assert!(stopped >= SimTime::from_millis(5_000));
        assert_eq!(clock.now(), stopped, "a stopped clock stands still");
    }
}
