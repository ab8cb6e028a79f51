//! The endpoint verifications of senders hooksim has no pack of (`--handshake`): Meta's
//! `hub.challenge` GET, Zoom's `endpoint.url_validation` POST and the CloudEvents webhook
//! OPTIONS. Each is one request (Meta: two, the second with a wrong verify token), judged as the
//! sender's documentation says (docs/providers.md, "Verification handshakes of other senders").

use super::case::CaseId;
use super::client::Answer;
use super::script::{Sent, Target};
use reqwest::Method;
use std::fmt;
use std::str::FromStr;

/// A sender's endpoint verification, by its `--handshake` name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// `meta`: a GET with `hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`.
    Meta,
    /// `zoom`: a POST `endpoint.url_validation` with `payload.plainToken`.
    Zoom,
    /// `cloudevents`: an OPTIONS with `WebHook-Request-Origin`.
    CloudEvents,
}

/// A `--handshake` name that is not one hooksim knows.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown handshake {0:?} (known: meta, zoom, cloudevents)")]
pub struct UnknownHandshake(String);

const NAMES: [(Handshake, &str); 3] =
    [(Handshake::Meta, "meta"), (Handshake::Zoom, "zoom"), (Handshake::CloudEvents, "cloudevents")];

impl FromStr for Handshake {
    type Err = UnknownHandshake;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NAMES.iter().find(|(_, n)| *n == s).map(|(h, _)| *h).ok_or_else(|| UnknownHandshake(s.to_string()))
    }
}

impl fmt::Display for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = NAMES.iter().find(|(h, _)| h == self).map_or("", |(_, n)| *n);
        f.write_str(name)
    }
}

impl Handshake {
    /// Its case in the report.
    pub fn case(self) -> CaseId {
        match self {
            Handshake::Meta => CaseId::HandshakeMeta,
            Handshake::Zoom => CaseId::HandshakeZoom,
            Handshake::CloudEvents => CaseId::HandshakeCloudEvents,
        }
    }

    /// Whether it needs the receiver's verify token or secret token (`--handshake-secret`).
    pub fn needs_secret(self) -> bool {
        self != Handshake::CloudEvents
    }
}

// Fixed: these are echoes to check, not secrets. Meta's challenge is an int.
const META_CHALLENGE: &str = "1158201444";
const META_FORGED_CHALLENGE: &str = "2071386455";
const ZOOM_PLAIN_TOKEN: &str = "qgg8vlvZRS6UYooatFL8Aw";
const ORIGIN: &str = "hooksim.example";

/// Sends `kind`'s verification to the receiver and records how it was answered.
pub(crate) async fn send(kind: Handshake, t: &Target<'_>, sent: &mut Sent) {
    let secret = t.handshake_secret.unwrap_or_default();
    match kind {
        Handshake::Meta => meta(t, secret, sent).await,
        Handshake::Zoom => zoom(t, secret, sent).await,
        Handshake::CloudEvents => cloudevents(t, sent).await,
    }
}

fn meta_url(url: &str, token: &str, challenge: &str) -> String {
    let mut u = reqwest::Url::parse(url).expect("checked before the run");
    u.query_pairs_mut()
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.challenge", challenge)
        .append_pair("hub.verify_token", token);
    u.to_string()
}

/// The verification with the verify token: 2xx, the challenge as the body. Then one with a
/// wrong token: anything but the challenge echoed (anyone can send that GET).
async fn meta(t: &Target<'_>, token: &str, sent: &mut Sent) {
    let what = "the hub.challenge GET";
    let (a, _) = t.client.exchange_with(Method::GET, &meta_url(t.url, token, META_CHALLENGE), &[], None).await;
    sent.require_2xx(what, &a, t.client);
    if let Answer::Status { code: 200..=299, body, .. } = &a
        && body.trim_ascii() != META_CHALLENGE.as_bytes()
    {
        sent.failures.push(format!("{what}: answered 2xx, but the body is not the challenge {META_CHALLENGE}"));
    }
    let wrong = format!("{token}-not");
    let forged = meta_url(t.url, &wrong, META_FORGED_CHALLENGE);
    let (b, _) = t.client.exchange_with(Method::GET, &forged, &[], None).await;
    let line = format!("the hub.challenge GET with a wrong verify token: {}", b.describe(t.client.limits()));
    sent.heard(&b);
    match &b {
        Answer::Status { code: 200..=299, body, .. } if body.trim_ascii() == META_FORGED_CHALLENGE.as_bytes() => {
            sent.failures.push(format!("{line} (the challenge echoed: the verify token is not checked)"));
        }
        _ => sent.notes.push(line),
    }
}

