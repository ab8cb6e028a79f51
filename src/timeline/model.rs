//! The trace as the page draws it: lanes, attempts (request and answer), emails, marks and
//! fault bands, as one JSON value. Times stay in milliseconds; the page lays out the axis.

use super::TimelineOptions;
use crate::domain::WebhookId;
use crate::trace::DisableReason;
use crate::trace::{Outcome, Trace, TraceEvent, WorldChange};
use crate::world::{DISPATCHER_HOST, MAIL_HOST};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Default)]
struct Model {
    lanes: Vec<String>,
    attempts: Vec<Value>,
    /// Attempt id -> index in `attempts`; delivery -> its latest attempt's index.
    by_id: BTreeMap<u64, usize>,
    latest: BTreeMap<Uuid, usize>,
    emails: Vec<Value>,
    marks: Vec<Value>,
    bands: Vec<Value>,
    /// Faults waiting for the step that ends them: key -> index in `bands`.
    open: BTreeMap<String, usize>,
}

pub(super) fn build(trace: &Trace, o: &TimelineOptions) -> Value {
    let mut m = Model { lanes: vec![DISPATCHER_HOST.to_string()], ..Model::default() };
    for name in &o.webhook_lanes {
        m.lane(name);
    }
    let total_attempts =
        trace.entries().iter().filter(|e| matches!(e.event, TraceEvent::AttemptStarted { .. })).count();
    let mut cut = None;
    for (i, e) in trace.entries().iter().enumerate() {
        let starts = matches!(e.event, TraceEvent::AttemptStarted { .. });
        if i >= o.entries_max || (starts && m.attempts.len() >= o.attempts_max) {
            cut = Some(e.at.as_millis());
            break;
        }
        m.add(e.at.as_millis(), &e.event, o);
    }
    let mail = m.lane(MAIL_HOST);
    let end = cut.unwrap_or(trace.last_at().as_millis());
    for &b in m.open.values() {
        m.bands[b]["t1"] = json!(end);
    }
    let failures: Vec<Value> = o.failures.iter().map(|(t, msg)| json!({"t": t.as_millis(), "text": msg})).collect();
    json!({
        "lanes": m.lanes, "mail": mail, "attempts": m.attempts, "emails": m.emails, "marks": m.marks,
        "bands": m.bands, "failures": failures, "end": end,
        "cut": cut.map(|t| json!({"t": t, "attempts": total_attempts, "entries": trace.len(),
            "attempts_max": o.attempts_max, "entries_max": o.entries_max})),
    })
}

impl Model {
    fn lane(&mut self, name: &str) -> usize {
        self.lanes.iter().position(|l| l == name).unwrap_or_else(|| {
            self.lanes.push(name.to_string());
            self.lanes.len() - 1
        })
    }

    fn webhook_lane(&mut self, w: WebhookId, o: &TimelineOptions) -> usize {
        let name = o.webhook_lanes.get(w.0 as usize).cloned().unwrap_or_else(|| w.to_string());
        self.lane(&name)
    }

    fn mark(&mut self, t: u64, lane: usize, kind: &str, text: String) {
        self.marks.push(json!({"t": t, "lane": lane, "kind": kind, "text": text}));
    }

