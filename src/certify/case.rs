//! The case catalogue: what each case sends, what it checks, why it matters, how to fix a failure.

use super::client::{Answer, Client, elapsed_ms};
use super::effects::Effects;
use super::payload::{self, Deck, Delivery};
use crate::domain::InvoiceState;
use serde::Serialize;
use std::time::Instant;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseId {
    ValidDelivery,
    UnhandledPath,
    Redelivery,
    ConcurrentRedelivery,
    PaidCarryingCancelled,
    OutOfOrder,
    UnknownFields,
    LargeBody,
    MalformedJson,
}

/// What a case is about; `naive` receivers fail exactly the `dedup` and `stale-payload` groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Group {
    Answer,
    Dedup,
    StalePayload,
    Robustness,
}

/// The catalogue entry of one case.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CaseInfo {
    pub id: CaseId,
    pub name: &'static str,
    pub group: Group,
    pub checks: &'static str,
    pub why: &'static str,
    pub fix: &'static str,
}

impl CaseId {
    /// In the order they run: later cases do not depend on earlier ones, but a reader of the
    /// receiver's log sees the simple ones first.
    pub const ALL: [CaseId; 9] = [
        Self::ValidDelivery,
        Self::UnhandledPath,
        Self::Redelivery,
        Self::ConcurrentRedelivery,
        Self::PaidCarryingCancelled,
        Self::OutOfOrder,
        Self::UnknownFields,
        Self::LargeBody,
        Self::MalformedJson,
    ];

    pub fn info(self) -> CaseInfo {
        let (name, group, checks, why, fix) = match self {
            Self::ValidDelivery => (
                "valid-delivery",
                Group::Answer,
                "a valid `paid` delivery gets a 2xx within the attempt timeout",
                "anything else is a failed attempt: SnapBill retries it, and after a week of failures warns and disables the webhook",
                "answer 2xx as soon as the delivery is recorded; do slow work after answering (a queue)",
            ),
            Self::UnhandledPath => (
                "unhandled-path",
                Group::Answer,
                "a delivery for a path the receiver does not handle (`/client/update`) gets a 2xx",
                "a non-2xx is retried for a week and then the whole webhook is disabled, events you do handle included",
                "answer 2xx to every well-formed delivery, and ignore the paths you do not need",
            ),
            Self::Redelivery => (
                "redelivery-once",
                Group::Dedup,
                "a second delivery of the same `uuid` gets a 2xx and is not acted on again",
                "delivery is at least once: a lost answer or a timeout makes SnapBill send the same delivery again",
                "record each `uuid` you acted on, durably, and skip (with a 2xx) a uuid already recorded",
            ),
            Self::ConcurrentRedelivery => (
                "concurrent-redelivery-once",
                Group::Dedup,
                "two concurrent deliveries of one `uuid` are acted on once",
                "a retry can arrive while the first attempt is still being handled (after a sender timeout)",
                "claim the uuid atomically before acting: a unique key insert, or a lock around check-and-record",
            ),
            Self::PaidCarryingCancelled => (
                "paid-carrying-cancelled",
                Group::StalePayload,
                "a `paid` event whose invoice is now `cancelled` is not acted on as paid",
                "SnapBill renders the payload at send time: the invoice in the body is the truth, `details` is history",
                "decide on `body.invoice.state`, not on `body.details`",
            ),
            Self::OutOfOrder => (
                "out-of-order",
                Group::StalePayload,
                "after the `cancelled` state change, the older `paid` one (delivered late) is not acted on as paid",
                "retries reorder events: a stale `paid` must not fulfil an invoice already cancelled",
                "decide on the entity's current state in the body (or compare event ids), never on arrival order",
            ),
            Self::UnknownFields => (
                "unknown-fields",
                Group::Robustness,
                "a delivery with extra fields at every level gets a 2xx (and is acted on, when effects are seen)",
                "senders add fields without notice; a strict parser turns that into a week of failures",
                "parse leniently: read the fields you need and ignore the rest",
            ),
            Self::LargeBody => (
                "large-body",
                Group::Robustness,
                "a large delivery (padded with JSON whitespace) gets a 2xx (and is acted on, when effects are seen)",
                "real payloads grow; a body limit below them (100 kB is a common default) rejects genuine events forever",
                "raise the request body limit of your framework or proxy above your largest invoice",
            ),
            Self::MalformedJson => (
                "malformed-json",
                Group::Robustness,
                "bodies that are not an envelope get an answer that is not a 5xx",
                "a 5xx asks the sender to retry: an unreadable body would be retried forever (a 5xx storm)",
                "answer 400 (or 2xx) when the body does not parse; never let a parse error escape as a 500",
            ),
        };
        CaseInfo { id: self, name, group, checks, why, fix }
    }
}

