//! A receiver's durable records: what it acted on. It survives a crash of the receiver's host,
//! as a database would.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// One side effect: "acted on event `event` for delivery `uuid`".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Effect {
    pub uuid: Uuid,
    pub event: u64,
    pub action: String,
    /// The effects contract's machine-readable kind: `fulfil`, `cancel`, `create`.
    pub kind: &'static str,
}

#[derive(Clone, Debug, Default)]
pub struct Book {
    acted: BTreeSet<Uuid>,
    effects: Vec<Effect>,
    /// Per invoice, the newest event (by id) acted on about it and the state it acted on: what a
    /// stale delivery is judged by.
    invoice_events: BTreeMap<u64, (u64, String)>,
}

impl Book {
    pub fn has_acted_on(&self, uuid: Uuid) -> bool {
        self.acted.contains(&uuid)
    }

    pub fn record(&mut self, effect: Effect) {
        self.acted.insert(effect.uuid);
        self.effects.push(effect);
    }

    /// Acted on event `event` about invoice `invoice`, which was then in `state`.
    pub fn record_invoice_event(&mut self, invoice: u64, event: u64, state: &str) {
        let newest = self.invoice_events.entry(invoice).or_insert_with(|| (event, state.to_string()));
        if event > newest.0 {
            *newest = (event, state.to_string());
        }
    }

    /// The newest event acted on about `invoice`, and the state it acted on.
    pub fn newest_invoice_event(&self, invoice: u64) -> Option<(u64, &str)> {
        self.invoice_events.get(&invoice).map(|(event, state)| (*event, state.as_str()))
    }

    pub fn effects(&self) -> &[Effect] {
        &self.effects
    }
}
