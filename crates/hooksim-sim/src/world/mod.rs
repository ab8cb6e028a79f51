//! A simulated world, described independently of the engine that runs it: the policy, the
//! webhooks, the receivers and how they behave, and a timeline of changes and faults.
//! The scenario loader builds one; the model engine and the network engine both run it.

mod action;
mod behaviour;
pub mod sample;
mod signing;
mod validate;

pub use action::{Action, Host, Step};
pub use behaviour::{Answer, Behaviour, Reply, RetryAfter};
pub use signing::{KeySpan, ReceiverKeys, SenderKeys, Signing};
pub use validate::WorldError;

use crate::receiver::ReceiverKind;
use hooksim_core::domain::WebhookConfig;
use hooksim_core::policy::Policy;
use hooksim_core::provider::Provider;
use hooksim_core::time::SimTime;
use hooksim_core::trace::Trace;

/// Ticks one run may simulate, in all (quiet gaps cost none): a tick is 1 ms of simulated time
/// with traffic on the wire, so this is 2 h 46 min 40 s of it, 700 times the busiest library
/// scenario. A world that keeps the network busier ends with an error and the trace so far. What
/// that costs in wall time depends on the machine and the traffic (2.4-8 us a tick measured
/// here: 25-80 s).
pub const BUSY_TICKS_MAX: u64 = 10_000_000;

/// The host name of the dispatcher on the simulated network.
pub const DISPATCHER_HOST: &str = "dispatcher";
/// The host that receives warning emails.
pub const MAIL_HOST: &str = "mail";

/// A receiver of the world: its host, its logic, and its scripted replies.
#[derive(Clone, Debug)]
pub struct ReceiverSpec {
    /// The host name; webhook URLs reach this receiver through it (`http://<host>/webhook`).
    pub host: String,
    /// Which reference logic it runs (`dedup`, `naive`, `picky`, `brittle`).
    pub kind: ReceiverKind,
    /// Its scripted replies (default: answer as its logic does).
    pub behaviour: Behaviour,
}

/// A simulated world, independent of the engine that runs it: the dispatcher's policy and webhooks,
/// the receivers, and a timeline of changes and faults.
#[derive(Clone, Debug)]
pub struct World {
    /// The scenario's name, for reports.
    pub name: String,
    /// The one seed every random draw comes from: same seed, same trace.
    pub seed: u64,
    /// The dispatcher's retry policy.
    pub policy: Policy,
    /// The webhooks, by position (`WebhookId` is the index).
    pub webhooks: Vec<WebhookConfig>,
    /// The receivers, each on its own host.
    pub receivers: Vec<ReceiverSpec>,
    /// Sorted by time; steps at the same time run in the order given.
    pub timeline: Vec<Step>,
    /// The virtual time the run covers: it ends at this instant, whatever is still pending.
    pub run_for_ms: u64,
    /// One-way network latency, drawn uniformly per message from the engine's seeded RNG.
    pub latency_ms: (u64, u64),
    /// How attempts are signed and which receivers verify (default: neither).
    pub signing: Signing,
    /// Whose shape every attempt is rendered in (`provider = "stripe"`): SnapBill's by default.
    pub provider: Provider,
}

impl World {
    /// The instant the run ends (`run_for_ms`).
    pub fn end(&self) -> SimTime {
        SimTime::from_millis(self.run_for_ms)
    }

    /// The receiver on this host, if any.
    pub fn receiver(&self, host: &str) -> Option<&ReceiverSpec> {
        self.receivers.iter().find(|r| r.host == host)
    }

    /// The reference dispatcher of this world, for every engine and shell: its policy, webhooks
    /// and seed, rendering attempts in its provider's shape with virtual zero at `epoch_s` (unix
    /// seconds; [`crate::shell::signing::EPOCH_S`] on the simulated calendar).
    pub fn reference_core(&self, epoch_s: i64) -> hooksim_core::core::Dispatcher {
        hooksim_core::core::Dispatcher::new(self.policy.clone(), self.webhooks.clone(), self.seed)
            .with_provider(self.provider, epoch_s)
    }
}

/// The host part of a webhook URL: `http://shop.example:8080/hook` gives `shop.example`.
pub fn url_host(url: &str) -> Option<String> {
    let parsed = parse_url(url)?;
    parsed.host_str().filter(|h| !h.is_empty()).map(str::to_string)
}

/// `url` read by the `url` crate (IPv6 literals, users, ports and all); a bare `host/path` is
/// read as `http://host/path`.
pub fn parse_url(url: &str) -> Option<url::Url> {
    match url::Url::parse(url) {
        Ok(parsed) => Some(parsed),
        Err(url::ParseError::RelativeUrlWithoutBase) => url::Url::parse(&format!("http://{url}")).ok(),
        Err(_) => None,
    }
}

/// What an engine returns: the trace, and how much virtual time it covered.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// Everything that happened, in order.
    pub trace: Trace,
    /// The virtual time the run covered, in milliseconds.
    pub sim_elapsed_ms: u64,
}

