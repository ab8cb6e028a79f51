//! The receiver's own page, `GET /`: the deliveries it received, newest first, each envelope
//! pretty-printed and marked acted or skipped and why (duplicate uuid, stale state, unhandled
//! path, rejected signature, unreadable body). The page polls `GET /deliveries` (JSON) and sets
//! everything as text, never as markup: a body is whatever a sender sent.
//!
//! Bounded: the log keeps the last [`DELIVERIES_SHOWN_MAX`] deliveries (older ones are dropped,
//! and the count of all received says how many), each body cut at [`BODY_SHOWN_BYTES_MAX`].

use super::{Decision, Handled, RefuseReason, SkipReason};
use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Deliveries the page shows; the oldest is dropped when a new one comes past this many.
pub const DELIVERIES_SHOWN_MAX: usize = 100;
/// A body is shown up to this many bytes, then cut with a note saying how long it was.
pub const BODY_SHOWN_BYTES_MAX: usize = 16 * 1024;

const PAGE_HTML: &str = include_str!("page.html");
const PAGE_JS: &str = include_str!("page.js");

/// Whether a delivery was acted on and, if not, why, as the page groups it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, strum::EnumIter)]
#[serde(rename_all = "kebab-case")]
pub enum Mark {
    /// Acted on (`receiver_acted`).
    Acted,
    /// Skipped: a uuid it already acted on.
    DuplicateUuid,
    /// Skipped: an older event about an invoice it already acted on in another state.
    StaleState,
    /// Skipped or refused: a path it does not handle.
    UnhandledPath,
    /// Refused: a signature it could not accept (400/401).
    RejectedSignature,
    /// Refused: a body it could not read as an envelope.
    UnreadableBody,
    /// Refused: its effects list is full.
    EffectsFull,
}

impl Mark {
    /// From the decision's reason kind, never its words (those may be reworded). No wildcard
    /// arm: a new reason kind does not compile until it has its mark here.
    pub fn of(decision: &Decision) -> Mark {
        match decision {
            Decision::Act { .. } => Mark::Acted,
            Decision::Skip { reason, .. } => match reason {
                SkipReason::DuplicateUuid => Mark::DuplicateUuid,
                SkipReason::StaleState => Mark::StaleState,
                SkipReason::UnhandledPath => Mark::UnhandledPath,
            },
            Decision::Refuse { reason, .. } => match reason {
                RefuseReason::UnhandledPath => Mark::UnhandledPath,
                RefuseReason::Unreadable => Mark::UnreadableBody,
                RefuseReason::RejectedSignature => Mark::RejectedSignature,
                RefuseReason::EffectsFull => Mark::EffectsFull,
            },
        }
    }
}

/// One delivery as the page shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Received {
    /// 1 for the first delivery this receiver got, counting every one (dropped ones too).
    pub number: u64,
    /// `acted`, `skipped` or `refused`.
    pub verdict: &'static str,
    /// How the page groups it (its reason's kind, never its words).
    pub mark: Mark,
    /// Why it was skipped or refused, in words; empty when acted on.
    pub why: String,
    /// The HTTP status it answered.
    pub status: u16,
    /// The delivery's uuid, when the body named one.
    pub uuid: Option<String>,
    /// The event id, when the body named one.
    pub event: Option<u64>,
    /// The envelope pretty-printed when it is JSON, else the bytes as text; empty when the body
    /// was never read (a rejected signature).
    pub body: String,
}

/// The last [`DELIVERIES_SHOWN_MAX`] deliveries, oldest first.
#[derive(Debug, Default)]
pub struct DeliveryLog {
    received: u64,
    shown: VecDeque<Received>,
}

/// Shared between the router that records and the page that reads.
pub type SharedLog = Arc<Mutex<DeliveryLog>>;

impl DeliveryLog {
    /// A new, empty log to share between the router and the page.
    pub(crate) fn shared() -> SharedLog {
        Arc::new(Mutex::new(DeliveryLog::default()))
    }

    /// Records one delivery and what the receiver did with it; `body` is `None` when it was not
    /// read (refused before the logic saw it).
    pub fn record(&mut self, body: Option<&[u8]>, handled: &Handled) {
        self.received += 1;
        let verdict = match handled.decision {
            Decision::Act { .. } => "acted",
            Decision::Skip { .. } => "skipped",
            Decision::Refuse { .. } => "refused",
        };
        let why = match &handled.decision {
            Decision::Act { action } => action.clone(),
            Decision::Skip { why, .. } | Decision::Refuse { why, .. } => why.clone(),
        };
        if self.shown.len() == DELIVERIES_SHOWN_MAX {
            self.shown.pop_front();
        }
        self.shown.push_back(Received {
            number: self.received,
            verdict,
            mark: Mark::of(&handled.decision),
            why,
            status: handled.status(),
            uuid: handled.uuid.map(|u| u.to_string()),
            event: handled.event,
            body: body.map(shown_body).unwrap_or_default(),
        });
    }

    /// How many deliveries were received in all.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The deliveries kept, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &Received> {
        self.shown.iter().rev()
    }
}

/// `body` pretty-printed if it is JSON, else as (lossy) text; cut at [`BODY_SHOWN_BYTES_MAX`].
fn shown_body(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    if text.len() <= BODY_SHOWN_BYTES_MAX {
        return text;
    }
    let mut cut = BODY_SHOWN_BYTES_MAX;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}\n… (cut: {} bytes in all, the page shows {BODY_SHOWN_BYTES_MAX})", &text[..cut], text.len())
}

