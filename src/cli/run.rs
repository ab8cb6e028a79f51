//! `hooksim run [PATH...]`: run scenarios, print a line each and the failures in detail, write
//! the requested reports. Exit 0 when all passed, 1 when an expectation failed (or a report
//! could not be written), 2 on bad input (then nothing runs).
//!
//! With `--receiver NAME=URL` the run is live: the scenario's receiver NAME is a real endpoint,
//! and the core, the timeline and the mail host run around it in virtual time.

use super::live_flags::{CaCertArgs, SettleArgs};
use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use anyhow::Context;
use clap::{ArgGroup, Args};
use hooksim::live::{BindError, Bindings, LiveOptions};
use hooksim::runner::{
    EngineChoice, ExternalDispatcher, ScenarioRun, SkippedScenario, conformance_kept, render_conformance,
    render_failures, render_line, run_scenario_dispatched, run_scenario_live_with, run_scenario_within, to_json,
    to_junit, trace_file_names,
};
use hooksim::scenario::{Scenario, check_paths};
use hooksim::trace::TRACE_ENTRIES_MAX;
use hooksim::world::RunLimits;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
// The CA is the live shell's: without --receiver it would be ignored. The settle window is the
// effects lists': without --effects (which needs --receiver) there is nothing to settle.
#[command(group(ArgGroup::new("live_only").requires("receiver").arg(CaCertArgs::ID)))]
#[command(group(ArgGroup::new("effects_only").multiple(true).requires("effects").args(SettleArgs::IDS)))]
pub struct RunArgs {
    #[arg(default_value = "scenarios", help = super::PATHS_HELP)]
    pub paths: Vec<PathBuf>,
    /// Run with this seed instead of each file's own.
    #[arg(long)]
    pub seed: Option<u64>,
    /// net (the default): real HTTP over a simulated network; model: the pure model; both: each,
    /// and both must pass. Not with --receiver, which runs on the real network.
    #[arg(long, conflicts_with = "receiver")]
    pub engine: Option<EngineChoice>,
    /// Bind the scenario's receiver NAME to a real endpoint: deliveries are real POSTs to URL,
    /// each attempt on a new connection. Repeat for each receiver that gets deliveries.
    #[arg(long, value_name = "NAME=URL")]
    pub receiver: Vec<String>,
    /// The effects contract of a bound receiver (GET URL lists what it acted on): without it,
    /// expectations about its acts (acted, skipped) are not verified.
    #[arg(long, value_name = "NAME=URL", requires = "receiver")]
    pub effects: Vec<String>,
    // With --effects: the settle window of the effects lists at the world's end.
    #[command(flatten)]
    pub settle: SettleArgs,
    // With --receiver: a private certificate authority for https receivers.
    #[command(flatten)]
    pub ca_cert: CaCertArgs,
    /// Write a JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Entries one run's trace may hold: a run that records more stops with an error, keeping the
    /// trace so far.
    #[arg(long, default_value_t = TRACE_ENTRIES_MAX, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub trace_entries_max: usize,
    /// Write each run's trace as JSON lines into this folder, one file per scenario file, engine
    /// and seed: <file stem>.<engine>.seed<seed>.jsonl (-2, -3, ... after the stem if two files
    /// share a stem).
    #[arg(long, value_name = "DIR")]
    pub trace: Option<PathBuf>,
    /// Write each run's timeline page into this folder (self-contained HTML, failed expectations
    /// marked): <file stem>.<engine>.seed<seed>.html, named as the traces are.
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
    /// Run every scenario with this dispatcher process in place of the reference core (see
    /// docs/protocol.md): program and arguments, split on whitespace. Each run gets a fresh state
    /// directory, removed after it.
    #[arg(long, value_name = "CMD", conflicts_with = "receiver")]
    pub dispatcher: Option<String>,
    /// With --dispatcher: wall-clock milliseconds to wait for each line the process owes.
    #[arg(long, default_value_t = hooksim::protocol::REPLY_TIMEOUT_MS, requires = "dispatcher",
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..))]
    pub reply_timeout_ms: u64,
    /// With --dispatcher: inputs one run may send the process (restarts included); a run that
    /// would send more stops there with an error naming INPUTS_PER_RUN_MAX (a dispatcher retrying
    /// every second for ever ends in seconds).
    #[arg(long, default_value_t = hooksim::protocol::INPUTS_PER_RUN_MAX, requires = "dispatcher",
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..))]
    pub inputs_per_run_max: u64,
}

