//! Timeline steps: changes to entities, and faults and behaviour changes in the world.

use super::Behaviour;
use hooksim_core::domain::{Change, WebhookId};
use hooksim_core::time::SimTime;
use hooksim_core::trace::WorldChange;
use std::fmt;

/// A host on the simulated network.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Host {
    /// The dispatcher (`dispatcher`).
    Dispatcher,
    /// The mail host that receives warning emails (`mail`).
    Mail,
    /// A receiver, by its host name.
    Receiver(String),
}

impl Host {
    /// The host's name as files and the trace write it.
    pub fn name(&self) -> &str {
        match self {
            Host::Dispatcher => super::DISPATCHER_HOST,
            Host::Mail => super::MAIL_HOST,
            Host::Receiver(h) => h,
        }
    }

    pub(crate) fn from_name(name: &str) -> Host {
        match name {
            super::DISPATCHER_HOST => Host::Dispatcher,
            super::MAIL_HOST => Host::Mail,
            other => Host::Receiver(other.to_string()),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a timeline step does to the world (a `[[timeline]]` entry of a scenario file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A user changes an entity: the dispatcher records one event.
    Change(Change),
    /// The webhook is enabled again; its parked deliveries resume.
    EnableWebhook(WebhookId),
    /// From now on the receiver at this host behaves so (its reply sequence starts over).
    Behave {
        /// The receiver's host.
        receiver: String,
        /// Its replies from now on.
        behaviour: Behaviour,
    },
    /// Messages from `from` to `to` are dropped; both ways unless `one_way`. A connect across a
    /// partition fails at once (refused).
    Partition {
        /// The host whose messages are dropped.
        from: Host,
        /// The host they were going to.
        to: Host,
        /// Only `from` -> `to` is cut.
        one_way: bool,
    },
    /// Undo every partition between the two hosts, both ways.
    Repair {
        /// One host of the pair.
        a: Host,
        /// The other.
        b: Host,
    },
    /// Messages between the two hosts are held (not lost) until released.
    Hold {
        /// One host of the pair.
        a: Host,
        /// The other.
        b: Host,
    },
    /// Messages between the two hosts flow again, the held ones first.
    Release {
        /// One host of the pair.
        a: Host,
        /// The other.
        b: Host,
    },
    /// One-way latency of every message from now on, uniform in `[min_ms, max_ms]`.
    Latency {
        /// Shortest one-way latency, in milliseconds.
        min_ms: u64,
        /// Longest, in milliseconds.
        max_ms: u64,
    },
    /// The host's process dies: in-flight work is lost (a request it was handling is neither
    /// acted on nor answered), durable records survive. Connections to it hang until the
    /// caller's timeout; a connection request still waiting when it restarts is refused.
    Crash(Host),
    /// The host's process comes back with its durable records.
    Restart(Host),
    /// The next `count` attempts the dispatcher sends to this receiver each wait `by_ms` at the
    /// sender before they go on the wire (a worker paused between rendering and writing, a
    /// connection stuck in retransmission); other attempts are not held behind them. The core's
    /// timeout runs from its send, as for any attempt. See [`crate::shell::Delays`].
    DelayAttempts {
        /// The receiver's host.
        receiver: String,
        /// How many of its next attempts are held.
        count: u32,
        /// How long each is held, in milliseconds.
        by_ms: u64,
    },
}

impl Action {
    /// The fault or behaviour change as the trace records it; `None` for what the dispatcher
    /// records itself (a change to an entity, a webhook enabled). Exhaustive: a new action
    /// does not compile until it says how it is traced.
    pub fn world_change(&self) -> Option<WorldChange> {
        let name = |h: &Host| h.name().to_string();
        Some(match self {
            Action::Change(_) | Action::EnableWebhook(_) => return None,
            Action::Behave { receiver, behaviour } => {
                WorldChange::Behave { receiver: receiver.clone(), behaviour: behaviour.to_string() }
            }
            Action::Partition { from, to, one_way } => {
                WorldChange::Partition { from: name(from), to: name(to), one_way: *one_way }
            }
            Action::Repair { a, b } => WorldChange::Repair { a: name(a), b: name(b) },
            Action::Hold { a, b } => WorldChange::Hold { a: name(a), b: name(b) },
            Action::Release { a, b } => WorldChange::Release { a: name(a), b: name(b) },
            Action::Latency { min_ms, max_ms } => WorldChange::Latency { min_ms: *min_ms, max_ms: *max_ms },
            Action::Crash(h) => WorldChange::Crash { host: name(h) },
            Action::Restart(h) => WorldChange::Restart { host: name(h) },
            Action::DelayAttempts { receiver, count, by_ms } => {
                WorldChange::DelayAttempts { receiver: receiver.clone(), count: *count, by_ms: *by_ms }
            }
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.world_change()) {
            (Action::Change(c), _) => write!(f, "change {c:?}"),
            (Action::EnableWebhook(w), _) => write!(f, "enable {w}"),
            (_, Some(change)) => write!(f, "{change}"),
            (_, None) => Ok(()),
        }
    }
}

/// One timeline step: an action at a virtual instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// When, in virtual time.
    pub at: SimTime,
    /// What happens.
    pub action: Action,
}
