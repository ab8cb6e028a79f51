//! What a receiver decides for one delivery. Pure: the body in, a decision and a book entry out.

use super::{Book, Effect, ReceiverKind, RefuseReason, SkipReason};
use hooksim_core::domain::EventPath;
use hooksim_core::provider::{About, Provider, Reading};
use hooksim_core::signing::Headers;
use serde::Deserialize;
use uuid::Uuid;

/// What a reference receiver does with one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Answer 2xx and act.
    Act {
        /// The side effect, e.g. `fulfil invoice 4` (traced as `receiver_acted`).
        action: String,
    },
    /// Answer 2xx without acting; `why` in words (traced as is), `reason` as a kind.
    Skip {
        /// Why, as a kind (the page marks by it).
        reason: SkipReason,
        /// Why, in words (traced as `receiver_skipped`).
        why: String,
    },
    /// Answer this (non-2xx) status.
    Refuse {
        /// The status to answer, e.g. `500`.
        status: u16,
        /// Why, as a kind.
        reason: RefuseReason,
        /// Why, in words.
        why: String,
    },
}

/// The decision, with the ids it concerns when the body was readable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handled {
    /// The delivery's uuid, when the body named one.
    pub uuid: Option<Uuid>,
    /// The event id (`body.id`), when the body named one.
    pub event: Option<u64>,
    /// What the receiver did.
    pub decision: Decision,
}

