//! The `hooksim` command line.

mod cli;

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "hooksim", version, about)]
enum Cli {
    /// Run scenario files and check their expectations.
    Run(cli::run::RunArgs),
    /// Validate scenario files without running them.
    Check(cli::check::CheckArgs),
    /// Grade a real webhook endpoint against what an at-least-once sender does.
    #[command(subcommand)]
    Certify(cli::certify::CertifyCommand),
    /// Serve a reference receiver over the real network.
    Receiver(cli::receiver::ReceiverArgs),
    /// Print the headers that sign a body (read from standard input), and a curl line.
    Sign(cli::sign::SignArgs),
    /// Send a scenario's deliveries to real endpoints in real time (divided by --time-scale).
    Dispatch(cli::dispatch::DispatchArgs),
    /// Serve the reference dispatcher over the dispatcher protocol (docs/protocol.md).
    Dispatcher(cli::dispatcher::DispatcherArgs),
    /// Search seeded worlds with faults for breaches of the properties of every world.
    Explore(cli::explore::ExploreArgs),
    /// Merge explore shards' out files into one JSON and JUnit report.
    Merge(cli::merge::MergeArgs),
}

fn main() -> ExitCode {
    // Before any thread starts: worlds reuse their memory instead of mapping it anew each run.
    hooksim::allocator::keep_memory();
    let code = match Cli::parse() {
        Cli::Run(args) => cli::run::run(args),
        Cli::Check(args) => cli::check::run(args),
        Cli::Certify(cmd) => cli::certify::run(cmd),
        Cli::Receiver(args) => cli::receiver::run(args),
        Cli::Sign(args) => cli::sign::run(args),
        Cli::Dispatch(args) => cli::dispatch::run(args),
        Cli::Dispatcher(args) => cli::dispatcher::run(args),
        Cli::Explore(args) => cli::explore::run(args),
        Cli::Merge(args) => cli::merge::run(args),
    };
    ExitCode::from(code)
}