/// Why an engine stopped before the world's end (it then returns an [`EngineFailure`] with the
/// trace so far).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The dispatcher refused a timeline step's input (for the core, an impossible input; for a
    /// dispatcher process, also a protocol violation). The message is the dispatcher's error.
    #[error("step {index} at {at}: {message}")]
    Step {
        /// The step's position in the timeline, from 0.
        index: usize,
        /// Its instant.
        at: SimTime,
        /// The dispatcher's error.
        message: String,
    },
    /// The dispatcher failed on an input other than a timeline step (an answer, a timer, a crash
    /// or restart): a dispatcher process that broke the protocol, went quiet or went away.
    #[error("the dispatcher failed at {at} ({during}): {message}")]
    Dispatcher {
        /// When it failed.
        at: SimTime,
        /// What the engine was doing, e.g. `timers`, `crash`.
        during: String,
        /// The dispatcher's error.
        message: String,
    },
    /// The simulated network itself failed (turmoil): a bug of the engine, not of the world.
    #[error("the simulation failed: {0}")]
    Simulation(String),
    /// The run recorded as many trace entries as [`RunLimits::trace_entries_max`] allows.
    #[error(
        "the trace reached its budget of {entries_max} entries at {at} (TRACE_ENTRIES_MAX, or \
         hooksim run --trace-entries-max): the run stops there"
    )]
    TraceFull {
        /// The budget, in entries.
        entries_max: usize,
        /// When the trace filled.
        at: SimTime,
    },
    /// A dispatcher process was sent as many inputs as its budget allows
    /// (`crate::protocol::INPUTS_PER_RUN_MAX`, or `--inputs-per-run-max`).
    #[error(
        "the run sent the dispatcher process its budget of {inputs_max} inputs at {at} (INPUTS_PER_RUN_MAX, or \
         --inputs-per-run-max): the run stops there"
    )]
    InputsSpent {
        /// The budget, in inputs.
        inputs_max: u64,
        /// When it ran out.
        at: SimTime,
    },
    /// The network engine ticked through more busy time than [`RunLimits::busy_ticks_max`].
    #[error(
        "the network was busy for {ticks_max} ticks of 1 ms ({}) in all, BUSY_TICKS_MAX: the run stops at {at}",
        SimTime::from_millis(*ticks_max)
    )]
    BusyTicks {
        /// The budget, in 1 ms ticks.
        ticks_max: u64,
        /// When it ran out.
        at: SimTime,
    },
    /// The watchdog: an engine went [`RunLimits::stall_steps_max`] steps without progress.
    #[error("{0}")]
    Stalled(Stall),
    /// The world cannot run (see `World::validate`): the first reason, and how many there are.
    #[error("the world cannot run: {0} ({1} reason(s) in all)")]
    Invalid(WorldError, usize),
}

impl EngineError {
    /// Which kind of stop this is (its variant), so that stops are told apart without reading
    /// their text: a shrink keeps a world that stops the same way, not one that stops sooner for
    /// another reason.
    pub fn kind(&self) -> &'static str {
        match self {
            EngineError::Step { .. } => "step",
            EngineError::Dispatcher { .. } => "dispatcher",
            EngineError::Simulation(_) => "simulation",
            EngineError::TraceFull { .. } => "trace-full",
            EngineError::InputsSpent { .. } => "inputs-spent",
            EngineError::BusyTicks { .. } => "busy-ticks",
            EngineError::Stalled(_) => "stalled",
            EngineError::Invalid(..) => "invalid",
        }
    }
}

/// How an engine made no progress (see [`RunLimits::stall_steps_max`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stall {
    /// The model engine took too many steps at one instant.
    #[error("the model engine stalled: {steps} steps at {at} without the world clock moving (STALL_STEPS_MAX)")]
    ClockStopped {
        /// Steps taken at that instant.
        steps: u64,
        /// The instant.
        at: SimTime,
    },
    /// The network engine ticked with traffic on the wire and no event.
    #[error(
        "the network engine stalled: {ticks} ticks ({}) to {at} with traffic on the wire and no event \
         (STALL_STEPS_MAX)",
        SimTime::from_millis(*ticks)
    )]
    NoEvent {
        /// Ticks without an event (1 ms each).
        ticks: u64,
        /// When it gave up.
        at: SimTime,
    },
}

/// Steps an engine may take without progress before its watchdog stops the run: the model engine
/// at one instant of the world clock, the network engine in ticks in a row with traffic on the
/// wire but nothing arriving, no timer firing and no work handed out (a million ticks are 16 min
/// 40 s of simulated time, far beyond any latency a library scenario uses).
pub const STALL_STEPS_MAX: u64 = 1_000_000;

/// What one run may cost, whatever its world says: an engine that reaches a limit stops with an
/// [`EngineFailure`] holding the trace so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunLimits {
    /// Entries the trace may hold.
    pub trace_entries_max: usize,
    /// Ticks the network engine may simulate in all (quiet time costs none).
    pub busy_ticks_max: u64,
    /// The watchdog's patience, in steps without progress (see [`STALL_STEPS_MAX`]).
    pub stall_steps_max: u64,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            trace_entries_max: hooksim_core::trace::TRACE_ENTRIES_MAX,
            busy_ticks_max: BUSY_TICKS_MAX,
            stall_steps_max: STALL_STEPS_MAX,
        }
    }
}

/// An engine that stopped before the world's end: why, and what it recorded until then. The
/// partial trace is the evidence of what led there; `partial.sim_elapsed_ms` is the virtual time
/// reached.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct EngineFailure {
    /// Why it stopped.
    pub error: EngineError,
    /// The trace and virtual time up to the stop.
    pub partial: RunOutput,
}

impl From<EngineError> for EngineFailure {
    /// A failure before the world started: nothing was recorded.
    fn from(error: EngineError) -> Self {
        EngineFailure { error, partial: RunOutput { trace: Trace::default(), sim_elapsed_ms: 0 } }
    }
}

#[cfg(test)]
mod tests {
    use super::url_host;

    #[test]
    fn url_host_takes_the_authority_without_port_or_user() {
        assert_eq!(url_host("http://shop.example/webhook").as_deref(), Some("shop.example"));
        assert_eq!(url_host("http://u:p@shop:8080/x?y").as_deref(), Some("shop"));
        assert_eq!(url_host("shop").as_deref(), Some("shop"));
        assert_eq!(url_host("http://[::1]:8080/x").as_deref(), Some("[::1]"));
        assert_eq!(url_host("http://").as_deref(), None);
    }
}
