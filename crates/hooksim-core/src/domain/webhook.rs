//! Webhooks: where deliveries go, which events they want, and whether they are still active.

use super::EventPath;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Index of a webhook in the dispatcher's configuration, in the order it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookId(pub u32);

impl fmt::Display for WebhookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "webhook#{}", self.0)
    }
}

/// Which event paths a webhook subscribes to: an exact path, or a prefix ending in `*`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PathFilter(pub String);

impl PathFilter {
    /// Whether `path` matches: the same path, or a `*` suffix matching its prefix (`/invoice/*`).
    pub(crate) fn matches(&self, path: EventPath) -> bool {
        let path = path.as_str();
        match self.0.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == self.0,
        }
    }

    /// True when some known path matches: a filter that matches nothing is almost surely a typo.
    pub fn matches_any_known(&self) -> bool {
        EventPath::ALL.iter().any(|p| self.matches(*p))
    }
}

/// A webhook as its owner configured it: where to POST, which paths, who is warned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookConfig {
    /// The URL each delivery is POSTed to.
    pub url: String,
    /// Empty means every path.
    #[serde(default)]
    pub paths: Vec<PathFilter>,
    /// Who gets the warning email when this webhook has been failing for too long.
    pub owner_email: String,
}

impl WebhookConfig {
    /// Whether an event on `path` is delivered to this webhook (no filters: every path).
    pub fn wants(&self, path: EventPath) -> bool {
        self.paths.is_empty() || self.paths.iter().any(|f| f.matches(path))
    }
}

/// Where a webhook is in its health: active, warned, or disabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Delivering normally (not failing, or failing short of `warn_after`).
    Active,
    /// Failing past `warn_after`; the warning email went out. Still attempted.
    Warned,
    /// No further attempts until re-enabled.
    Disabled,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_exact_paths_and_prefixes() {
        assert!(PathFilter("/invoice/*".into()).matches(EventPath::InvoiceUpdateState));
        assert!(!PathFilter("/invoice/*".into()).matches(EventPath::ClientAdd));
        assert!(PathFilter("/client/add".into()).matches(EventPath::ClientAdd));
        assert!(!PathFilter("/client/add".into()).matches(EventPath::ClientUpdate));
        assert!(!PathFilter("/nothing".into()).matches_any_known());
        let all = WebhookConfig { url: "http://a/".into(), paths: vec![], owner_email: "o@x".into() };
        assert!(EventPath::ALL.iter().all(|p| all.wants(*p)));
    }
}
