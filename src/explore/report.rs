//! Explore out files and their merge. An out file is JSON lines: a manifest (what ran, on
//! which binary, which seeds), then one [`SeedResult`] per seed. [`merge`] checks that a set
//! of files covers one run's seeds exactly (no shard missing, none twice, all of the same run)
//! and groups the failures by signature. The merged report holds nothing a shard alone knows:
//! 4 shards merge to the bytes of one run over the same seeds.

use super::nemesis::Rates;
use super::search::{ENGINE_STOPPED, SeedResult};
use super::shard::{SHARDS_MAX, SeedRange, Shard};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Seeds of each signature listed in a report (the count is always complete).
pub const SEEDS_LISTED_MAX: usize = 20;

/// The largest out file `merge` reads: about two million seeds' lines. A larger file is refused
/// (nothing of it is merged).
pub const OUT_FILE_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// Errors listed per out file; the count past them is still given.
pub const ERRORS_PER_FILE_MAX: usize = 20;

/// A scenario file used as a template, by content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioHash {
    /// The file as given on the command line.
    pub file: String,
    /// The SHA-256 of its content, hex.
    pub sha256: String,
}

/// The first line of an out file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The hooksim version that ran.
    pub hooksim: String,
    /// sha256 of the binary that ran (shards built differently do not merge).
    pub binary_sha256: String,
    /// The template scenarios and their hashes; empty for the built-in world.
    pub scenarios: Vec<ScenarioHash>,
    /// The engine: `model` or `net`.
    pub engine: String,
    /// The fault rates of the generated worlds.
    pub rates: Rates,
    /// `--claim-dedup`: every receiver held to acting once per uuid.
    pub claim_dedup: bool,
    /// The dispatcher command (`--dispatcher`), as given; absent: the reference core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatcher: Option<String>,
    /// `--trace-entries-max`, when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_entries_max: Option<usize>,
    /// `--inputs-per-run-max`, when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs_per_run_max: Option<u64>,
    /// Every n-th seed ran twice to check determinism; 0: never.
    pub rerun_every: u64,
    /// The whole run's seeds, and this shard's part of them.
    pub seeds: SeedRange,
    /// This file's shard, `K/N`.
    pub shard: Shard,
    /// The seeds of this shard.
    pub shard_seeds: SeedRange,
}