pub fn run(args: RunArgs) -> u8 {
    let report = check_paths(&args.paths);
    if !report.is_ok() {
        for error in &report.errors {
            eprintln!("{error}");
        }
        if report.files.is_empty() {
            eprintln!("no scenario files under {}", show(&args.paths));
        }
        eprintln!("{}", super::bad_files_summary(&report));
        eprintln!("nothing was run");
        return EXIT_BAD_INPUT;
    }
    let live = match bind(&report.loaded, &args) {
        Ok(live) => live,
        Err(code) => return code,
    };
    let (runs, skipped) = run_all(&report.loaded, &args, live.as_ref());
    for run in runs.iter().filter(|r| !r.passed()) {
        outln!();
        out!("{}", render_failures(run));
    }
    let passed = runs.iter().filter(|r| r.passed()).count();
    outln!();
    if skipped.is_empty() {
        outln!("{} passed, {} failed", passed, runs.len() - passed);
    } else {
        // A skipped file was never judged: counted apart, and never a pass (see the exit below).
        outln!("{} passed, {} failed, {} skipped (SKIP lines above)", passed, runs.len() - passed, skipped.len());
    }
    let not_verified: usize = runs.iter().map(|r| r.not_verified.len()).sum();
    if not_verified > 0 {
        outln!(
            "NOT VERIFIED: {not_verified} expectation(s) about receivers' acts neither passed nor failed \
             (give --effects NAME=URL for each bound receiver to check them)"
        );
    }
    if args.dispatcher.is_some() {
        outln!();
        out!("{}", render_conformance(&runs));
    }
    if let Err(e) = write_reports(&runs, &skipped, &args).and_then(|()| write_pages(&report.loaded, &runs, &args)) {
        // The scenarios ran (exit 2 would say nothing did); a report that could not be written
        // fails the run.
        eprintln!("error: {e:#}");
        return EXIT_FAILED;
    }
    // With a dispatcher process, a broken promise fails the run, and so does a summary that
    // judged nothing (every run stopped): neither is a success.
    let conforms = args.dispatcher.is_none() || conformance_kept(&runs);
    if passed == runs.len() && conforms { EXIT_OK } else { EXIT_FAILED }
}

/// The bindings of a live run and its options (`None`: a simulated run), every file checked
/// against them; on bad input, every error is printed and the exit status returned.
fn bind(scenarios: &[Scenario], args: &RunArgs) -> Result<Option<(Bindings, LiveOptions)>, u8> {
    if args.receiver.is_empty() {
        return Ok(None);
    }
    let ca_cert_pem = args.ca_cert.read_pem().map_err(|e| {
        eprintln!("error: {e:#}");
        eprintln!("nothing was run");
        EXIT_BAD_INPUT
    })?;
    let options = LiveOptions { settle: args.settle.settle(), ca_cert_pem, ..LiveOptions::default() };
    let bindings = Bindings::parse(&args.receiver, &args.effects).map_err(|errors| refuse(&errors, None))?;
    let mut bad = false;
    for scenario in scenarios {
        let errors = bindings.check(&scenario.world);
        if !errors.is_empty() {
            refuse(&errors, Some(&scenario.file));
            bad = true;
        }
    }
    if !bad {
        let errors = hooksim::live::probe_with(&bindings, &options);
        if !errors.is_empty() {
            refuse(&errors, None);
            bad = true;
        }
    }
    if bad {
        eprintln!("nothing was run");
        return Err(EXIT_BAD_INPUT);
    }
    Ok(Some((bindings, options)))
}

