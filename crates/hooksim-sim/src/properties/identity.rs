//! A uuid names one delivery: minted once, never reused across webhooks or events, and sent
//! unchanged in the body of every attempt of that delivery (receivers deduplicate on it). A
//! delivery is one (webhook, event): a second uuid for it (typically a retry, or its first
//! send, under a new uuid) is a uuid that changed.

use super::{Breach, Violation};
use hooksim_core::domain::WebhookId;
use hooksim_core::trace::{Trace, TraceEvent};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A provider's shape names the delivery by its dedup id, in the body or in a header (not in the
/// trace): its bodies are held to the provider's snapshot by `body.rs` instead.
pub(super) fn check(trace: &Trace, ctx: &super::PropertyContext) -> Vec<Violation> {
    let envelope = ctx.provider == hooksim_core::provider::Provider::Snapbill;
    let mut out = Vec::new();
    let mut minted: BTreeMap<Uuid, (WebhookId, u64, usize)> = BTreeMap::new();
    // The last body of each delivery whose uuid was right: a retry that resends the same bytes
    // (the usual case) needs no second parse.
    let mut checked: BTreeMap<Uuid, &str> = BTreeMap::new();
    let mut retries = Retries::default();
    for (i, e) in trace.entries().iter().enumerate() {
        match &e.event {
            TraceEvent::DeliveryQueued { delivery, webhook, event } => {
                if let Some((old, first)) = retries.replaced(*webhook, *event, *delivery, i) {
                    let detail = format!(
                        "event {event} for {webhook} was delivery {old}, then delivery {delivery}: one delivery \
                         keeps one uuid across its attempts"
                    );
                    out.push(Violation::new(Breach::UuidChanged, e.at, vec![first, i], detail));
                }
                if let Some(&(w, ev, first)) = minted.get(delivery) {
                    let detail =
                        format!("uuid {delivery} of event {ev} for {w} minted again for event {event} for {webhook}");
                    out.push(Violation::new(Breach::UuidReused, e.at, vec![first, i], detail));
                } else {
                    minted.insert(*delivery, (*webhook, *event, i));
                }
            }
            TraceEvent::AttemptStarted { delivery, webhook, event, body, number, .. } => {
                let Some(&(w, ev, first)) = minted.get(delivery) else {
                    let detail = format!("attempt {number} of delivery {delivery}, which was never queued");
                    out.push(Violation::new(Breach::AttemptOfUnknownDelivery, e.at, vec![i], detail));
                    continue;
                };
                if (w, ev) != (*webhook, *event) {
                    let detail = format!(
                        "delivery {delivery} is event {ev} for {w}, its attempt says event {event} for {webhook}"
                    );
                    out.push(Violation::new(Breach::AttemptIdentityMismatch, e.at, vec![first, i], detail));
                }
                // The same bytes as last checked: a retry usually resends the very same body (one
                // allocation, so the pointers match and no byte is compared).
                if !envelope
                    || checked.get(delivery).is_some_and(|last| std::ptr::eq(*last, &**body) || *last == &**body)
                {
                    continue;
                }
                let sent = body_uuid(body);
                if sent.as_deref() == Some(delivery.to_string().as_str()) {
                    checked.insert(*delivery, body);
                } else {
                    let detail = format!("attempt {number} of delivery {delivery} sent uuid {sent:?}");
                    out.push(Violation::new(Breach::BodyUuidMismatch, e.at, vec![first, i], detail));
                }
            }
            _ => {}
        }
    }
    out
}

/// The envelope's top-level `uuid`, if the body is JSON with one.
fn body_uuid(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("uuid")?.as_str().map(str::to_string)
}

/// The latest delivery of each (webhook, event): another uuid queued for the same pair replaces
/// it (its uuid changed).
#[derive(Default)]
pub(super) struct Retries {
    latest: BTreeMap<(WebhookId, u64), (Uuid, usize)>,
}

impl Retries {
    /// Records `delivery` queued for (webhook, event) by entry `i`; the delivery it replaces,
    /// and the entry that queued that one, if the pair had another uuid.
    pub(super) fn replaced(
        &mut self,
        webhook: WebhookId,
        event: u64,
        delivery: Uuid,
        i: usize,
    ) -> Option<(Uuid, usize)> {
        self.latest.insert((webhook, event), (delivery, i)).filter(|&(old, _)| old != delivery)
    }
}
