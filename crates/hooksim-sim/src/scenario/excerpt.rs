//! Trace lines for people: `2d 03:04:05.006  attempt 7 to shop (delivery 3f2a91c0, event 3 "paid"): 500`.
//! Used in expectation failures, where a short excerpt of the trace shows what happened instead.

use super::EventInfo;
use hooksim_core::domain::WebhookId;
use hooksim_core::trace::DisableReason;
use hooksim_core::trace::{Outcome, TraceEntry, TraceEvent};
use uuid::Uuid;

/// How webhooks and events are named in rendered lines.
#[derive(Clone, Copy, Debug, Default)]
pub struct Names<'a> {
    webhooks: &'a [String],
    events: &'a [EventInfo],
}

impl<'a> Names<'a> {
    /// Names for a scenario's webhooks and events, by id (as files write them).
    pub(crate) fn new(webhooks: &'a [String], events: &'a [EventInfo]) -> Self {
        Names { webhooks, events }
    }

    /// The webhook's name in the file, or its id.
    pub(crate) fn webhook(&self, id: WebhookId) -> String {
        self.webhooks.get(id.0 as usize).cloned().unwrap_or_else(|| id.to_string())
    }

    /// The event's step name in the file, or its number.
    pub(crate) fn event(&self, id: u64) -> String {
        let named = usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.events.get(i))
            .and_then(|e| e.name.as_deref());
        match named {
            Some(n) => format!("event {id} {n:?}"),
            None => format!("event {id}"),
        }
    }
}

/// The first 8 hex digits: enough to tell deliveries of one scenario apart.
fn short(uuid: &Uuid) -> String {
    uuid.simple().to_string()[..8].to_string()
}

fn outcome(o: &Outcome) -> String {
    match o {
        Outcome::Status { code } => code.to_string(),
        Outcome::Timeout => "timeout".into(),
        Outcome::Refused => "refused".into(),
        Outcome::Reset => "connection reset".into(),
    }
}

/// Bodies can be long; an excerpt line shows the start of one.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// The envelope's `body` only: the uuid is already on the line as the delivery.
fn body_of(envelope: &str) -> String {
    serde_json::from_str::<serde_json::Value>(envelope)
        .ok()
        .and_then(|v| v.get("body").map(|b| format!("body {b}")))
        .unwrap_or_else(|| envelope.to_string())
}

/// One trace entry as one line: virtual time, two spaces, what happened.
pub fn render_entry(entry: &TraceEntry, names: &Names<'_>) -> String {
    let w = |id: &WebhookId| names.webhook(*id);
    let e = |id: &u64| names.event(*id);
    let what = match &entry.event {
        TraceEvent::EventRecorded { event, path, details, entity } => {
            format!("{} recorded: {} {details} ({entity})", e(event), path.as_str())
        }
        TraceEvent::DeliveryQueued { delivery, webhook, event } => {
            format!("delivery {} of {} queued for {}", short(delivery), e(event), w(webhook))
        }
        TraceEvent::DeliveryRefused { webhook, event, reason } => {
            format!("{} not queued for {}: {}", e(event), w(webhook), <&str>::from(reason))
        }
        TraceEvent::AttemptStarted { attempt, delivery, webhook, event, number, body } => format!(
            "attempt {attempt} to {} (try {number} of delivery {}, {}): {}",
            w(webhook),
            short(delivery),
            e(event),
            clip(&body_of(body), 200)
        ),
        TraceEvent::AttemptFinished { attempt, webhook, outcome: o, .. } => {
            format!("attempt {attempt} to {}: {}", w(webhook), outcome(o))
        }
        TraceEvent::LateAnswerIgnored { attempt, outcome: o } => {
            format!("late answer to attempt {attempt} ignored: {}", outcome(o))
        }
        TraceEvent::AttemptLost { attempt, delivery, webhook } => {
            format!("attempt {attempt} to {} lost in a dispatcher crash (delivery {})", w(webhook), short(delivery))
        }
        TraceEvent::RetryScheduled { delivery, webhook, at, failures } => {
            format!("delivery {} to {} retries at {at} (after {failures} failure(s))", short(delivery), w(webhook))
        }
        TraceEvent::Delivered { delivery, webhook, event, attempts } => {
            format!("delivery {} of {} delivered to {} in {attempts} attempt(s)", short(delivery), e(event), w(webhook))
        }
        TraceEvent::DeliveryAbandoned { delivery, webhook, event, attempts, reason } => format!(
            "delivery {} of {} to {} abandoned after {attempts} attempt(s): {}",
            short(delivery),
            e(event),
            w(webhook),
            <&str>::from(reason)
        ),
        TraceEvent::WarningSent { webhook, to, failing_since } => {
            format!("warning about {} sent to {to} (failing since {failing_since})", w(webhook))
        }
        TraceEvent::WebhookDisabled { webhook, failing_since, reason } => match reason {
            DisableReason::FailingStreak => format!("{} disabled (failing since {failing_since})", w(webhook)),
            DisableReason::Gone => format!("{} disabled: it answered 410 Gone", w(webhook)),
        },
        TraceEvent::WebhookRecovered { webhook } => format!("{} recovered", w(webhook)),
        TraceEvent::WebhookEnabled { webhook } => format!("{} enabled", w(webhook)),
        TraceEvent::EmailDeferred { webhook, outcome: o, retry_at } => {
            format!("warning email about {} not handed over ({}); retry at {retry_at}", w(webhook), outcome(o))
        }
        TraceEvent::DispatcherRestarted => "dispatcher restarted".to_string(),
        TraceEvent::WorldChanged { change } => format!("world: {change}"),
        TraceEvent::ReceiverActed { receiver, delivery, event, action } => {
            format!("receiver {receiver} acted on {} (delivery {}): {action}", e(event), short(delivery))
        }
        TraceEvent::ReceiverSkipped { receiver, delivery, event, why } => {
            format!("receiver {receiver} skipped {} (delivery {}): {why}", e(event), short(delivery))
        }
        TraceEvent::ReceiverRejected { receiver, delivery, event, why } => {
            let of = event.map_or_else(|| "a request".to_string(), |ev| e(&ev));
            let delivery = delivery.map_or_else(|| "?".to_string(), |d| short(&d));
            format!("receiver {receiver} rejected {of} (delivery {delivery}): {why}")
        }
        TraceEvent::EmailReceived { to, webhook } => {
            format!("mail host received the warning about {} for {to}", w(webhook))
        }
    };
    format!("{}  {what}", entry.at)
}

/// At most `head + tail` lines of `lines`, with a marker saying how many were left out.
pub(crate) fn excerpt(lines: Vec<String>, head: usize, tail: usize) -> Vec<String> {
    if lines.len() <= head + tail + 1 {
        return lines;
    }
    let skipped = lines.len() - head - tail;
    let mut out: Vec<String> = lines[..head].to_vec();
    out.push(format!("… {skipped} more line(s) …"));
    out.extend_from_slice(&lines[lines.len() - tail..]);
    out
}
