//! "How to fix", derived from what went wrong rather than fixed per case: a redirect is not told
//! to use a queue, and a TLS error does not get advice on deduplication.

use super::wire::{WireFailure, classify};

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
    /// An answer outside 2xx that is not a redirect.
    Status { code: u16 },
    /// The answers were right; the acts were not (the case's own advice applies).
    Acts,
}

impl Problem {
    /// A failed answer as the wire note (when there is one) and the status or outcome tell it.
    pub fn from_note(note: &str, timeout_ms: u64) -> Option<Problem> {
        match classify(note) {
            WireFailure::Timeout => Some(Problem::Timeout { timeout_ms }),
            WireFailure::Tls => Some(Problem::Tls),
            WireFailure::Refused => Some(Problem::Refused),
            WireFailure::Reset => Some(Problem::Reset),
            WireFailure::Other => None,
        }
    }

    pub fn from_status(code: u16) -> Problem {
        if (300..400).contains(&code) { Problem::Redirect { code } } else { Problem::Status { code } }
    }
}

/// The advice for `problem` in a case whose own advice (about acts) is `case_fix`; `malformed`:
/// the case sends bodies that are not envelopes (a 4xx is right there, a 5xx is not).
pub fn fix(problem: &Problem, case_fix: &str, malformed: bool) -> String {
    match problem {
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
        assert_eq!(Problem::from_note("TLS handshake failed: x", 1), Some(Problem::Tls));
    }
}
