//! Which scenario receivers are real endpoints: `--receiver NAME=URL` and `--effects NAME=URL`,
//! and what a world must not ask of a real endpoint (scripted replies, a crash, verifying
//! signatures with the file's secret).

use hooksim_core::signing::TOLERANCE_S_DEFAULT;
use hooksim_sim::world::{Action, Behaviour, Host, ReceiverKeys, World, url_host};
use reqwest::Url;
use std::collections::BTreeMap;
use std::fmt;

/// One receiver of the scenario bound to a real endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// Where deliveries are POSTed (the webhook's own URL in the file is only its host name).
    pub url: Url,
    /// The effects contract's URL (`GET` → `{"effects":[{"uuid","event","action"}]}`); without
    /// it, expectations about the receiver's acts are not verified.
    pub effects: Option<Url>,
}

/// The bound receivers, by scenario receiver name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bindings {
    by_name: BTreeMap<String, Binding>,
}

/// A binding that cannot be made: bad input (`hooksim run` exits 2 and runs nothing).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    /// A flag's value cannot be read.
    #[error("{flag} {value:?}: {why}")]
    BadFlag {
        /// The flag, e.g. `--receiver`.
        flag: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        why: String,
    },
    /// A flag names the same receiver twice.
    #[error("{flag} {name}: given twice")]
    Twice {
        /// The flag, e.g. `--receiver`.
        flag: &'static str,
        /// The receiver named twice.
        name: String,
    },
    /// `--effects NAME=URL` for a receiver with no `--receiver NAME=URL`.
    #[error("--effects {name}: there is no --receiver {name}=URL to read the effects of")]
    EffectsWithoutReceiver {
        /// The receiver named.
        name: String,
    },
    /// `--receiver` names a receiver the scenario does not have.
    #[error("--receiver {name}: the scenario has no receiver {name:?} (it has: {known})")]
    Unknown {
        /// The name given.
        name: String,
        /// The scenario's receivers, comma-separated.
        known: String,
    },
    /// A receiver that gets deliveries has no `--receiver`: a live run has no simulated receivers.
    #[error(
        "receiver {name:?} gets deliveries but is not bound: add --receiver {name}=URL (a real-network \
         run has no simulated receivers)"
    )]
    Unbound {
        /// The receiver's name.
        name: String,
    },
    /// A bound receiver has scripted replies (`behaviour`), which a real endpoint cannot follow.
    #[error(
        "receiver {name:?} scripts its replies (`behaviour = \"{behaviour}\"`), which a real endpoint \
         cannot follow: it answers for itself. Remove the behaviour, or run the file on a simulated engine"
    )]
    Scripted {
        /// The receiver's name.
        name: String,
        /// Its `behaviour` as written.
        behaviour: String,
    },
    /// A bound receiver has the file's `secret`/`tolerance`: a real endpoint verifies with its own.
    #[error(
        "receiver {name:?} verifies signatures with the file's {fields} ([receivers.{name}]), but it is \
         bound to a real endpoint, which verifies with its own key and clock and cannot be given the \
         file's. Remove {fields} from [receivers.{name}] and give the endpoint the sender's key (the \
         [signing] table signs every attempt with it), or run the file on a simulated engine"
    )]
    Verifies {
        /// The receiver's name.
        name: String,
        /// The fields to remove, e.g. `secret`.
        fields: String,
    },
    /// A timeline step crashes, restarts or rescripts a bound receiver, which hooksim cannot do to
    /// a real process.
    #[error(
        "the timeline at {at} {what} receiver {name:?}, which is bound to a real endpoint: hooksim \
         cannot {verb} a real process. Remove that step, or run the file on a simulated engine"
    )]
    Fault {
        /// The receiver's name.
        name: String,
        /// When the step is, as written.
        at: String,
        /// What the step does, e.g. `crashes`.
        what: &'static str,
        /// The same as a verb, e.g. `crash`.
        verb: &'static str,
    },
    /// Nothing answers at the bound URL (checked before the run).
    #[error("receiver {name:?}: nothing answers at {url}: {why}")]
    Unreachable {
        /// The receiver's name.
        name: String,
        /// Its URL.
        url: String,
        /// What the connection did.
        why: String,
    },
    /// The receiver's effects list cannot be read: not there, not JSON, or too slow.
    #[error("the effects of receiver {name:?} cannot be read: {why}")]
    EffectsUnreadable {
        /// The receiver's name.
        name: String,
        /// What went wrong.
        why: String,
    },
    /// `--ca-cert` is not a PEM certificate.
    #[error("--ca-cert: not a PEM certificate the HTTP client can trust: {why}")]
    CaCert {
        /// What the TLS library said.
        why: String,
    },
}