impl Manifest {
    /// Everything but the shard: what all shards of one run share.
    fn run_key(&self) -> Manifest {
        Manifest { shard: Shard::WHOLE, shard_seeds: self.seeds, ..self.clone() }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestLine {
    manifest: Manifest,
}

/// The manifest's JSON line (`{"manifest": {...}}`).
pub fn manifest_line(m: &Manifest) -> String {
    serde_json::to_string(&ManifestLine { manifest: m.clone() }).expect("a manifest serialises")
}

/// A seed result's JSON line.
pub fn seed_line(r: &SeedResult) -> String {
    serde_json::to_string(r).expect("a result serialises")
}

/// One out file, read back.
#[derive(Clone, Debug)]
pub struct OutFile {
    /// The file's name.
    pub name: String,
    /// Its first line.
    pub manifest: Manifest,
    /// One result per seed, in seed order.
    pub results: Vec<SeedResult>,
}

/// Why files do not merge: every problem found, for people.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct MergeError(pub Vec<String>);

/// Reads the out file `name` from its `text`: every field of every line checked (see
/// [`check_manifest`], [`check_row`]), each problem named `file:line`.
pub fn read_out(name: &str, text: &str) -> Result<OutFile, MergeError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let manifest = match lines.next() {
        Some((i, l)) => {
            let at = format!("{name}:{}", i + 1);
            let manifest = serde_json::from_str::<ManifestLine>(l)
                .map_err(|e| MergeError(vec![format!("{at}: not an explore manifest: {e}")]))?
                .manifest;
            let problems = check_manifest(&manifest);
            if !problems.is_empty() {
                return Err(MergeError(problems.into_iter().map(|p| format!("{at}: manifest: {p}")).collect()));
            }
            manifest
        }
        None => return Err(MergeError(vec![format!("{name}: empty (no manifest)")])),
    };
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (i, l) in lines {
        let row = serde_json::from_str::<SeedResult>(l)
            .map_err(|e| format!("not a seed result: {e}"))
            .and_then(|r| check_row(&r).map(|()| r));
        match row {
            Ok(r) => results.push(r),
            Err(e) => errors.push(format!("{name}:{}: {e}", i + 1)),
        }
    }
    if errors.len() > ERRORS_PER_FILE_MAX {
        let more = errors.len() - ERRORS_PER_FILE_MAX;
        errors.truncate(ERRORS_PER_FILE_MAX);
        errors.push(format!("{name}: {more} more bad line(s)"));
    }
    if errors.is_empty() { Ok(OutFile { name: name.into(), manifest, results }) } else { Err(MergeError(errors)) }
}

/// What is wrong with a manifest's fields, each as a phrase (empty: nothing).
pub fn check_manifest(m: &Manifest) -> Vec<String> {
    let mut problems = Vec::new();
    if m.hooksim.is_empty() {
        problems.push("`hooksim` (the version) is empty".to_string());
    }
    if !is_hex(&m.binary_sha256, 64) {
        problems.push(format!("`binary_sha256` is not 64 hex digits: {:?}", m.binary_sha256));
    }
    for s in &m.scenarios {
        if s.file.is_empty() || !is_hex(&s.sha256, 64) {
            problems.push(format!("scenario {:?}: a file name and 64 hex digits of sha256 expected", s.file));
        }
    }
    if !["model", "net"].contains(&m.engine.as_str()) {
        problems.push(format!("`engine` is {:?}, not model or net", m.engine));
    }
    if let Err(e) = m.rates.check() {
        problems.push(format!("`rates` {e}"));
    }
    if m.dispatcher.as_ref().is_some_and(|d| d.trim().is_empty()) {
        problems.push("`dispatcher` is empty".to_string());
    }
    if m.trace_entries_max == Some(0) || m.inputs_per_run_max == Some(0) {
        problems.push("a budget (`trace_entries_max`, `inputs_per_run_max`) of 0".to_string());
    }
    if m.seeds.is_empty() {
        problems.push(format!("`seeds` {} is empty (A..B needs A < B)", m.seeds));
    }
    if !m.shard.is_valid() {
        problems.push(format!(
            "`shard` {} is not a shard: K/N needs K < N and 1 <= N <= {SHARDS_MAX} (SHARDS_MAX)",
            m.shard
        ));
    } else if !m.seeds.is_empty() && m.shard_seeds != m.shard.of(m.seeds) {
        problems.push(format!(
            "`shard_seeds` {} is not shard {}'s part of {} ({})",
            m.shard_seeds,
            m.shard,
            m.seeds,
            m.shard.of(m.seeds)
        ));
    }
    problems
}

/// What is wrong with one seed's line, if anything: a verdict other than `pass` or `fail`, one
/// that disagrees with the signatures (a `fail` with none, a `pass` with some), signatures not
/// sorted and distinct or not kebab-case, a hash that is not 32 hex digits, a reason to stop
/// without `engine-stopped`.
pub fn check_row(r: &SeedResult) -> Result<(), String> {
    let seed = r.seed;
    match r.verdict.as_str() {
        "pass" if !r.signatures.is_empty() => {
            return Err(format!("seed {seed}: verdict \"pass\" with failure signatures {:?}", r.signatures));
        }
        "fail" if r.signatures.is_empty() => {
            return Err(format!("seed {seed}: verdict \"fail\" without a failure signature"));
        }
        "pass" | "fail" => {}
        other => return Err(format!("seed {seed}: unknown verdict {other:?} (pass or fail)")),
    }
    if !is_hex(&r.trace_hash, 32) {
        return Err(format!("seed {seed}: `trace_hash` is not 32 hex digits: {:?}", r.trace_hash));
    }
    if let Some(bad) = r.signatures.iter().find(|s| !is_signature(s)) {
        return Err(format!("seed {seed}: {bad:?} is not a failure signature (lowercase words joined by -)"));
    }
    if r.signatures.windows(2).any(|w| w[0] >= w[1]) {
        return Err(format!("seed {seed}: signatures not sorted and distinct: {:?}", r.signatures));
    }
    if r.stopped.is_some() && !r.signatures.iter().any(|s| s == ENGINE_STOPPED) {
        return Err(format!("seed {seed}: `stopped` without the {ENGINE_STOPPED} signature"));
    }
    Ok(())
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_signature(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('-')
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The merged report of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Merged {
    /// The shards' common manifest, flattened, as one whole shard (`0/1`) covering every seed.
    #[serde(flatten)]
    pub run: Manifest,
    /// Seeds run across every shard.
    pub seeds_run: u64,
    /// Seeds that kept every property.
    pub passed: u64,
    /// Seeds that broke one.
    pub failed: u64,
    /// The failures, one group per signature.
    pub failures: Vec<SignatureGroup>,
}

/// The seeds that failed with one signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureGroup {
    /// The breach's signature, e.g. `delivery-lost`.
    pub signature: String,
    /// How many seeds failed with it.
    pub seeds_failed: u64,
    /// The first [`SEEDS_LISTED_MAX`] seeds, ascending.
    pub seeds: Vec<u64>,
    /// For [`ENGINE_STOPPED`]: why the engine stopped on the first seed that says (the error, the
    /// limit it names if it was one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// The failures of `results` by signature, in signature order.
pub fn group(results: &[SeedResult]) -> Vec<SignatureGroup> {
    let mut by: BTreeMap<&str, Vec<(u64, Option<&str>)>> = BTreeMap::new();
    for r in results {
        for s in &r.signatures {
            by.entry(s).or_default().push((r.seed, r.stopped.as_deref().filter(|_| s == ENGINE_STOPPED)));
        }
    }
    by.into_iter()
        .map(|(s, mut seeds)| {
            seeds.sort_unstable();
            let n = seeds.len() as u64;
            let stopped = seeds.iter().find_map(|(seed, why)| why.map(|w| format!("seed {seed}: {w}")));
            let seeds = seeds.iter().take(SEEDS_LISTED_MAX).map(|(seed, _)| *seed).collect();
            SignatureGroup { signature: s.into(), seeds_failed: n, seeds, stopped }
        })
        .collect()
}

/// Checks coverage and merges. Every problem is reported at once.
pub fn merge(files: &[OutFile]) -> Result<Merged, MergeError> {
    let Some(first) = files.first() else { return Err(MergeError(vec!["no files to merge".into()])) };
    let key = first.manifest.run_key();
    let mut errors = Vec::new();
    for f in files.iter().filter(|f| f.manifest.run_key() != key) {
        errors.push(format!(
            "{}: a different run from {} (manifests differ: {})",
            f.name,
            first.name,
            differing(&key, &f.manifest.run_key())
        ));
    }
    let total = first.manifest.shard.total;
    let mut seen: BTreeMap<u64, &str> = BTreeMap::new();
    for f in files {
        let m = &f.manifest;
        if m.shard.total != total {
            errors.push(format!(
                "{}: shard {} of a run in {} shards, {} says {}",
                f.name, m.shard, m.shard.total, first.name, total
            ));
            continue;
        }
        if let Some(other) = seen.insert(m.shard.index, &f.name) {
            errors.push(format!("{}: shard {} is also in {other} (overlapping)", f.name, m.shard));
        }
        let want = m.shard.of(m.seeds);
        // Compared seed by seed: the range may be far longer than the file (never collected).
        let holds = f.results.len() as u64 == want.len() && f.results.iter().map(|r| r.seed).eq(want.start..want.end);
        if m.shard_seeds != want || !holds {
            errors.push(format!(
                "{}: shard {} should hold seeds {want} once each, in order; it holds {} result(s){}",
                f.name,
                m.shard,
                f.results.len(),
                f.results.first().map_or(String::new(), |r| format!(" from seed {}", r.seed))
            ));
        }
    }
    // `read_out` checked every manifest: `total` is at most SHARDS_MAX.
    let missing: Vec<String> = (0..total.min(SHARDS_MAX))
        .filter(|k| !seen.contains_key(k))
        .take(SEEDS_LISTED_MAX)
        .map(|k| format!("{k}/{total}"))
        .collect();
    if !missing.is_empty() {
        let count = total.min(SHARDS_MAX) - seen.keys().filter(|k| **k < total).count() as u64;
        let more = if count > missing.len() as u64 {
            format!(" and {} more", count - missing.len() as u64)
        } else {
            String::new()
        };
        errors.push(format!("missing shard(s): {}{more}", missing.join(", ")));
    }
    if !errors.is_empty() {
        return Err(MergeError(errors));
    }
    let mut results: Vec<SeedResult> = files.iter().flat_map(|f| f.results.iter().cloned()).collect();
    results.sort_by_key(|r| r.seed);
    let failed = results.iter().filter(|r| !r.passed()).count() as u64;
    Ok(Merged {
        run: key,
        seeds_run: results.len() as u64,
        passed: results.len() as u64 - failed,
        failed,
        failures: group(&results),
    })
}

fn differing(a: &Manifest, b: &Manifest) -> String {
    let (a, b) = (serde_json::to_value(a).unwrap_or_default(), serde_json::to_value(b).unwrap_or_default());
    let fields: Vec<String> = a
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| b.get(k.as_str()) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    fields.join(", ")
}

impl Merged {
    /// The merged report as pretty JSON, with a final newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serialises") + "\n"
    }

    /// One test case per signature (failed, with its seeds), or one passing case for the run.
    pub fn to_junit(&self) -> Result<String, quick_junit::SerializeError> {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suite = TestSuite::new(format!("hooksim explore seeds {}", self.run.seeds));
        if self.failures.is_empty() {
            suite.add_test_case(TestCase::new(
                format!("{} seeds keep every property", self.seeds_run),
                TestCaseStatus::success(),
            ));
        }
        for g in &self.failures {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let why = g.stopped.as_ref().map(|w| format!("; {w}")).unwrap_or_default();
            status.set_message(format!(
                "{} seed(s) fail with {}; first seeds {:?}{why}",
                g.seeds_failed, g.signature, g.seeds
            ));
            suite.add_test_case(TestCase::new(g.signature.clone(), status));
        }
        let mut report = Report::new("hooksim explore");
        report.add_test_suite(suite);
        report.to_string()
    }
}
