//! `hooksim certify receiver`: grades a running webhook receiver, in any language, against what an
//! at-least-once SnapBill sender really does.
//!
//! - [`case`]: the catalogue (what each case checks, why, its own advice).
//! - [`library`]: the certification scenarios (`certification/*.toml`, shipped in the binary);
//!   [`trial`]: one played through the live shell ([`crate::live`]) against the receiver, and
//!   graded from its expectations over the live trace.
//! - [`script`]: what the cases a scenario cannot say send by hand; [`verdict`]: their grading.
//! - [`hint`]: "how to fix", derived from the failure; [`wire`]: wire errors in sentences.
//! - [`client`]: the bounded reqwest client; a hostile receiver cannot hang or flood the run.
//! - [`effects`]: the effects contract, how cases about side effects see them.
//! - [`payload`]: SnapBill-shaped deliveries from a seeded RNG.
//! - [`report`]: table, JSON and JUnit output.
//! - [`api`]: the simulated provider API (`--provider P`): the invoice as it is now.
//! - [`handshake`]: the endpoint verifications of senders without a pack (`--handshake`).
//!
//! This runs on the real network with wall-clock timeouts; only the payloads are deterministic.

pub mod api;
pub mod case;
pub mod handshake;
pub(crate) mod hint;
pub mod late;
pub mod library;
pub mod payload;
pub mod report;
pub(crate) mod script;
pub mod sender;
pub mod signature;
pub(crate) mod trial;
pub mod verdict;

pub use case::{CaseId, CaseInfo, Group};
pub use hooksim_net::effects;
pub use hooksim_net::http::{Limits, accepted_then_dropped, client, wire};
pub use report::{CaseResult, Observed, Report};
pub use verdict::Verdict;

use std::collections::BTreeMap;
use std::time::Duration;

/// The seed deliveries are drawn from without `--seed`: a run is reproducible.
pub const SEED_DEFAULT: u64 = 0x5EED_5B11;

/// The `large-body` case builds its delivery in memory: above this, the run refuses to start.
pub const LARGE_BODY_BYTES_MAX: usize = 64 * 1024 * 1024;

/// The `large-body` case's size when the sender publishes no size cap: above common framework
/// defaults (100 kB), below what any webhook sender is known to send.
pub const LARGE_BODY_BYTES_DEFAULT: usize = 1024 * 1024;

/// The `large-body` case's size for `provider`'s deliveries: the largest body it publishes that it
/// sends (GitHub's 25 MB, Standard Webhooks' recommended 20 kB), else
/// [`LARGE_BODY_BYTES_DEFAULT`]. A receiver must take what its provider may send, no more.
pub fn large_body_bytes(provider: crate::provider::Provider) -> usize {
    let cap = provider.facts().body_bytes_max.and_then(|b| usize::try_from(b).ok());
    cap.map_or(LARGE_BODY_BYTES_DEFAULT, |b| b.min(LARGE_BODY_BYTES_MAX))
}

/// What `hooksim certify receiver` runs with (its flags).
#[derive(Clone, Debug)]
pub struct CertifyOptions {
    /// Where deliveries are POSTed.
    pub url: String,
    /// The effects contract's URL; without it, cases about side effects are not verified.
    pub effects_url: Option<String>,
    /// The seed deliveries are drawn from (`--seed`): the same seed sends the same uuids and ids.
    pub seed: u64,
    /// Each request's deadline and response byte cap.
    pub limits: Limits,
    /// The size of the `large-body` case's delivery.
    pub large_body_bytes: usize,
    /// How long the effects list is waited for to settle after the deliveries of a case (a
    /// receiver working from a queue acts after answering).
    pub settle: crate::live::Settle,
    /// PEM certificates of a private CA to trust (`--ca-cert`).
    pub ca_cert_pem: Option<Vec<u8>>,
    /// The receiver's signing secret and scheme (`--secret`, `--scheme`): adds the signature
    /// cases.
    pub signing: Option<signature::Signing>,
    /// Whose deliveries are sent (`--provider`): SnapBill's envelope by default; another
    /// provider's shape, headers, dedup id and signature scheme otherwise.
    pub provider: crate::provider::Provider,
    /// The loopback port of the simulated provider API (`--api-port`; 0: any free port, named
    /// in the report). Served only for a provider hooksim simulates an API of.
    pub api_port: u16,
    /// Endpoint verifications of other senders to check (`--handshake`), one case each.
    pub handshakes: Vec<handshake::Handshake>,
    /// Meta's verify token and Zoom's secret token (`--handshake-secret`).
    pub handshake_secret: Option<String>,
    /// Run the `--handshake` cases only (`--handshakes-only`): an endpoint of a sender with no
    /// pack does not take SnapBill's deliveries.
    pub handshakes_only: bool,
}

