//! Changes to entities. Applying a change updates the store and yields the event it records.

use super::{Client, EntityKind, EntityRef, Invoice, InvoiceState, Store};
use crate::time::SimTime;
use serde::{Deserialize, Serialize};

/// A change a SnapBill user makes. Every change records exactly one event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Adds a client (`/client/add`).
    AddClient(Client),
    /// Replaces a client's fields (`/client/update`).
    UpdateClient(Client),
    /// Adds an invoice (`/invoice/add`).
    AddInvoice(Invoice),
    /// Moves an invoice to another state (`/invoice/update/state`, the state in `details`).
    SetInvoiceState {
        /// The invoice's id.
        id: u64,
        /// Its new state.
        state: InvoiceState,
    },
}

/// The event paths hooksim knows; webhooks subscribe to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventPath {
    /// `/client/add`.
    #[serde(rename = "/client/add")]
    ClientAdd,
    /// `/client/update`.
    #[serde(rename = "/client/update")]
    ClientUpdate,
    /// `/invoice/add`.
    #[serde(rename = "/invoice/add")]
    InvoiceAdd,
    /// `/invoice/update/state`.
    #[serde(rename = "/invoice/update/state")]
    InvoiceUpdateState,
}

impl EventPath {
    /// Every path, in the order above.
    pub const ALL: [EventPath; 4] = [Self::ClientAdd, Self::ClientUpdate, Self::InvoiceAdd, Self::InvoiceUpdateState];

    /// The path as SnapBill writes it, e.g. `/invoice/update/state`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientAdd => "/client/add",
            Self::ClientUpdate => "/client/update",
            Self::InvoiceAdd => "/invoice/add",
            Self::InvoiceUpdateState => "/invoice/update/state",
        }
    }
}

/// Something that happened, as recorded when it happened. The payload is *not* kept here:
/// it is rendered from the store when each attempt is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The event's id, counted from 1 in the order events are recorded.
    pub id: u64,
    /// What changed.
    pub path: EventPath,
    /// The invoice's state for an invoice event (e.g. `paid`), empty for a client event.
    pub details: &'static str,
    /// The client or invoice it is about.
    pub entity: EntityRef,
    /// When it was recorded.
    pub at: SimTime,
}

/// A change that does not fit the store: nothing is recorded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// A client with this id exists already.
    #[error("client {0} already exists")]
    ClientExists(u64),
    /// No client has this id.
    #[error("no client {0}")]
    NoClient(u64),
    /// An invoice with this id exists already.
    #[error("invoice {0} already exists")]
    InvoiceExists(u64),
    /// No invoice has this id.
    #[error("no invoice {0}")]
    NoInvoice(u64),
}

impl Change {
    /// The path of the event this change records.
    pub fn path(&self) -> EventPath {
        match self {
            Change::AddClient(_) => EventPath::ClientAdd,
            Change::UpdateClient(_) => EventPath::ClientUpdate,
            Change::AddInvoice(_) => EventPath::InvoiceAdd,
            Change::SetInvoiceState { .. } => EventPath::InvoiceUpdateState,
        }
    }

    /// Applies the change to `store`. On error the store is unchanged.
    pub fn apply(&self, store: &mut Store) -> Result<(EventPath, &'static str, EntityRef), ChangeError> {
        match self {
            Change::AddClient(c) => {
                if store.client(c.id).is_some() {
                    return Err(ChangeError::ClientExists(c.id));
                }
                store.clients_mut().insert(c.id, c.clone());
                Ok((EventPath::ClientAdd, "", client_ref(c.id)))
            }
            Change::UpdateClient(c) => {
                let slot = store.clients_mut().get_mut(&c.id).ok_or(ChangeError::NoClient(c.id))?;
                *slot = c.clone();
                Ok((EventPath::ClientUpdate, "", client_ref(c.id)))
            }
            Change::AddInvoice(inv) => {
                if store.invoice(inv.id).is_some() {
                    return Err(ChangeError::InvoiceExists(inv.id));
                }
                if store.client(inv.client_id).is_none() {
                    return Err(ChangeError::NoClient(inv.client_id));
                }
                store.invoices_mut().insert(inv.id, inv.clone());
                Ok((EventPath::InvoiceAdd, inv.state.as_str(), invoice_ref(inv.id)))
            }
            Change::SetInvoiceState { id, state } => {
                let inv = store.invoices_mut().get_mut(id).ok_or(ChangeError::NoInvoice(*id))?;
                inv.state = *state;
                Ok((EventPath::InvoiceUpdateState, state.as_str(), invoice_ref(*id)))
            }
        }
    }
}

fn client_ref(id: u64) -> EntityRef {
    EntityRef { kind: EntityKind::Client, id }
}

fn invoice_ref(id: u64) -> EntityRef {
    EntityRef { kind: EntityKind::Invoice, id }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: u64) -> Client {
        Client { id, name: format!("c{id}"), email: format!("c{id}@example.com") }
    }

    #[test]
    fn state_change_records_the_new_state_as_details() {
        let mut store = Store::default();
        Change::AddClient(client(1)).apply(&mut store).unwrap();
        let inv =
            Invoice { id: 7, number: "INV-7".into(), client_id: 1, total_cents: 100, state: InvoiceState::Unpaid };
        Change::AddInvoice(inv).apply(&mut store).unwrap();
        let (path, details, entity) =
            Change::SetInvoiceState { id: 7, state: InvoiceState::Paid }.apply(&mut store).unwrap();
        assert_eq!((path, details), (EventPath::InvoiceUpdateState, "paid"));
        assert_eq!(entity, invoice_ref(7));
        assert_eq!(store.invoice(7).unwrap().state, InvoiceState::Paid);
    }

    #[test]
    fn bad_references_are_refused_and_leave_the_store_alone() {
        let mut store = Store::default();
        let inv = Invoice { id: 7, number: "INV-7".into(), client_id: 9, total_cents: 1, state: InvoiceState::Draft };
        assert_eq!(Change::AddInvoice(inv).apply(&mut store), Err(ChangeError::NoClient(9)));
        assert!(store.invoice(7).is_none());
        let set = Change::SetInvoiceState { id: 7, state: InvoiceState::Paid };
        assert_eq!(set.apply(&mut store), Err(ChangeError::NoInvoice(7)));
        Change::AddClient(client(1)).apply(&mut store).unwrap();
        assert_eq!(Change::AddClient(client(1)).apply(&mut store), Err(ChangeError::ClientExists(1)));
    }
}
