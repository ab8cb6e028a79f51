//! `hooksim dispatch FILE --receiver NAME=URL [--time-scale N]`: the reference dispatcher as a
//! real sender. The scenario's timeline plays in real time (divided by `--time-scale`), and every
//! delivery to a bound receiver is a real POST: the sender to point `hooksim certify sender` at,
//! or to replay a scenario's deliveries at a live system.
//!
//! It is the live shell of `hooksim run --receiver` at real-time pace (`live::Pace::RealTime`):
//! the same core, links, mail host and trace; only the clock differs (it never jumps). It takes
//! that run's `--effects`, effects settle window and `--ca-cert` (`live_flags.rs`). Prints
//! the story of the deliveries and the scenario's verdict. Exit 0 when every expectation held,
//! 1 when one failed (or the trace could not be written), 2 on bad input (nothing was sent).

use super::live_flags::{CaCertArgs, SettleArgs};
use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use anyhow::Context as _;
use clap::{ArgGroup, Args};
use hooksim::live::{Bindings, LiveOptions, Pace};
use hooksim::policy::Profile;
use hooksim::runner::{Engine, ScenarioRun, render_line};
use hooksim::scenario::{Expectation, Scenario, check_paths, evaluate, render_entry};
use hooksim::time::SimTime;
use hooksim::trace::{TRACE_ENTRIES_MAX, TraceEvent};
use hooksim::world::{EngineFailure, RunLimits};
use std::path::PathBuf;
use std::time::Instant;

/// The largest `--time-scale`: past it a virtual millisecond is shorter than the scheduler's
/// reach on a loaded machine (the same bound as `certify sender`).
pub const TIME_SCALE_MAX: u32 = hooksim::certify::sender::limits::TIME_SCALE_MAX;
/// Lines of the delivery story printed; the rest is in `--trace`.
const STORY_LINES_MAX: usize = 200;

#[derive(Args, Debug)]
// The settle window is the effects lists': without --effects nothing is read.
#[command(group(ArgGroup::new("effects_only").multiple(true).requires("effects").args(SettleArgs::IDS)))]
pub struct DispatchArgs {
    /// One scenario file: its timeline is played for real.
    file: PathBuf,
    /// Bind the scenario's receiver NAME to a real endpoint: its deliveries are POSTed to URL.
    /// Repeat for each receiver that gets deliveries.
    #[arg(long, value_name = "NAME=URL", required = true)]
    receiver: Vec<String>,
    /// The effects contract of a bound receiver (GET URL lists what it acted on): without it,
    /// expectations about its acts are not verified.
    #[arg(long, value_name = "NAME=URL")]
    effects: Vec<String>,
    // With --effects: the settle window of the effects lists at the world's end (wall time, not
    // divided by --time-scale: it waits for a real receiver's queue).
    #[command(flatten)]
    settle: SettleArgs,
    // A private certificate authority for https receivers, trusted by the reachability check too.
    #[command(flatten)]
    ca_cert: CaCertArgs,
    /// Play the scenario N times faster than real time: every delay, timeout and timeline step
    /// is divided by N (a receiver's Retry-After, in real seconds, is honoured as such).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=TIME_SCALE_MAX as i64))]
    time_scale: u32,
    /// Use this policy profile instead of the file's: snapbill, svix, stripe, shopify, hook0,
    /// standard-webhooks, github, slack.
    #[arg(long)]
    profile: Option<Profile>,
    /// Run with this seed instead of the file's (delivery ids, jitter).
    #[arg(long)]
    seed: Option<u64>,
    /// Write the run's trace as JSON lines to FILE.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
}

