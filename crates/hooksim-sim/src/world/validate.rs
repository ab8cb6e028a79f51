//! `World::validate`: what every engine refuses, checked once, before any engine starts. The
//! engines run it first, and `hooksim check` runs it on every scenario file, so a world that an
//! engine would refuse is bad input found by `check` (exit 2), never a run-time failure.

use super::{Action, DISPATCHER_HOST, MAIL_HOST, World};
use crate::shell::limits::{ATTEMPT_DELAY_MS_MAX, IN_FLIGHT_MAX};
use hooksim_core::domain::EventPath;
use std::collections::BTreeSet;

/// One reason a world cannot run, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct WorldError {
    /// The field as a scenario file names it (`receivers`, `latency`, `policy.in_flight_per_webhook_max`, ...).
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn error(field: &'static str, message: String) -> WorldError {
    WorldError { field, message }
}

impl World {
    /// The most attempts that can be in flight at once: a webhook has at most one attempt of each
    /// of its deliveries in flight, one delivery per event it subscribes to, and at most the
    /// policy's `in_flight_per_webhook_max`. Counted per event path, so 10,000 webhooks cost
    /// 10,000 small sums, not a walk of the timeline each.
    pub fn in_flight_max(&self) -> usize {
        let mut events_by_path: std::collections::BTreeMap<EventPath, usize> = std::collections::BTreeMap::new();
        for step in &self.timeline {
            if let Action::Change(change) = &step.action {
                *events_by_path.entry(change.path()).or_default() += 1;
            }
        }
        let per_webhook_max = self.policy.in_flight_per_webhook_max() as usize;
        self.webhooks
            .iter()
            .map(|webhook| {
                let events: usize = events_by_path.iter().filter(|(p, _)| webhook.wants(**p)).map(|(_, n)| n).sum();
                events.min(per_webhook_max)
            })
            .fold(0usize, usize::saturating_add)
    }

    /// Every reason this world cannot run, in field order; empty when it can.
    pub fn validate(&self) -> Vec<WorldError> {
        let mut errors = Vec::new();
        let mut names: BTreeSet<&str> = [DISPATCHER_HOST, MAIL_HOST].into();
        for r in &self.receivers {
            if r.host.is_empty() || !names.insert(&r.host) {
                errors.push(error("receivers", format!("receiver host name {:?} is reserved or given twice", r.host)));
            }
        }
        let (min_ms, max_ms) = self.latency_ms;
        if min_ms > max_ms {
            errors.push(error("latency", format!("the range {min_ms}..{max_ms} ms runs backwards")));
        }
        let in_flight_max = self.in_flight_max();
        if in_flight_max > IN_FLIGHT_MAX {
            errors.push(error(
                "policy.in_flight_per_webhook_max",
                format!(
                    "{in_flight_max} attempts may be in flight at once (for each of the {} webhooks, {} or the \
                     events it subscribes to, whichever is fewer); at most {IN_FLIGHT_MAX} are simulated",
                    self.webhooks.len(),
                    self.policy.in_flight_per_webhook_max(),
                ),
            ));
        }
        if self.timeline.windows(2).any(|w| w[0].at > w[1].at) {
            errors.push(error("timeline", "steps must be sorted by time".to_string()));
        }
        for step in &self.timeline {
            match &step.action {
                Action::Latency { min_ms, max_ms } if min_ms > max_ms => errors.push(error(
                    "timeline.latency",
                    format!("at {}: the range {min_ms}..{max_ms} ms runs backwards", step.at),
                )),
                Action::DelayAttempts { receiver, count, by_ms } => {
                    if let Some(why) = self.delay_refused(receiver, *count, *by_ms) {
                        errors.push(error("timeline.delay_attempts", format!("at {}: {why}", step.at)));
                    }
                }
                _ => {}
            }
        }
        for (field, message) in self.signing.problems() {
            errors.push(error(field, message));
        }
        errors
    }

    /// Why a `delay_attempts` step cannot run, if it cannot.
    fn delay_refused(&self, receiver: &str, count: u32, by_ms: u64) -> Option<String> {
        if self.receiver(receiver).is_none() {
            Some(format!("no receiver {receiver:?} in this world"))
        } else if count == 0 {
            Some("a count of 0 attempts delays nothing".to_string())
        } else if by_ms == 0 || by_ms > ATTEMPT_DELAY_MS_MAX {
            Some(format!(
                "a delay of {by_ms} ms is outside 1..={ATTEMPT_DELAY_MS_MAX} ms (ATTEMPT_DELAY_MS_MAX: an exchange \
                 stays open that long after its attempt's timeout)"
            ))
        } else {
            None
        }
    }

    /// [`World::validate`] as an engine's error: the first reason, with the count of the others.
    pub fn check_runnable(&self) -> Result<(), super::EngineError> {
        let errors = self.validate();
        match errors.first() {
            None => Ok(()),
            Some(first) => Err(super::EngineError::Invalid(first.clone(), errors.len())),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::world::sample::failing_world;
    use crate::world::{Action, Step};
    use hooksim_core::time::SimTime;

    #[test]
    fn a_sample_world_is_valid() {
        assert_eq!(failing_world(1, 1).validate(), vec![]);
    }

    #[test]
    fn every_reason_is_reported_with_its_field() {
        let mut world = failing_world(1, 1);
        world.latency_ms = (5, 1);
        world.receivers.push(world.receivers[0].clone());
        world.timeline.push(Step { at: SimTime::ZERO, action: Action::Latency { min_ms: 9, max_ms: 2 } });
        let delay = |receiver: &str, count, by_ms| Action::DelayAttempts { receiver: receiver.into(), count, by_ms };
        let host = world.receivers[0].host.clone();
        for action in [delay("nowhere", 1, 1), delay(&host, 0, 1), delay(&host, 1, 0), delay(&host, 1, u64::MAX)] {
            world.timeline.push(Step { at: SimTime::ZERO, action });
        }
        world.timeline.push(Step { at: SimTime::ZERO, action: delay(&host, 1, 1) });
        let fields: Vec<_> = world.validate().into_iter().map(|e| e.field).collect();
        let mut expected = vec!["receivers", "latency", "timeline", "timeline.latency"];
        expected.extend(["timeline.delay_attempts"; 4]);
        assert_eq!(fields, expected);
    }
}
