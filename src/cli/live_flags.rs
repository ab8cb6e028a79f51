//! Flags of the commands that talk to a real receiver (`certify receiver`, `run --receiver`,
//! `dispatch`), defined once and flattened into each: how long an effects list is waited for to settle, and
//! which private certificate authority an https receiver may be signed by.

use anyhow::Context as _;
use clap::Args;
use hooksim::live::Settle;
use std::path::PathBuf;

/// The effects settle window ([`Settle`]).
#[derive(Args, Debug, Clone)]
pub struct SettleArgs {
    /// After a case's deliveries (`run`, `dispatch`: at the world's end), the effects list is read
    /// until it has not changed for this long, in wall time (a receiver that answers first and
    /// acts from a queue must record within it).
    #[arg(long, default_value_t = Settle::default().quiet_ms)]
    pub effects_quiet_ms: u64,
    /// ... and for at most this long; then the last read counts.
    #[arg(long, default_value_t = Settle::default().max_ms)]
    pub effects_wait_max_ms: u64,
}

impl SettleArgs {
    /// The arg ids, for a command that allows them only with another flag.
    pub const IDS: [&'static str; 2] = ["effects_quiet_ms", "effects_wait_max_ms"];

    pub fn settle(&self) -> Settle {
        Settle { quiet_ms: self.effects_quiet_ms, max_ms: self.effects_wait_max_ms, ..Settle::default() }
    }

    /// The flags that make this window again, those that differ from the default (for a
    /// reproduce line).
    pub fn given(&self) -> Vec<String> {
        let default = Settle::default();
        let mut flags = Vec::new();
        if self.effects_quiet_ms != default.quiet_ms {
            flags.push(format!("--effects-quiet-ms {}", self.effects_quiet_ms));
        }
        if self.effects_wait_max_ms != default.max_ms {
            flags.push(format!("--effects-wait-max-ms {}", self.effects_wait_max_ms));
        }
        flags
    }
}

/// The largest `--ca-cert` file read: a whole public root bundle is about 220 KB.
pub const CA_CERT_BYTES_MAX: u64 = 1024 * 1024;

/// `--ca-cert FILE`.
#[derive(Args, Debug, Clone)]
pub struct CaCertArgs {
    /// PEM file of a private certificate authority to trust for https URLs (besides the
    /// built-in roots).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

impl CaCertArgs {
    /// The arg id, for a command that allows it only with another flag.
    pub const ID: &'static str = "ca_cert";

    /// The flag as given, if it was (for a reproduce line).
    pub fn given(&self) -> Vec<String> {
        self.ca_cert.iter().map(|path| format!("--ca-cert {}", path.display())).collect()
    }

    /// The file's bytes; an error names the flag and the file. A file with no PEM certificate
    /// in it is an error too: trusting nothing more would fail later, as a TLS error per attempt.
    /// What is not a regular file (a named pipe, a device) is refused unread, a file over
    /// [`CA_CERT_BYTES_MAX`] after it.
    pub fn read_pem(&self) -> anyhow::Result<Option<Vec<u8>>> {
        let Some(path) = &self.ca_cert else { return Ok(None) };
        let flag = || format!("--ca-cert {}", path.display());
        let limit = ("CA_CERT_BYTES_MAX", CA_CERT_BYTES_MAX);
        let pem = hooksim::scenario::read_regular_file(path, "certificate file", limit)
            .map_err(|e| anyhow::anyhow!("{}: {e}", flag()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).with_context(flag)?;
        if certificates.is_empty() {
            anyhow::bail!("{}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)", flag());
        }
        Ok(Some(pem))
    }
}
