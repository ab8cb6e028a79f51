//! The TOML format of a scenario, as serde structs. Every table refuses unknown keys (a typo is
//! an error, not a silently ignored setting), and values whose position matters for a later
//! check are kept `Spanned`. `scenarios/README.md` documents every key.

use super::duration::{Duration, LatencyRange};
use super::reply::BehaviourSpec;
use crate::domain::InvoiceState;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: Spanned<String>,
    pub description: Spanned<String>,
    pub seed: Option<Spanned<u64>>,
    pub run_for: Spanned<Duration>,
    pub latency: Option<Spanned<LatencyRange>>,
    pub policy: Option<Spanned<PolicyFile>>,
    #[serde(default)]
    pub webhooks: BTreeMap<Spanned<String>, Spanned<WebhookFile>>,
    #[serde(default)]
    pub receivers: BTreeMap<Spanned<String>, Spanned<ReceiverFile>>,
    #[serde(default)]
    pub timeline: Vec<Spanned<StepFile>>,
    #[serde(default)]
    pub expect: Vec<Spanned<ExpectFile>>,
}

/// `[policy]`: a named profile, then any field overridden.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub profile: Option<Spanned<String>>,
    /// Delays after the 1st, 2nd, ... failure; the last repeats.
    pub retries: Option<Spanned<Vec<Spanned<Duration>>>>,
    pub backoff: Option<Spanned<BackoffFile>>,
    pub jitter_percent: Option<Spanned<u8>>,
    pub warn_after: Option<Spanned<Never<Duration>>>,
    pub disable_after: Option<Spanned<Never<Duration>>>,
    pub attempt_timeout: Option<Spanned<Duration>>,
    pub attempts_max: Option<Spanned<Never<u32>>>,
    pub retry_window: Option<Spanned<Never<Duration>>>,
    pub in_flight_max: Option<Spanned<u32>>,
    pub pending_max: Option<Spanned<u32>>,
}

/// `backoff = { initial = "1m", multiplier = 2, max = "12h" }`: exponential backoff.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackoffFile {
    pub initial: Spanned<Duration>,
    pub multiplier: Spanned<u32>,
    pub max: Spanned<Duration>,
}

/// A value, or `"never"` for "no limit" (`warn_after = "never"`, `attempts_max = "never"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Never<T> {
    Never,
    Value(T),
}

impl<T> Never<T> {
    pub fn into_option(self) -> Option<T> {
        match self {
            Never::Never => None,
            Never::Value(v) => Some(v),
        }
    }
}

impl<'de> Deserialize<'de> for Never<Duration> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Never<Duration>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a duration such as "7d" or "never""#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.trim() == "never" {
                    return Ok(Never::Never);
                }
                super::duration::parse_duration(v).map(Never::Value).map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Err(E::custom(format!(
                    "a duration must be a string with a unit, such as \"{v}s\" or \"{v}d\", or \"never\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Never<u32> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Never<u32>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a count such as 10, or "never" for no limit"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.trim() == "never" {
                    Ok(Never::Never)
                } else {
                    Err(E::custom(format!("expected a count such as 10, or \"never\" for no limit, found {v:?}")))
                }
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u32::try_from(v)
                    .map(Never::Value)
                    .map_err(|_| E::custom(format!("count {v} is out of range (0 to {})", u32::MAX)))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[webhooks.<name>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFile {
    pub url: Spanned<String>,
    /// Empty or absent: every path.
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
    /// Who gets the warning email.
    pub owner: Option<Spanned<String>>,
}

/// `[receivers.<host>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverFile {
    pub kind: Option<Spanned<String>>,
    pub behaviour: Option<Spanned<BehaviourSpec>>,
}

/// One `[[timeline]]` entry: `at` plus exactly one action (checked in `validate`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    pub at: Option<Spanned<Duration>>,
    /// A name for the event a change records, for expectations to refer to.
    pub name: Option<Spanned<String>>,
    pub add_client: Option<Spanned<ClientFile>>,
    pub update_client: Option<Spanned<ClientFile>>,
    pub add_invoice: Option<Spanned<InvoiceFile>>,
    pub invoice_state: Option<Spanned<InvoiceStateFile>>,
    pub enable: Option<Spanned<String>>,
    pub receiver: Option<Spanned<String>>,
    pub behave: Option<Spanned<BehaviourSpec>>,
    pub partition: Option<Spanned<(Spanned<String>, Spanned<String>)>>,
    pub one_way: Option<Spanned<bool>>,
    pub repair: Option<Spanned<(Spanned<String>, Spanned<String>)>>,
    pub hold: Option<Spanned<(Spanned<String>, Spanned<String>)>>,
    pub release: Option<Spanned<(Spanned<String>, Spanned<String>)>>,
    pub latency: Option<Spanned<LatencyRange>>,
    pub crash: Option<Spanned<String>>,
    pub restart: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    pub id: Spanned<u64>,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceFile {
    pub id: Spanned<u64>,
    pub client: Spanned<u64>,
    pub number: Option<String>,
    pub total_cents: Option<i64>,
    pub state: Option<InvoiceState>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceStateFile {
    pub id: Spanned<u64>,
    pub state: InvoiceState,
}

/// One `[[expect]]` entry: exactly one subject key (`delivered`, `warned`, ...) and the
/// qualifiers that apply to it (checked in `validate`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectFile {
    // ---- subjects: which trace facts are counted ----
    pub delivered: Option<Spanned<String>>,
    pub never_delivered: Option<Spanned<String>>,
    pub attempts: Option<Spanned<String>>,
    pub warned: Option<Spanned<String>>,
    pub not_warned: Option<Spanned<String>>,
    pub emailed: Option<Spanned<String>>,
    pub disabled: Option<Spanned<String>>,
    pub not_disabled: Option<Spanned<String>>,
    pub no_attempt_after_disable: Option<Spanned<String>>,
    pub abandoned: Option<Spanned<String>>,
    pub acted: Option<Spanned<String>>,
    pub skipped: Option<Spanned<String>>,
    pub delivered_in_order: Option<Spanned<Vec<Spanned<EventRef>>>>,
    // ---- qualifiers ----
    pub webhook: Option<Spanned<String>>,
    pub event: Option<Spanned<EventRef>>,
    pub body: Option<Spanned<toml::Table>>,
    pub outcome: Option<Spanned<String>>,
    pub to: Option<Spanned<String>>,
    pub action: Option<Spanned<String>>,
    pub exactly: Option<Spanned<u64>>,
    pub at_least: Option<Spanned<u64>>,
    pub at_most: Option<Spanned<u64>>,
    pub after: Option<Spanned<Duration>>,
    pub before: Option<Spanned<Duration>>,
}

/// An event, named by its change step's `name` or by the 1-based index of the change among the
/// timeline's changes (which is the event id the dispatcher gives it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventRef {
    Index(u64),
    Name(String),
}

impl<'de> Deserialize<'de> for EventRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = EventRef;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an event: the name of a change step, or its 1-based number among the changes")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<EventRef, E> {
                Ok(EventRef::Name(v.to_string()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<EventRef, E> {
                match u64::try_from(v) {
                    Ok(n) if n >= 1 => Ok(EventRef::Index(n)),
                    _ => Err(E::custom(format!("event number {v} is out of range: changes are numbered from 1"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl fmt::Display for EventRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventRef::Index(n) => write!(f, "{n}"),
            EventRef::Name(s) => write!(f, "{s:?}"),
        }
    }
}
