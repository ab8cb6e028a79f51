//! The kinds of reference receiver.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which reference logic a receiver runs (`kind` of a scenario's receiver; `hooksim receiver
/// --kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiverKind {
    /// Acts once per delivery `uuid`; trusts the entity in the body (the truth at send time), so a
    /// `paid` event carrying a cancelled invoice fulfils nothing; never acts on an event older (by
    /// event id) than one it acted on for the same invoice in another state, so a `paid` attempt
    /// overtaken by the `cancelled` delivery fulfils nothing either; answers 2xx to paths it
    /// ignores.
    Dedup,
    /// The SnapBill sample: acts on every delivery whose `details` say so, with no dedup and no
    /// look at the entity it carries.
    Naive,
    /// Like `dedup`, but answers 500 to paths it does not handle: the sender retries those for a
    /// week and then disables the webhook.
    Picky,
    /// Like `dedup`, but parses strictly: a field it does not know, or a body it cannot read,
    /// escapes as a 500 (an uncaught exception), so the sender retries it forever.
    Brittle,
}

impl ReceiverKind {
    /// Every kind.
    pub(crate) const ALL: [ReceiverKind; 4] = [Self::Dedup, Self::Naive, Self::Picky, Self::Brittle];

    /// The name in files and flags, e.g. `dedup`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dedup => "dedup",
            Self::Naive => "naive",
            Self::Picky => "picky",
            Self::Brittle => "brittle",
        }
    }
}

impl fmt::Display for ReceiverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown receiver kind {0:?} (known: dedup, naive, picky, brittle)")]
pub struct UnknownKind(String);

impl FromStr for ReceiverKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownKind(s.to_string()))
    }
}
