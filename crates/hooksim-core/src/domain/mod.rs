//! The SnapBill domain: entities, the store that holds them, and the changes that record events.

mod change;
mod entity;
mod store;
mod webhook;

pub use change::{Change, ChangeError, Event, EventPath};
pub use entity::{Client, Entity, EntityKind, EntityRef, Invoice, InvoiceState};
pub use store::Store;
pub use webhook::{PathFilter, WebhookConfig, WebhookId, WebhookStatus};
