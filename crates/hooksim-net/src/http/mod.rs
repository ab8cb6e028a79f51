//! The one real HTTP client (reqwest) every live caller uses: the live shell's deliveries,
//! certification's hand-sent cases and effects reads; its [`Limits`], and how a failed
//! exchange reads ([`wire`]).

pub mod client;
pub mod wire;

use serde::Serialize;

/// Makes ring the process's rustls crypto provider, unless one is installed already (a program
/// embedding hooksim keeps its own). reqwest is built without a provider of its own (no aws-lc C
/// build), so any reqwest client in the process needs this first; [`builder`] calls it.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The one way a real HTTP client is begun: trusting the built-in roots plus the PEM
/// certificates in `ca_cert_pem` (`--ca-cert`, a private CA), each request on a new connection
/// (as each attempt of a real sender is: a receiver that deduplicates per connection must not
/// pass), never following a redirect (a 3xx is an answer to grade, not a place to go), never
/// through an environment proxy, and naming itself `agent` so a receiver's logs tell hooksim's
/// traffic from production. Callers add their timeouts.
pub fn builder(ca_cert_pem: Option<&[u8]>, agent: &str) -> Result<reqwest::ClientBuilder, reqwest::Error> {
    install_crypto_provider();
    let roots = match ca_cert_pem {
        Some(pem) => reqwest::Certificate::from_pem_bundle(pem)?,
        None => Vec::new(),
    };
    Ok(reqwest::Client::builder()
        .tls_certs_merge(roots)
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(format!("{agent}/{}", env!("CARGO_PKG_VERSION"))))
}

/// Every bound the harness puts on a receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// One request, connect to last body byte read. At the limit the attempt is a timeout. By
    /// default the policy profile's attempt timeout ([`Limits::for_profile`]).
    pub timeout_ms: u64,
    /// Bytes of a delivery's answer read; the rest is left unread and the connection dropped.
    pub response_bytes_max: usize,
    /// Bytes of the effects list read; a longer list makes effects unavailable.
    pub effects_bytes_max: usize,
}

impl Limits {
    /// The limits with the request timeout a sender of `profile` gives an attempt: a receiver is
    /// graded against the deadline it will really get.
    pub fn for_profile(profile: hooksim_core::policy::Profile) -> Limits {
        Limits { timeout_ms: profile.spec().attempt_timeout_ms, ..Limits::default() }
    }
}

impl Default for Limits {
    /// The `snapbill` profile's attempt timeout (30 s, hooksim's reading of the documentation).
    fn default() -> Self {
        Limits {
            timeout_ms: hooksim_core::policy::Profile::Snapbill.spec().attempt_timeout_ms,
            response_bytes_max: 64 * 1024,
            effects_bytes_max: 8 * 1024 * 1024,
        }
    }
}

/// A connect error that means a listener was there: it accepted, then reset or closed.
pub fn accepted_then_dropped(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::BrokenPipe
    )
}
