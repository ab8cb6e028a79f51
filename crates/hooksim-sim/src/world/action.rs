//! Timeline steps: changes to entities, and faults and behaviour changes in the world.

use super::Behaviour;
use hooksim_core::domain::{Change, WebhookId};
use hooksim_core::time::SimTime;
use std::fmt;

/// A host on the simulated network.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Host {
    Dispatcher,
    Mail,
    Receiver(String),
}

impl Host {
    pub fn name(&self) -> &str {
        match self {
            Host::Dispatcher => super::DISPATCHER_HOST,
            Host::Mail => super::MAIL_HOST,
            Host::Receiver(h) => h,
        }
    }

    pub fn from_name(name: &str) -> Host {
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Change(Change),
    EnableWebhook(WebhookId),
    /// From now on the receiver at this host behaves so (its reply sequence starts over).
    Behave {
        receiver: String,
        behaviour: Behaviour,
    },
    /// Messages from `from` to `to` are dropped; both ways unless `one_way`. A connect across a
    /// partition fails at once (refused).
    Partition {
        from: Host,
        to: Host,
        one_way: bool,
    },
    /// Undo every partition between the two hosts, both ways.
    Repair {
        a: Host,
        b: Host,
    },
    /// Messages between the two hosts are held (not lost) until released.
    Hold {
        a: Host,
        b: Host,
    },
    Release {
        a: Host,
        b: Host,
    },
    /// One-way latency of every message from now on, uniform in `[min_ms, max_ms]`.
    Latency {
        min_ms: u64,
        max_ms: u64,
    },
    /// The host's process dies: in-flight work is lost (a request it was handling is neither
    /// acted on nor answered), durable records survive. Connections to it hang until the
    /// caller's timeout; a connection request still waiting when it restarts is refused.
    Crash(Host),
    Restart(Host),
    /// The next `count` attempts the dispatcher sends to this receiver each wait `by_ms` at the
    /// sender before they go on the wire (a worker paused between rendering and writing, a
    /// connection stuck in retransmission); other attempts are not held behind them. The core's
    /// timeout runs from its send, as for any attempt. See [`crate::shell::Delays`].
    DelayAttempts {
        receiver: String,
        count: u32,
        by_ms: u64,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Change(c) => write!(f, "change {c:?}"),
            Action::EnableWebhook(w) => write!(f, "enable {w}"),
            Action::Behave { receiver, behaviour } => write!(f, "{receiver} behaves: {behaviour}"),
            Action::Partition { from, to, one_way: false } => write!(f, "partition {from} <-> {to}"),
            Action::Partition { from, to, one_way: true } => write!(f, "partition {from} -> {to}"),
            Action::Repair { a, b } => write!(f, "repair {a} <-> {b}"),
            Action::Hold { a, b } => write!(f, "hold {a} <-> {b}"),
            Action::Release { a, b } => write!(f, "release {a} <-> {b}"),
            Action::Latency { min_ms, max_ms } => write!(f, "latency {min_ms}..={max_ms} ms"),
            Action::Crash(h) => write!(f, "crash {h}"),
            Action::Restart(h) => write!(f, "restart {h}"),
            Action::DelayAttempts { receiver, count, by_ms } => {
                write!(
                    f,
                    "delay the next {count} attempt(s) to {receiver} by {}",
                    hooksim_core::time::format_ms(*by_ms)
                )
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub at: SimTime,
    pub action: Action,
}
