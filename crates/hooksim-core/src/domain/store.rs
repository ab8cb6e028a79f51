//! The entity store the core reads when it renders a payload (SnapBill's database, in miniature).

use super::{Client, Entity, EntityKind, EntityRef, Invoice};
use std::collections::BTreeMap;

/// Ordered maps, so that nothing on the simulated path depends on hash order.
#[derive(Clone, Debug, Default)]
pub struct Store {
    clients: BTreeMap<u64, Client>,
    invoices: BTreeMap<u64, Invoice>,
    /// Bumped by every change: a payload rendered at revision `r` is still exact while the
    /// revision is `r`, which lets retries reuse it without breaking "rendered at send time".
    revision: u64,
}

impl Store {
    /// The client with this id, if any.
    pub fn client(&self, id: u64) -> Option<&Client> {
        self.clients.get(&id)
    }

    /// The invoice with this id, if any.
    pub fn invoice(&self, id: u64) -> Option<&Invoice> {
        self.invoices.get(&id)
    }

    /// The client or invoice an event names, if it exists.
    pub fn get(&self, entity: EntityRef) -> Option<Entity<'_>> {
        match entity.kind {
            EntityKind::Client => self.client(entity.id).map(Entity::Client),
            EntityKind::Invoice => self.invoice(entity.id).map(Entity::Invoice),
        }
    }

    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    pub(crate) fn clients_mut(&mut self) -> &mut BTreeMap<u64, Client> {
        self.revision += 1;
        &mut self.clients
    }

    /// Invoices to change in place; counts as a change (the revision moves on), so bodies
    /// re-render.
    pub fn invoices_mut(&mut self) -> &mut BTreeMap<u64, Invoice> {
        self.revision += 1;
        &mut self.invoices
    }
}
