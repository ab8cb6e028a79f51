//! A nemesis world reshaped for a check with stricter needs than the search. The engines'
//! parity check compares the model engine with the network engine, whose timing differs by a
//! tick where two things meet at one millisecond, and whose cost grows with simulated
//! traffic: it wants steps on whole seconds, fixed latencies, and short worlds with a short
//! policy. Reshaping keeps every choice the nemesis made (which faults, which replies, which
//! changes, in which order) and changes only times, latencies and the policy, so there stays
//! one generator of worlds.

use crate::policy::Policy;
use crate::time::SimTime;
use crate::world::{Action, Behaviour, Reply, World};

/// How to reshape a nemesis world: the run's length, the latency, the policy.
#[derive(Clone, Debug)]
pub struct Shape {
    /// The timeline is compressed (or stretched) into this many milliseconds; the run ends here.
    pub run_for_ms: u64,
    /// Steps fall on multiples of this, each strictly after the one before (0: any millisecond).
    pub grid_ms: u64,
    /// Link latencies are fixed (min = max), each picked from these; empty: left as drawn.
    pub latencies_ms: Vec<u64>,
    /// Replies' latencies are picked from these (a reply without latency keeps none); empty:
    /// left as drawn.
    pub reply_latencies_ms: Vec<u64>,
    /// In place of the drawn policy.
    pub policy: Option<Policy>,
}

impl Shape {
    /// `world` (a nemesis world) reshaped.
    pub fn apply(&self, mut world: World) -> World {
        let from_ms = world.run_for_ms.max(1);
        let grid = self.grid_ms.max(1);
        let mut last: Option<u64> = None;
        for step in &mut world.timeline {
            let scaled = (u128::from(step.at.as_millis()) * u128::from(self.run_for_ms) / u128::from(from_ms)) as u64;
            let mut at = scaled / grid * grid;
            if let Some(before) = last
                && self.grid_ms > 0
            {
                at = at.max(before + grid);
            }
            last = Some(at);
            step.at = SimTime::from_millis(at);
            self.action(&mut step.action);
        }
        // Steps past the end (a fault's end the nemesis drew after it) are never reached.
        world.run_for_ms = self.run_for_ms;
        if !self.latencies_ms.is_empty() {
            let l = pick(&self.latencies_ms, world.seed);
            world.latency_ms = (l, l);
        }
        for r in &mut world.receivers {
            self.behaviour(&mut r.behaviour);
        }
        if let Some(policy) = &self.policy {
            world.policy = policy.clone();
        }
        world
    }

    fn action(&self, action: &mut Action) {
        match action {
            Action::Latency { min_ms, max_ms } if !self.latencies_ms.is_empty() => {
                let l = pick(&self.latencies_ms, *min_ms);
                (*min_ms, *max_ms) = (l, l);
            }
            Action::Behave { behaviour, .. } => self.behaviour(behaviour),
            _ => {}
        }
    }

    fn behaviour(&self, b: &mut Behaviour) {
        for r in b.replies.iter_mut().chain(std::iter::once(&mut b.then)) {
            self.reply(r);
        }
    }

    fn reply(&self, r: &mut Reply) {
        if r.latency_ms > 0 && !self.reply_latencies_ms.is_empty() {
            r.latency_ms = pick(&self.reply_latencies_ms, r.latency_ms);
        }
    }
}

/// One of `choices`, picked by `by` (a value the nemesis drew, so the pick is seeded too).
fn pick(choices: &[u64], by: u64) -> u64 {
    choices[(by % choices.len() as u64) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::nemesis::{Rates, world};
    use crate::time::SECOND_MS;

    #[test]
    fn steps_land_on_the_grid_in_order_within_the_run() {
        let shape = Shape {
            run_for_ms: 3_600_000,
            grid_ms: SECOND_MS,
            latencies_ms: vec![1, 3],
            reply_latencies_ms: vec![0, 1_500],
            policy: None,
        };
        for seed in 0..50 {
            let w = shape.apply(world(seed, None, &Rates::default()));
            let times: Vec<u64> = w.timeline.iter().map(|s| s.at.as_millis()).collect();
            assert!(times.iter().all(|t| t % SECOND_MS == 0), "{times:?}");
            assert!(times.windows(2).all(|p| p[0] < p[1]), "{times:?}");
            assert!([1, 3].contains(&w.latency_ms.0) && w.latency_ms.0 == w.latency_ms.1);
            assert!(w.validate().is_empty(), "seed {seed}: {:?}", w.validate());
        }
    }
}
