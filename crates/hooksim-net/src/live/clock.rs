//! The live shell's virtual clock, at one of two paces ([`Pace`]):
//!
//! - jumping (`hooksim run --receiver`): it jumps while nothing is in flight on the real network,
//!   and runs at wall speed while something is (a real request takes real time, and the attempt
//!   timeout is real);
//! - real time (`hooksim dispatch`): it always runs, `scale` virtual milliseconds per wall
//!   millisecond, so the timeline plays out in wall time divided by the scale and a retry due in
//!   10 s (virtual) goes out 10 s / scale later (wall). It never jumps.
//!
//! This file reads the wall clock (`Instant::now`): it is on ARCHITECTURE.md's allow-list. The
//! simulated engines never use it.

use hooksim_core::time::SimTime;
use std::time::{Duration, Instant};

/// How the live shell's virtual time relates to the wall clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// Quiet time is skipped; wall speed while a request is in flight.
    Jumping,
    /// Always running, `scale` times faster than the wall clock (1: real time).
    RealTime {
        /// Virtual milliseconds per wall millisecond (`--time-scale`), at least 1.
        scale: u32,
    },
}

#[derive(Debug)]
pub(super) struct Clock {
    pace: Pace,
    /// The virtual time while nothing is in flight (jumping pace).
    frozen: SimTime,
    /// While the clock runs: the virtual time and the wall instant it started running at.
    running: Option<(SimTime, Instant)>,
}

impl Clock {
    pub(super) fn new(pace: Pace) -> Clock {
        let running = match pace {
            Pace::Jumping => None,
            // From the first reading: virtual zero is now.
            Pace::RealTime { .. } => Some((SimTime::ZERO, Instant::now())),
        };
        Clock { pace, frozen: SimTime::ZERO, running }
    }

    /// Virtual milliseconds per wall millisecond while running.
    fn scale(&self) -> u64 {
        match self.pace {
            Pace::Jumping => 1,
            Pace::RealTime { scale } => u64::from(scale.max(1)),
        }
    }

    /// Whether the loop may skip quiet time ([`Clock::jump`]); at real-time pace it must wait.
    pub(super) fn jumps(&self) -> bool {
        self.pace == Pace::Jumping
    }

    /// Virtual time now.
    pub(super) fn now(&self) -> SimTime {
        self.at(Instant::now())
    }

    /// The virtual time of a wall instant, while running (otherwise the frozen time).
    pub(super) fn at(&self, instant: Instant) -> SimTime {
        match self.running {
            Some((at, wall)) => at.plus_ms(self.virtual_ms(instant.saturating_duration_since(wall))),
            None => self.frozen,
        }
    }

    /// The wall instant at which the running clock reads `t` (now, if the clock is frozen).
    /// Rounded up, so that at that instant the clock reads at least `t`.
    pub(super) fn wall_at(&self, t: SimTime) -> Instant {
        match self.running {
            Some((at, wall)) => {
                let nanos = u128::from(t.ms_since(at)) * 1_000_000;
                let wall_nanos = nanos.div_ceil(u128::from(self.scale()));
                wall + Duration::from_nanos(u64::try_from(wall_nanos).unwrap_or(u64::MAX))
            }
            None => Instant::now(),
        }
    }

    /// A virtual duration as wall time: an attempt timeout of 30 s at scale 1000 waits 30 ms.
    pub(super) fn wall_ms(&self, virtual_ms: u64) -> u64 {
        virtual_ms.div_ceil(self.scale())
    }

    /// A wall duration in virtual milliseconds (a receiver's `Retry-After` is real seconds).
    pub(super) fn virtual_ms_of_wall(&self, wall_ms: u64) -> u64 {
        wall_ms.saturating_mul(self.scale())
    }

    fn virtual_ms(&self, d: Duration) -> u64 {
        let ms = d.as_nanos().saturating_mul(u128::from(self.scale())) / 1_000_000;
        u64::try_from(ms).unwrap_or(u64::MAX)
    }

    /// Skips quiet time: only while frozen, and never backwards.
    pub(super) fn jump(&mut self, t: SimTime) {
        debug_assert!(self.running.is_none(), "the clock jumps only while nothing is in flight");
        self.frozen = self.frozen.max(t);
    }

    /// A request goes on the real network: from now on the clock runs with the wall clock.
    pub(super) fn run(&mut self) {
        if self.running.is_none() {
            self.running = Some((self.frozen, Instant::now()));
        }
    }

    /// Nothing is in flight any more: a jumping clock stops where it is, and may jump again (a
    /// real-time clock keeps running).
    pub(super) fn stop(&mut self) {
        if self.jumps() {
            self.frozen = self.now();
            self.running = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumps_while_frozen_and_never_back() {
        let mut clock = Clock::new(Pace::Jumping);
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

    #[test]
    fn real_time_runs_scaled_and_converts_both_ways() {
        let mut clock = Clock::new(Pace::RealTime { scale: 1_000 });
        assert!(!clock.jumps());
        clock.stop();
        let start = clock.wall_at(SimTime::ZERO);
        // No sleeping: wall instants are computed, then read back.
        assert_eq!(clock.at(start + Duration::from_millis(7)), SimTime::from_millis(7_000));
        assert_eq!(clock.wall_at(SimTime::from_millis(10_000)), start + Duration::from_millis(10));
        assert_eq!(clock.at(clock.wall_at(SimTime::from_millis(1_234))), SimTime::from_millis(1_234));
        assert_eq!(clock.wall_ms(30_000), 30, "a 30 s timeout waits 30 ms");
        assert_eq!(clock.wall_ms(1), 1, "never a zero wait");
        assert_eq!(clock.virtual_ms_of_wall(2_000), 2_000_000, "Retry-After: 2 s are 2000 s of the scenario");
        let jumping = Clock::new(Pace::Jumping);
        assert_eq!((jumping.wall_ms(30_000), jumping.virtual_ms_of_wall(2_000)), (30_000, 2_000));
    }
}
