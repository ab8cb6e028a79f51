//! A simulated world, described independently of the engine that runs it: the policy, the
//! webhooks, the receivers and how they behave, and a timeline of changes and faults.
//! The scenario loader builds one; the model engine and the network engine both run it.

mod action;
mod behaviour;
pub mod sample;
mod validate;

pub use action::{Action, Host, Step};
pub use behaviour::{Answer, Behaviour, Reply};
pub use validate::WorldError;

use crate::domain::WebhookConfig;
use crate::policy::Policy;
use crate::receiver::ReceiverKind;
use crate::time::SimTime;
use crate::trace::Trace;

/// The host name of the dispatcher on the simulated network.
pub const DISPATCHER_HOST: &str = "dispatcher";
/// The host that receives warning emails.
pub const MAIL_HOST: &str = "mail";

#[derive(Clone, Debug)]
pub struct ReceiverSpec {
    /// The host name; webhook URLs reach this receiver through it (`http://<host>/webhook`).
    pub host: String,
    pub kind: ReceiverKind,
    pub behaviour: Behaviour,
}

#[derive(Clone, Debug)]
pub struct World {
    pub name: String,
    pub seed: u64,
    pub policy: Policy,
    pub webhooks: Vec<WebhookConfig>,
    pub receivers: Vec<ReceiverSpec>,
    /// Sorted by time; steps at the same time run in the order given.
    pub timeline: Vec<Step>,
    /// The virtual time the run covers: it ends at this instant, whatever is still pending.
    pub run_for_ms: u64,
    /// One-way network latency, drawn uniformly per message from the engine's seeded RNG.
    pub latency_ms: (u64, u64),
}

impl World {
    pub fn end(&self) -> SimTime {
        SimTime::from_millis(self.run_for_ms)
    }

    pub fn receiver(&self, host: &str) -> Option<&ReceiverSpec> {
        self.receivers.iter().find(|r| r.host == host)
    }
}

/// The host part of a webhook URL: `http://shop.example:8080/hook` gives `shop.example`.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

/// What an engine returns: the trace, and how much virtual time it covered.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub trace: Trace,
    pub sim_elapsed_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("step {index} at {at}: {source}")]
    Step { index: usize, at: SimTime, source: crate::core::InputError },
    #[error("the simulation failed: {0}")]
    Simulation(String),
    /// The world cannot run (see `World::validate`): the first reason, and how many there are.
    #[error("the world cannot run: {0} ({1} reason(s) in all)")]
    Invalid(WorldError, usize),
}

#[cfg(test)]
mod tests {
    use super::url_host;

    #[test]
    fn url_host_takes_the_authority_without_port_or_user() {
        assert_eq!(url_host("http://shop.example/webhook"), Some("shop.example"));
        assert_eq!(url_host("http://u:p@shop:8080/x?y"), Some("shop"));
        assert_eq!(url_host("shop"), Some("shop"));
        assert_eq!(url_host("http:///x"), None);
    }
}
