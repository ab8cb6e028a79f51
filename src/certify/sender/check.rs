//! The check catalogue: each check's name, what it checks, how to fix a failure. How each is
//! graded is in [`super::grade`].

use serde::Serialize;

/// A check of a sender, by its name in reports (kebab case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    /// `retried`: each failure is followed by another attempt of the same event.
    Retried,
    /// `stopped-after-2xx`: no attempt of an event after the sender read its 2xx.
    #[serde(rename = "stopped-after-2xx")]
    StoppedAfter2xx,
    /// `same-id`: every attempt of an event carries one delivery id.
    SameId,
    /// `distinct-ids`: no delivery id is shared by two events.
    DistinctIds,
    /// `redirect-not-followed`: the 307's target saw nothing.
    RedirectNotFollowed,
    /// `retry-after`: the next attempt honours `Retry-After` as the profile says.
    RetryAfter,
    /// `gone`: after a 410, the profile's rule (stop, or retry).
    Gone,
    /// `timeout`: the sender hung up on a held request within the profile's attempt timeout.
    Timeout,
    /// `schedule`: each delay matches the profile's backoff within the tolerance.
    Schedule,
    /// `envelope`: every body is JSON of `--envelope`.
    Envelope,
    /// `signature`: every attempt verifies, with a fresh timestamp.
    Signature,
    /// `concurrency`: never more requests in flight than `in_flight_per_webhook_max`.
    Concurrency,
    /// `url-verification-first` (a sender claiming to be Slack): a `url_verification` comes
    /// before the first delivery.
    UrlVerificationFirst,
}

/// The catalogue entry of one check.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CheckInfo {
    /// Its name in reports, e.g. `same-id`.
    pub name: &'static str,
    /// What passes, in a sentence.
    pub checks: &'static str,
    /// How to fix a sender that fails it.
    pub fix: &'static str,
}

impl CheckId {
    /// Every check, in the order the report lists them.
    pub(crate) const ALL: [CheckId; 12] = [
        Self::Retried,
        Self::StoppedAfter2xx,
        Self::SameId,
        Self::DistinctIds,
        Self::RedirectNotFollowed,
        Self::RetryAfter,
        Self::Gone,
        Self::Timeout,
        Self::Schedule,
        Self::Envelope,
        Self::Signature,
        Self::Concurrency,
    ];

    pub(crate) fn info(self) -> CheckInfo {
        let (name, checks, fix) = match self {
            Self::Retried => (
                "retried",
                "after a 500, a timeout, a reset, a 429, a 3xx (and a 410 where the profile keeps retrying) another attempt comes, until a 2xx",
                "treat every non-2xx answer, timeout and connection error as a failed attempt and schedule a retry",
            ),
            Self::StoppedAfter2xx => (
                "stopped-after-2xx",
                "no attempt of an event comes after the sender read its 2xx (each event watched for the profile's first delay and its tolerance after it)",
                "end a delivery at its first 2xx: record the success before anything else, and never resend a delivered event",
            ),
            Self::SameId => (
                "same-id",
                "every attempt of one delivery carries the same delivery id (--id)",
                "create the delivery id once, when the delivery is created, and send it on every retry",
            ),
            Self::DistinctIds => (
                "distinct-ids",
                "each event's delivery has an id of its own",
                "derive the delivery id from (webhook, event), never a constant or a counter that restarts",
            ),
            Self::RedirectNotFollowed => (
                "redirect-not-followed",
                "a 3xx is a failed attempt: its Location (also served) sees nothing",
                "disable redirect following in the HTTP client (e.g. allow_redirects=False, redirect::Policy::none())",
            ),
            Self::RetryAfter => (
                "retry-after",
                "after a 429 with Retry-After, the next attempt comes as the profile says: no sooner than Retry-After where it honours it, at the plain backoff where it does not",
                "read Retry-After on 429/503 and wait at least that long (capped as the profile says), or not at all if the profile ignores it",
            ),
            Self::Gone => (
                "gone",
                "a 410 is handled as the profile says: disable the endpoint (no request after it) or retry like any failure",
                "follow the profile's rule for 410 Gone (disable_on_gone)",
            ),
            Self::Timeout => (
                "timeout",
                "on a silent endpoint the sender gives up after the profile's attempt timeout (within the tolerance)",
                "set a per-attempt timeout equal to the declared one, covering connect, send and waiting for the answer",
            ),
            Self::Schedule => (
                "schedule",
                "the delays between the server-error event's attempts match the profile's schedule, for the first retries that fit in the budget",
                "retry on the profile's schedule (with its jitter only), measured from when the failed attempt ended",
            ),
            Self::Envelope => (
                "envelope",
                "every attempt's body is JSON of the declared envelope (a provider's: its body and headers, as its receivers read them)",
                "send the documented envelope on every attempt",
            ),
            Self::Signature => (
                "signature",
                "with --secret, every attempt (retries included) verifies over its raw body bytes",
                "sign every attempt over the exact bytes sent, with a fresh timestamp, after the body is rendered",
            ),
            Self::UrlVerificationFirst => (
                "url-verification-first",
                "(as Slack) a `url_verification` POST (`{type, token, challenge}`, signed with --secret) comes before the first delivery; hooksim answers it with the challenge",
                "verify a Request URL before sending it events: POST `{\"type\": \"url_verification\", \"token\", \"challenge\"}`, signed like an event, and send events only once it is answered 200 with the challenge",
            ),
            Self::Concurrency => (
                "concurrency",
                "never more requests in flight at once than the profile allows (in_flight_per_webhook_max); every 2xx is held a moment so that a burst overlaps",
                "cap the requests in flight per endpoint",
            ),
        };
        CheckInfo { name, checks, fix }
    }
}
