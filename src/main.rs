//! The `hooksim` command line.

mod cli;

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "hooksim", version, about)]
enum Cli {
    /// Grade a real webhook endpoint against what an at-least-once sender does.
    #[command(subcommand)]
    Certify(cli::certify::CertifyCommand),
    /// Serve a reference receiver over the real network.
    Receiver(cli::receiver::ReceiverArgs),
}

fn main() -> ExitCode {
    let code = match Cli::parse() {
        Cli::Certify(cmd) => cli::certify::run(cmd),
        Cli::Receiver(args) => cli::receiver::run(args),
    };
    ExitCode::from(code)
}