impl CertifyOptions {
    /// Options for the receiver at `url`, with every default (no effects URL, no secret, SnapBill's
    /// deliveries).
    pub fn new(url: impl Into<String>) -> CertifyOptions {
        CertifyOptions {
            url: url.into(),
            effects_url: None,
            seed: SEED_DEFAULT,
            limits: Limits::default(),
            large_body_bytes: LARGE_BODY_BYTES_DEFAULT,
            settle: crate::live::Settle::default(),
            ca_cert_pem: None,
            signing: None,
            provider: crate::provider::Provider::Snapbill,
            api_port: 0,
            handshakes: Vec::new(),
            handshake_secret: None,
            handshakes_only: false,
        }
    }
}

/// Why `hooksim certify receiver` could not run (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    /// The URL cannot be used.
    #[error("bad URL {url:?}: {why}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// A limit is out of range, in words.
    #[error("bad limit: {0}")]
    Limit(String),
    /// Nothing answers at the URL (checked before any case).
    #[error("cannot reach {url}: {why}")]
    Unreachable {
        /// The URL.
        url: String,
        /// What the connection did.
        why: String,
    },
    /// An effects URL was given and cannot be read: the cases about side effects would be
    /// "not verified", and a receiver with no dedup at all would not fail.
    #[error("the effects list at {url} cannot be read: {why}")]
    EffectsUnreadable {
        /// The effects URL.
        url: String,
        /// What went wrong.
        why: String,
    },
    /// `--scheme` names another scheme than the provider's (`--provider` implies the scheme).
    #[error("--scheme {scheme} conflicts with --provider {provider}, which signs with {expected}")]
    SchemeConflict {
        /// The `--scheme` given.
        scheme: String,
        /// The `--provider` given.
        provider: String,
        /// The scheme that provider signs with.
        expected: String,
    },
    /// The simulated provider API cannot listen (`--api-port` taken).
    #[error("the provider API cannot listen on 127.0.0.1:{port}: {why}")]
    ApiListen {
        /// The port asked for.
        port: u16,
        /// What the OS said.
        why: String,
    },
    /// The HTTP client could not be built (e.g. TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Runs every case against the receiver at `opts.url`, in catalogue order.