impl Handled {
    /// The HTTP status to answer: the refusal's, or 200.
    pub fn status(&self) -> u16 {
        match self.decision {
            Decision::Refuse { status, .. } => status,
            _ => 200,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    uuid: Uuid,
    body: Body,
}

#[derive(Deserialize)]
struct Body {
    /// SnapBill's event id; in a provider's shape, when the event happened (unix seconds): what
    /// tells an older event from a newer one.
    id: u64,
    path: String,
    #[serde(default)]
    details: String,
    invoice: Option<InvoiceView>,
    client: Option<ClientView>,
}

#[derive(Deserialize)]
struct InvoiceView {
    id: u64,
    state: String,
}

#[derive(Deserialize)]
struct ClientView {
    id: u64,
}

/// Parses `body` and decides; an act is recorded in `book` in the same step, so a caller that
/// holds `book` under one lock acts at most once per uuid even for concurrent deliveries.
pub fn handle(kind: ReceiverKind, book: &mut Book, body: &[u8]) -> Handled {
    let env: Envelope = match parse(kind, body) {
        Ok(env) => env,
        Err(decision) => return Handled { uuid: None, event: None, decision },
    };
    let event = env.body.id;
    handle_envelope(kind, book, &env, event, Order::EventId)
}

/// [`handle`] for a delivery in `provider`'s shape (SnapBill's: [`handle`]), read as that
/// provider's receiver reads it ([`Provider::read`]): deduplicated on the provider's dedup id
/// (as the delivery uuid it ends in), an older event told by the provider's event time. A
/// provider's body does not carry hooksim's event id: `event_of` names it for the record (the
/// trace), never for a decision. The `brittle` kind's strict schema is SnapBill's; here it
/// answers 500 to a body it cannot read, and otherwise acts as `dedup`.
pub fn handle_shaped<H: Headers + ?Sized>(
    kind: ReceiverKind,
    book: &mut Book,
    provider: Provider,
    headers: &H,
    body: &[u8],
    event_of: impl Fn(Uuid) -> Option<u64>,
) -> Handled {
    if provider == Provider::Snapbill {
        return handle(kind, book, body);
    }
    let unreadable = |why: String| {
        let status = if kind == ReceiverKind::Brittle { 500 } else { 400 };
        let decision = Decision::Refuse { status, reason: RefuseReason::Unreadable, why };
        Handled { uuid: None, event: None, decision }
    };
    let reading = match provider.read(headers, body) {
        Ok(r) => r,
        Err(why) => return unreadable(format!("unreadable {provider} delivery: {why}")),
    };
    let Some(uuid) = reading.uuid else {
        return unreadable(format!("{provider} dedup id {:?} names no delivery", reading.id));
    };
    let Some(event) = event_of(uuid) else {
        return unreadable(format!("{provider} delivery {} of no event sent", reading.id));
    };
    handle_envelope(kind, book, &envelope_of(&reading, uuid), event, Order::EventTime)
}

/// What orders two events of one invoice: SnapBill's event ids, or a provider's event times.
#[derive(Clone, Copy)]
enum Order {
    EventId,
    EventTime,
}

/// A provider's reading in the envelope's terms, its event time as the body's `id`.
fn envelope_of(r: &Reading, uuid: Uuid) -> Envelope {
    let id = u64::try_from(r.event_s).unwrap_or(0);
    let (path, details, invoice, client) = match &r.about {
        About::InvoiceState { invoice, to, state } => (
            EventPath::InvoiceUpdateState.as_str(),
            to.clone(),
            Some(InvoiceView { id: *invoice, state: state.clone() }),
            None,
        ),
        About::ClientAdded { client } => {
            (EventPath::ClientAdd.as_str(), String::new(), None, Some(ClientView { id: *client }))
        }
        About::Other => (r.name.as_str(), String::new(), None, None),
    };
    Envelope { uuid, body: Body { id, path: path.to_string(), details, invoice, client } }
}

/// The decision on a readable delivery of event `event` (traced); an act is recorded in `book`.
fn handle_envelope(kind: ReceiverKind, book: &mut Book, env: &Envelope, event: u64, order: Order) -> Handled {
    let decision = match decide(kind, book, env, order) {
        Decision::Act { .. } if book.is_full() => Decision::Refuse {
            status: 503,
            reason: RefuseReason::EffectsFull,
            why: format!(
                "effects list full ({} acts, effects_max): a new act is refused with 503; restart the receiver",
                book.effects_max()
            ),
        },
        decision => decision,
    };
    if let Decision::Act { action } = &decision {
        let kind = act_kind(&env.body.path, &env.body.details);
        book.record(Effect { uuid: env.uuid, event, action: action.clone(), kind });
        if let Some(inv) = &env.body.invoice {
            book.record_invoice_event(inv.id, env.body.id, &inv.state);
        }
    }
    Handled { uuid: Some(env.uuid), event: Some(event), decision }
}

/// The effects contract's `kind` of the act a delivery of `path` and `details` calls for (the
/// same choice [`decide`] names in words).
fn act_kind(path: &str, details: &str) -> &'static str {
    match (path, details) {
        ("/invoice/update/state", "paid") => "fulfil",
        ("/invoice/update/state", _) => "cancel",
        ("/client/add", _) => "create",
        _ => "other",
    }
}

fn parse(kind: ReceiverKind, body: &[u8]) -> Result<Envelope, Decision> {
    let strict = if kind == ReceiverKind::Brittle { strict::check(body) } else { Ok(()) };
    match strict.and_then(|()| serde_json::from_slice(body)) {
        Ok(env) => Ok(env),
        // The brittle receiver lets the parse error escape, as an uncaught exception does.
        Err(e) if kind == ReceiverKind::Brittle => Err(Decision::Refuse {
            status: 500,
            reason: RefuseReason::Unreadable,
            why: format!("uncaught parse error: {e}"),
        }),
        // 400, not 5xx: a sender retries a 5xx, and a body that cannot be read never will be.
        Err(e) => Err(Decision::Refuse {
            status: 400,
            reason: RefuseReason::Unreadable,
            why: format!("unreadable envelope: {e}"),
        }),
    }
}

/// The brittle receiver's schema: every field it knows of, and no other. The fields are only
/// checked for presence, never read.
#[allow(dead_code)]
mod strict {
    use serde::Deserialize;
    use serde::de::IgnoredAny;

