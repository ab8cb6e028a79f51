//! What a delivery's body holds and what a receiver can do, learnt from the code that does it:
//! the dispatcher's envelope ([`hooksim_core::core::render`]) for one event of every path, and the
//! reference receivers' decisions ([`crate::receiver::handle`]) on those envelopes. An
//! expectation that names a field no envelope has, or an action no receiver takes, can never
//! fail with `exactly = 0`; checking against these makes it an error instead.

use crate::receiver::{Book, Decision, ReceiverKind, handle};
use hooksim_core::domain::{Change, Client, EntityKind, Event, EventPath, Invoice, InvoiceState, Store};
use hooksim_core::provider::{Occurrence, Provider};
use hooksim_core::time::SimTime;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use uuid::Uuid;

pub(super) struct Vocabulary {
    /// The `body` of an envelope (a provider's whole body), per provider and event path.
    pub bodies: BTreeMap<(Provider, EventPath), Value>,
    /// What receivers do, without the id: `fulfil invoice` (for `fulfil invoice 4`).
    pub actions: BTreeMap<String, EntityKind>,
}

/// Built once per process: a few renders and receiver decisions.
pub(super) fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(learn)
}

fn learn() -> Vocabulary {
    let client = Client { id: 1, name: "Ada".into(), email: "ada@example.com".into() };
    let invoice =
        Invoice { id: 2, number: "INV-2".into(), client_id: 1, total_cents: 100, state: InvoiceState::Unpaid };
    let mut changes =
        vec![Change::AddClient(client.clone()), Change::UpdateClient(client), Change::AddInvoice(invoice)];
    changes.extend(InvoiceState::ALL.map(|state| Change::SetInvoiceState { id: 2, state }));
    let mut store = Store::default();
    let mut v = Vocabulary { bodies: BTreeMap::new(), actions: BTreeMap::new() };
    for (n, change) in changes.iter().enumerate() {
        let Ok((path, details, entity)) = change.apply(&mut store) else { continue };
        let event = Event { id: n as u64 + 1, path, details, entity, at: SimTime::ZERO };
        let uuid = Uuid::from_u128(n as u128 + 1);
        let envelope = hooksim_core::core::render(uuid, &event, &store);
        if let Some(body) = serde_json::from_str::<Value>(&envelope).ok().and_then(|e| e.get("body").cloned()) {
            v.bodies.insert((Provider::Snapbill, path), body);
        }
        for p in Provider::all().filter(|p| *p != Provider::Snapbill) {
            let m = p.render(&Occurrence { uuid, event: &event, store: &store, event_s: 0 });
            if let Ok(body) = serde_json::from_str::<Value>(&m.body) {
                v.bodies.insert((p, path), body);
            }
        }
        for kind in ReceiverKind::ALL {
            if let Decision::Act { action } = handle(kind, &mut Book::default(), envelope.as_bytes()).decision
                && let Some(verb) = action.strip_suffix(&format!(" {}", entity.id))
            {
                v.actions.insert(verb.to_string(), entity.kind);
            }
        }
    }
    v
}

impl Vocabulary {
    /// `"fulfil invoice <id>", "cancel invoice <id>", ...`, for messages.
    pub(crate) fn actions_text(&self) -> String {
        self.actions.keys().map(|a| format!("\"{a} <id>\"")).collect::<Vec<_>>().join(", ")
    }

    /// Checks that `path` names a field of at least one of the bodies of `paths`, and that a
    /// value like `value` can be there. The message says which fields exist instead.
    pub(crate) fn check_body_path(
        &self,
        provider: Provider,
        paths: &BTreeSet<EventPath>,
        path: &[String],
        value: &Value,
    ) -> Result<(), String> {
        let mut level: Vec<&Value> = paths.iter().filter_map(|p| self.bodies.get(&(provider, *p))).collect();
        if level.is_empty() {
            return Ok(());
        }
        let dotted = format!("body.{}", path.join("."));
        for (i, field) in path.iter().enumerate() {
            let next: Vec<&Value> = level.iter().filter_map(|v| v.as_object()?.get(field)).collect();
            if next.is_empty() {
                let fields: BTreeSet<&str> =
                    level.iter().filter_map(|v| v.as_object()).flat_map(|m| m.keys().map(String::as_str)).collect();
                let here = if i == 0 { "the body".to_string() } else { format!("`body.{}`", path[..i].join(".")) };
                return Err(if fields.is_empty() {
                    format!("`{dotted}` can never match: {here} is a value, not a table of fields")
                } else {
                    let fields = fields.into_iter().collect::<Vec<_>>().join(", ");
                    format!("`{dotted}` is not a field of {} (fields of {here}: {fields})", events_text(paths))
                });
            }
            level = next;
        }
        if level.iter().any(|s| kind(s) == kind(value)) {
            return Ok(());
        }
        Err(format!("`{dotted}` is {} in the envelope, so {value} can never match", kind(level[0])))
    }
}

fn events_text(paths: &BTreeSet<EventPath>) -> String {
    let list = paths.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ");
    format!("the body of {list} events")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table of fields",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learnt_from_the_dispatcher_and_the_receivers() {
        let v = vocabulary();
        assert_eq!(v.bodies.len(), EventPath::ALL.len() * Provider::all().count());
        let verbs: Vec<&str> = v.actions.keys().map(String::as_str).collect();
        assert_eq!(verbs, ["cancel invoice", "create client", "fulfil invoice"]);
        let state = [EventPath::InvoiceUpdateState].into();
        let path = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
        assert!(v.check_body_path(Provider::Snapbill, &state, &path("invoice.state"), &Value::from("paid")).is_ok());
        let e = v.check_body_path(Provider::Snapbill, &state, &path("invoice.sate"), &Value::from("paid")).unwrap_err();
        assert!(e.contains("client_id, id, number, state, total_cents"), "{e}");
        assert!(
            v.check_body_path(Provider::Snapbill, &state, &path("invoice.id"), &Value::from("4"))
                .unwrap_err()
                .contains("a number")
        );
    }
}
