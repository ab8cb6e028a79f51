//! `hooksim certify sender --listen ADDR`: serve an endpoint, print its URL first, play the
//! failure script to the sender pointed at it, and grade what arrives. Exit 0 when every observed
//! check passed, 1 when a check failed or when no check observed anything (a trigger that fails,
//! requests all refused unread), 2 for bad flags, an address that cannot be listened on, or a
//! report that cannot be written.

use super::super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use anyhow::Context as _;
use clap::Args;
use hooksim::certify::sender::{Envelope, IdSource, SenderOptions, SenderReport, bind};
use hooksim::policy::Profile;
use hooksim::provider::Provider;
use hooksim::signing::{Scheme, Verifier};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The largest `--tolerance-ms`: an hour of slack on a measured delay already judges nothing.
const TOLERANCE_MS_MAX: u64 = 3_600_000;

#[derive(Args, Debug)]
pub struct CertifySenderArgs {
    /// Where the endpoint listens, e.g. 127.0.0.1:8090 (port 0 picks a free one). Its URL is the
    /// first line printed.
    #[arg(long)]
    listen: SocketAddr,
    /// A shell command run once per event, with HOOKSIM_EVENT=1..6 and HOOKSIM_URL in its
    /// environment (e.g. a curl to the product's API). Without it the sender must send six events
    /// on its own.
    #[arg(long, value_name = "CMD")]
    trigger: Option<String>,
    /// The policy the sender declares (a profile name; `hooksim certify sender --help` lists them).
    /// Default: snapbill, or --provider's (stripe, shopify, standard-webhooks).
    #[arg(long)]
    profile: Option<Profile>,
    /// The provider the sender claims to deliver as: stripe, github, shopify, slack or
    /// standard-webhooks. Its shape is checked (`envelope`: the body and headers, as its receivers
    /// read them), the id is read where it puts its dedup id, and it implies its signature scheme
    /// and, where hooksim has one, its retry profile (GitHub's and Slack's: give --profile).
    #[arg(long, conflicts_with_all = ["id", "envelope"])]
    provider: Option<Provider>,
    /// Wall time the run may take (`90s`, `10m`, `1h`): the schedule is measured for the retries
    /// that fit, and what the budget did not cover is reported "not observed".
    #[arg(long, default_value = "10m", value_parser = parse_budget)]
    budget: u64,
    /// Where the delivery id is: a JSON pointer into the body (`/uuid`) or `header:NAME`
    /// (`header:webhook-id`).
    #[arg(long, default_value = "/uuid")]
    id: IdSource,
    /// A JSON pointer to the event's own id (`/body/id`), for senders whose retries change the
    /// body; by default attempts are grouped by body, the delivery id left out.
    #[arg(long, value_name = "POINTER")]
    event_id: Option<String>,
    /// The body every attempt must carry: snapbill, json (any JSON), or a provider's shape (stripe,
    /// github, shopify, slack, standard-webhooks).
    #[arg(long, default_value = "snapbill")]
    envelope: Envelope,
    /// Verify every attempt's signature with this secret (repeat for a rotation).
    #[arg(long)]
    secret: Vec<String>,
    /// The signature scheme: standard-webhooks, stripe, github, shopify, slack. Default: the profile's (svix and
    /// standard-webhooks: standard-webhooks; stripe: stripe; the others sign nothing, so name it).
    #[arg(long, requires = "secret")]
    scheme: Option<Scheme>,
    /// Divide the profile's delays and timeout by N, for a sender that scales its own the same
    /// way: how CI keeps a run short. Retry-After stays in real seconds.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    time_scale: u32,
    /// The least tolerance on a measured delay (wall ms); default 1000 / time scale, at least 200;
    /// at most 3600000 (an hour).
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=TOLERANCE_MS_MAX))]
    tolerance_ms: Option<u64>,
    /// Also write the report (every request included) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write the report as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

fn parse_budget(text: &str) -> Result<u64, String> {
    let d = humantime::parse_duration(text).map_err(|e| format!("{e} (e.g. 90s, 10m, 1h)"))?;
    Ok(d.as_millis().min(u64::MAX as u128) as u64)
}

pub fn run(args: CertifySenderArgs) -> u8 {
    match certify_sender(&args) {
        Ok(report) if report.passed() => EXIT_OK,
        Ok(_) => EXIT_FAILED,
        Err(e) => {
            eprintln!("hooksim certify sender: {e:#}");
            EXIT_BAD_INPUT
        }
    }
}

/// The profile graded: `--profile`, else the provider's, else snapbill.
fn profile(args: &CertifySenderArgs) -> Profile {
    match (args.profile, args.provider) {
        (Some(p), _) => p,
        (None, Some(provider)) => provider.facts().profile,
        (None, None) => Profile::Snapbill,
    }
}

fn options(args: &CertifySenderArgs) -> anyhow::Result<SenderOptions> {
    let profile = profile(args);
    let implied = args.provider.and_then(Provider::scheme);
    if let (Some(scheme), Some(expected), Some(provider)) = (args.scheme, implied, args.provider)
        && scheme != expected
    {
        anyhow::bail!("--scheme {scheme} conflicts with --provider {provider}, which signs with {expected}");
    }
    let verifier = if args.secret.is_empty() {
        None
    } else {
        let Some(scheme) = args.scheme.or(implied).or(profile.signing_scheme()) else {
            anyhow::bail!(
                "--secret: the {} profile implies no signature scheme; name one with --scheme",
                <&'static str>::from(profile)
            );
        };
        let secrets: Vec<&str> = args.secret.iter().map(String::as_str).collect();
        Some(Verifier::new(scheme, &secrets).context("--secret")?)
    };
    Ok(SenderOptions {
        trigger: args.trigger.clone(),
        profile,
        budget_ms: args.budget,
        id: args.provider.map_or_else(|| args.id.clone(), IdSource::of_provider),
        event_id: args.event_id.clone(),
        envelope: args.provider.map_or(args.envelope, Envelope::Provider),
        verifier,
        time_scale: args.time_scale,
        tolerance_floor_ms: args.tolerance_ms.unwrap_or(SenderOptions::default_tolerance_floor_ms(args.time_scale)),
        ..SenderOptions::new(args.listen)
    })
}

fn certify_sender(args: &CertifySenderArgs) -> anyhow::Result<SenderReport> {
    let opts = options(args)?;
    let runtime = super::super::runtime()?;
    let bound = runtime.block_on(bind(opts))?;
    // The URL first, alone on its line, so a script can point the sender at it.
    outln!("{}", bound.url());
    let _ = std::io::stdout().flush();
    eprintln!("hooksim certify sender: point the sender at {} (budget {} ms)", bound.url(), args.budget);
    let report = runtime.block_on(bound.run());
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