    fn add(&mut self, t: u64, event: &TraceEvent, o: &TimelineOptions) {
        match event {
            TraceEvent::EventRecorded { event, path, details, entity } => {
                let text =
                    format!("event {event}: {} {details} ({} {})", path.as_str(), entity.kind.as_str(), entity.id);
                self.mark(t, 0, "event", text);
            }
            TraceEvent::DeliveryRefused { webhook, event, reason } => {
                let lane = self.webhook_lane(*webhook, o);
                self.mark(t, lane, "refused", format!("event {event} refused for {webhook}: {reason:?}"));
            }
            TraceEvent::AttemptStarted { attempt, delivery, webhook, event, number, body } => {
                let lane = self.webhook_lane(*webhook, o);
                let (body, cut) = truncate(body, o.body_bytes_max);
                self.by_id.insert(*attempt, self.attempts.len());
                self.latest.insert(*delivery, self.attempts.len());
                self.attempts.push(json!({
                    "id": attempt, "lane": lane, "t0": t, "n": number, "delivery": delivery.to_string(),
                    "event": event, "webhook": webhook.to_string(), "body": body, "body_cut": cut,
                }));
            }
            TraceEvent::AttemptFinished { attempt, outcome, .. } => {
                if let Some(a) = self.by_id.get(attempt).and_then(|&i| self.attempts.get_mut(i)) {
                    a["t1"] = json!(t);
                    a["outcome"] = json!(outcome_text(*outcome));
                    a["class"] = json!(outcome_class(*outcome));
                }
            }
            TraceEvent::AttemptLost { attempt, .. } => {
                if let Some(a) = self.by_id.get(attempt).and_then(|&i| self.attempts.get_mut(i)) {
                    a["t1"] = json!(t);
                    a["outcome"] = json!("lost in a dispatcher crash");
                    a["class"] = json!("lost");
                }
            }
            TraceEvent::LateAnswerIgnored { attempt, outcome } => {
                self.mark(
                    t,
                    0,
                    "late",
                    format!("late answer to attempt {attempt} ignored: {}", outcome_text(*outcome)),
                );
            }
            TraceEvent::RetryScheduled { delivery, at, failures, .. } => {
                if let Some(a) = self.latest.get(delivery).and_then(|&i| self.attempts.get_mut(i)) {
                    a["retry"] = json!(format!("retry {} at {at}", failures + 1));
                }
            }
            TraceEvent::Delivered { delivery, attempts, .. } => {
                if let Some(a) = self.latest.get(delivery).and_then(|&i| self.attempts.get_mut(i)) {
                    a["verdict"] = json!(format!("delivered after {attempts} attempt(s)"));
                }
            }
            TraceEvent::DeliveryAbandoned { delivery, webhook, event, attempts, reason } => {
                let lane = self.webhook_lane(*webhook, o);
                let text = format!("gave up on event {event} ({delivery}) after {attempts} attempts: {reason:?}");
                self.mark(t, lane, "abandoned", text);
            }
            TraceEvent::WarningSent { webhook, to, failing_since } => {
                let text = format!("warning to {to}: {webhook} failing since {failing_since}");
                self.emails.push(json!({"t0": t, "webhook": webhook.0, "text": text}));
            }
            TraceEvent::EmailReceived { to, webhook } => {
                let open = self.emails.iter_mut().find(|e| e["webhook"] == json!(webhook.0) && e.get("t1").is_none());
                if let Some(e) = open {
                    e["t1"] = json!(t);
                } else {
                    let mail = self.lane(MAIL_HOST);
                    self.mark(t, mail, "email", format!("email to {to} about {webhook}"));
                }
            }
            TraceEvent::EmailDeferred { webhook, outcome, retry_at } => {
                let text = format!(
                    "warning about {webhook} not handed over ({}); again at {retry_at}",
                    outcome_text(*outcome)
                );
                self.mark(t, 0, "late", text);
            }
            TraceEvent::WebhookDisabled { webhook, failing_since, reason } => {
                let lane = self.webhook_lane(*webhook, o);
                let text = match reason {
                    DisableReason::FailingStreak => format!("{webhook} disabled (failing since {failing_since})"),
                    DisableReason::Gone => format!("{webhook} disabled: it answered 410 Gone"),
                };
                self.mark(t, lane, "disabled", text);
            }
            TraceEvent::WebhookEnabled { webhook } => {
                let lane = self.webhook_lane(*webhook, o);
                self.mark(t, lane, "enabled", format!("{webhook} enabled"));
            }
            TraceEvent::WebhookRecovered { webhook } => {
                let lane = self.webhook_lane(*webhook, o);
                self.mark(t, lane, "enabled", format!("{webhook} recovered"));
            }
            TraceEvent::DispatcherRestarted => self.mark(t, 0, "enabled", "dispatcher restarted".into()),
            TraceEvent::ReceiverActed { receiver, delivery, action, .. } => {
                self.received(t, receiver, delivery, format!("acted: {action}"), true);
            }
            TraceEvent::ReceiverSkipped { receiver, delivery, why, .. } => {
                self.received(t, receiver, delivery, format!("skipped: {why}"), false);
            }
            TraceEvent::ReceiverRejected { receiver, delivery: Some(delivery), why, .. } => {
                self.received(t, receiver, delivery, format!("rejected: {why}"), false);
            }
            TraceEvent::ReceiverRejected { receiver, delivery: None, why, .. } => {
                let lane = self.lane(receiver);
                self.mark(t, lane, "skipped", format!("rejected: {why}"));
            }
            TraceEvent::WorldChanged { change } => self.world_changed(t, change),
            TraceEvent::DeliveryQueued { .. } => {}
        }
    }

