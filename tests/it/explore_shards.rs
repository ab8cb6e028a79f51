//! `hooksim explore` and `hooksim merge` through the binary: shards merge to the bytes of one
//! run, bad coverage is bad input, and a broken world property is found.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::scratch::Scratch;

fn hooksim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hooksim")).args(args).env_remove("JOB_COMPLETION_INDEX").output().unwrap()
}

fn scratch(name: &str) -> Scratch {
    support::scratch::scratch("explore", name)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn merged(dir: &Path, files: &[PathBuf], tag: &str) -> (Output, Vec<u8>, Vec<u8>) {
    let (json, junit) = (dir.join(format!("{tag}.json")), dir.join(format!("{tag}.xml")));
    let mut args = vec!["merge", "--json", s(&json), "--junit", s(&junit)];
    args.extend(files.iter().map(|f| s(f)));
    let out = hooksim(&args);
    (out, std::fs::read(&json).unwrap_or_default(), std::fs::read(&junit).unwrap_or_default())
}

#[test]
fn four_shards_merge_to_the_bytes_of_one_run() {
    let dir = scratch("shards");
    let whole = dir.join("whole.jsonl");
    let one = hooksim(&["explore", "--seeds", "100..140", "--out", s(&whole)]);
    assert_eq!(one.status.code(), Some(0), "{}", String::from_utf8_lossy(&one.stdout));
    let mut parts = Vec::new();
    for k in 0..4 {
        let part = dir.join(format!("part{k}.jsonl"));
        let out = Command::new(env!("CARGO_BIN_EXE_hooksim"))
            .args(["explore", "--seeds", "100..140", "--out", s(&part)])
            .env("JOB_COMPLETION_INDEX", k.to_string())
            .env("HOOKSIM_SHARDS", "4")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        parts.push(part);
    }
    let (a, json_a, junit_a) = merged(&dir, &[whole], "whole");
    let (b, json_b, junit_b) = merged(&dir, &parts, "parts");
    assert_eq!(a.status.code(), Some(0), "{}", String::from_utf8_lossy(&a.stderr));
    assert_eq!(b.status.code(), Some(0), "{}", String::from_utf8_lossy(&b.stderr));
    assert!(!json_a.is_empty() && !junit_a.is_empty());
    assert_eq!(String::from_utf8_lossy(&json_a), String::from_utf8_lossy(&json_b));
    assert_eq!(junit_a, junit_b);
    assert!(String::from_utf8_lossy(&json_a).contains(r#""seeds_run": 40"#));

    // A shard missing, and one given twice: bad input, saying which.
    let (out, ..) = merged(&dir, &parts[..3], "missing");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing shard(s): 3/4"));
    let twice = [parts[0].clone(), parts[0].clone(), parts[1].clone(), parts[2].clone(), parts[3].clone()];
    let (out, ..) = merged(&dir, &twice, "twice");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("overlapping"));
}

/// Files of a directory by name, with their bytes.
type Files = Vec<(String, Vec<u8>)>;

/// The out file, the summary and each shrunk scenario and page of one run, read back.
fn explored(dir: &Path, engine: &str, seeds: &str, jobs: &str) -> (Vec<u8>, Vec<u8>, Files) {
    let (out, shrunk) = (dir.join(format!("{engine}-jobs{jobs}.jsonl")), dir.join(format!("{engine}-shrunk{jobs}")));
    let files = ["scenarios/naive-fulfils-cancelled-invoice.toml", "scenarios/week-of-failure-disables.toml"];
    let mut args = vec!["explore", files[0], files[1], "--seeds", seeds, "--engine", engine, "--claim-dedup"];
    args.extend(["--trace-entries-max", "300", "--rerun-every", "3", "--jobs", jobs, "--out", s(&out)]);
    args.extend(["--shrink", s(&shrunk)]);
    let run = hooksim(&args);
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let mut written: Files = std::fs::read_dir(&shrunk)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    written.sort();
    // The summary names the shrunk files by path: the same directory for both.
    let summary = String::from_utf8_lossy(&run.stdout).replace(s(&shrunk), "SHRUNK").into_bytes();
    (std::fs::read(&out).unwrap(), summary, written)
}

/// `--jobs` changes how fast, not what: every byte written is the same for 1 and 3 threads.
#[test]
fn one_thread_and_three_write_the_same_bytes() {
    let dir = scratch("jobs");
    for (engine, seeds) in [("model", "0..300"), ("net", "0..60")] {
        let (out1, summary1, shrunk1) = explored(&dir, engine, seeds, "1");
        let (out3, summary3, shrunk3) = explored(&dir, engine, seeds, "3");
        let text = String::from_utf8_lossy(&summary1);
        assert!(text.contains("dedup-acted-twice") && text.contains("engine-stopped"), "{text}");
        assert_eq!(String::from_utf8_lossy(&out1), String::from_utf8_lossy(&out3), "{engine}: out files");
        assert_eq!(text, String::from_utf8_lossy(&summary3), "{engine}: summaries");
        let names: Vec<&str> = shrunk1.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), 4, "{engine}: a scenario and a page per signature: {names:?}");
        assert_eq!(shrunk1, shrunk3, "{engine}: shrunk files");
        let rows: Vec<u64> = String::from_utf8_lossy(&out1)
            .lines()
            .skip(1)
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seed"].as_u64().unwrap())
            .collect();
        let (a, b) = seeds.split_once("..").unwrap();
        assert_eq!(rows, (a.parse().unwrap()..b.parse().unwrap()).collect::<Vec<u64>>(), "rows in seed order");
    }
}

