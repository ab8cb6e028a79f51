//! What each case sends, in order, and what it then expects of the effects list.

use super::case::CaseId;
use super::client::{Answer, Client, elapsed_ms};
use super::payload::{self, Deck, Delivery};
use crate::domain::InvoiceState;
use std::time::Instant;
use uuid::Uuid;

/// How often a delivery should have been acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acts {
    Never,
    Once,
}

impl Acts {
    pub fn count(self) -> usize {
        match self {
            Acts::Never => 0,
            Acts::Once => 1,
        }
    }
}

/// What a case needs from the effects list.
#[derive(Clone, Debug)]
pub struct Expect {
    pub uuid: Uuid,
    pub acts: Acts,
    pub what: String,
    /// Without effects the case cannot pass: it is "not verified". A non-essential expectation is
    /// checked only when effects are available.
    pub essential: bool,
}

/// What happened on the wire for one case, before effects are looked at.
#[derive(Clone, Debug, Default)]
pub struct Sent {
    pub failures: Vec<String>,
    pub notes: Vec<String>,
    pub expects: Vec<Expect>,
}

impl Sent {
    fn require_2xx(&mut self, what: &str, answer: &Answer, client: &Client) {
        let line = format!("{what}: {}", answer.describe(client.limits()));
        if answer.is_2xx() { self.notes.push(line) } else { self.failures.push(line) }
    }

    /// A 4xx or a 2xx; a 5xx or no answer at all fails.
    fn require_no_5xx(&mut self, what: &str, answer: &Answer, client: &Client) {
        let line = format!("{what}: {}", answer.describe(client.limits()));
        let answered = matches!(answer, Answer::Status { .. });
        if answered && !answer.is_5xx() { self.notes.push(line) } else { self.failures.push(line) }
    }

    fn expect(&mut self, d: &Delivery, acts: Acts, what: &str, essential: bool) {
        self.expects.push(Expect { uuid: d.uuid, acts, what: what.to_string(), essential });
    }
}

/// The receiver under test.
pub struct Target<'a> {
    pub client: &'a Client,
    pub url: &'a str,
    pub large_body_bytes: usize,
}

impl Target<'_> {
    async fn post(&self, d: &Delivery) -> Answer {
        self.client.post(self.url, d.body.clone()).await
    }
}

/// Sends the case's deliveries and records how they were answered.
pub async fn send(case: CaseId, deck: &mut Deck, t: &Target<'_>) -> Sent {
    let mut sent = Sent::default();
    match case {
        CaseId::ValidDelivery => valid_delivery(deck, t, &mut sent).await,
        CaseId::UnhandledPath => unhandled_path(deck, t, &mut sent).await,
        CaseId::Redelivery => redelivery(deck, t, &mut sent).await,
        CaseId::ConcurrentRedelivery => concurrent_redelivery(deck, t, &mut sent).await,
        CaseId::PaidCarryingCancelled => paid_carrying_cancelled(deck, t, &mut sent).await,
        CaseId::OutOfOrder => out_of_order(deck, t, &mut sent).await,
        CaseId::UnknownFields => unknown_fields(deck, t, &mut sent).await,
        CaseId::LargeBody => large_body(deck, t, &mut sent).await,
        CaseId::MalformedJson => malformed_json(t, &mut sent).await,
    }
    sent
}

async fn valid_delivery(deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let d = paid_delivery(deck);
    // Real network, real time: how long the receiver took to answer, for the report.
    let start = Instant::now();
    let a = t.post(&d).await;
    sent.require_2xx("paid delivery", &a, t.client);
    sent.notes.push(format!("in {} ms", elapsed_ms(start)));
}

async fn unhandled_path(deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let event = deck.client_update();
    let d = deck.deliver(&event);
    let a = t.post(&d).await;
    sent.require_2xx(&payload::describe(&event), &a, t.client);
}

async fn redelivery(deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let d = paid_delivery(deck);
    let first = t.post(&d).await;
    sent.require_2xx("first delivery", &first, t.client);
    let again = t.post(&d).await;
    sent.require_2xx("redelivery", &again, t.client);
    sent.expect(&d, Acts::Once, "the redelivered uuid", true);
}

async fn concurrent_redelivery(deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let d = paid_delivery(deck);
    // Both in flight at once: the client opens a second connection for the second request.
    let (a, b) = tokio::join!(t.post(&d), t.post(&d));
    sent.require_2xx("delivery A", &a, t.client);
    sent.require_2xx("delivery B", &b, t.client);
    sent.expect(&d, Acts::Once, "the concurrently delivered uuid", true);
}

async fn paid_carrying_cancelled(deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let inv = deck.invoice();
    let paid = deck.set_state(inv, InvoiceState::Paid);
    deck.set_state(inv, InvoiceState::Cancelled);
    // Rendered now, after the cancel: `details` says paid, the invoice says cancelled.
    let d = deck.deliver(&paid);
    let a = t.post(&d).await;
    sent.require_2xx("paid event carrying the cancelled invoice", &a, t.client);
    sent.expect(&d, Acts::Never, "the paid event carrying a cancelled invoice", true);
}

async fn out_of_order(deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let inv = deck.invoice();
    let paid = deck.set_state(inv, InvoiceState::Paid);
    let cancelled = deck.set_state(inv, InvoiceState::Cancelled);
    let c = deck.deliver(&cancelled);
    let a = t.post(&c).await;
    sent.require_2xx("cancelled event (newer, first)", &a, t.client);
    let p = deck.deliver(&paid);
    let b = t.post(&p).await;
    sent.require_2xx("paid event (older, late)", &b, t.client);
    sent.expect(&p, Acts::Never, "the late paid event", true);
}

async fn unknown_fields(deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let d = payload::with_unknown_fields(&paid_delivery(deck));
    let a = t.post(&d).await;
    sent.require_2xx("delivery with unknown fields", &a, t.client);
    sent.expect(&d, Acts::Once, "the delivery with unknown fields", false);
}

async fn large_body(deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let d = payload::with_size(&paid_delivery(deck), t.large_body_bytes);
    let a = t.post(&d).await;
    sent.require_2xx(&format!("{} byte delivery", d.body.len()), &a, t.client);
    sent.expect(&d, Acts::Once, "the large delivery", false);
}

async fn malformed_json(t: &Target<'_>, sent: &mut Sent) {
    for (what, body) in payload::malformed() {
        let a = t.client.post(t.url, body).await;
        sent.require_no_5xx(what, &a, t.client);
    }
}

fn paid_delivery(deck: &mut Deck) -> Delivery {
    let inv = deck.invoice();
    let paid = deck.set_state(inv, InvoiceState::Paid);
    deck.deliver(&paid)
}
