//! Signatures in the simulated worlds, written once for every engine and every dispatcher: the
//! headers that sign an attempt when it leaves (at the attempt's virtual time, over the exact
//! bytes it sends), and a verifying receiver's check of them (against the virtual now).
//!
//! Why here and not in the core: signing is done where the bytes leave, by the shell, so an
//! attempt of any dispatcher (the reference core, or a process speaking the protocol) is signed
//! the same way, a re-rendered retry is signed over its new bytes, and the core's trace, its
//! protocol and every dispatcher stay as they are. Pure: time comes in as a [`SimTime`].

use crate::world::{ReceiverKeys, SenderKeys, Signing};
use hooksim_core::core::{AttemptRequest, Shape};
use hooksim_core::provider::Provider;
use hooksim_core::signing::{Headers, Signer, Verifier};
use hooksim_core::time::SimTime;
use hooksim_core::trace::{Outcome, TraceEvent};
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;

/// Virtual time zero on the simulated calendar, as unix seconds (2026-01-01T00:00:00Z): signed
/// timestamps and `Retry-After` dates are `EPOCH_S` plus the virtual seconds elapsed. Any fixed
/// instant would do; sender and receivers share it, so only the virtual time between them counts
/// (against a signature's tolerance, in a dated `Retry-After`).
pub const EPOCH_S: i64 = 1_767_225_600;

