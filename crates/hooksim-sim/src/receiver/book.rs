//! A receiver's durable records: what it acted on. It survives a crash of the receiver's host,
//! as a database would.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// One side effect: "acted on event `event` for delivery `uuid`".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Effect {
    /// The delivery acted on.
    pub uuid: Uuid,
    /// The event it carried.
    pub event: u64,
    /// The act in words, e.g. `fulfil invoice 4`.
    pub action: String,
    /// The effects contract's machine-readable kind: `fulfil`, `cancel`, `create`.
    pub kind: &'static str,
}

/// Deliveries a book records acts for by default ([`Book::with_effects_max`]).
pub const EFFECTS_MAX: usize = 50_000;

/// What a receiver acted on, bounded: at most `effects_max` acts are kept (about 100 bytes each
/// in `/effects`; 50 000 is about 5 MB, under certification's 8 MiB read limit). At the limit a
/// delivery that calls for a new act is refused with 503 and not acted on (the sender retries
/// it; the receiver must be restarted with a fresh book), while a duplicate of a delivery acted
/// on is still answered 2xx and skipped. Nothing is ever dropped: forgetting a uuid would let
/// its redelivery act twice, and a shortened `/effects` would hide acts from certification.
#[derive(Clone, Debug)]
pub struct Book {
    acted: BTreeSet<Uuid>,
    effects: Vec<Effect>,
    effects_max: usize,
    /// Per invoice, the newest event (by id) acted on about it and the state it acted on: what a
    /// stale delivery is judged by.
    invoice_events: BTreeMap<u64, (u64, String)>,
}

impl Default for Book {
    fn default() -> Self {
        Book::with_effects_max(EFFECTS_MAX)
    }
}

impl Book {
    /// An empty book that keeps at most `effects_max` acts.
    pub fn with_effects_max(effects_max: usize) -> Book {
        Book { acted: BTreeSet::new(), effects: Vec::new(), effects_max, invoice_events: BTreeMap::new() }
    }

    /// No room for another act.
    pub fn is_full(&self) -> bool {
        self.effects.len() >= self.effects_max
    }

    /// How many acts the book keeps at most; past it a delivery calling for a new act is answered
    /// 503 (`effects_full`).
    pub(crate) fn effects_max(&self) -> usize {
        self.effects_max
    }

    pub(crate) fn has_acted_on(&self, uuid: Uuid) -> bool {
        self.acted.contains(&uuid)
    }

    /// Records an act (the book must not be full: see [`Book::is_full`]).
    pub(crate) fn record(&mut self, effect: Effect) {
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

    /// The acts, oldest first (the receiver's `GET /effects`).
    pub fn effects(&self) -> &[Effect] {
        &self.effects
    }
}
