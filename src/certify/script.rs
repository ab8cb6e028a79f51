//! What each case sends, in order, and what it then expects of the effects list.

use super::case::CaseId;
use super::client::{Answer, Client};
use super::hint::Problem;
use super::payload::{self, Deck, Delivery};
use super::signature::{self, Signing};
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
    /// Requests answered with a status line (any status).
    pub answered: usize,
    /// Requests that got no whole answer by their deadline.
    pub timed_out: usize,
    /// Requests that failed otherwise on the wire (a reset, an answer that is not HTTP).
    pub broken: usize,
}

impl Sent {
    /// The receiver answered none of the case's requests and one ran into its deadline: it is
    /// not answering at all.
    pub fn silent(&self) -> bool {
        self.answered == 0 && self.broken == 0 && self.timed_out > 0
    }

    /// Counts an answer whose judging is the caller's.
    pub(super) fn heard(&mut self, answer: &Answer) {
        match answer {
            Answer::Status { .. } | Answer::Unfinished { .. } => self.answered += 1,
            Answer::Timeout => self.timed_out += 1,
            Answer::Broken(..) => self.broken += 1,
        }
    }

    pub(super) fn require_2xx(&mut self, what: &str, answer: &Answer, client: &Client) {
        self.heard(answer);
        let line = format!("{what}: {}", answer.describe(client.limits()));
        if answer.is_2xx() { self.notes.push(line) } else { self.fail(line, answer, client) }
    }

    fn fail(&mut self, line: String, answer: &Answer, client: &Client) {
        self.failures.push(line);
        // A 2xx where a refusal was due: the case's own advice applies.
        if self.problem.is_none() && !answer.is_2xx() {
            self.problem = Some(match answer {
                Answer::Status { code, .. } => Problem::from_status(*code),
                Answer::Timeout | Answer::Unfinished { .. } => {
                    Problem::Timeout { timeout_ms: client.limits().timeout_ms }
                }
                Answer::Broken(failure, why) => {
                    Problem::from_wire(*failure, why, client.limits().timeout_ms).unwrap_or(Problem::Reset)
                }
            });
        }
    }

    /// A 4xx or a 2xx; a 3xx (retried by a sender, like a 5xx), a 5xx or no answer at all fails.
    fn require_2xx_or_4xx(&mut self, what: &str, answer: &Answer, client: &Client) {
        self.heard(answer);
        let line = format!("{what}: {}", answer.describe(client.limits()));
        let taken =
            matches!(answer, Answer::Status { code, .. } if (200..300).contains(code) || (400..500).contains(code));
        if taken { self.notes.push(line) } else { self.fail(line, answer, client) }
    }

    /// A 4xx: a refusal that is not a retry request (a 5xx) nor an acceptance (a 2xx).
    pub(super) fn require_4xx(&mut self, what: &str, answer: &Answer, client: &Client) {
        self.heard(answer);
        let line = format!("{what}: {}", answer.describe(client.limits()));
        let refused = matches!(answer, Answer::Status { code, .. } if (400..500).contains(code));
        if refused { self.notes.push(line) } else { self.fail(line, answer, client) }
    }

    pub(super) fn expect(&mut self, d: &Delivery, acts: Acts, what: &str, essential: bool) {
        self.expects.push(Expect { uuid: d.uuid, acts, what: what.to_string(), essential });
    }
}

/// The receiver under test.
pub struct Target<'a> {
    pub client: &'a Client,
    pub url: &'a str,
    pub large_body_bytes: usize,
    /// The receiver's signing secret and scheme (`--secret`), for the signature cases.
    pub signing: Option<&'a Signing>,
    /// Whose deliveries these are (`--provider`): their shape, headers and dedup id.
    pub provider: crate::provider::Provider,
    /// The verify token or secret token of `--handshake meta|zoom` (`--handshake-secret`).
    pub handshake_secret: Option<&'a str>,
}

impl Target<'_> {
    /// POSTs the delivery, signed when the receiver has a secret (as every delivery of its
    /// sender is).
    async fn post(&self, d: &Delivery) -> Answer {
        self.post_bytes(&d.id, &d.headers, d.body.clone()).await
    }

    /// POSTs `body` as message `id` with the provider's `headers`, signed when there is a secret.
    async fn post_bytes(&self, id: &str, headers: &[(String, String)], body: bytes::Bytes) -> Answer {
        match self.signing.map(Signing::signer) {
            Some(Ok(signer)) => {
                let signature = signer.sign(id, now_s(), &body).into_iter().map(|(n, v)| (n.to_string(), v));
                let headers: Vec<(String, String)> = headers.iter().cloned().chain(signature).collect();
                self.client.post_with(self.url, body, &headers).await
            }
            _ if headers.is_empty() => self.client.post(self.url, body).await,
            _ => self.client.post_with(self.url, body, headers).await,
        }
    }

    pub(super) async fn post_with(&self, body: bytes::Bytes, headers: &[(String, String)]) -> Answer {
        self.client.post_with(self.url, body, headers).await
    }
}

