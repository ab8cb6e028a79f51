//! Clients and invoices: what SnapBill events are about.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub id: u64,
    pub name: String,
    pub email: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceState {
    Draft,
    Unpaid,
    Paid,
    Cancelled,
}

impl InvoiceState {
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: u64,
    pub number: String,
    pub client_id: u64,
    pub total_cents: i64,
    pub state: InvoiceState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Client,
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
    pub kind: EntityKind,
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
    Client(&'a Client),
    Invoice(&'a Invoice),
}