/// Signed as Zoom signs every event (`x-zm-signature: v0=` hex HMAC-SHA256 of
/// `v0:{timestamp}:{body}`; Zoom's own sample verifies it before answering the validation):
/// `encryptedToken` is the hex HMAC-SHA256 of `plainToken` under the secret token.
async fn zoom(t: &Target<'_>, secret: &str, sent: &mut Sent) {
    let what = "the endpoint.url_validation POST";
    let now_s = super::script::now_s();
    // Compact, keys in the order a JavaScript receiver's `JSON.stringify(req.body)` writes them
    // again (Zoom's sample signs that).
    let body = serde_json::json!({
        "event": "endpoint.url_validation",
        "event_ts": now_s.saturating_mul(1_000),
        "payload": {"plainToken": ZOOM_PLAIN_TOKEN},
    })
    .to_string();
    let signed = format!("v0:{now_s}:{body}");
    let signature = hex::encode(crate::signing::hmac_sha256(secret.as_bytes(), signed.as_bytes()));
    let headers = [
        ("x-zm-request-timestamp".to_string(), now_s.to_string()),
        ("x-zm-signature".to_string(), format!("v0={signature}")),
    ];
    let (a, _) = t.client.exchange_with(Method::POST, t.url, &headers, Some(body.into())).await;
    sent.require_2xx(what, &a, t.client);
    let Answer::Status { code: 200..=299, body, .. } = &a else { return };
    let expected = hex::encode(crate::signing::hmac_sha256(secret.as_bytes(), ZOOM_PLAIN_TOKEN.as_bytes()));
    let answer: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |name: &str| answer.get(name).and_then(serde_json::Value::as_str).map(str::to_string);
    let wrong = match (field("plainToken"), field("encryptedToken")) {
        (None, _) | (_, None) => Some("not a JSON object with `plainToken` and `encryptedToken`".to_string()),
        (Some(p), _) if p != ZOOM_PLAIN_TOKEN => Some(format!("`plainToken` {p:?} is not the one sent")),
        (_, Some(e)) if !e.eq_ignore_ascii_case(&expected) => Some(format!(
            "`encryptedToken` {e:?} is not the hex HMAC-SHA256 of the plainToken under the secret token ({expected})"
        )),
        _ => None,
    };
    if let Some(why) = wrong {
        sent.failures.push(format!("{what}: answered 2xx, but {why}"));
    }
}

/// Consent is `WebHook-Allowed-Origin` (the origin or `*`); `WebHook-Allowed-Rate`, when
/// given, is `*` or a positive integer.
async fn cloudevents(t: &Target<'_>, sent: &mut Sent) {
    let what = "the WebHook-Request-Origin OPTIONS";
    let asked = [("WebHook-Request-Origin".to_string(), ORIGIN.to_string())];
    let (a, headers) = t.client.exchange_with(Method::OPTIONS, t.url, &asked, None).await;
    sent.require_2xx(what, &a, t.client);
    if !a.is_2xx() {
        return;
    }
    let header = |name: &str| headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
    let rate = header("WebHook-Allowed-Rate");
    match header("WebHook-Allowed-Origin") {
        Some(o) if o == ORIGIN || o == "*" => sent.notes.push(format!(
            "WebHook-Allowed-Origin {o:?}, WebHook-Allowed-Rate {}",
            rate.as_deref().map_or("not given".to_string(), |r| format!("{r:?}"))
        )),
        Some(o) => sent.failures.push(format!("{what}: WebHook-Allowed-Origin {o:?} is neither {ORIGIN:?} nor \"*\"")),
        None => sent.failures.push(format!("{what}: answered 2xx without WebHook-Allowed-Origin (no consent)")),
    }
    if let Some(rate) = rate
        && rate != "*"
        && !rate.parse::<u64>().is_ok_and(|n| n > 0)
    {
        sent.failures.push(format!("{what}: WebHook-Allowed-Rate {rate:?} is neither \"*\" nor a positive integer"));
    }
}