/// Unix seconds now, on the wall clock: a real receiver judges signature timestamps against its
/// own clock.
pub(super) fn now_s() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
}

/// Sends the case's deliveries and records how they were answered.
pub(crate) async fn send(case: CaseId, deck: &mut Deck, t: &Target<'_>) -> Sent {
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
        CaseId::SignatureValid
        | CaseId::SignatureForgeries
        | CaseId::SignatureStale
        | CaseId::SignatureRotation
        | CaseId::SignatureRawBytes => signature_case(case, deck, t, &mut sent).await,
        CaseId::RedeliveryAcrossWindow => redelivery_across_window(deck, t, &mut sent).await,
        CaseId::Handshake => handshake(t, &mut sent).await,
        CaseId::HandshakeMeta => super::handshake::send(super::handshake::Handshake::Meta, t, &mut sent).await,
        CaseId::HandshakeZoom => super::handshake::send(super::handshake::Handshake::Zoom, t, &mut sent).await,
        CaseId::HandshakeCloudEvents => {
            super::handshake::send(super::handshake::Handshake::CloudEvents, t, &mut sent).await
        }
    }
    sent
}

async fn signature_case(case: CaseId, deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let Some(s) = t.signing else { return };
    let now = now_s();
    match case {
        CaseId::SignatureValid => signature::valid(&paid_delivery(deck), s, now, t, sent).await,
        CaseId::SignatureForgeries => {
            let ds = [paid_delivery(deck), paid_delivery(deck), paid_delivery(deck), paid_delivery(deck)];
            signature::forgeries(ds, s, now, t, sent).await;
        }
        CaseId::SignatureStale => signature::stale(&paid_delivery(deck), s, now, t, sent).await,
        CaseId::SignatureRotation => signature::rotation(&paid_delivery(deck), s, now, t, sent).await,
        _ => signature::raw_bytes(&paid_delivery(deck), s, now, t, sent).await,
    }
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

/// A delivery, a newer event at the end of the provider's redelivery window (on the events' own
/// clock, the one certification can move), then the first delivery again with its dedup id: a
/// receiver that forgot the id by then acts twice.
async fn redelivery_across_window(deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let window_s = i64::try_from(deck.provider().facts().redelivery_window_ms / 1_000).unwrap_or(i64::MAX);
    let inv = deck.invoice();
    let paid = deck.set_state(inv, InvoiceState::Paid);
    let first = deck.deliver(&paid);
    let a = t.post(&first).await;
    sent.require_2xx("first delivery", &a, t.client);
    deck.advance_s(window_s);
    let newer = paid_delivery(deck);
    let b = t.post(&newer).await;
    sent.require_2xx(&format!("a newer event, {window_s} s later"), &b, t.client);
    let again = deck.redeliver(&first, &paid);
    let c = t.post(&again).await;
    sent.require_2xx("the first delivery again, at the end of the redelivery window", &c, t.client);
    sent.expect(&first, Acts::Once, "the delivery redelivered at the end of the window", true);
    sent.expect(&newer, Acts::Once, "the newer event", false);
}

/// The provider's endpoint verification (Slack's `url_verification`), signed as the provider
/// signs it: answered 2xx with the challenge in the body.
async fn handshake(t: &Target<'_>, sent: &mut Sent) {
    // Fixed: the challenge is not a secret, only an echo to check.
    let challenge = "hooksim-challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmd";
    let Some(body) = t.provider.handshake(challenge) else { return };
    let a = t.post_bytes("", &[], body.into()).await;
    sent.require_2xx("the url_verification handshake", &a, t.client);
    if let Answer::Status { code: 200..=299, body, .. } = &a
        && !String::from_utf8_lossy(body).contains(challenge)
    {
        sent.failures.push("the url_verification handshake: answered 2xx without the challenge".into());
    }
}

async fn unknown_fields(deck: &mut Deck, t: &Target<'_>, sent: &mut Sent) {
    let d = payload::with_unknown_fields(&paid_delivery(deck), t.provider);
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
        // Signed too (when there is a secret): the body, not the signature, is at fault.
        let a = t.post_bytes(&t.provider.dedup_id(uuid::Uuid::nil()), &[], body).await;
        sent.require_2xx_or_4xx(what, &a, t.client);
    }
}

fn paid_delivery(deck: &mut Deck) -> Delivery {
    let inv = deck.invoice();
    let paid = deck.set_state(inv, InvoiceState::Paid);
    deck.deliver(&paid)
}