pub fn run(args: DispatchArgs) -> u8 {
    let scenario = match load(&args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (bindings, options) = match bind(&scenario, &args) {
        Ok(bound) => bound,
        Err(code) => return code,
    };
    let scale = args.time_scale;
    let run_for = SimTime::from_millis(scenario.world.run_for_ms);
    let wall = SimTime::from_millis(scenario.world.run_for_ms.div_ceil(u64::from(scale)));
    outln!(
        "dispatching {} ({run_for} of scenario time) to {}: time scale {scale}, every delay divided by \
         {scale}, about {wall} of wall time",
        scenario.name,
        bindings.flags().join(" ")
    );
    let run = dispatch(&scenario, &bindings, &options, &args);
    print_story(&scenario, &run);
    outln!();
    outln!("{}", render_line(&run));
    outln!("time scale {scale}: the scenario's delays were divided by {scale} (wall time = scenario time / {scale})");
    if let Some(stop) = &run.error {
        outln!("{}: the dispatcher stopped: {}", run.file.display(), stop.message);
    }
    for failure in &run.failures {
        outln!("{failure}");
    }
    for not_verified in &run.not_verified {
        outln!("{not_verified}");
    }
    if let Some(path) = &args.trace
        && let Err(e) = write_trace(path, &run)
    {
        eprintln!("error: --trace: {e:#}");
        return EXIT_FAILED;
    }
    if run.passed() { EXIT_OK } else { EXIT_FAILED }
}

/// The one scenario of FILE, with `--profile` applied; on bad input, every error printed.
fn load(args: &DispatchArgs) -> Result<Scenario, u8> {
    let report = check_paths(std::slice::from_ref(&args.file));
    if !report.is_ok() {
        for error in &report.errors {
            eprintln!("{error}");
        }
        eprintln!("nothing was sent");
        return Err(EXIT_BAD_INPUT);
    }
    let mut loaded = report.loaded;
    if loaded.len() != 1 {
        eprintln!("error: {} holds {} scenario files: dispatch plays one", args.file.display(), loaded.len());
        return Err(EXIT_BAD_INPUT);
    }
    let mut scenario = loaded.remove(0);
    if let Some(profile) = args.profile {
        scenario.world.policy = profile.policy();
    }
    Ok(scenario)
}

/// The bindings, checked against the scenario and probed as the run will connect (a receiver
/// nothing listens at, or an effects list behind an untrusted certificate, is bad input, not
/// hours of failed attempts), and the run's options.
fn bind(scenario: &Scenario, args: &DispatchArgs) -> Result<(Bindings, LiveOptions), u8> {
    let ca_cert_pem = args.ca_cert.read_pem().map_err(|e| refuse([format!("{e:#}")]))?;
    let pace = Pace::RealTime { scale: args.time_scale };
    let options = LiveOptions { pace, settle: args.settle.settle(), ca_cert_pem, ..LiveOptions::default() };
    let bindings = Bindings::parse(&args.receiver, &args.effects).map_err(refuse)?;
    let problems = bindings.check(&scenario.world);
    if !problems.is_empty() {
        return Err(refuse(problems));
    }
    let unreachable = hooksim::live::probe_with(&bindings, &options);
    if !unreachable.is_empty() {
        return Err(refuse(unreachable));
    }
    Ok((bindings, options))
}

/// Prints every error of the input; the exit status of bad input.
fn refuse(errors: impl IntoIterator<Item = impl std::fmt::Display>) -> u8 {
    for error in errors {
        eprintln!("error: {error}");
    }
    eprintln!("nothing was sent");
    EXIT_BAD_INPUT
}

/// Plays the scenario at real-time pace and judges its expectations; those about the acts of a
/// receiver without an effects URL are left out as not verified.
fn dispatch(scenario: &Scenario, bindings: &Bindings, options: &LiveOptions, args: &DispatchArgs) -> ScenarioRun {
    let (verifiable, not_verified) = split_unverifiable(scenario, bindings);
    let mut world = verifiable.world.clone();
    if let Some(seed) = args.seed {
        world.seed = seed;
    }
    let limits = RunLimits { trace_entries_max: TRACE_ENTRIES_MAX, ..RunLimits::default() };
    // Wall clock for the report's `wall_us` only.
    let started = Instant::now();
    let (result, _) = hooksim::live::run_observed(&world, bindings, limits, options);
    let wall_us = started.elapsed().as_micros() as u64;
    let (output, error) = match result {
        Ok(output) => (output, None),
        Err(EngineFailure { error, partial }) => {
            let stop = hooksim::runner::EngineStop { message: error.to_string(), excerpt: Vec::new() };
            (partial, Some(stop))
        }
    };
    let failures = if error.is_none() { evaluate(&verifiable, &output.trace) } else { Vec::new() };
    ScenarioRun {
        name: scenario.name.clone(),
        file: scenario.file.clone(),
        engine: Engine::Live,
        seed: world.seed,
        limits,
        sim_elapsed_ms: output.sim_elapsed_ms,
        wall_us,
        trace: output.trace,
        failures,
        error,
        not_verified,
        bindings: bindings.flags(),
        live_flags: Vec::new(),
        dispatcher: None,
        stderr_tail: String::new(),
        violations: Vec::new(),
    }
}

fn split_unverifiable(scenario: &Scenario, bindings: &Bindings) -> (Scenario, Vec<hooksim::runner::NotVerified>) {
    let mut verifiable = scenario.clone();
    let mut not_verified = Vec::new();
    verifiable.expectations.retain(|e| {
        let receiver = match &e.value {
            Expectation::Acted { receiver, .. } | Expectation::Skipped { receiver, .. } => receiver,
            _ => return true,
        };
        if bindings.get(receiver).is_none_or(|b| b.effects.is_some()) {
            return true;
        }
        let why = format!("receiver {receiver} has no --effects URL, so what it did cannot be seen");
        not_verified.push(hooksim::runner::NotVerified {
            file: scenario.file.clone(),
            line: e.line,
            column: e.column,
            why,
        });
        false
    });
    (verifiable, not_verified)
}

/// What the sender did, attempt by attempt, as trace lines.
fn print_story(scenario: &Scenario, run: &ScenarioRun) {
    let names = scenario.names();
    let told = run.trace.entries().iter().filter(|e| {
        matches!(
            e.event,
            TraceEvent::AttemptStarted { .. }
                | TraceEvent::AttemptFinished { .. }
                | TraceEvent::Delivered { .. }
                | TraceEvent::DeliveryAbandoned { .. }
                | TraceEvent::WebhookDisabled { .. }
                | TraceEvent::WarningSent { .. }
        )
    });
    for (shown, entry) in told.enumerate() {
        if shown == STORY_LINES_MAX {
            outln!("... (more in --trace)");
            break;
        }
        outln!("  {}", render_entry(entry, &names));
    }
}

fn write_trace(path: &std::path::Path, run: &ScenarioRun) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    run.trace.write_json_lines(&mut out).with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::flush(&mut out).with_context(|| format!("writing {}", path.display()))
}
