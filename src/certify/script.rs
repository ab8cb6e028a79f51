//! What each case sends, in order, and what it then expects of the effects list.

use super::case::CaseId;
use super::client::{Answer, Client};
use super::hint::Problem;
use super::payload::{self, Deck, Delivery};
use crate::domain::InvoiceState;
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
    /// What went wrong with the first failed answer (the advice follows it).
    pub problem: Option<Problem>,
    pub notes: Vec<String>,
    pub expects: Vec<Expect>,
}

impl Sent {
    fn require_2xx(&mut self, what: &str, answer: &Answer, client: &Client) {
        let line = format!("{what}: {}", answer.describe(client.limits()));
        if answer.is_2xx() { self.notes.push(line) } else { self.fail(line, answer, client) }
    }

    fn fail(&mut self, line: String, answer: &Answer, client: &Client) {
        self.failures.push(line);
        if self.problem.is_none() {
            self.problem = Some(match answer {
                Answer::Status { code, .. } => Problem::from_status(*code),
                Answer::Timeout => Problem::Timeout { timeout_ms: client.limits().timeout_ms },
                Answer::Broken(why) => Problem::from_note(why, client.limits().timeout_ms).unwrap_or(Problem::Reset),
            });
        }
    }

    /// A 4xx or a 2xx; a 5xx or no answer at all fails.
    fn require_no_5xx(&mut self, what: &str, answer: &Answer, client: &Client) {
        let line = format!("{what}: {}", answer.describe(client.limits()));
        let answered = matches!(answer, Answer::Status { .. });
        if answered && !answer.is_5xx() { self.notes.push(line) } else { self.fail(line, answer, client) }
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
        CaseId::RedeliveryReRendered => redelivery_re_rendered(deck, t, &mut sent).await,
        // Scenarios of the certification library, played by `trial`; kept here for `--seed`
        // reproducibility of the hand-sent ones (the deck draws in catalogue order).
        CaseId::ValidDelivery
        | CaseId::UnhandledPath
        | CaseId::Redelivery
        | CaseId::ConcurrentRedelivery
        | CaseId::PaidCarryingCancelled
        | CaseId::OutOfOrder
        | CaseId::PaidFailingForDays
        | CaseId::LostAnswerHoursLater
        | CaseId::BurstWhileRetryHeld => {}
        CaseId::UnknownFields => unknown_fields(deck, t, &mut sent).await,
        CaseId::LargeBody => large_body(deck, t, &mut sent).await,
        CaseId::MalformedJson => malformed_json(t, &mut sent).await,
    }
    sent
}

/// The same uuid twice, the invoice corrected in between: the bytes differ, the delivery does not.
async fn redelivery_re_rendered(deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let inv = deck.invoice();
    let paid = deck.set_state(inv, InvoiceState::Paid);
    let first = deck.deliver(&paid);
    let a = t.post(&first).await;
    sent.require_2xx("first delivery", &a, t.client);
    deck.correct_total(inv);
    let again = deck.redeliver(&first, &paid);
    let b = t.post(&again).await;
    sent.require_2xx("redelivery, rendered again (the invoice's total corrected)", &b, t.client);
    sent.expect(&first, Acts::Once, "the redelivered uuid", true);
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