/// What `GET /deliveries` answers.
#[derive(Serialize)]
struct Listing<'a> {
    kind: &'a str,
    received: u64,
    shown_max: usize,
    deliveries: Vec<&'a Received>,
}

/// `GET /`: the page (the same for every kind; the kind comes with the data).
pub(super) async fn page() -> Html<String> {
    Html(PAGE_HTML.replace("/*PAGE_JS*/", PAGE_JS))
}

/// `GET /deliveries`: the kind, the count received, and the deliveries kept, newest first.
pub(super) async fn deliveries(State((kind, log)): State<(String, SharedLog)>) -> Json<serde_json::Value> {
    let log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let listing = Listing {
        kind: &kind,
        received: log.received(),
        shown_max: DELIVERIES_SHOWN_MAX,
        deliveries: log.newest_first().collect(),
    };
    Json(serde_json::to_value(listing).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receiver::{Book, ReceiverKind, handle};
    use hooksim_core::signing::VerifyError;
    use std::collections::BTreeSet;
    use strum::IntoEnumIterator;

    fn envelope(uuid: u128, path: &str, details: &str, state: &str) -> Vec<u8> {
        format!(
            r#"{{"uuid":"{}","body":{{"id":5,"path":"{path}","details":"{details}","invoice":{{"id":9,"state":"{state}"}}}}}}"#,
            uuid::Uuid::from_u128(uuid)
        )
        .into_bytes()
    }

    /// Each mark from a real decision of the receiver's logic (and of its signature check), and
    /// every reason kind and every mark reached by one: a new kind without a case here fails.
    #[test]
    fn every_reason_kind_comes_from_a_real_decision_and_has_its_mark() {
        let mut book = Book::default();
        let paid = envelope(1, "/invoice/update/state", "paid", "paid");
        let cases = [
            (ReceiverKind::Dedup, paid.clone(), Mark::Acted),
            (ReceiverKind::Dedup, paid, Mark::DuplicateUuid),
            (ReceiverKind::Dedup, envelope(2, "/invoice/update/state", "paid", "cancelled"), Mark::StaleState),
            (ReceiverKind::Dedup, envelope(3, "/invoice/add", "", "unpaid"), Mark::UnhandledPath),
            (ReceiverKind::Picky, envelope(4, "/invoice/add", "", "unpaid"), Mark::UnhandledPath),
            (ReceiverKind::Dedup, b"{not json".to_vec(), Mark::UnreadableBody),
            (ReceiverKind::Brittle, b"{not json".to_vec(), Mark::UnreadableBody),
        ];
        let mut decisions: Vec<(Decision, Mark)> =
            cases.into_iter().map(|(kind, body, mark)| (handle(kind, &mut book, &body).decision, mark)).collect();
        let mut full = Book::with_effects_max(0);
        let fresh = envelope(5, "/invoice/update/state", "paid", "paid");
        decisions.push((handle(ReceiverKind::Dedup, &mut full, &fresh).decision, Mark::EffectsFull));
        let rejected = super::super::signature::refusal(&VerifyError::MissingHeader("x-signature"));
        decisions.push((rejected.decision, Mark::RejectedSignature));
        for (decision, mark) in &decisions {
            assert_eq!(Mark::of(decision), *mark, "{decision:?}");
        }
        let skips: BTreeSet<SkipReason> = decisions
            .iter()
            .filter_map(|(d, _)| if let Decision::Skip { reason, .. } = d { Some(*reason) } else { None })
            .collect();
        let refusals: BTreeSet<RefuseReason> = decisions
            .iter()
            .filter_map(|(d, _)| if let Decision::Refuse { reason, .. } = d { Some(*reason) } else { None })
            .collect();
        let marks: BTreeSet<Mark> = decisions.iter().map(|(_, mark)| *mark).collect();
        assert_eq!(skips, SkipReason::iter().collect(), "a skip reason with no case here");
        assert_eq!(refusals, RefuseReason::iter().collect(), "a refusal reason with no case here");
        assert_eq!(marks, Mark::iter().collect(), "a mark no decision reaches");
    }

    #[test]
    fn the_log_keeps_the_newest_and_counts_all() {
        let mut log = DeliveryLog::default();
        let handled = Handled {
            uuid: None,
            event: None,
            decision: Decision::Skip { reason: SkipReason::UnhandledPath, why: "x".into() },
        };
        for i in 0..DELIVERIES_SHOWN_MAX + 5 {
            log.record(Some(format!("{{\"n\":{i}}}").as_bytes()), &handled);
        }
        assert_eq!(log.received(), DELIVERIES_SHOWN_MAX as u64 + 5);
        let shown: Vec<&Received> = log.newest_first().collect();
        assert_eq!(shown.len(), DELIVERIES_SHOWN_MAX);
        assert_eq!(shown[0].number, DELIVERIES_SHOWN_MAX as u64 + 5);
        assert_eq!(shown[0].body, format!("{{\n  \"n\": {}\n}}", DELIVERIES_SHOWN_MAX + 4));
        assert_eq!(shown.last().map(|r| r.number), Some(6));
    }

    #[test]
    fn a_long_body_is_cut_and_says_so() {
        let body = "é".repeat(BODY_SHOWN_BYTES_MAX);
        let shown = shown_body(body.as_bytes());
        assert!(shown.len() < body.len());
        assert!(shown.ends_with(&format!("(cut: {} bytes in all, the page shows {BODY_SHOWN_BYTES_MAX})", body.len())));
    }
}