///
/// Errors only when the run cannot start (a bad URL, nothing listening); a receiver that answers
/// badly, slowly or not at all gives failed cases, never an error. A case the receiver answered
/// nothing in (every request ran into its deadline) ends the run: the cases after it are not
/// run, and say why.
pub async fn certify(opts: &CertifyOptions) -> Result<Report, CertifyError> {
    check_options(opts)?;
    reachable(&opts.url, opts.limits.timeout_ms).await?;
    let client = client::Client::trusting(opts.limits, opts.ca_cert_pem.as_deref())?;
    // The effects list has its own deadline per read, the same as `run`'s (`--effects-timeout-ms`).
    let effects_limits = Limits { timeout_ms: opts.settle.read_timeout_ms, ..opts.limits };
    let effects_client = client::Client::trusting(effects_limits, opts.ca_cert_pem.as_deref())?;
    let effects_max = opts.limits.effects_bytes_max;
    // Read the effects list before any case: a typo (dead port, 404, the webhook URL by mistake)
    // is bad input, not a run whose dedup cases quietly go unverified.
    if let Some(url) = &opts.effects_url
        && let effects::Effects::Unavailable(why) = effects::fetch(&effects_client, Some(url), effects_max).await
    {
        return Err(CertifyError::EffectsUnreadable { url: url.clone(), why });
    }
    let target = script::Target {
        client: &client,
        url: &opts.url,
        large_body_bytes: opts.large_body_bytes,
        signing: opts.signing.as_ref(),
        provider: opts.provider,
        handshake_secret: opts.handshake_secret.as_deref(),
    };
    let mut signed = opts.signing.as_ref().map(|s| CaseId::signed(s.scheme)).unwrap_or_default();
    let mut provided = CaseId::provided(opts.provider);
    let mut library = CaseId::ALL.to_vec();
    if opts.handshakes_only {
        (library, signed, provided) = (Vec::new(), Vec::new(), Vec::new());
    }
    let mut handshakes: Vec<CaseId> = Vec::new();
    for case in opts.handshakes.iter().map(|h| h.case()) {
        if !handshakes.contains(&case) {
            handshakes.push(case);
        }
    }
    // No delivery of the provider's is sent with `--handshakes-only`: no API to read back.
    let started = if opts.handshakes_only { None } else { api::ProviderApi::start(opts.provider, opts.api_port).await };
    let api = match started {
        Some(Ok(api)) => Some(api),
        Some(Err(e)) => return Err(CertifyError::ApiListen { port: opts.api_port, why: e.to_string() }),
        None => None,
    };
    let view = api.as_ref().map(|a| a.view.clone());
    let mut deck = payload::Deck::for_provider(opts.seed, opts.provider);
    if let Some(view) = &view {
        deck = deck.publishing_to(view.clone());
    }
    let mut played: Vec<Option<CaseResult>> = Vec::new();
    let mut sent = Vec::new();
    let mut short: Vec<(usize, BTreeMap<uuid::Uuid, usize>)> = Vec::new();
    let mut stopped: Option<String> = None;
    for (index, id) in library.into_iter().chain(signed).chain(provided).chain(handshakes).enumerate() {
        let info = id.info();
        if let Some(api) = &api {
            api.next_case();
        }
        if let Some(why) = &stopped {
            played.push(Some(CaseResult::not_run(info, why)));
            continue;
        }
        match id.scenario_file() {
            Some(_) if let Some(why) = id.unjudged_as(opts.provider) => {
                played.push(Some(CaseResult::with_fix(info, Verdict::NotRun, why, String::new())));
            }
            Some(file) => {
                // The case's events happen after every earlier case's (a provider's bodies date
                // them): a receiver sees event times grow across the run, as in production.
                let t = trial::play(&info, file, index as u64, deck.clock_s(), view.clone(), opts).await?;
                deck.advance_s(t.span_s.saturating_add(1));
                if t.silent {
                    stopped = Some(format!("{} (case {})", trial::silence(opts.limits.timeout_ms), info.name));
                }
                if let Some(counts) = t.short_of_acts {
                    short.push((index, counts));
                }
                let observed = Observed { answers: t.answered, requests: t.requests };
                // The case's own advice, as the provider delivers (a failure on the wire keeps its own).
                let fix = match id.fix_as(opts.provider) {
                    Some(fix) if t.fix == info.fix => fix,
                    _ => t.fix,
                };
                played.push(Some(CaseResult::with_fix(info, t.verdict, t.detail, fix).observing(observed)));
            }
            None => {
                let s = script::send(id, &mut deck, &target).await;
                if s.silent() {
                    stopped = Some(format!("{} (case {})", trial::silence(opts.limits.timeout_ms), info.name));
                }
                sent.push((index, id, s));
                played.push(None);
            }
        }
    }
    // Read after every hand-sent delivery was answered, until the list settles: a receiver
    // may record before it answers, or from a queue just after.
    let effects = if sent.is_empty() && short.is_empty() {
        effects::Effects::Unavailable("no hand-sent case ran".into())
    } else {
        effects::fetch_settled(&effects_client, opts.effects_url.as_deref(), effects_max, opts.settle).await
    };
    if let (Some(url), effects::Effects::Unavailable(why)) = (&opts.effects_url, &effects)
        && !(sent.is_empty() && short.is_empty())
    {
        return Err(CertifyError::EffectsUnreadable { url: url.clone(), why: why.clone() });
    }
    for (index, id, s) in &sent {
        let (verdict, detail) = verdict::grade(s, &effects);
        if verdict == Verdict::Failed && s.failures.is_empty() && verdict::short_of_acts(s, &effects) {
            short.push((*index, verdict::acts_per_delivery(s, &effects)));
        }
        let fix = hand_sent_fix(*id, verdict, s, &sent);
        let observed = Observed { answers: s.answered, requests: s.answered + s.timed_out + s.broken };
        played[*index] = Some(CaseResult::with_fix(id.info(), verdict, detail, fix).observing(observed));
    }
    if !short.is_empty()
        && let (Some(url), effects::Effects::Read(before)) = (&opts.effects_url, &effects)
    {
        let later = effects::fetch_changed(&effects_client, url, effects_max, opts.settle, before).await;
        late::mark(&mut played, &short, &later, opts.settle);
    }
    let cases = played.into_iter().flatten().collect();
    let api_url = api.as_ref().map(|a| a.base_url.clone());
    if let Some(api) = api {
        api.stop().await;
    }
    Ok(Report {
        url: opts.url.clone(),
        effects_url: opts.effects_url.clone(),
        seed: opts.seed,
        limits: opts.limits,
        stopped,
        provider: opts.provider,
        api_url,
        cases,
    })
}

