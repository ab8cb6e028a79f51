//! The case catalogue: each case's name, what it checks, why it matters, how to fix a failure
//! of its acts (a failed answer gets advice derived from the failure, [`super::hint`]).
//!
//! Most cases are scenarios of the certification library (`certification/*.toml`, played
//! through the live shell by [`super::trial`]). The others are sent by hand ([`super::script`],
//! graded by [`super::verdict`]) because a scenario cannot say them: the dispatcher only ever
//! renders well-formed envelopes of the domain as it is (no unknown fields, no padding, no
//! malformed JSON), and hooksim's domain has no change that edits a paid invoice, so no
//! scenario can re-render a redelivery of one differently.

use serde::Serialize;

/// A certification case, by its name in reports (kebab case, e.g. `redelivery-once`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseId {
    /// `valid-delivery`: a valid `paid` delivery gets a 2xx within the attempt timeout.
    ValidDelivery,
    /// `unhandled-path`: a delivery for a path the receiver does not handle gets a 2xx.
    UnhandledPath,
    /// `redelivery-once`: after an answer lost past the act, the redelivery of the same `uuid` is
    /// not acted on again.
    Redelivery,
    /// `redelivery-re-rendered`: a redelivery whose body was rendered again is not acted on again.
    RedeliveryReRendered,
    /// `concurrent-redelivery-once`: concurrent copies of one `uuid` are acted on once.
    ConcurrentRedelivery,
    /// `paid-carrying-cancelled`: a `paid` event whose invoice is now `cancelled` is not acted on
    /// as paid.
    PaidCarryingCancelled,
    /// `out-of-order`: a delayed `paid` attempt overtaken by the `cancelled` update is not
    /// fulfilled.
    OutOfOrder,
    /// `paid-failing-for-days`: a `paid` event arriving days late, its invoice cancelled meanwhile,
    /// is not fulfilled.
    PaidFailingForDays,
    /// `lost-answer-redelivered-hours-later`: a redelivery hours after a lost answer is not acted
    /// on again.
    LostAnswerHoursLater,
    /// `burst-while-retry-held`: held retries arriving with a burst of new events: each invoice
    /// fulfilled once.
    BurstWhileRetryHeld,
    /// `unknown-fields`: a delivery with extra fields at every level gets a 2xx.
    UnknownFields,
    /// `large-body`: a large delivery gets a 2xx.
    LargeBody,
    /// `malformed-json`: bodies that are not an envelope get a 4xx (or a 2xx), never a 5xx or a
    /// 3xx.
    MalformedJson,
    /// `signature-valid` (`--secret`): a correctly signed delivery gets a 2xx and is acted on once.
    SignatureValid,
    /// `signature-forgeries` (`--secret`): unsigned, wrongly signed, unknown-version and truncated
    /// signatures each get a 4xx.
    SignatureForgeries,
    /// `signature-stale-timestamp` (`--secret`): a delivery signed an hour ago gets a 4xx.
    SignatureStale,
    /// `signature-rotation` (`--secret`): several signatures, one of them valid, get a 2xx.
    SignatureRotation,
    /// `signature-raw-bytes` (`--secret`): an unusually written body, signed over its exact bytes,
    /// gets a 2xx.
    SignatureRawBytes,
    /// Only with `--provider`.
    RedeliveryAcrossWindow,
    /// Only with `--provider` whose provider verifies endpoints (Slack).
    Handshake,
    /// `handshake-meta` (`--handshake meta`): Meta's `hub.challenge` GET is echoed, only with the
    /// right verify token.
    HandshakeMeta,
    /// `handshake-zoom` (`--handshake zoom`): Zoom's `endpoint.url_validation` is answered with
    /// the hex HMAC-SHA256 of its `plainToken`.
    HandshakeZoom,
    /// `handshake-cloudevents` (`--handshake cloudevents`): the CloudEvents webhook OPTIONS is
    /// answered with `WebHook-Allowed-Origin`.
    #[serde(rename = "handshake-cloudevents")]
    HandshakeCloudEvents,
}

/// What a case is about; `naive` receivers fail exactly the `dedup` and `stale-payload` groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Group {
    /// A 2xx, in time, for every well-formed delivery (handled paths or not).
    Answer,
    /// A redelivery of one `uuid` is acted on once (`naive` receivers fail these).
    Dedup,
    /// The body's state at send time decides, not `details` (`naive` receivers fail these).
    StalePayload,
    /// Unusual but valid bodies, and bodies that are not envelopes.
    Robustness,
    /// Only with `--secret`.
    Signature,
}

