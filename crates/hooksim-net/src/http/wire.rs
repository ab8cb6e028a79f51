//! What went wrong on the wire, in sentences a receiver's owner can act on: an HTTP client error
//! is a chain of causes (reqwest, hyper, rustls, the OS), and its `Debug` form is unreadable.

use std::error::Error as _;

/// What kind of wire failure an error was: "how to fix" depends on it. Carried beside its
/// sentence (never read back from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireFailure {
    /// No whole answer within the deadline.
    Timeout,
    /// The TLS handshake failed (an untrusted certificate, a wrong name, no TLS on the port).
    Tls,
    /// Nothing accepted the connection (nothing listens, or a firewall refused it).
    Refused,
    /// The connection broke before a whole answer came back.
    Reset,
    /// Bytes came back that are not an HTTP answer (no status line a sender can read).
    NotHttp,
    /// A 3xx: an answer, noted for where it pointed (the status says the rest).
    Redirect,
    /// A status line came, and the body did not end by the deadline: a timeout, but the
    /// receiver is answering.
    Unfinished,
    /// Anything else the HTTP client reported.
    Other,
}

/// The sentence for a client error: TLS problems named by what is wrong with the certificate,
/// connection problems by what happened to the connection.
pub fn describe_error(e: &reqwest::Error) -> String {
    describe(e).1
}

/// The kind of a client error, and its sentence.
pub fn describe(e: &reqwest::Error) -> (WireFailure, String) {
    let chain = causes(e);
    let failure = classify_text(&chain, e.is_connect());
    let cause = chain.last().cloned().unwrap_or_default();
    let what = match failure {
        WireFailure::Tls => format!("TLS handshake failed: {}", tls_sentence(&chain)),
        WireFailure::Refused => "the connection was refused: nothing accepted it".to_string(),
        WireFailure::Reset => {
            "the connection broke before a whole answer came back (reset or closed by the receiver)".to_string()
        }
        WireFailure::NotHttp => format!("the answer was not HTTP: no status line a sender can read ({cause})"),
        WireFailure::Timeout | WireFailure::Unfinished | WireFailure::Redirect | WireFailure::Other => {
            format!("the request failed: {cause}")
        }
    };
    (failure, what)
}

/// Every cause's message, outermost first.
fn causes(e: &reqwest::Error) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        out.push(s.to_string());
        source = s.source();
    }
    out
}

fn classify_text(chain: &[String], connect: bool) -> WireFailure {
    let all = chain.join(" | ").to_ascii_lowercase();
    if ["certificate", "tls", "handshake", "corrupt message", "invalidcontenttype"].iter().any(|w| all.contains(w)) {
        WireFailure::Tls
    } else if ["invalid http", "message head is too large", "parse"].iter().any(|w| all.contains(w)) {
        // hyper's parse errors: "invalid HTTP version parsed", "invalid HTTP status-code parsed".
        WireFailure::NotHttp
    } else if all.contains("refused") || (connect && !all.contains("reset")) {
        WireFailure::Refused
    } else if connect || ["reset", "closed", "incomplete", "broken pipe", "eof"].iter().any(|w| all.contains(w)) {
        WireFailure::Reset
    } else {
        WireFailure::Other
    }
}

/// rustls names the problem (`UnknownIssuer`, `Expired`, `NotValidForName`...); say it.
fn tls_sentence(chain: &[String]) -> String {
    let all = chain.join(" | ");
    let cause = chain.last().cloned().unwrap_or_default();
    let said = if all.contains("UnknownIssuer") || all.contains("self-signed") || all.contains("self signed") {
        "the receiver's certificate is signed by an authority hooksim does not trust (self-signed, or a private \
         CA: give that CA's certificate with --ca-cert FILE)"
    } else if all.contains("Expired") {
        "the receiver's certificate has expired"
    } else if all.contains("NotValidYet") {
        "the receiver's certificate is not valid yet"
    } else if all.contains("NotValidForName") {
        "the receiver's certificate is not valid for the host name in the URL"
    } else if all.contains("corrupt message") || all.contains("InvalidContentType") {
        "the receiver did not answer in TLS (is it plain HTTP? then the URL starts with http://)"
    } else {
        "the receiver and hooksim could not agree on a secure connection"
    };
    format!("{said} ({cause})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(parts: &[&str]) -> Vec<String> {
        parts.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn tls_problems_are_named_in_words() {
        let c = chain(&["error sending request", "client error (Connect)", "invalid peer certificate: UnknownIssuer"]);
        assert_eq!(classify_text(&c, true), WireFailure::Tls);
        assert!(tls_sentence(&c).starts_with("the receiver's certificate is signed by an authority"));
        // Wherever the sentence ends up (a case's detail, the exit-2 message of an unreadable
        // effects URL), it names the flag that fixes it.
        assert!(tls_sentence(&c).contains("--ca-cert FILE"), "{}", tls_sentence(&c));
        let c = chain(&["error sending request", "received corrupt message of type InvalidContentType"]);
        assert!(tls_sentence(&c).contains("plain HTTP"));
    }

    #[test]
    fn connection_problems_are_refused_or_reset() {
        let refused = chain(&["error sending request", "tcp connect error", "Connection refused (os error 111)"]);
        assert_eq!(classify_text(&refused, true), WireFailure::Refused);
        let reset = chain(&["error sending request", "connection closed before message completed"]);
        assert_eq!(classify_text(&reset, false), WireFailure::Reset);
        let garbage = chain(&["error sending request", "client error (SendRequest)", "invalid HTTP version parsed"]);
        assert_eq!(classify_text(&garbage, false), WireFailure::NotHttp);
    }
}
