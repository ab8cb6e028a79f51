//! "How to fix", derived from what went wrong rather than fixed per case: a redirect is not told
//! to use a queue, and a TLS error does not get advice on deduplication.

use super::wire::WireFailure;

/// The first thing that went wrong with a case, as far as the advice depends on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A 3xx: never followed.
    Redirect { code: u16 },
    /// No whole answer within the attempt timeout.
    Timeout { timeout_ms: u64 },
    /// The connection was refused.
    Refused,
    /// The connection broke before a whole answer.
    Reset,
    /// The TLS handshake failed.
    Tls,
    /// Bytes came back that are not an HTTP answer.
    NotHttp,
    /// The exchange failed on the wire in another way (`what` says how).
    Wire { what: String },
    /// An answer outside 2xx that is not a redirect.
    Status { code: u16 },
    /// The answers were right; the acts were not (the case's own advice applies).
    Acts,
}

impl Problem {
    /// A failure on the wire, `what` its sentence; `None` for a redirect, whose status says it.
    pub fn from_wire(failure: WireFailure, what: &str, timeout_ms: u64) -> Option<Problem> {
        Some(match failure {
            WireFailure::Timeout | WireFailure::Unfinished => Problem::Timeout { timeout_ms },
            WireFailure::Tls => Problem::Tls,
            WireFailure::Refused => Problem::Refused,
            WireFailure::Reset => Problem::Reset,
            WireFailure::NotHttp => Problem::NotHttp,
            WireFailure::Redirect => return None,
            WireFailure::Other => Problem::Wire { what: what.to_string() },
        })
    }

    /// Whether the receiver answered at all (a status line), as far as the advice knows.
    pub fn is_wire(&self) -> bool {
        !matches!(self, Problem::Redirect { .. } | Problem::Status { .. } | Problem::Acts)
    }

    pub(crate) fn from_status(code: u16) -> Problem {
        if (300..400).contains(&code) { Problem::Redirect { code } } else { Problem::Status { code } }
    }
}

/// The advice for a signed delivery refused where a verifier over a re-serialised body refuses
/// it (`signature-raw-bytes`, and `large-body` when usual deliveries are accepted).
pub(crate) const RAW_BYTES: &str = "verify the raw bytes you received, not a re-serialised body: compute the signature over \
     the request body exactly as it came off the wire (Flask `request.get_data()`, Express `express.raw()`, the \
     JDK's `exchange.getRequestBody().readAllBytes()`, the string the official libraries take), before any JSON \
     parsing; parsing and writing the JSON again changes whitespace, key order and escapes, and so the signature";

/// The advice for `problem` in a case whose own advice (about acts) is `case_fix`; `malformed`:
/// the case sends bodies that are not envelopes (a 4xx is right there, a 5xx is not).
pub(crate) fn fix(problem: &Problem, case_fix: &str, malformed: bool) -> String {
    match problem {
        Problem::Redirect { code } if malformed => format!(
            "a {code} is a failed attempt to a sender, retried like a 5xx: an unreadable body would be sent again \
             and again. Answer 400 (or 2xx) when the body does not parse, at the URL itself (no redirect)"
        ),
        Problem::Redirect { code } => format!(
            "a {code} is a failed attempt: senders never follow redirects. Register the final URL (scheme, host, \
             path and trailing slash exactly as served), and answer 2xx there"
        ),
        Problem::Timeout { timeout_ms } => format!(
            "answer within {timeout_ms} ms: record the delivery, answer 2xx, and do slow work after answering (a \
             queue); a body that never ends is no answer either"
        ),
        Problem::Refused => "nothing accepted the connection: keep the receiver up and accepting while deliveries \
                             arrive (a crash, a connection limit, a firewall)"
            .to_string(),
        Problem::Reset => "the connection broke before a whole answer came back: look for a crash or an exception \
                           that closes the socket, or a proxy cutting connections; always send a complete HTTP \
                           answer"
            .to_string(),
        Problem::NotHttp => "answer every delivery with a whole HTTP response (status line, headers, body): bytes \
                             that are not HTTP (a raw socket write, another protocol on this port, a crash mid-answer) \
                             are a failed attempt, retried"
            .to_string(),
        Problem::Wire { what } => format!(
            "the exchange failed on the wire ({what}): the sender retries it; send a complete HTTP answer on the \
             connection the delivery came on"
        ),
        Problem::Tls => "fix the TLS setup: serve the full certificate chain, valid for the URL's host name and \
                         not expired; for a private CA, give certify its certificate with --ca-cert FILE"
            .to_string(),
        Problem::Status { code: 413 } => {
            "raise the request body limit of your framework or proxy above your largest payload".to_string()
        }
        Problem::Status { code } if *code >= 500 && malformed => {
            "answer 400 (or 2xx) when the body does not parse; never let a parse error escape as a 500".to_string()
        }
        Problem::Status { code } if *code >= 500 => format!(
            "a {code} asks for a retry: an exception escaped, or the handler refuses the delivery; answer 2xx to \
             every well-formed delivery, handled or not, and catch errors in your own code"
        ),
        Problem::Status { code } => format!(
            "a {code} is a failed attempt, retried for a week and then the webhook is disabled: answer 2xx to every \
             well-formed delivery (check authentication, the route and the method: POST)"
        ),
        Problem::Acts => case_fix.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advice_follows_the_problem_not_the_case() {
        let dedup = "record each uuid";
        assert!(fix(&Problem::from_status(307), dedup, false).contains("never follow redirects"));
        assert!(fix(&Problem::Tls, dedup, false).contains("--ca-cert"));
        assert!(fix(&Problem::Timeout { timeout_ms: 30_000 }, dedup, false).contains("30000 ms"));
        assert!(fix(&Problem::from_status(500), dedup, true).contains("parse error"));
        assert!(fix(&Problem::from_status(401), dedup, false).contains("a 401 is a failed attempt"));
        assert_eq!(fix(&Problem::Acts, dedup, false), dedup);
        assert_eq!(Problem::from_wire(WireFailure::Tls, "x", 1), Some(Problem::Tls));
        assert!(fix(&Problem::NotHttp, dedup, false).contains("whole HTTP response"));
        assert!(fix(&Problem::from_status(302), dedup, true).contains("retried like a 5xx"));
    }
}