fn refuse(errors: &[BindError], file: Option<&Path>) -> u8 {
    for error in errors {
        match file {
            Some(file) => eprintln!("{}: {error}", file.display()),
            None => eprintln!("error: {error}"),
        }
    }
    EXIT_BAD_INPUT
}

/// Every scenario's runs, and the scenario files skipped (never run, never judged).
fn run_all(
    scenarios: &[Scenario],
    args: &RunArgs,
    live: Option<&(Bindings, LiveOptions)>,
) -> (Vec<ScenarioRun>, Vec<SkippedScenario>) {
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    let limits = RunLimits { trace_entries_max: args.trace_entries_max, ..RunLimits::default() };
    let external = args.dispatcher.as_ref().map(|command| ExternalDispatcher {
        command: command.clone(),
        reply_timeout_ms: args.reply_timeout_ms,
        inputs_max: args.inputs_per_run_max,
    });
    for scenario in scenarios {
        if external.is_some() && scenario.world.provider != hooksim::provider::Provider::Snapbill {
            // Not the process's failure: it was never asked (see `run_world_dispatched`).
            let reason = format!(
                "provider = {:?} is rendered by the reference core only, not by a dispatcher process",
                scenario.world.provider.name()
            );
            outln!("SKIP  {}: {reason}", scenario.name);
            skipped.push(SkippedScenario { name: scenario.name.clone(), file: scenario.file.clone(), reason });
            continue;
        }
        if let Some((bindings, options)) = live {
            let mut run = run_scenario_live_with(scenario, bindings, args.seed, limits, options);
            run.live_flags = [args.settle.given(), args.ca_cert.given()].concat();
            outln!("{}", render_line(&run));
            runs.push(run);
            continue;
        }
        for engine in args.engine.unwrap_or(EngineChoice::Net).engines() {
            let run = match &external {
                Some(d) => run_scenario_dispatched(scenario, *engine, args.seed, limits, d),
                None => run_scenario_within(scenario, *engine, args.seed, limits),
            };
            outln!("{}", render_line(&run));
            runs.push(run);
        }
    }
    (runs, skipped)
}

fn write_reports(runs: &[ScenarioRun], skipped: &[SkippedScenario], args: &RunArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&to_json(runs, skipped))? + "\n";
        write_file(path, text.as_bytes()).context("--json")?;
    }
    if let Some(path) = &args.junit {
        let xml = to_junit(runs, skipped).context("--junit: rendering the report")?;
        write_file(path, xml.as_bytes()).context("--junit")?;
    }
    if let Some(dir) = &args.trace {
        std::fs::create_dir_all(dir).with_context(|| format!("--trace: creating {}", dir.display()))?;
        for (run, name) in runs.iter().zip(trace_file_names(runs)) {
            let path = dir.join(name);
            write_trace(&path, run).with_context(|| format!("--trace: writing {}", path.display()))?;
        }
    }
    Ok(())
}

/// `--html DIR`: one timeline page per run, named as its trace file; a run's world is its
/// scenario file's.
fn write_pages(scenarios: &[Scenario], runs: &[ScenarioRun], args: &RunArgs) -> anyhow::Result<()> {
    let Some(dir) = &args.html else { return Ok(()) };
    for (run, name) in runs.iter().zip(trace_file_names(runs)) {
        let Some(world) = scenarios.iter().find(|s| s.file == run.file).map(|s| &s.world) else { continue };
        let path = dir.join(hooksim::explore::page::page_file_name(&name));
        let page = hooksim::explore::page::run_page(run, world);
        write_file(&path, page.as_bytes()).context("--html")?;
    }
    Ok(())
}

/// Writes `bytes` to `path`, creating its folder first: the scenarios already ran, so a missing
/// folder should not cost their report.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn write_trace(path: &Path, run: &ScenarioRun) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    run.trace.write_json_lines(&mut file)?;
    std::io::Write::flush(&mut file)
}

fn show(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
