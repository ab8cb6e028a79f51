//! `hooksim explore [FILE...] --seeds A..B`: a world with faults per seed, every property
//! checked, a sample of seeds re-run for determinism. Exit 0 when every seed passed, 1 when
//! one failed, 2 on bad input (nothing runs).

use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use anyhow::Context;
use clap::Args;
use hooksim::explore::nemesis::{RATE_MAX, Rates};
use hooksim::explore::report::{Manifest, ScenarioHash, group, manifest_line, seed_line};
use hooksim::explore::search::{ENGINE_STOPPED, JOBS_MAX, Plan, SeedResult, each_on_threads};
use hooksim::explore::shard::{SeedRange, Shard, from_env};
use hooksim::protocol::INPUTS_PER_RUN_MAX;
use hooksim::runner::{Engine, ExternalDispatcher};
use hooksim::scenario::{SCENARIO_FILE_BYTES_MAX, load_bytes, read_regular_file};
use hooksim::trace::TRACE_ENTRIES_MAX;
use hooksim::world::RunLimits;
use sha2::{Digest, Sha256};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ExploreArgs {
    /// Scenario files used as templates (seed s takes file s mod count); none: a built-in random world.
    pub files: Vec<PathBuf>,
    /// The seeds, A..B (A included, B not).
    #[arg(long)]
    pub seeds: SeedRange,
    /// model (default) or net.
    #[arg(long, default_value = "model", value_parser = parse_engine)]
    pub engine: Engine,
    /// This machine's part, K/N (K from 0). Absent: from JOB_COMPLETION_INDEX + HOOKSIM_SHARDS,
    /// HOOKSIM_SHARD_INDEX + HOOKSIM_SHARDS, CI_NODE_INDEX + CI_NODE_TOTAL, CIRCLE_NODE_INDEX +
    /// CIRCLE_NODE_TOTAL or BUILDKITE_PARALLEL_JOB + BUILDKITE_PARALLEL_JOB_COUNT; else all.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Threads to run seeds on, 1 to 256 (JOBS_MAX); absent: every core this process may use. The
    /// out file, the summary and the shrunk files are the same for every N.
    #[arg(long, value_name = "N", value_parser = jobs())]
    pub jobs: Option<usize>,
    /// Write a manifest line and one JSON line per seed here.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Run every Nth seed twice and compare trace hashes (0: never).
    #[arg(long, default_value_t = 16)]
    pub rerun_every: u64,
    /// At most this many crashes, partitions and holds per world (at most 1000, RATE_MAX).
    #[arg(long, default_value_t = Rates::default().faults_max, value_parser = rate())]
    pub faults_max: u32,
    /// At most this many latency changes per world (at most 1000, RATE_MAX).
    #[arg(long, default_value_t = Rates::default().latency_changes_max, value_parser = rate())]
    pub latency_changes_max: u32,
    /// At most this many new reply mixes of receivers per world (at most 1000, RATE_MAX).
    #[arg(long, default_value_t = Rates::default().reply_mixes_max, value_parser = rate())]
    pub reply_mixes_max: u32,
    /// At most this many invoices (paid, cancelled while retrying) per built-in world (at most
    /// 1000, RATE_MAX).
    #[arg(long, default_value_t = Rates::default().invoices_max, value_parser = rate())]
    pub invoices_max: u32,
    /// At most this many webhook re-enables per world (at most 1000, RATE_MAX).
    #[arg(long, default_value_t = Rates::default().enables_max, value_parser = rate())]
    pub enables_max: u32,
    /// At most this many `delay_attempts` steps (attempts held at the sender) per world (at most
    /// 1000, RATE_MAX).
    #[arg(long, default_value_t = Rates::default().delays_max, value_parser = rate())]
    pub delays_max: u32,
    /// Entries one run's trace may hold: a run that records more stops there (engine-stopped,
    /// naming TRACE_ENTRIES_MAX).
    #[arg(long, default_value_t = TRACE_ENTRIES_MAX, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub trace_entries_max: usize,
    /// Shrink the first failing seed of each signature and write it as a scenario file here:
    /// <signature>.seed<N>.toml.
    #[arg(long, value_name = "DIR")]
    pub shrink: Option<PathBuf>,
    /// Hold every receiver, naive ones too, to acting once per uuid (a negative control).
    #[arg(long)]
    pub claim_dedup: bool,
    /// Explore this dispatcher process in place of the reference core (docs/protocol.md): a
    /// fresh process per run, program and arguments split on whitespace.
    #[arg(long, value_name = "CMD")]
    pub dispatcher: Option<String>,
    /// With --dispatcher: wall-clock milliseconds to wait for each line the process owes.
    #[arg(long, default_value_t = hooksim::protocol::REPLY_TIMEOUT_MS, requires = "dispatcher",
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..))]
    pub reply_timeout_ms: u64,
    /// With --dispatcher: inputs one run may send the process (restarts included); a run that
    /// would send more stops there (engine-stopped, naming INPUTS_PER_RUN_MAX).
    #[arg(long, default_value_t = INPUTS_PER_RUN_MAX, requires = "dispatcher",
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..))]
    pub inputs_per_run_max: u64,
}