/// What a case needs from the effects list.
#[derive(Clone, Debug)]
pub struct Expect {
    pub uuid: Uuid,
    pub times: usize,
    pub what: String,
    /// Without effects the case cannot pass: it is "not verified".
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
        let described = answer.describe(client.limits());
        if answer.is_2xx() {
            self.notes.push(format!("{what}: {described}"));
        } else {
            self.failures.push(format!("{what}: {described}"));
        }
    }

    fn expect(&mut self, uuid: Uuid, times: usize, what: &str, essential: bool) {
        self.expects.push(Expect { uuid, times, what: what.to_string(), essential });
    }
}

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
        CaseId::ValidDelivery => {
            let d = paid_delivery(deck);
            let start = Instant::now();
            let a = t.post(&d).await;
            sent.require_2xx("paid delivery", &a, t.client);
            sent.notes.push(format!("in {} ms", elapsed_ms(start)));
        }
        CaseId::UnhandledPath => {
            let event = deck.client_update();
            let d = deck.deliver(&event);
            let a = t.post(&d).await;
            sent.require_2xx(&payload::describe(&event), &a, t.client);
        }
        CaseId::Redelivery => {
            let d = paid_delivery(deck);
            let first = t.post(&d).await;
            sent.require_2xx("first delivery", &first, t.client);
            let again = t.post(&d).await;
            sent.require_2xx("redelivery", &again, t.client);
            sent.expect(d.uuid, 1, "the redelivered uuid", true);
        }
        CaseId::ConcurrentRedelivery => {
            let d = paid_delivery(deck);
            let (a, b) = tokio::join!(t.post(&d), t.post(&d));
            sent.require_2xx("delivery A", &a, t.client);
            sent.require_2xx("delivery B", &b, t.client);
            sent.expect(d.uuid, 1, "the concurrently delivered uuid", true);
        }
        CaseId::PaidCarryingCancelled => {
            let inv = deck.invoice();
            let paid = deck.set_state(inv, InvoiceState::Paid);
            deck.set_state(inv, InvoiceState::Cancelled);
            let d = deck.deliver(&paid);
            let a = t.post(&d).await;
            sent.require_2xx("paid event carrying the cancelled invoice", &a, t.client);
            sent.expect(d.uuid, 0, "the paid event carrying a cancelled invoice", true);
        }
        CaseId::OutOfOrder => {
            let inv = deck.invoice();
            let paid = deck.set_state(inv, InvoiceState::Paid);
            let cancelled = deck.set_state(inv, InvoiceState::Cancelled);
            let c = deck.deliver(&cancelled);
            let a = t.post(&c).await;
            sent.require_2xx("cancelled event (newer, first)", &a, t.client);
            let p = deck.deliver(&paid);
            let b = t.post(&p).await;
            sent.require_2xx("paid event (older, late)", &b, t.client);
            sent.expect(p.uuid, 0, "the late paid event", true);
        }
        CaseId::UnknownFields => {
            let d = payload::with_unknown_fields(&paid_delivery(deck));
            let a = t.post(&d).await;
            sent.require_2xx("delivery with unknown fields", &a, t.client);
            sent.expect(d.uuid, 1, "the delivery with unknown fields", false);
        }
        CaseId::LargeBody => {
            let d = payload::with_size(&paid_delivery(deck), t.large_body_bytes);
            let a = t.post(&d).await;
            let what = format!("{} byte delivery", d.body.len());
            sent.require_2xx(&what, &a, t.client);
            sent.expect(d.uuid, 1, "the large delivery", false);
        }
        CaseId::MalformedJson => {
            for (what, body) in payload::malformed() {
                let a = t.client.post(t.url, body).await;
                let described = a.describe(t.client.limits());
                if matches!(a, Answer::Status { .. }) && !a.is_5xx() {
                    sent.notes.push(format!("{what}: {described}"));
                } else {
                    sent.failures.push(format!("{what}: {described}"));
                }
            }
        }
    }
    sent
}

fn paid_delivery(deck: &mut Deck) -> Delivery {
    let inv = deck.invoice();
    let paid = deck.set_state(inv, InvoiceState::Paid);
    deck.deliver(&paid)
}

/// Passed, failed, or (a case about side effects without a readable effects list) not verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    NotVerified,
}

/// The verdict and the detail that explains it.
pub fn grade(sent: &Sent, effects: &Effects) -> (Verdict, String) {
    if !sent.failures.is_empty() {
        return (Verdict::Failed, sent.failures.join("; "));
    }
    let mut wrong = Vec::new();
    let mut unseen = Vec::new();
    let mut seen = Vec::new();
    for e in &sent.expects {
        match effects.for_uuid(e.uuid) {
            Some(records) if records.len() == e.times => {
                let times = if e.times == 0 { "not acted on" } else { "acted on once" };
                seen.push(format!("{} {times}", e.what));
            }
            Some(records) => wrong.push(format!(
                "{} was acted on {} time(s), expected {}{}",
                e.what,
                records.len(),
                e.times,
                actions(&records)
            )),
            None if e.essential => unseen.push(e.what.clone()),
            None => {}
        }
    }
    if !wrong.is_empty() {
        return (Verdict::Failed, wrong.join("; "));
    }
    if !unseen.is_empty() {
        let why = match effects {
            Effects::Unavailable(why) => why.as_str(),
            Effects::Read(_) => "",
        };
        let detail = format!("answers were 2xx, but effects are unknown ({why})");
        return (Verdict::NotVerified, detail);
    }
    let mut detail = sent.notes.clone();
    detail.extend(seen);
    (Verdict::Passed, detail.join("; "))
}

fn actions(records: &[&super::effects::EffectRecord]) -> String {
    let named: Vec<&str> = records.iter().filter_map(|r| r.action.as_deref()).collect();
    if named.is_empty() { String::new() } else { format!(" ({})", named.join(", ")) }
}
