//! Clients and invoices: what SnapBill events are about.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A SnapBill client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// The client's id, unique among clients.
    pub id: u64,
    /// The client's name, as rendered in payloads.
    pub name: String,
    /// The client's email address.
    pub email: String,
}

/// Where an invoice is in its life (`details` of an invoice event).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceState {
    /// A draft, not yet issued.
    Draft,
    /// Issued, waiting for payment.
    Unpaid,
    /// Paid.
    Paid,
    /// Cancelled.
    Cancelled,
}

impl InvoiceState {
    /// Every state, in life order.
    pub const ALL: [InvoiceState; 4] = [Self::Draft, Self::Unpaid, Self::Paid, Self::Cancelled];

    /// The word SnapBill puts in `details` of an `/invoice/update/state` event.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Unpaid => "unpaid",
            Self::Paid => "paid",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for InvoiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SnapBill invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// The invoice's id, unique among invoices.
    pub id: u64,
    /// Its number as the client sees it, e.g. `INV-4`.
    pub number: String,
    /// The client it bills.
    pub client_id: u64,
    /// Its total, in cents.
    pub total_cents: i64,
    /// Where it is in its life.
    pub state: InvoiceState,
}

/// Which store an entity lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A client.
    Client,
    /// An invoice.
    Invoice,
}

impl EntityKind {
    /// The key under which the entity appears in the envelope's `body`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Invoice => "invoice",
        }
    }
}

/// Which entity an event is about; the payload renders it from the store at send time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntityRef {
    /// Client or invoice.
    pub kind: EntityKind,
    /// Its id within that kind.
    pub id: u64,
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.id)
    }
}

/// A borrowed view of one entity, as it is rendered into a payload.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(untagged)]
pub enum Entity<'a> {
    /// A client, as the store holds it.
    Client(&'a Client),
    /// An invoice, as the store holds it.
    Invoice(&'a Invoice),
}
