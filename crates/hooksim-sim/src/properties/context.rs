//! What the properties need that a trace does not say.

use crate::receiver::ReceiverKind;
use crate::world::{Action, World};
use hooksim_core::domain::{Change, WebhookConfig, WebhookId};
use hooksim_core::policy::Policy;
use hooksim_core::provider::Provider;
use hooksim_core::time::SimTime;
use std::collections::BTreeSet;

/// What the properties need to know that a trace does not say: the policy, the run's end, routing,
/// which receivers deduplicate, the changes, the timeline's enables.
#[derive(Clone, Debug)]
pub struct PropertyContext {
    /// Thresholds (warn, disable), limits (pending, in flight, attempt timeout, give-up rules).
    pub policy: Policy,
    /// The instant the run ended: a delivery may be unfinished only for a reason that lasts
    /// until then (a retry due later, an attempt still in time, a crashed dispatcher, ...).
    pub end: SimTime,
    /// The webhooks, in id order, to check routing by path filter; `None` skips that check.
    pub webhooks: Option<Vec<WebhookConfig>>,
    /// Receivers (host names) whose contract is to act at most once per delivery uuid.
    pub dedup_receivers: BTreeSet<String>,
    /// The changes made to the store, in the order they were recorded (event `n` is change
    /// `n - 1`), to replay the store and compare every body with it exactly. `None` falls back
    /// to what the trace implies (an invoice's state is in its events' `details`).
    pub changes: Option<Vec<Change>>,
    /// When each webhook was enabled again by the timeline (the trace holds `webhook_enabled`
    /// only when the dispatcher reports it). Empty: none, or not known.
    pub enables: Vec<(SimTime, WebhookId)>,
    /// Whose shape the bodies are in: SnapBill's envelope (rendered at send time), or a
    /// provider's snapshot of the event (`body.rs`).
    pub provider: Provider,
}

impl PropertyContext {
    /// A context that knows only the policy and the end: routing is not checked, no receiver
    /// is held to dedup, bodies are checked against what the trace implies.
    pub fn new(policy: Policy, end: SimTime) -> Self {
        PropertyContext {
            policy,
            end,
            webhooks: None,
            dedup_receivers: BTreeSet::new(),
            changes: None,
            enables: Vec::new(),
            provider: Provider::Snapbill,
        }
    }

    /// Everything a world says: its policy, end, webhooks, deduplicating receivers (every kind
    /// but `naive`) and the changes of its timeline.
    pub fn from_world(world: &World) -> Self {
        let dedup_receivers =
            world.receivers.iter().filter(|r| r.kind != ReceiverKind::Naive).map(|r| r.host.clone()).collect();
        let changes = world
            .timeline
            .iter()
            .filter_map(|s| match &s.action {
                Action::Change(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        let enables = world
            .timeline
            .iter()
            .filter_map(|s| match &s.action {
                Action::EnableWebhook(w) => Some((s.at, *w)),
                _ => None,
            })
            .collect();
        PropertyContext {
            policy: world.policy.clone(),
            end: world.end(),
            webhooks: Some(world.webhooks.clone()),
            dedup_receivers,
            changes: Some(changes),
            enables,
            provider: world.provider,
        }
    }
}
