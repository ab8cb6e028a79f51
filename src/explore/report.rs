//! Explore out files and their merge. An out file is JSON lines: a manifest (what ran, on
//! which binary, which seeds), then one [`SeedResult`] per seed. [`merge`] checks that a set
//! of files covers one run's seeds exactly (no shard missing, none twice, all of the same run)
//! and groups the failures by signature. The merged report holds nothing a shard alone knows:
//! 4 shards merge to the bytes of one run over the same seeds.

use super::nemesis::Rates;
use super::search::SeedResult;
use super::shard::{SeedRange, Shard};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Seeds of each signature listed in a report (the count is always complete).
pub const SEEDS_LISTED_MAX: usize = 20;

/// A scenario file used as a template, by content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioHash {
    pub file: String,
    pub sha256: String,
}

/// The first line of an out file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub hooksim: String,
    /// sha256 of the binary that ran (shards built differently do not merge).
    pub binary_sha256: String,
    pub scenarios: Vec<ScenarioHash>,
    pub engine: String,
    pub rates: Rates,
    pub claim_dedup: bool,
    /// The dispatcher command (`--dispatcher`), as given; absent: the reference core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatcher: Option<String>,
    pub rerun_every: u64,
    /// The whole run's seeds, and this shard's part of them.
    pub seeds: SeedRange,
    pub shard: Shard,
    pub shard_seeds: SeedRange,
}

impl Manifest {
    /// Everything but the shard: what all shards of one run share.
    fn run_key(&self) -> Manifest {
        Manifest { shard: Shard::WHOLE, shard_seeds: self.seeds, ..self.clone() }
    }
}

#[derive(Serialize, Deserialize)]
struct ManifestLine {
    manifest: Manifest,
}

pub fn manifest_line(m: &Manifest) -> String {
    serde_json::to_string(&ManifestLine { manifest: m.clone() }).expect("a manifest serialises")
}

pub fn seed_line(r: &SeedResult) -> String {
    serde_json::to_string(r).expect("a result serialises")
}

/// One out file, read back.
#[derive(Clone, Debug)]
pub struct OutFile {
    pub name: String,
    pub manifest: Manifest,
    pub results: Vec<SeedResult>,
}

/// Why files do not merge: every problem found, for people.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct MergeError(pub Vec<String>);

pub fn read_out(name: &str, text: &str) -> Result<OutFile, MergeError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let manifest = match lines.next() {
        Some((_, l)) => {
            serde_json::from_str::<ManifestLine>(l)
                .map_err(|e| MergeError(vec![format!("{name}:1: not an explore manifest: {e}")]))?
                .manifest
        }
        None => return Err(MergeError(vec![format!("{name}: empty (no manifest)")])),
    };
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (i, l) in lines {
        match serde_json::from_str::<SeedResult>(l) {
            Ok(r) => results.push(r),
            Err(e) => errors.push(format!("{name}:{}: not a seed result: {e}", i + 1)),
        }
    }
    if errors.is_empty() { Ok(OutFile { name: name.into(), manifest, results }) } else { Err(MergeError(errors)) }
}

/// The merged report of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Merged {
    #[serde(flatten)]
    pub run: Manifest,
    pub seeds_run: u64,
    pub passed: u64,
    pub failed: u64,
    pub failures: Vec<SignatureGroup>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureGroup {
    pub signature: String,
    pub seeds_failed: u64,
    /// The first [`SEEDS_LISTED_MAX`] seeds, ascending.
    pub seeds: Vec<u64>,
}

/// The failures of `results` by signature, in signature order.
pub fn group(results: &[SeedResult]) -> Vec<SignatureGroup> {
    let mut by: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for r in results {
        for s in &r.signatures {
            by.entry(s).or_default().push(r.seed);
        }
    }
    by.into_iter()
        .map(|(s, mut seeds)| {
            seeds.sort_unstable();
            let n = seeds.len() as u64;
            seeds.truncate(SEEDS_LISTED_MAX);
            SignatureGroup { signature: s.into(), seeds_failed: n, seeds }
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
        let got: Vec<u64> = f.results.iter().map(|r| r.seed).collect();
        if m.shard_seeds != want || got != (want.start..want.end).collect::<Vec<_>>() {
            errors.push(format!(
                "{}: shard {} should hold seeds {want} once each, in order; it holds {} result(s){}",
                f.name,
                m.shard,
                got.len(),
                got.first().map_or(String::new(), |s| format!(" from seed {s}"))
            ));
        }
    }
    let missing: Vec<String> = (0..total).filter(|k| !seen.contains_key(k)).map(|k| format!("{k}/{total}")).collect();
    if !missing.is_empty() && total <= 1_000_000 {
        errors.push(format!("missing shard(s): {}", missing.join(", ")));
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
            status.set_message(format!(
                "{} seed(s) fail with {}; first seeds {:?}",
                g.seeds_failed, g.signature, g.seeds
            ));
            suite.add_test_case(TestCase::new(g.signature.clone(), status));
        }
        let mut report = Report::new("hooksim explore");
        report.add_test_suite(suite);
        report.to_string()
    }
}
