//! `hooksim certify receiver --url URL`: exit 0 when every verified case passed, 1 when a case
//! failed or no case could be verified at all (nothing judged is not a pass), 2 for bad flags (clap's own status), an unreachable URL, an effects URL that cannot be
//! read, or a report that cannot be written.

use super::live_flags::{CaCertArgs, SettleArgs};
use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use anyhow::Context as _;
use clap::{ArgGroup, Args, Subcommand};
use hooksim::certify::handshake::Handshake;
use hooksim::certify::signature::Signing;
use hooksim::certify::{CertifyOptions, Limits, Report, SEED_DEFAULT, certify};
use hooksim::policy::Profile;
use hooksim::provider::Provider;
use hooksim::signing::Scheme;
use std::path::PathBuf;

mod sender;

#[derive(Subcommand, Debug)]
pub enum CertifyCommand {
    /// Send SnapBill-shaped webhooks (or a provider's, --provider) to a running receiver and grade it case by case.
    Receiver(CertifyReceiverArgs),
    /// Serve an endpoint, play failures to the sender pointed at it, and grade what arrives.
    Sender(sender::CertifySenderArgs),
}

#[derive(Args, Debug)]
// The settle window is the effects list's: without --effects-url there is nothing to settle.
#[command(group(ArgGroup::new("effects_only").multiple(true).requires("effects_url").args(SettleArgs::IDS)))]
pub struct CertifyReceiverArgs {
    /// Where deliveries are POSTed, e.g. http://127.0.0.1:8080/webhook.
    #[arg(long)]
    url: String,
    /// The receiver's effects list (see docs/certify.md); without it, cases about side effects
    /// are reported "not verified".
    #[arg(long)]
    effects_url: Option<String>,
    /// Refuse to run without --effects-url (for CI: no case may be left "not verified" because
    /// the flag was forgotten). A given effects URL that cannot be read is always exit 2.
    #[arg(long, requires = "effects_url")]
    require_effects: bool,
    /// Seeds the uuids, event ids and entities sent: the same seed sends the same deliveries.
    #[arg(long, default_value_t = SEED_DEFAULT)]
    seed: u64,
    /// The sender whose deadline the receiver is graded against: its attempt timeout is the
    /// request timeout (snapbill: 30 s; svix, stripe, shopify, hook0, standard-webhooks, github,
    /// slack). Default: the `--provider`'s profile (Slack's 3 s, GitHub's 10 s, ...), else snapbill.
    #[arg(long)]
    profile: Option<Profile>,
    /// Per request, connect to last byte; a slower answer is a timeout. Default: the profile's
    /// attempt timeout.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_ms: Option<u64>,
    /// Bytes of each answer read; the rest is dropped unread.
    #[arg(long, default_value_t = Limits::default().response_bytes_max)]
    response_bytes_max: usize,
    /// Bytes of the effects list read; a longer list leaves effects unverified.
    #[arg(long, default_value_t = Limits::default().effects_bytes_max)]
    effects_bytes_max: usize,
    /// Size of the large-body case's delivery. Default: the `--provider`'s published size cap,
    /// the largest body it sends (GitHub 25 MB, Standard Webhooks 20 kB), else 1 MiB.
    #[arg(long)]
    large_body_bytes: Option<usize>,
    #[command(flatten)]
    settle: SettleArgs,
    #[command(flatten)]
    ca_cert: CaCertArgs,
    /// The receiver's signing secret: adds the signature cases (valid, forgeries, stale
    /// timestamp, key rotation, raw bytes).
    #[arg(long)]
    secret: Option<String>,
    /// The signature scheme of --secret: standard-webhooks (the default), stripe, github, shopify
    /// or slack. --provider implies its own; naming another is an error.
    #[arg(long, requires = "secret")]
    scheme: Option<Scheme>,
    /// Whose deliveries to send: snapbill (the default: SnapBill's envelope), stripe, github,
    /// shopify, slack or standard-webhooks (the provider's envelope, headers and dedup id, signed
    /// with its scheme when --secret is given; see docs/providers.md).
    #[arg(long, default_value_t = Provider::Snapbill)]
    provider: Provider,
    /// The loopback port of the simulated provider API (--provider stripe, github, shopify or
    /// slack): the invoice as it is now, in the case's virtual time. Start your receiver
    /// pointed at http://127.0.0.1:PORT. 0 (the default) picks a free port, named in the
    /// report's first line.
    #[arg(long, default_value_t = 0, value_name = "PORT")]
    api_port: u16,
    /// Also check another sender's endpoint verification, one case each (repeatable): meta
    /// (the hub.challenge GET), zoom (endpoint.url_validation) or cloudevents (the webhook
    /// OPTIONS). Independent of --provider.
    #[arg(long, value_name = "SENDER")]
    handshake: Vec<Handshake>,
    /// The receiver's Meta verify token or Zoom secret token, for --handshake meta and zoom.
    #[arg(long, value_name = "TOKEN")]
    handshake_secret: Option<String>,
    /// Run the --handshake cases only (an endpoint of a sender other than SnapBill or the
    /// --provider ones does not take their deliveries).
    #[arg(long, requires = "handshake")]
    handshakes_only: bool,
    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write the report as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

pub fn run(cmd: CertifyCommand) -> u8 {
    let args = match cmd {
        CertifyCommand::Receiver(args) => args,
        CertifyCommand::Sender(args) => return sender::run(args),
    };
    match certify_receiver(&args) {
        Ok(report) if report.certified() => EXIT_OK,
        Ok(_) => EXIT_FAILED,
        Err(e) => {
            eprintln!("hooksim certify receiver: {e:#}");
            EXIT_BAD_INPUT
        }
    }
}

/// `--scheme` as given, else the provider's, else Standard Webhooks. A `--scheme` other than the
/// provider's is refused before the run ([`hooksim::certify::CertifyError::SchemeConflict`]).
fn scheme(args: &CertifyReceiverArgs) -> Scheme {
    args.scheme.or(args.provider.scheme()).unwrap_or(Scheme::StandardWebhooks)
}

/// The sender graded against: `--profile`, else the provider's (SnapBill's by default).
fn profile(args: &CertifyReceiverArgs) -> Profile {
    args.profile.unwrap_or(args.provider.facts().profile)
}

fn certify_receiver(args: &CertifyReceiverArgs) -> anyhow::Result<Report> {
    let opts = CertifyOptions {
        url: args.url.clone(),
        effects_url: args.effects_url.clone(),
        seed: args.seed,
        limits: Limits {
            timeout_ms: args.timeout_ms.unwrap_or(Limits::for_profile(profile(args)).timeout_ms),
            response_bytes_max: args.response_bytes_max,
            effects_bytes_max: args.effects_bytes_max,
        },
        large_body_bytes: args.large_body_bytes.unwrap_or_else(|| hooksim::certify::large_body_bytes(args.provider)),
        settle: args.settle.settle(),
        ca_cert_pem: args.ca_cert.read_pem()?,
        signing: args.secret.clone().map(|secret| Signing { scheme: scheme(args), secret }),
        provider: args.provider,
        api_port: args.api_port,
        handshakes: args.handshake.clone(),
        handshake_secret: args.handshake_secret.clone(),
        handshakes_only: args.handshakes_only,
    };
    let report = super::runtime()?.block_on(certify(&opts))?;
    out!("{}", report.to_table());
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json()).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        let xml = report.to_junit()?;
        std::fs::write(path, xml).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(report)
}