#[test]
fn shards_of_different_runs_do_not_merge() {
    let dir = scratch("mismatch");
    let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    hooksim(&["explore", "--seeds", "0..8", "--shard", "0/2", "--out", s(&a)]);
    hooksim(&["explore", "--seeds", "0..8", "--shard", "1/2", "--faults-max", "1", "--out", s(&b)]);
    let (out, ..) = merged(&dir, &[a, b], "m");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rates"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Negative control: naive receivers held to dedup must be caught acting twice.
#[test]
fn a_naive_receiver_held_to_dedup_is_found() {
    let out =
        hooksim(&["explore", "scenarios/naive-fulfils-cancelled-invoice.toml", "--seeds", "0..32", "--claim-dedup"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("dedup-acted-twice"), "{stdout}");
}

/// The CI examples in docs/explore.md use the variables explore reads and the binary's flags.
#[test]
fn the_ci_examples_name_the_shard_the_way_explore_reads_it() {
    let github = std::fs::read_to_string("examples/ci/github-actions-explore.yml").unwrap();
    let k8s = std::fs::read_to_string("examples/ci/k8s-explore-job.yaml").unwrap();
    let vars: Vec<&str> = hooksim::explore::shard::ENV_SHARDS.iter().flat_map(|(i, t, _)| [*i, *t]).collect();
    for (file, index) in [(&github, "HOOKSIM_SHARD_INDEX"), (&k8s, "JOB_COMPLETION_INDEX")] {
        assert!(vars.contains(&index) && file.contains(index) && file.contains("HOOKSIM_SHARDS"));
        assert!(file.contains("hooksim explore --seeds") && file.contains("merge"));
    }
    assert!(github.contains("shard: [0, 1, 2, 3, 4, 5, 6, 7]") && k8s.contains("completionMode: Indexed"));
    // The shard variables as the GitHub matrix sets them run shard 7 of 8.
    let out = Command::new(env!("CARGO_BIN_EXE_hooksim"))
        .args(["explore", "--seeds", "0..16"])
        .env_remove("JOB_COMPLETION_INDEX")
        .env("HOOKSIM_SHARD_INDEX", "7")
        .env("HOOKSIM_SHARDS", "8")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("seeds 14..16 (shard 7/8 of 0..16)"));
}