/// "How to fix" for a hand-sent case: derived from its first failed answer; a signature case
/// refused where a re-serialising verifier refuses gets the raw-bytes advice.
fn hand_sent_fix(id: CaseId, verdict: Verdict, s: &script::Sent, all: &[(usize, CaseId, script::Sent)]) -> String {
    let info = id.info();
    let refused = matches!(s.problem, Some(hint::Problem::Status { code }) if (400..500).contains(&code));
    // Genuine deliveries signed as usual were accepted: a refusal here is about these bytes.
    let usual_accepted = all.iter().any(|(_, c, x)| *c == CaseId::SignatureValid && x.failures.is_empty());
    match (verdict, &s.problem) {
        (Verdict::Failed, Some(_)) if refused && id == CaseId::SignatureRawBytes => hint::RAW_BYTES.to_string(),
        (Verdict::Failed, Some(_)) if refused && id == CaseId::LargeBody && usual_accepted => {
            format!("{} (this delivery is padded with JSON whitespace: a re-serialised body loses it)", hint::RAW_BYTES)
        }
        (Verdict::Passed, _) => String::new(),
        // A refused verification is not a failed delivery: the sender retries nothing, it
        // never subscribes.
        (Verdict::Failed, Some(hint::Problem::Status { code })) if id.verifies_endpoint() => {
            format!("a {code} refuses the verification: {}", info.fix)
        }
        (Verdict::Failed, Some(p)) => hint::fix(p, info.fix, id == CaseId::MalformedJson),
        (Verdict::Failed, None) => info.fix.to_string(),
        (Verdict::NotVerified | Verdict::NotRun, _) => report::NOT_VERIFIED_FIX.to_string(),
    }
}

fn check_options(opts: &CertifyOptions) -> Result<(), CertifyError> {
    check_url(&opts.url)?;
    if let Some(effects_url) = &opts.effects_url {
        check_url(effects_url)?;
    }
    if opts.limits.timeout_ms == 0 {
        return Err(CertifyError::Limit("timeout_ms must be at least 1".into()));
    }
    if let Some(s) = &opts.signing {
        s.signer().map_err(|e| CertifyError::Limit(format!("--secret: {e}")))?;
        if let Some(expected) = opts.provider.scheme()
            && expected != s.scheme
        {
            return Err(CertifyError::SchemeConflict {
                scheme: s.scheme.to_string(),
                provider: opts.provider.to_string(),
                expected: expected.to_string(),
            });
        }
    }
    if let Some(h) = opts.handshakes.iter().find(|h| h.needs_secret())
        && opts.handshake_secret.as_deref().is_none_or(str::is_empty)
    {
        return Err(CertifyError::Limit(format!(
            "--handshake {h} needs --handshake-secret (its verify or secret token)"
        )));
    }
    if opts.handshakes_only && opts.handshakes.is_empty() {
        return Err(CertifyError::Limit("--handshakes-only needs at least one --handshake".into()));
    }
    if opts.api_port != 0 && !opts.provider.has_api() {
        let why = format!("--api-port: hooksim simulates no API of {} (docs/providers.md)", opts.provider);
        return Err(CertifyError::Limit(why));
    }
    if opts.large_body_bytes > LARGE_BODY_BYTES_MAX {
        let why = format!("large_body_bytes {} is above {LARGE_BODY_BYTES_MAX}", opts.large_body_bytes);
        return Err(CertifyError::Limit(why));
    }
    Ok(())
}

fn check_url(url: &str) -> Result<reqwest::Url, CertifyError> {
    let bad = |why: &str| CertifyError::BadUrl { url: url.to_string(), why: why.to_string() };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("only http and https URLs can be certified"));
    }
    if parsed.host_str().is_none() {
        return Err(bad("no host"));
    }
    Ok(parsed)
}

/// A TCP connect before any case: nothing listening is a usage error (exit 2), not a verdict.
async fn reachable(url: &str, timeout_ms: u64) -> Result<(), CertifyError> {
    let unreachable = |why: String| CertifyError::Unreachable { url: url.to_string(), why };
    let parsed = check_url(url)?;
    let host = parsed.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let port = parsed.port_or_known_default().unwrap_or(80);
    // Wall clock: this probes a real host.
    let connect = tokio::net::TcpStream::connect((host, port));
    match tokio::time::timeout(Duration::from_millis(timeout_ms), connect).await {
        Ok(Ok(_stream)) => Ok(()),
        // Something accepted the connection and then dropped it (a reset right after accept
        // can beat the connect's completion): the receiver is there, and its cases fail, every
        // run alike.
        Ok(Err(e)) if accepted_then_dropped(&e) => Ok(()),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable(format!("no connection within {timeout_ms} ms"))),
    }
}