/// The headers that sign one attempt (lower-case names). Shared: an attempt's message is cloned.
pub type SignedHeaders = Arc<[(&'static str, String)]>;

/// `at` as unix seconds on the simulated calendar.
pub fn unix_s(at: SimTime) -> i64 {
    EPOCH_S.saturating_add(i64::try_from(at.as_millis() / 1_000).unwrap_or(i64::MAX))
}

/// The headers that sign `request`, started at `at`, with the keys in use then (both of a
/// rotation's overlap, newest first), after the provider's own headers when the world renders a
/// provider's shape; `None` when there are none (SnapBill's envelope, unsigned). The message id
/// is [`message_id`], the same on every retry (Standard Webhooks' `webhook-id`, GitHub's delivery).
pub fn sign(signing: &Signing, at: SimTime, request: &AttemptRequest) -> Option<SignedHeaders> {
    let signer = signing.sender.as_ref().and_then(|keys| signer_at(keys, at));
    attempt_headers(request, signer.as_ref(), unix_s(at))
}

/// Every header an attempt carries beyond the content type: the provider's own (its shape's),
/// then the signature `signer` makes at `timestamp_s` over the exact body. The one place both
/// the simulated engines (virtual time) and the live shell (the wall clock, which a real
/// receiver checks it against) build them; `None` when there are none.
pub fn attempt_headers(request: &AttemptRequest, signer: Option<&Signer>, timestamp_s: i64) -> Option<SignedHeaders> {
    shaped_headers(request.shape.as_deref(), request.delivery, request.body.as_bytes(), signer, timestamp_s)
}

/// [`attempt_headers`] of an attempt of delivery `delivery` in `shape` (`None`: SnapBill's
/// envelope), carrying `body`: for a shell that changes SnapBill's bytes before they leave (the
/// live shell's event id offset).
pub fn shaped_headers(
    shape: Option<&Shape>,
    delivery: Uuid,
    body: &[u8],
    signer: Option<&Signer>,
    timestamp_s: i64,
) -> Option<SignedHeaders> {
    let own = shape.map(|s| s.headers.as_slice()).unwrap_or_default();
    if own.is_empty() && signer.is_none() {
        return None;
    }
    let id = shape.map_or_else(|| delivery.to_string(), |s| s.id.clone());
    let signature = signer.map(|s| s.sign(&id, timestamp_s, body)).unwrap_or_default();
    // A header the signature writes (the id it names) is the signature's, once.
    let mut headers: Vec<_> = own.iter().filter(|(n, _)| signature.iter().all(|(s, _)| s != n)).cloned().collect();
    headers.extend(signature);
    Some(headers.into())
}

/// The id an attempt's signature names: its provider's dedup id (`evt_…`, `msg_…`), or the
/// delivery's uuid (SnapBill's envelope).
pub fn message_id(request: &AttemptRequest) -> String {
    match &request.shape {
        Some(shape) => shape.id.clone(),
        None => request.delivery.to_string(),
    }
}

/// The signer of an attempt started at `at`: every key in use then, newest first. `None` when
/// none is (`World::validate` refuses secrets that cannot sign).
pub fn signer_at(keys: &SenderKeys, at: SimTime) -> Option<Signer> {
    Signer::new(keys.scheme, &keys.secrets_at(at)).ok()
}

/// A verifying receiver's check: built once per run from the world, applied to each request its
/// logic would see.
#[derive(Clone, Debug)]
pub struct Gate {
    verifier: Verifier,
}

/// A request refused by a verifying receiver: what it answers (a 4xx) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The status answered (400 or 401).
    pub status: u16,
    /// What was wrong with the signature, in words (`receiver_rejected`).
    pub why: String,
}

impl Gate {
    /// The check of receiver `host`, if it verifies (its secrets were checked by `World::validate`).
    pub fn of(signing: &Signing, host: &str) -> Option<Gate> {
        let ReceiverKeys { scheme, secrets, tolerance_s } = signing.receivers.get(host)?;
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let verifier = Verifier::new(*scheme, &secrets).ok()?.with_tolerance_s(*tolerance_s);
        Some(Gate { verifier })
    }

    /// `Ok` to hand the request to the receiver's logic; otherwise the receiver answers the
    /// rejection's 4xx and never acts, whatever its reply script said it would do after acting
    /// (it stopped before acting). Over the raw body bytes, judged at the virtual `at`.
    pub fn check<H: Headers + ?Sized>(&self, headers: &H, body: &[u8], at: SimTime) -> Result<(), Rejection> {
        self.verifier
            .verify(headers, body, unix_s(at))
            .map_err(|e| Rejection { status: e.status(), why: format!("signature rejected: {e}") })
    }
}

/// No headers at all: an unsigned request.
pub const UNSIGNED: &[(&str, String)] = &[];

impl Rejection {
    /// What the sender sees.
    pub fn outcome(&self) -> Outcome {
        Outcome::Status { code: self.status }
    }

    /// The trace entry: the receiver, the ids the request names (read for the record only, never
    /// trusted nor acted on: SnapBill's envelope's, or a provider's dedup id as its delivery's
    /// uuid, with the event `event_of` names for it), and why.
    pub fn trace_event<H: Headers + ?Sized>(
        &self,
        receiver: &str,
        provider: Provider,
        headers: &H,
        body: &[u8],
        event_of: impl Fn(Uuid) -> Option<u64>,
    ) -> TraceEvent {
        let (delivery, event) = match provider {
            Provider::Snapbill => peek_ids(body),
            p => {
                let uuid = p.read(headers, body).ok().and_then(|r| r.uuid);
                (uuid, uuid.and_then(&event_of))
            }
        };
        TraceEvent::ReceiverRejected { receiver: receiver.to_string(), delivery, event, why: self.why.clone() }
    }
}

#[derive(Deserialize)]
struct Peek {
    uuid: Option<Uuid>,
    body: Option<PeekBody>,
}

#[derive(Deserialize)]
struct PeekBody {
    id: Option<u64>,
}

/// The delivery uuid and event id an envelope names, as far as it can be read.
fn peek_ids(body: &[u8]) -> (Option<Uuid>, Option<u64>) {
    match serde_json::from_slice::<Peek>(body) {
        Ok(p) => (p.uuid, p.body.and_then(|b| b.id)),
        Err(_) => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::KeySpan;
    use hooksim_core::domain::WebhookId;
    use hooksim_core::signing::Scheme;

    const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NEW: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn request(body: &str) -> AttemptRequest {
        AttemptRequest {
            attempt: 1,
            delivery: Uuid::from_u128(7),
            webhook: WebhookId(0),
            url: "http://shop/webhook".into(),
            body: body.into(),
            timeout_ms: 1_000,
            shape: None,
        }
    }

    fn world(sender: &[&str], receiver: &[&str]) -> Signing {
        let keys = sender.iter().map(|s| KeySpan { secret: s.to_string(), from: SimTime::ZERO, until: None }).collect();
        let r = ReceiverKeys {
            scheme: Scheme::StandardWebhooks,
            secrets: receiver.iter().map(|s| s.to_string()).collect(),
            tolerance_s: 300,
        };
        Signing {
            sender: Some(SenderKeys { scheme: Scheme::StandardWebhooks, keys }),
            receivers: [("shop".to_string(), r)].into(),
        }
    }

    #[test]
    fn a_signed_attempt_passes_and_a_wrong_key_stale_or_unsigned_one_is_a_4xx() {
        let at = SimTime::from_millis(90_000);
        let body = r#"{"uuid":"00000000-0000-0000-0000-000000000007","body":{"id":3}}"#;
        let signing = world(&[OLD], &[OLD]);
        let headers = sign(&signing, at, &request(body)).unwrap();
        let gate = Gate::of(&signing, "shop").unwrap();
        assert_eq!(gate.check(&*headers, body.as_bytes(), at), Ok(()));
        // Five minutes are tolerated; a second more is stale.
        assert_eq!(gate.check(&*headers, body.as_bytes(), at.plus_ms(300_000)), Ok(()));
        let stale = gate.check(&*headers, body.as_bytes(), at.plus_ms(301_000)).unwrap_err();
        assert_eq!(stale.status, 401);
        // Another body under the same headers: a re-rendered retry needs a new signature.
        assert_eq!(gate.check(&*headers, b"{}", at).unwrap_err().status, 401);
        assert_eq!(gate.check(UNSIGNED, body.as_bytes(), at).unwrap_err().status, 400);
        let wrong = Gate::of(&world(&[OLD], &[NEW]), "shop").unwrap();
        let rejected = wrong.check(&*headers, body.as_bytes(), at).unwrap_err();
        assert!(rejected.why.starts_with("signature rejected: none of the 1 signature(s)"), "{}", rejected.why);
        let traced = rejected.trace_event("shop", Provider::Snapbill, UNSIGNED, body.as_bytes(), |_| None);
        let TraceEvent::ReceiverRejected { delivery, event, .. } = traced else { panic!("not a rejection") };
        assert_eq!((delivery, event), (Some(Uuid::from_u128(7)), Some(3)));
    }

    /// A provider's attempt carries its own headers and its id header signed or not, once; the
    /// signature names the pack's id (Standard Webhooks' `webhook-id: msg_…`).
    #[test]
    fn a_providers_headers_are_sent_once_and_signed_under_its_id() {
        let shape = Shape { id: "msg_7".into(), headers: vec![("webhook-id", "msg_7".into()), ("x-own", "1".into())] };
        let shaped = AttemptRequest { shape: Some(std::sync::Arc::new(shape)), ..request("{}") };
        let unsigned = attempt_headers(&shaped, None, 0).unwrap();
        assert_eq!(&*unsigned, &[("webhook-id", "msg_7".to_string()), ("x-own", "1".to_string())]);
        let signer = Signer::new(Scheme::StandardWebhooks, &[OLD]).unwrap();
        let signed = attempt_headers(&shaped, Some(&signer), 0).unwrap();
        assert_eq!(signed.iter().filter(|(n, _)| *n == "webhook-id").count(), 1, "{signed:?}");
        assert!(signed.contains(&("webhook-id", "msg_7".to_string())) && signed.iter().any(|(n, _)| *n == "x-own"));
        assert_eq!(message_id(&shaped), "msg_7");
        assert!(attempt_headers(&request("{}"), None, 0).is_none(), "SnapBill's, unsigned: no headers");
    }

    #[test]
    fn both_keys_of_an_overlap_sign_and_either_receiver_accepts() {
        let at = SimTime::ZERO;
        let body = "{}";
        let headers = sign(&world(&[OLD, NEW], &[]), at, &request(body)).unwrap();
        let signature = &headers.iter().find(|(n, _)| *n == "webhook-signature").unwrap().1;
        assert_eq!(signature.split(' ').count(), 2, "{signature}");
        for holds in [OLD, NEW] {
            let gate = Gate::of(&world(&[], &[holds]), "shop").unwrap();
            assert_eq!(gate.check(&*headers, body.as_bytes(), at), Ok(()));
        }
        assert!(sign(&Signing::default(), at, &request(body)).is_none());
        assert_eq!(unix_s(SimTime::from_millis(1_999)), EPOCH_S + 1);
    }
}