    pub(crate) fn check(body: &[u8]) -> Result<(), serde_json::Error> {
        serde_json::from_slice::<Envelope>(body).map(drop)
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Envelope {
        uuid: IgnoredAny,
        body: Body,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        id: IgnoredAny,
        path: IgnoredAny,
        details: Option<IgnoredAny>,
        invoice: Option<Invoice>,
        client: Option<Client>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Invoice {
        id: IgnoredAny,
        number: IgnoredAny,
        client_id: IgnoredAny,
        total_cents: IgnoredAny,
        state: IgnoredAny,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Client {
        id: IgnoredAny,
        name: IgnoredAny,
        email: IgnoredAny,
    }
}

fn decide(kind: ReceiverKind, book: &Book, env: &Envelope, order: Order) -> Decision {
    let careful = kind != ReceiverKind::Naive;
    if careful && book.has_acted_on(env.uuid) {
        return Decision::Skip {
            reason: SkipReason::DuplicateUuid,
            why: format!("already acted on delivery {}", env.uuid),
        };
    }
    let body = &env.body;
    match (body.path.as_str(), &body.invoice, &body.client) {
        ("/invoice/update/state", Some(inv), _) if body.details == "paid" || body.details == "cancelled" => {
            let verb = if body.details == "paid" { "fulfil" } else { "cancel" };
            // The body carries the invoice as it is at send time: trust it over `details`.
            if careful && inv.state != body.details {
                return Decision::Skip {
                    reason: SkipReason::StaleState,
                    why: format!("stale {} event: invoice {} is {} now", body.details, inv.id, inv.state),
                };
            }
            // The body is the truth at *send* time, not at arrival: attempts travel on their own
            // connections, so a `paid` attempt rendered while the invoice was paid can arrive
            // after the `cancelled` delivery that followed it, still saying `paid`. Event ids
            // (`body.id`) grow in the order events happen, so an event older than one already
            // acted on for the same invoice, in another state, is stale whatever its body says:
            // acting on it would undo the later state (fulfil a cancelled invoice). An older event
            // of the same state undoes nothing, and acting on it keeps the decisions independent
            // of the order in which two deliveries of one state arrive together.
            let newer = book.newest_invoice_event(inv.id).filter(|(e, state)| *e > body.id && *state != inv.state);
            if let Some((newer, state)) = newer.filter(|_| careful) {
                let why = match order {
                    Order::EventId => format!(
                        "stale {} event {}: event {newer} about invoice {} ({state}) was acted on already",
                        body.details, body.id, inv.id
                    ),
                    Order::EventTime => format!(
                        "stale {} event of unix second {}: an event of unix second {newer} about invoice {} ({state}) was acted on already",
                        body.details, body.id, inv.id
                    ),
                };
                return Decision::Skip { reason: SkipReason::StaleState, why };
            }
            Decision::Act { action: format!("{verb} invoice {}", inv.id) }
        }
        ("/client/add", _, Some(client)) => Decision::Act { action: format!("create client {}", client.id) },
        (path, _, _) if kind == ReceiverKind::Picky => Decision::Refuse {
            status: 500,
            reason: RefuseReason::UnhandledPath,
            why: format!("path {path} not handled"),
        },
        // The wording is part of the trace (and its snapshots): keep it byte for byte.
        (path, _, _) => {
            Decision::Skip { reason: SkipReason::UnhandledPath, why: format!("{path} {} not handled", body.details) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paid(uuid: u128, state: &str) -> Vec<u8> {
        format!(
            r#"{{"uuid":"{}","body":{{"id":5,"path":"/invoice/update/state","details":"paid","invoice":{{"id":9,"state":"{state}","extra":true}}}}}}"#,
            Uuid::from_u128(uuid)
        )
        .into_bytes()
    }

    #[test]
    fn dedup_acts_once_per_uuid_and_naive_every_time() {
        for (kind, acts) in [(ReceiverKind::Dedup, 1), (ReceiverKind::Naive, 2)] {
            let mut book = Book::default();
            let a = handle(kind, &mut book, &paid(1, "paid"));
            let b = handle(kind, &mut book, &paid(1, "paid"));
            assert_eq!((a.status(), b.status()), (200, 200));
            assert_eq!(book.effects().len(), acts, "{kind}");
        }
    }

    /// At `effects_max` a new act is refused with 503 and nothing is forgotten: a duplicate of
    /// a delivery acted on is still skipped with a 2xx, never acted on again.
    #[test]
    fn a_full_book_refuses_new_acts_with_503_and_still_skips_duplicates() {
        let mut book = Book::with_effects_max(1);
        assert_eq!(handle(ReceiverKind::Dedup, &mut book, &paid(1, "paid")).status(), 200);
        let refused = handle(ReceiverKind::Dedup, &mut book, &paid(2, "paid"));
        assert_eq!(refused.status(), 503);
        assert!(matches!(refused.decision, Decision::Refuse { reason: RefuseReason::EffectsFull, .. }));
        let again = handle(ReceiverKind::Dedup, &mut book, &paid(1, "paid"));
        assert!(matches!(again.decision, Decision::Skip { reason: SkipReason::DuplicateUuid, .. }));
        assert_eq!(book.effects().len(), 1);
    }

    #[test]
    fn dedup_does_not_fulfil_a_paid_event_carrying_a_cancelled_invoice() {
        let mut book = Book::default();
        let h = handle(ReceiverKind::Dedup, &mut book, &paid(1, "cancelled"));
        assert!(matches!(h.decision, Decision::Skip { reason: SkipReason::StaleState, .. }));
        assert!(book.effects().is_empty());
        let mut book = Book::default();
        handle(ReceiverKind::Naive, &mut book, &paid(1, "cancelled"));
        assert_eq!(book.effects()[0].action, "fulfil invoice 9");
    }

    fn state_event(uuid: u128, event: u64, details: &str) -> Vec<u8> {
        format!(
            r#"{{"uuid":"{}","body":{{"id":{event},"path":"/invoice/update/state","details":"{details}","invoice":{{"id":9,"state":"{details}"}}}}}}"#,
            Uuid::from_u128(uuid)
        )
        .into_bytes()
    }

    #[test]
    fn dedup_does_not_let_an_overtaken_paid_undo_a_later_cancel_and_naive_does() {
        // Event 5 `paid`, rendered while paid, arrives after event 6 `cancelled`.
        let mut book = Book::default();
        assert!(matches!(
            handle(ReceiverKind::Dedup, &mut book, &state_event(2, 6, "cancelled")).decision,
            Decision::Act { .. }
        ));
        let late = handle(ReceiverKind::Dedup, &mut book, &state_event(1, 5, "paid"));
        assert!(
            matches!(&late.decision, Decision::Skip { reason: SkipReason::StaleState, why } if why.contains("event 6")),
            "{late:?}"
        );
        assert_eq!(book.effects().len(), 1);
        // An older event of the same state undoes nothing: it acts.
        handle(ReceiverKind::Dedup, &mut book, &state_event(3, 6, "cancelled"));
        handle(ReceiverKind::Dedup, &mut book, &state_event(4, 4, "cancelled"));
        assert_eq!(book.effects().len(), 3);
        // In order, both act; a newer event is never stale.
        let mut book = Book::default();
        handle(ReceiverKind::Dedup, &mut book, &state_event(1, 5, "paid"));
        handle(ReceiverKind::Dedup, &mut book, &state_event(2, 6, "cancelled"));
        assert_eq!(book.effects().len(), 2);
        // The negative control: naive fulfils the cancelled invoice.
        let mut book = Book::default();
        handle(ReceiverKind::Naive, &mut book, &state_event(2, 6, "cancelled"));
        handle(ReceiverKind::Naive, &mut book, &state_event(1, 5, "paid"));
        assert_eq!(book.effects()[1].action, "fulfil invoice 9");
    }

    #[test]
    fn unreadable_bodies_get_a_400_and_unhandled_paths_a_2xx_except_from_picky() {
        let mut book = Book::default();
        assert_eq!(handle(ReceiverKind::Dedup, &mut book, b"{not json").status(), 400);
        let other = br#"{"uuid":"00000000-0000-0000-0000-000000000001","body":{"id":1,"path":"/client/update","details":"","client":{"id":1}}}"#;
        assert_eq!(handle(ReceiverKind::Dedup, &mut book, other).status(), 200);
        assert_eq!(handle(ReceiverKind::Picky, &mut book, other).status(), 500);
    }

    #[test]
    fn brittle_acts_like_dedup_but_answers_500_to_unknown_fields_and_unreadable_bodies() {
        let mut book = Book::default();
        // `paid` carries an unknown `extra` field in the invoice.
        assert_eq!(handle(ReceiverKind::Brittle, &mut book, &paid(1, "paid")).status(), 500);
        assert_eq!(handle(ReceiverKind::Brittle, &mut book, b"{not json").status(), 500);
        let known = br#"{"uuid":"00000000-0000-0000-0000-000000000002","body":{"id":2,"path":"/invoice/update/state","details":"paid","invoice":{"id":3,"number":"INV-3","client_id":1,"total_cents":5,"state":"paid"}}}"#;
        assert_eq!(handle(ReceiverKind::Brittle, &mut book, known).status(), 200);
        assert_eq!(handle(ReceiverKind::Brittle, &mut book, known).status(), 200);
        assert_eq!(book.effects().len(), 1);
    }
}