    /// A receiver handled a delivery: the request arrow of its latest attempt ends here.
    fn received(&mut self, t: u64, receiver: &str, delivery: &Uuid, text: String, acted: bool) {
        let lane = self.lane(receiver);
        let open = self.latest.get(delivery).and_then(|&i| self.attempts.get_mut(i));
        if let Some(a) = open.filter(|a| a.get("tr").is_none() && a["lane"] == json!(lane)) {
            a["tr"] = json!(t);
            a["receiver"] = json!(text);
            a["acted"] = json!(acted);
            return;
        }
        self.mark(t, lane, if acted { "acted" } else { "skipped" }, text);
    }

    /// Faults with an end (crash/restart, partition/repair, hold/release) become bands over the
    /// lanes of their hosts; other changes (latency, a receiver's behaviour, held attempts) are
    /// marks. A band's key is its kind and its hosts (sorted), so its end step finds it.
    fn world_changed(&mut self, t: u64, change: &WorldChange) {
        let what = change.to_string();
        let (kind, ends, hosts): (&str, Option<&str>, Vec<&str>) = match change {
            WorldChange::Crash { host } => ("crash", None, vec![host]),
            WorldChange::Restart { host } => ("restart", Some("crash"), vec![host]),
            WorldChange::Partition { from, to, .. } => ("partition", None, vec![from, to]),
            WorldChange::Repair { a, b } => ("repair", Some("partition"), vec![a, b]),
            WorldChange::Hold { a, b } => ("hold", None, vec![a, b]),
            WorldChange::Release { a, b } => ("release", Some("hold"), vec![a, b]),
            // Held attempts have no end step to close a band: the step is a mark on the
            // receiver's lane, and each held attempt's request arrow is as long as it was held.
            WorldChange::DelayAttempts { receiver, .. } => {
                let lane = self.lane(receiver);
                self.mark(t, lane, "world", what);
                return;
            }
            // On the receiver's lane if it has one yet, else the dispatcher's.
            WorldChange::Behave { receiver, .. } => {
                let lane = self.lanes.iter().position(|l| l == receiver).unwrap_or(0);
                self.mark(t, lane, "world", what);
                return;
            }
            WorldChange::Latency { .. } => {
                self.mark(t, 0, "world", what);
                return;
            }
        };
        let mut key_hosts: Vec<&str> = hosts.clone();
        key_hosts.sort();
        let key = |kind: &str| format!("{kind} {}", key_hosts.join(" "));
        if let Some(opened) = ends {
            if let Some(b) = self.open.remove(&key(opened)) {
                self.bands[b]["t1"] = json!(t);
                self.bands[b]["end"] = json!(what);
            } else {
                self.mark(t, 0, "world", what);
            }
            return;
        }
        let lanes: Vec<usize> = hosts.iter().map(|h| self.lane(h)).collect();
        self.open.insert(key(kind), self.bands.len());
        self.bands.push(json!({"t0": t, "kind": kind, "text": what, "lanes": lanes}));
    }
}

fn truncate(body: &str, max: usize) -> (&str, bool) {
    if body.len() <= max {
        return (body, false);
    }
    let mut end = max;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    (&body[..end], true)
}

fn outcome_text(o: Outcome) -> String {
    match o {
        Outcome::Status { code } => code.to_string(),
        Outcome::Timeout => "timeout".into(),
        Outcome::Refused => "connection refused".into(),
        Outcome::Reset => "connection reset".into(),
    }
}

fn outcome_class(o: Outcome) -> &'static str {
    match o {
        Outcome::Status { code } if (200..300).contains(&code) => "ok",
        Outcome::Status { .. } => "fail",
        Outcome::Timeout => "timeout",
        Outcome::Refused | Outcome::Reset => "broken",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimTime;
    use crate::world::Action;

    #[test]
    fn a_delay_step_is_marked_on_its_receivers_lane() {
        let mut trace = Trace::default();
        let change =
            Action::DelayAttempts { receiver: "shop".into(), count: 2, by_ms: 120_000 }.world_change().unwrap();
        let what = change.to_string();
        trace.push(SimTime::from_millis(5), TraceEvent::WorldChanged { change });
        let model = build(&trace, &TimelineOptions::new("delay"));
        assert_eq!(model["lanes"], json!(["dispatcher", "shop", "mail"]));
        assert_eq!(model["marks"], json!([{"t": 5, "lane": 1, "kind": "world", "text": what}]));
        assert_eq!(model["bands"], json!([]));
    }
}