/// A rate flag's values: 0 to [`RATE_MAX`] (clap names the flag and the range when refused).
fn rate() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(0..=i64::from(RATE_MAX))
}

/// `--jobs`: 1 to [`JOBS_MAX`] (clap names the flag and the range when refused).
fn jobs() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..=JOBS_MAX as u64)
}

/// The threads explore runs seeds on: `--jobs`, else every core the process may use.
fn jobs_of(args: &ExploreArgs) -> usize {
    args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(JOBS_MAX))
}

fn parse_engine(s: &str) -> Result<Engine, String> {
    match s {
        "model" => Ok(Engine::Model),
        "net" => Ok(Engine::Net),
        other => Err(format!("expected model or net, got {other:?}")),
    }
}

pub fn run(args: ExploreArgs) -> u8 {
    match prepare(&args) {
        Ok((plan, manifest)) => match explore(&plan, &manifest, &args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                EXIT_FAILED
            }
        },
        Err(e) => {
            eprintln!("error: {e:#}\nnothing was run");
            EXIT_BAD_INPUT
        }
    }
}

fn prepare(args: &ExploreArgs) -> anyhow::Result<(Plan, Manifest)> {
    let shard = match args.shard {
        Some(s) => s,
        None => from_env(|k| std::env::var(k).ok())?.unwrap_or(Shard::WHOLE),
    };
    let mut templates = Vec::new();
    let mut scenarios = Vec::new();
    for file in &args.files {
        // Read once, as `run` reads it: a named pipe or a device is refused unread.
        let bytes = read_regular_file(file, "scenario file", ("SCENARIO_FILE_BYTES_MAX", SCENARIO_FILE_BYTES_MAX))
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        let scenario = load_bytes(file, &bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
        templates.push(scenario.world);
        scenarios.push(ScenarioHash { file: file.display().to_string(), sha256: hex::encode(Sha256::digest(&bytes)) });
    }
    let rates = rates_of(args);
    let dispatcher = args.dispatcher.as_ref().map(|command| ExternalDispatcher {
        command: command.clone(),
        reply_timeout_ms: args.reply_timeout_ms,
        inputs_max: args.inputs_per_run_max,
    });
    let plan = Plan {
        templates,
        rates,
        engine: args.engine,
        rerun_every: args.rerun_every,
        claim_dedup: args.claim_dedup,
        dispatcher,
        limits: RunLimits { trace_entries_max: args.trace_entries_max, ..RunLimits::default() },
    };
    let manifest = Manifest {
        hooksim: env!("CARGO_PKG_VERSION").into(),
        // Only an out file carries it; hashing a release binary costs tens of milliseconds.
        binary_sha256: if args.out.is_some() { binary_sha256()? } else { String::new() },
        scenarios,
        engine: args.engine.as_str().into(),
        rates,
        claim_dedup: args.claim_dedup,
        dispatcher: args.dispatcher.clone(),
        trace_entries_max: (args.trace_entries_max != TRACE_ENTRIES_MAX).then_some(args.trace_entries_max),
        inputs_per_run_max: (args.inputs_per_run_max != INPUTS_PER_RUN_MAX).then_some(args.inputs_per_run_max),
        rerun_every: args.rerun_every,
        seeds: args.seeds,
        shard,
        shard_seeds: shard.of(args.seeds),
    };
    Ok((plan, manifest))
}

fn binary_sha256() -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("finding this binary")?;
    let bytes = std::fs::read(&exe).with_context(|| format!("reading {}", exe.display()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

fn explore(plan: &Plan, manifest: &Manifest, args: &ExploreArgs) -> anyhow::Result<u8> {
    let mut out = match &args.out {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(path).with_context(|| format!("--out {}", path.display()))?,
            );
            writeln!(f, "{}", manifest_line(manifest))?;
            Some(f)
        }
        None => None,
    };
    let seeds = manifest.shard_seeds;
    let progress = Progress::new(seeds.len());
    let mut results: Vec<SeedResult> = Vec::new();
    plan.run_seeds(
        seeds.start..seeds.end,
        jobs_of(args),
        |r| progress.seed_done(r),
        |r| -> anyhow::Result<()> {
            if let Some(f) = out.as_mut() {
                writeln!(f, "{}", seed_line(&r))?;
            }
            results.push(r);
            Ok(())
        },
    )?;
    if let Some(mut f) = out {
        f.flush()?;
    }
    progress.finish();
    let failed = results.iter().filter(|r| !r.passed()).count();
    outln!(
        "seeds {seeds} (shard {} of {}): {} passed, {failed} failed",
        manifest.shard,
        manifest.seeds,
        results.len() - failed
    );
    let groups = group(&results);
    for g in &groups {
        outln!("  {}: {} seed(s), e.g. {:?}", g.signature, g.seeds_failed, g.seeds);
        if let Some(why) = &g.stopped {
            outln!("{}", indent(why));
        }
    }
    // Each signature's shrink depends on its seed only: shrunk side by side, reported in order.
    let mut shrunk = match &args.shrink {
        Some(dir) => {
            each_on_threads(&groups, jobs_of(args), |g| write_shrunk(plan, args, dir, &g.signature, g.seeds[0]))
        }
        None => Vec::new(),
    }
    .into_iter();
    for g in &groups {
        let seed = g.seeds[0];
        outln!("reproduce {}: {}", g.signature, reproduce(args, seed));
        if let Some(path) = shrunk.next() {
            let path = path?;
            let with = args.dispatcher.as_ref().map(|d| format!(" --dispatcher {d:?}")).unwrap_or_default();
            outln!("  shrunk to {}: hooksim run {} --engine {}{with}", path.display(), path.display(), manifest.engine);
        }
    }
    Ok(if failed == 0 { EXIT_OK } else { EXIT_FAILED })
}

/// `text` (an engine's reason to stop, maybe several lines) indented under its summary line.
pub(super) fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

/// The command that runs `seed` alone with the same plan.
fn reproduce(args: &ExploreArgs, seed: u64) -> String {
    let mut cmd = String::from("hooksim explore");
    for f in &args.files {
        cmd.push_str(&format!(" {}", f.display()));
    }
    cmd.push_str(&format!(" --seeds {seed}..{} --engine {}", seed + 1, args.engine));
    let given = rates_of(args);
    for ((flag, v), (_, default)) in given.flags().into_iter().zip(Rates::default().flags()) {
        if v != default {
            cmd.push_str(&format!(" {flag} {v}"));
        }
    }
    if args.trace_entries_max != TRACE_ENTRIES_MAX {
        cmd.push_str(&format!(" --trace-entries-max {}", args.trace_entries_max));
    }
    if args.claim_dedup {
        cmd.push_str(" --claim-dedup");
    }
    if let Some(d) = &args.dispatcher {
        cmd.push_str(&format!(" --dispatcher {d:?}"));
        if args.reply_timeout_ms != hooksim::protocol::REPLY_TIMEOUT_MS {
            cmd.push_str(&format!(" --reply-timeout-ms {}", args.reply_timeout_ms));
        }
        if args.inputs_per_run_max != INPUTS_PER_RUN_MAX {
            cmd.push_str(&format!(" --inputs-per-run-max {}", args.inputs_per_run_max));
        }
    }
    cmd
}

fn rates_of(args: &ExploreArgs) -> Rates {
    Rates {
        faults_max: args.faults_max,
        latency_changes_max: args.latency_changes_max,
        reply_mixes_max: args.reply_mixes_max,
        invoices_max: args.invoices_max,
        enables_max: args.enables_max,
        delays_max: args.delays_max,
    }
}

fn write_shrunk(
    plan: &Plan,
    args: &ExploreArgs,
    dir: &std::path::Path,
    signature: &str,
    seed: u64,
) -> anyhow::Result<PathBuf> {
    use hooksim::explore::{scenario_file, shrink};
    let shrunk = shrink::shrink(plan, plan.world(seed), signature);
    let expect = shrink::expectation(plan, &shrunk.world, signature);
    let why = match plan.judge(&shrunk.world).stopped {
        Some(why) if signature == ENGINE_STOPPED => format!(" The engine stopped: {why}."),
        _ => String::new(),
    };
    let description = format!(
        "Shrunk by hooksim explore ({} runs) from seed {seed}, failing with {signature}.{why} Reproduce the search: {}",
        shrunk.runs,
        reproduce(args, seed)
    );
    let mut world = shrunk.world;
    world.name = format!("{signature} (seed {seed}, shrunk)");
    let text = scenario_file::render(&world, &description, expect.as_ref());
    std::fs::create_dir_all(dir).with_context(|| format!("--shrink: creating {}", dir.display()))?;
    let path = dir.join(format!("{signature}.seed{seed}.toml"));
    std::fs::write(&path, text).with_context(|| format!("--shrink: writing {}", path.display()))?;
    let page = path.with_extension("html");
    std::fs::write(&page, shrunk_page(plan, &world))
        .with_context(|| format!("--shrink: writing {}", page.display()))?;
    Ok(path)
}

/// The shrunk world's timeline page, each violation marked where it became visible, and an
/// engine that stopped early marked where it stopped, with its reason.
fn shrunk_page(plan: &Plan, world: &hooksim::world::World) -> String {
    let mut options = hooksim::timeline::TimelineOptions::for_world(world);
    let trace = match plan.run(world) {
        Ok(out) => out.trace,
        Err(failure) => {
            let at = hooksim::time::SimTime::from_millis(failure.partial.sim_elapsed_ms);
            options.failures.push((at, format!("{ENGINE_STOPPED}: {}", failure.error)));
            failure.partial.trace
        }
    };
    for v in hooksim::properties::check(&trace, &plan.context(world)) {
        options.failures.push((v.at, format!("{}: {}", v.signature(), v.detail)));
    }
    hooksim::timeline::render(&trace, &options)
}

/// indicatif on a terminal; a plain line every 10% otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    done: std::cell::Cell<u64>,
    failed: std::cell::Cell<u64>,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            let style =
                indicatif::ProgressStyle::with_template("{pos}/{len} seeds {per_sec} {msg} ETA {eta} {wide_bar}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress { bar, total, done: 0.into(), failed: 0.into() }
    }

    fn seed_done(&self, r: &SeedResult) {
        self.done.set(self.done.get() + 1);
        if !r.passed() {
            self.failed.set(self.failed.get() + 1);
        }
        let (done, failed) = (self.done.get(), self.failed.get());
        match &self.bar {
            Some(bar) => {
                bar.set_message(format!("{failed} failed"));
                bar.inc(1);
            }
            None if done.is_multiple_of((self.total / 10).max(1)) => {
                eprintln!("{done}/{} seeds, {failed} failed", self.total)
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
