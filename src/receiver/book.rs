//! A receiver's durable records: what it acted on. It survives a crash of the receiver's host,
//! as a database would.

use serde::Serialize;
use std::collections::BTreeSet;
use uuid::Uuid;

/// One side effect: "acted on event `event` for delivery `uuid`".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Effect {
    pub uuid: Uuid,
    pub event: u64,
    pub action: String,
}

#[derive(Clone, Debug, Default)]
pub struct Book {
    acted: BTreeSet<Uuid>,
    effects: Vec<Effect>,
}

impl Book {
    pub fn has_acted_on(&self, uuid: Uuid) -> bool {
        self.acted.contains(&uuid)
    }

    pub fn record(&mut self, effect: Effect) {
        self.acted.insert(effect.uuid);
        self.effects.push(effect);
    }

    pub fn effects(&self) -> &[Effect] {
        &self.effects
    }
}