/// The catalogue entry of one case.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CaseInfo {
    /// Which case.
    pub id: CaseId,
    /// Its name in reports, e.g. `redelivery-once`.
    pub name: &'static str,
    /// What it is about.
    pub group: Group,
    /// What it checks, in a sentence.
    pub checks: &'static str,
    /// Why it matters to a webhook receiver.
    pub why: &'static str,
    /// How to fix a receiver that fails it.
    pub fix: &'static str,
}

impl CaseId {
    /// In the order they run: later cases do not depend on earlier ones, but a reader of the
    /// receiver's log sees the simple ones first.
    pub const ALL: [CaseId; 13] = [
        Self::ValidDelivery,
        Self::UnhandledPath,
        Self::Redelivery,
        Self::RedeliveryReRendered,
        Self::ConcurrentRedelivery,
        Self::PaidCarryingCancelled,
        Self::OutOfOrder,
        Self::PaidFailingForDays,
        Self::LostAnswerHoursLater,
        Self::BurstWhileRetryHeld,
        Self::UnknownFields,
        Self::LargeBody,
        Self::MalformedJson,
    ];

    /// The signature cases run with `--secret` for `scheme`: a scheme that signs no timestamp
    /// (GitHub, Shopify) has no stale case, and one that carries a single signature (GitHub,
    /// Shopify, Slack) no rotation case.
    pub fn signed(scheme: crate::signing::Scheme) -> Vec<CaseId> {
        let all = [
            Self::SignatureValid,
            Self::SignatureForgeries,
            Self::SignatureStale,
            Self::SignatureRotation,
            Self::SignatureRawBytes,
        ];
        all.into_iter()
            .filter(|c| scheme.signs_timestamp() || *c != Self::SignatureStale)
            .filter(|c| scheme.signs_with_every_secret() || *c != Self::SignatureRotation)
            .collect()
    }

    /// The cases a provider's deliveries add (`--provider`, not SnapBill): a redelivery at the end
    /// of its redelivery window, and its endpoint verification where it has one.
    pub fn provided(provider: crate::provider::Provider) -> Vec<CaseId> {
        if provider == crate::provider::Provider::Snapbill {
            return Vec::new();
        }
        let handshake = provider.handshake("").map(|_| Self::Handshake);
        std::iter::once(Self::RedeliveryAcrossWindow).chain(handshake).collect()
    }

    /// Whether the case is an endpoint verification (a handshake), not a delivery.
    pub fn verifies_endpoint(self) -> bool {
        matches!(self, Self::Handshake | Self::HandshakeMeta | Self::HandshakeZoom | Self::HandshakeCloudEvents)
    }

