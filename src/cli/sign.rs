//! `hooksim sign --scheme S --secret K [--id ID] [--timestamp T] < body`: the headers that sign a
//! body, and a curl line that sends it, for people testing their own receivers.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use anyhow::{Context as _, bail};
use clap::Args;
use hooksim::receiver::BODY_BYTES_MAX;
use hooksim::signing::{Scheme, Signer};
use sha2::{Digest as _, Sha256};
use std::io::{Read as _, Write as _};

#[derive(Args, Debug)]
pub struct SignArgs {
    /// standard-webhooks (also Svix's), stripe, github, shopify or slack.
    #[arg(long)]
    scheme: Scheme,
    /// The signing secret (standard-webhooks: `whsec_<base64>`, or an Ed25519 `whsk_<base64>` key
    /// for `v1a`). Repeat it for a key rotation: one signature per secret (standard-webhooks,
    /// stripe); github, shopify and slack sign with the first.
    #[arg(long, required = true)]
    secret: Vec<String>,
    /// The message id (`webhook-id`, `X-GitHub-Delivery`; shopify and slack send none); by default
    /// derived from the body, so the same body gets the same id. At most 256 bytes, no control
    /// characters (a CR or LF would start another header).
    #[arg(long, value_parser = parse_id)]
    id: Option<String>,
    /// Unix seconds to sign, from 0 to 253402300799 (9999-12-31T23:59:59Z); by default now.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_timestamp)]
    timestamp: Option<i64>,
    /// Where the printed curl line posts (no control characters).
    #[arg(long, default_value = "http://127.0.0.1:8080/webhook", value_parser = parse_url)]
    url: String,
}

/// The longest `--id`, in bytes: ids the schemes' libraries send are a few dozen.
const ID_BYTES_MAX: usize = 256;

/// The latest `--timestamp`: the last second of year 9999, the last a four-digit year can write.
const TIMESTAMP_S_MAX: i64 = 253_402_300_799;

fn parse_id(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("the id is empty".to_string());
    }
    if text.len() > ID_BYTES_MAX {
        return Err(format!("the id is {} bytes long; at most {ID_BYTES_MAX} (ID_BYTES_MAX)", text.len()));
    }
    no_control(text, "the id")
}

fn parse_timestamp(text: &str) -> Result<i64, String> {
    let t: i64 = text.parse().map_err(|e| format!("not a whole number of seconds: {e}"))?;
    if (0..=TIMESTAMP_S_MAX).contains(&t) {
        Ok(t)
    } else {
        Err(format!("{t} is not in 0..={TIMESTAMP_S_MAX} (unix seconds, up to 9999-12-31T23:59:59Z)"))
    }
}

fn parse_url(text: &str) -> Result<String, String> {
    no_control(text, "the url")
}

/// `text` when it has no control character: a CR or LF in a printed header starts another
/// header, and in the curl line another command line.
fn no_control(text: &str, what: &str) -> Result<String, String> {
    match text.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!("{what} holds the control character {c:?} (it would inject a header or a line)")),
        None => Ok(text.to_string()),
    }
}

/// Exit 0 with the headers printed, 2 for a bad secret, id, timestamp or url, or an unreadable
/// or oversized body.
pub fn run(args: SignArgs) -> u8 {
    match sign(&args) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("hooksim sign: {e:#}");
            EXIT_BAD_INPUT
        }
    }
}

fn sign(args: &SignArgs) -> anyhow::Result<()> {
    let secrets: Vec<&str> = args.secret.iter().map(String::as_str).collect();
    let signer = Signer::new(args.scheme, &secrets).context("--secret")?;
    let body = read_body()?;
    let id = args.id.clone().unwrap_or_else(|| default_id(&body));
    // A real request about to be sent: the wall clock is the right "now" here.
    let timestamp_s = args.timestamp.unwrap_or_else(unix_now_s);
    let headers = signer.sign(&id, timestamp_s, &body);
    let mut out = std::io::stdout().lock();
    for (name, value) in &headers {
        writeln!(out, "{name}: {value}")?;
    }
    writeln!(out)?;
    writeln!(out, "{}", curl_line(&args.url, &headers, &body))?;
    Ok(())
}

/// Standard input, at most the reference receiver's body limit.
fn read_body() -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    let limit = BODY_BYTES_MAX as u64 + 1;
    std::io::stdin().lock().take(limit).read_to_end(&mut body).context("reading the body from standard input")?;
    if body.len() > BODY_BYTES_MAX {
        bail!("the body on standard input is longer than {BODY_BYTES_MAX} bytes");
    }
    Ok(body)
}

fn default_id(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("msg_{}", &hex::encode(digest)[..24])
}

fn unix_now_s() -> i64 {
    // A signature made for a real receiver carries the real time (`--timestamp` overrides it).
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

/// A shell line that posts exactly `body`: `printf '%s'` keeps its bytes (a leading `@` or a
/// trailing newline included), which `--data-binary 'text'` would not.
fn curl_line(url: &str, headers: &[(&str, String)], body: &[u8]) -> String {
    let mut curl = format!("curl -sS -X POST {} -H 'content-type: application/json'", quote(url));
    for (name, value) in headers {
        curl.push_str(&format!(" -H {}", quote(&format!("{name}: {value}"))));
    }
    match std::str::from_utf8(body) {
        Ok(text) if !text.contains('\0') => format!("printf '%s' {} | {curl} --data-binary @-", quote(text)),
        // Not text a shell argument can carry: the user saves the bytes first.
        _ => format!("{curl} --data-binary @body.bin  # the body is binary: save it as body.bin first"),
    }
}

/// `text` as one single-quoted shell word.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
