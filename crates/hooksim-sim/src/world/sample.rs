//! Ready-made worlds for benchmarks and tests, the same for both engines.

use super::{Action, Behaviour, ReceiverSpec, Reply, Step, World};
use crate::receiver::ReceiverKind;
use hooksim_core::domain::{Change, Client, Invoice, InvoiceState, WebhookConfig};
use hooksim_core::policy::Profile;
use hooksim_core::time::{DAY_MS, HOUR_MS, SimTime};

/// The sample receiver's host.
pub const SHOP_HOST: &str = "shop";

/// A webhook to `http://shop/webhook` for every path.
pub fn shop_webhook() -> WebhookConfig {
    WebhookConfig { url: format!("http://{SHOP_HOST}/webhook"), paths: vec![], owner_email: "ops@shop.example".into() }
}

/// Adds client 1 (one event), then `invoices` invoices each marked paid, an hour apart from `start_ms`.
pub fn invoice_timeline(invoices: u64, start_ms: u64) -> Vec<Step> {
    let client = Client { id: 1, name: "Ada".into(), email: "ada@example.com".into() };
    let mut steps =
        vec![Step { at: SimTime::from_millis(start_ms), action: Action::Change(Change::AddClient(client)) }];
    for id in 1..=invoices {
        let at = SimTime::from_millis(start_ms + id * HOUR_MS);
        let invoice = Invoice {
            id,
            number: format!("INV-{id:04}"),
            client_id: 1,
            total_cents: 1000 * id as i64,
            state: InvoiceState::Unpaid,
        };
        steps.push(Step { at, action: Action::Change(Change::AddInvoice(invoice)) });
        steps.push(Step { at, action: Action::Change(Change::SetInvoiceState { id, state: InvoiceState::Paid }) });
    }
    steps
}

/// One `dedup` receiver at [`SHOP_HOST`] answering 500 to everything for `days` days, while
/// `invoices` invoices are created and paid: the warning, then the disable (snapbill policy).
pub fn failing_world(days: u64, invoices: u64) -> World {
    World {
        name: format!("failing for {days} days"),
        seed: 1,
        policy: Profile::Snapbill.policy(),
        webhooks: vec![shop_webhook()],
        receivers: vec![ReceiverSpec {
            host: SHOP_HOST.into(),
            kind: ReceiverKind::Dedup,
            behaviour: Behaviour::always(Reply::status(500)),
        }],
        timeline: invoice_timeline(invoices, 0),
        run_for_ms: days * DAY_MS,
        latency_ms: (1, 1),
        signing: Default::default(),
        provider: Default::default(),
    }
}