    /// The certification scenario the case plays, or `None` for a case sent by hand.
    pub fn scenario_file(self) -> Option<&'static str> {
        match self {
            Self::ValidDelivery => Some("valid-delivery.toml"),
            Self::UnhandledPath => Some("unhandled-path.toml"),
            Self::Redelivery => Some("redelivery-once.toml"),
            Self::ConcurrentRedelivery => Some("concurrent-redelivery-once.toml"),
            Self::PaidCarryingCancelled => Some("paid-carrying-cancelled.toml"),
            Self::OutOfOrder => Some("out-of-order.toml"),
            Self::PaidFailingForDays => Some("paid-failing-for-days.toml"),
            Self::LostAnswerHoursLater => Some("lost-answer-redelivered-hours-later.toml"),
            Self::BurstWhileRetryHeld => Some("burst-while-retry-held.toml"),
            _ => None,
        }
    }

    /// Why the scenario case cannot be judged on `provider`'s deliveries, if it cannot.
    /// `paid-carrying-cancelled` and `paid-failing-for-days` judge a receiver by whether it acts
    /// on a late `paid` delivery whose invoice is cancelled by then. A provider that sends a
    /// snapshot taken when the event happened still says `paid` there: only the invoice as it is
    /// now tells, which the simulated provider API serves ([`super::api`]). A provider that
    /// sends a snapshot and has no API hooksim simulates (Standard Webhooks: the specification
    /// defines none) leaves them not run.
    pub fn unjudged_as(self, provider: crate::provider::Provider) -> Option<String> {
        let snapshot = provider.facts().rendered == crate::provider::Rendered::AtEvent;
        match self {
            Self::PaidCarryingCancelled | Self::PaidFailingForDays if snapshot && !provider.has_api() => Some(format!(
                "not run with --provider {provider}: its `paid` delivery is a snapshot still saying `paid`, and only \
                 the invoice as it is now could tell a receiver not to fulfil it; {provider} defines no API to \
                 read it from, so hooksim simulates none"
            )),
            _ => None,
        }
    }

    /// The case's own advice as `provider` delivers, where it differs from SnapBill's: a
    /// provider's snapshot is history, and its API tells the invoice as it is now.
    pub fn fix_as(self, provider: crate::provider::Provider) -> Option<String> {
        let zero = provider.invoice_path(0)?;
        let at = zero.rfind('0')?;
        let path = format!("{}{{id}}{}", &zero[..at], &zero[at + 1..]);
        match self {
            Self::PaidCarryingCancelled | Self::PaidFailingForDays => Some(format!(
                "before acting on a `paid` snapshot, read the invoice as it is now from {provider}'s API (`GET {}`) \
                 and fulfil it only if it is paid now: the event's object is the invoice when the event happened",
                path
            )),
            _ => None,
        }
    }

    pub(crate) fn info(self) -> CaseInfo {
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
                "after an answer lost past the act, the redelivery of the same `uuid` (on a new connection) gets a 2xx and is not acted on again",
                "delivery is at least once: a lost answer or a timeout makes SnapBill send the same delivery again, on a new connection",
                "record each `uuid` you acted on, durably (not per connection or per process), and skip (with a 2xx) a uuid already recorded",
            ),
            Self::RedeliveryReRendered => (
                "redelivery-re-rendered",
                Group::Dedup,
                "a redelivery of the same `uuid` whose body was rendered again (the invoice changed in between) is not acted on again",
                "SnapBill renders every attempt at send time: a redelivery is the same delivery, not the same bytes",
                "deduplicate on the delivery `uuid`, never on a hash of the body",
            ),
            Self::ConcurrentRedelivery => (
                "concurrent-redelivery-once",
                Group::Dedup,
                "bursts of concurrent deliveries of one `uuid` (held copies released at once) are each acted on once",
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
                "a `paid` attempt rendered while the invoice was paid, delayed past the `cancelled` update, is not fulfilled",
                "retries reorder events: a stale `paid` must not fulfil an invoice already cancelled",
                "keep the newest event applied per invoice (its id; a provider's snapshot: its own time, `created`, `event_time`) and skip older events: a delayed attempt's body can still say `paid`",
            ),
            Self::PaidFailingForDays => (
                "paid-failing-for-days",
                Group::StalePayload,
                "a `paid` event whose attempts fail at the network for two days, the invoice cancelled on day one, is not fulfilled when it finally arrives (ten days of virtual time)",
                "a sender retries for days, and renders each attempt at send time: the late `paid` carries the invoice as it is now",
                "decide on `body.invoice.state` when the delivery arrives, however late, never on `body.details`",
            ),
            Self::LostAnswerHoursLater => (
                "lost-answer-redelivered-hours-later",
                Group::Dedup,
                "a delivery acted on whose answer was lost, redelivered three hours later on a new connection, is not acted on again",
                "a lost answer looks like a failure to the sender: the same delivery comes back, maybe hours later, after a restart of your process",
                "record acted-on uuids durably (a database table with a unique key), not in memory or per connection, and keep them for longer than the sender retries",
            ),
            Self::BurstWhileRetryHeld => (
                "burst-while-retry-held",
                Group::Dedup,
                "a burst of new events arriving together with held retries of an older one: each invoice is fulfilled exactly once",
                "after a network hold, a sender's backlog arrives at once: retries of old deliveries race new ones",
                "claim each uuid atomically before acting, and keep handling concurrent deliveries of different events independently",
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
                "bodies that are not an envelope get a 4xx (or a 2xx): never a 5xx or a 3xx",
                "a 5xx or a 3xx is a failed attempt the sender retries: an unreadable body would be retried forever (a retry storm)",
                "answer 400 (or 2xx) when the body does not parse; never let a parse error escape as a 500",
            ),
            Self::SignatureValid => (
                "signature-valid",
                Group::Signature,
                "a delivery signed with your secret, as the scheme's senders sign, gets a 2xx and is acted on once",
                "a verifier that refuses genuine deliveries turns every event into a week of retries and a disabled webhook",
                "verify with the secret and scheme your sender uses, over the raw request body, against your clock",
            ),
            Self::SignatureForgeries => (
                "signature-forgeries",
                Group::Signature,
                "an unsigned delivery, one signed with another secret, one with an unknown signature version and one with a truncated signature each get a 4xx and are never acted on",
                "anyone can POST to a webhook URL: an unverified delivery can fulfil an invoice nobody paid",
                "verify the signature before doing anything, answer 400/401 when it does not match (never a 5xx, which asks for the forgery again), and compare in constant time",
            ),
            Self::SignatureStale => (
                "signature-stale-timestamp",
                Group::Signature,
                "a delivery correctly signed an hour ago gets a 4xx and is not acted on",
                "a captured delivery replayed later is validly signed: only the signed timestamp tells it apart",
                "check the signed timestamp before doing anything, and refuse it (4xx) outside a tolerance (5 minutes is usual): a 4xx answered after acting still acted",
            ),
            Self::SignatureRotation => (
                "signature-rotation",
                Group::Signature,
                "a delivery whose header carries several signatures (a key rotation), one of them yours, gets a 2xx and is acted on once",
                "during a rotation senders sign with the old and the new secret: a verifier reading only the first signature refuses genuine deliveries",
                "accept the delivery when any of the signatures in the header matches one of your secrets",
            ),
            Self::SignatureRawBytes => (
                "signature-raw-bytes",
                Group::Signature,
                "a delivery written unusually (indented, keys in another order, `/` escaped), signed over its exact bytes, gets a 2xx and is acted on once",
                "the signature covers the bytes sent: a verifier that parses and re-serialises the body computes another signature",
                "verify over the raw request body bytes, before any JSON parsing",
            ),
            Self::RedeliveryAcrossWindow => (
                "redelivery-across-retry-window",
                Group::Dedup,
                "a delivery, a newer event at the end of the provider's redelivery window, then the first delivery again (same dedup id): acted on once",
                "a provider retries (or redelivers) the same event until the end of its window (Slack 6 min, Shopify 4 h, Stripe and GitHub 3 days): a receiver that forgets ids sooner acts twice",
                "keep processed dedup ids at least as long as the provider's redelivery window (a database table, not a short-lived cache)",
            ),
            Self::Handshake => (
                "url-verification",
                Group::Answer,
                "the provider's endpoint verification (Slack's signed `url_verification` POST) is answered 2xx with its challenge",
                "without the handshake the provider never sends an event to the URL",
                "verify the request, then answer a `url_verification` body with its `challenge` before any event handling",
            ),
            Self::HandshakeMeta => (
                "handshake-meta",
                Group::Answer,
                "Meta's verification GET (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`) is answered 2xx with the challenge as the body, and one with a wrong verify token is not",
                "Meta sends no event to a callback URL that fails verification; one that echoes any challenge can be subscribed by anyone",
                "route GET to the verification before any signature middleware (it is unsigned): compare `hub.verify_token` with yours, then answer 200 with `hub.challenge` as the body, else 403",
            ),
            Self::HandshakeZoom => (
                "handshake-zoom",
                Group::Answer,
                "Zoom's `endpoint.url_validation` POST is answered 2xx with JSON `{plainToken, encryptedToken}`, `encryptedToken` the hex HMAC-SHA256 of `plainToken` under the secret token",
                "Zoom sends no event to an endpoint that fails validation, and re-validates it every 72 hours",
                "answer an `endpoint.url_validation` event with `{\"plainToken\": p, \"encryptedToken\": hex(HMAC-SHA256(secret token, p))}` (hex, not base64), before any event handling",
            ),
            Self::HandshakeCloudEvents => (
                "handshake-cloudevents",
                Group::Answer,
                "the CloudEvents webhook OPTIONS (`WebHook-Request-Origin`) is answered 2xx with `WebHook-Allowed-Origin` (the origin or `*`), and `WebHook-Allowed-Rate` if any is `*` or a positive integer",
                "the consent is the header, not the status: a sender following the CloudEvents webhook spec delivers nothing without it",
                "answer OPTIONS (before any signature middleware) with `WebHook-Allowed-Origin: <the WebHook-Request-Origin>` and `WebHook-Allowed-Rate`",
            ),
        };
        CaseInfo { id: self, name, group, checks, why, fix }
    }
}

#[cfg(test)]
mod tests {
    use super::CaseId;
    use crate::provider::Provider;

    #[test]
    fn the_stale_payload_advice_names_the_providers_api_where_it_has_one() {
        let fix = CaseId::PaidCarryingCancelled.fix_as(Provider::Shopify).unwrap();
        assert!(fix.contains("`GET /admin/api/2025-07/orders/{id}.json`"), "{fix}");
        assert!(CaseId::PaidFailingForDays.fix_as(Provider::Stripe).unwrap().contains("/v1/invoices/in_{id}"));
        assert_eq!(CaseId::PaidCarryingCancelled.fix_as(Provider::StandardWebhooks), None);
        assert_eq!(CaseId::PaidCarryingCancelled.fix_as(Provider::Snapbill), None);
        assert_eq!(CaseId::OutOfOrder.fix_as(Provider::Stripe), None);
    }
}
