//! `hooksim receiver --listen ADDR --kind dedup|naive|picky|brittle [--secret K --scheme S]`: a
//! reference receiver on the real network, verifying signatures when given a secret. Its first
//! stdout line is the command that certifies it.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use anyhow::Context as _;
use clap::Args;
use hooksim::receiver::{
    Decision, Handled, OnHandled, ReceiverKind, ServeOptions, SignatureCheck, app, certify_command, serve,
};
use hooksim::signing::{Scheme, TOLERANCE_S_DEFAULT, Verifier};
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ReceiverArgs {
    /// The address to listen on; port 0 picks a free one (the printed command names it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// dedup (correct), naive (the SnapBill sample: no dedup, trusts `details`), picky (answers
    /// 500 to paths it does not handle), or brittle (answers 500 to unknown fields and bodies it
    /// cannot read).
    #[arg(long, default_value = "dedup")]
    kind: ReceiverKind,
    /// Wait this long before each answer (after acting): the slow receiver that causes retries.
    #[arg(long, default_value_t = 0)]
    answer_delay_ms: u64,
    /// Stop after this long; by default serve until interrupted.
    #[arg(long)]
    serve_for_ms: Option<u64>,
    /// Verify signatures with this secret (repeat it during a key rotation; for standard-webhooks
    /// `v1a`, an Ed25519 `whpk_` public key): unsigned, forged or stale deliveries are answered
    /// 400/401 and never acted on.
    #[arg(long)]
    secret: Vec<String>,
    /// The signature scheme the secrets are for: standard-webhooks, stripe, github, shopify or slack.
    #[arg(long, default_value = "standard-webhooks", requires = "secret")]
    scheme: Scheme,
    /// How far a signed timestamp may be from this machine's clock, either way.
    #[arg(long, default_value_t = TOLERANCE_S_DEFAULT, requires = "secret")]
    tolerance_s: i64,
    /// Acts kept (memory, and the `/effects` list). At the limit a delivery that calls for a new
    /// act is answered 503 and not acted on (a duplicate is still answered 200 and skipped):
    /// nothing is forgotten, so dedup stays right; restart the receiver for a fresh list.
    #[arg(long, default_value_t = hooksim::receiver::EFFECTS_MAX)]
    effects_max: usize,
}

/// Exit 0 after a bounded run, 2 when the address cannot be bound.
pub fn run(args: ReceiverArgs) -> u8 {
    match serve_receiver(&args) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("hooksim receiver: {e:#}");
            EXIT_BAD_INPUT
        }
    }
}

fn serve_receiver(args: &ReceiverArgs) -> anyhow::Result<()> {
    super::runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let options = ServeOptions {
            answer_delay_ms: args.answer_delay_ms,
            on_handled: Some(log_to_stderr(args.kind)),
            signature: signature_check(args)?,
            effects_max: Some(args.effects_max),
        };
        let (router, _book) = app(args.kind, options);
        // The first line is a contract: scripts and the README read the command from it.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", certify_command(addr))?;
        stdout.flush()?;
        drop(stdout);
        eprintln!("{} receiver listening on {addr}; its page: {}/", args.kind, hooksim::receiver::base_url(addr));
        let limit = args.serve_for_ms;
        let shutdown = async move {
            match limit {
                Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                None => std::future::pending().await,
            }
        };
        serve(listener, router, shutdown).await?;
        Ok(())
    })
}

/// The check `--secret` asks for, against the wall clock: on the real network that is "now".
fn signature_check(args: &ReceiverArgs) -> anyhow::Result<Option<SignatureCheck>> {
    if args.secret.is_empty() {
        return Ok(None);
    }
    let secrets: Vec<&str> = args.secret.iter().map(String::as_str).collect();
    let verifier = Verifier::new(args.scheme, &secrets).context("--secret")?.with_tolerance_s(args.tolerance_s);
    Ok(Some(SignatureCheck::wall_clock(verifier)))
}

fn log_to_stderr(kind: ReceiverKind) -> OnHandled {
    Arc::new(move |h: &Handled| {
        let ids = match (h.uuid, h.event) {
            (Some(uuid), Some(event)) => format!("delivery {uuid} event {event}"),
            _ => "a delivery it did not read".to_string(),
        };
        match &h.decision {
            Decision::Act { action } => eprintln!("{kind}: acted on {ids}: {action}"),
            Decision::Skip { why, .. } => eprintln!("{kind}: skipped {ids}: {why}"),
            Decision::Refuse { status, why, .. } => {
                eprintln!("{kind}: answered {status} to {ids}: {why}")
            }
        }
    })
}