impl Bindings {
    /// Parses the flags' values (`NAME=URL` each). Every problem is returned, not just the first.
    pub fn parse(receivers: &[String], effects: &[String]) -> Result<Bindings, Vec<BindError>> {
        let mut errors = Vec::new();
        let mut by_name = BTreeMap::new();
        for value in receivers {
            match pair("--receiver", value) {
                Ok((name, _)) if by_name.contains_key(&name) => {
                    errors.push(BindError::Twice { flag: "--receiver", name });
                }
                Ok((name, url)) => {
                    by_name.insert(name, Binding { url, effects: None });
                }
                Err(e) => errors.push(e),
            }
        }
        for value in effects {
            match pair("--effects", value) {
                Ok((name, url)) => match by_name.get_mut(&name) {
                    None => errors.push(BindError::EffectsWithoutReceiver { name }),
                    Some(b) if b.effects.is_some() => errors.push(BindError::Twice { flag: "--effects", name }),
                    Some(b) => b.effects = Some(url),
                },
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() { Ok(Bindings { by_name }) } else { Err(errors) }
    }

    /// Whether no receiver is bound.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The binding of a receiver, by the scenario's name for it.
    pub fn get(&self, receiver: &str) -> Option<&Binding> {
        self.by_name.get(receiver)
    }

    /// Bound receivers, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Binding)> {
        self.by_name.iter().map(|(n, b)| (n.as_str(), b))
    }

    /// The flags that make these bindings again (for a "reproduce" line).
    pub fn flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        for (name, b) in &self.by_name {
            flags.push(format!("--receiver {name}={}", b.url));
            if let Some(e) = &b.effects {
                flags.push(format!("--effects {name}={e}"));
            }
        }
        flags
    }

    /// Everything `world` asks of its bound receivers that a real endpoint cannot do, and every
    /// receiver that gets deliveries without being bound. Empty: the world can run for real.
    pub fn check(&self, world: &World) -> Vec<BindError> {
        let mut errors = Vec::new();
        let known = || world.receivers.iter().map(|r| r.host.as_str()).collect::<Vec<_>>().join(", ");
        for name in self.by_name.keys() {
            if world.receiver(name).is_none() {
                errors.push(BindError::Unknown { name: name.clone(), known: known() });
            }
        }
        for receiver in &world.receivers {
            let name = &receiver.host;
            let bound = self.by_name.contains_key(name);
            if !bound && gets_deliveries(world, name) {
                errors.push(BindError::Unbound { name: name.clone() });
            }
            if bound && receiver.behaviour != Behaviour::default() {
                let behaviour = receiver.behaviour.to_string();
                errors.push(BindError::Scripted { name: name.clone(), behaviour });
            }
            if let Some(keys) = world.signing.receivers.get(name).filter(|_| bound) {
                errors.push(BindError::Verifies { name: name.clone(), fields: verifying_fields(keys) });
            }
        }
        for step in &world.timeline {
            if let Some(error) = self.fault_error(&step.action, step.at.to_string()) {
                errors.push(error);
            }
        }
        errors
    }

    /// A timeline step that would script or crash a bound receiver.
    fn fault_error(&self, action: &Action, at: String) -> Option<BindError> {
        let (name, what, verb) = match action {
            Action::Behave { receiver, .. } => (receiver, "scripts the replies of", "script the replies of"),
            Action::Crash(Host::Receiver(name)) => (name, "crashes", "crash"),
            Action::Restart(Host::Receiver(name)) => (name, "restarts", "restart"),
            _ => return None,
        };
        self.by_name.contains_key(name).then(|| BindError::Fault { name: name.clone(), at, what, verb })
    }
}

/// The receiver fields that made `keys`: `secret`, and `tolerance` when it is not the default (a
/// `tolerance` equal to the default cannot be told from none; removing `secret` alone then
/// brings scenario validation's own error naming it).
fn verifying_fields(keys: &ReceiverKeys) -> String {
    if keys.tolerance_s == TOLERANCE_S_DEFAULT { "`secret`".into() } else { "`secret` and `tolerance`".into() }
}

/// Some webhook of the world names this receiver's host in its URL.
fn gets_deliveries(world: &World, receiver: &str) -> bool {
    world.webhooks.iter().any(|w| url_host(&w.url).as_deref() == Some(receiver))
}

/// `NAME=URL`, the URL absolute http(s) with a host.
fn pair(flag: &'static str, value: &str) -> Result<(String, Url), BindError> {
    let bad = |why: &str| BindError::BadFlag { flag, value: value.to_string(), why: why.to_string() };
    let (name, url) =
        value.split_once('=').ok_or_else(|| bad("expected NAME=URL, e.g. shop=http://127.0.0.1:8080/webhook"))?;
    if name.is_empty() {
        return Err(bad("the receiver NAME before `=` is empty"));
    }
    let url = Url::parse(url).map_err(|e| bad(&format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https URLs"));
    }
    if url.host_str().is_none() {
        return Err(bad("the URL has no host"));
    }
    Ok((name.to_string(), url))
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.url)?;
        if let Some(e) = &self.effects {
            write!(f, " (effects {e})")?;
        }
        Ok(())
    }
}
