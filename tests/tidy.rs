//! Tidy: the source obeys the invariants that no type can enforce (ARCHITECTURE.md,
//! "Invariants"). The crates depend on each other only downwards (core, sim, net, hooksim), and
//! the two lower crates declare no async runtime or network crate in their `Cargo.toml` (so the
//! compiler holds the layering; this test holds the manifests); inside the `hooksim` crate each
//! module names only the modules its layer may; the sans-IO layers name no async runtime or
//! network crate; no hash-ordered collection anywhere in the source; the wall clock and the OS's entropy only in the files that
//! ARCHITECTURE.md allows, read from ARCHITECTURE.md itself so the list and the check cannot drift;
//! the binary prints through `outln!`, which survives a closed pipe; Cargo.lock keeps the cold
//! build's choices (ring, an ASCII-only idna, one syn); the package holds what a user needs.
//!
//! The scan is textual, over code lines (comment lines are skipped so that a doc may name what
//! it avoids). Each rule has a negative control: a planted violation it reports.

use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Crates the sans-IO core must not name.
const IO_CRATES: [&str; 5] = ["tokio", "turmoil", "hyper", "axum", "reqwest"];

/// Hash-ordered collections: their iteration order depends on a random hasher.
const HASHED: [&str; 2] = ["HashMap", "HashSet"];

/// Reads of the wall clock or of the OS's entropy.
const WALL_CLOCK: [&str; 9] = [
    "SystemTime::now",
    "Instant::now",
    "thread_rng",
    "rand::rng()",
    "rand::random",
    "new_v4",
    "OsRng",
    "from_os_rng",
    "from_entropy",
];

/// Source roots without IO: their files may not name an IO crate (and their crates may not
/// depend on one, [`the_crates_depend_only_downwards`]).
const SANS_IO_ROOTS: [&str; 2] = ["crates/hooksim-core/src/", "crates/hooksim-sim/src/"];

/// Every source root, walked by the scan.
const SOURCE_ROOTS: [&str; 4] = ["src", "crates/hooksim-core/src", "crates/hooksim-sim/src", "crates/hooksim-net/src"];

/// The workspace's crates, bottom up, with the hooksim crates each may depend on.
const LAYERS: [(&str, &[&str]); 4] = [
    ("crates/hooksim-core", &[]),
    ("crates/hooksim-sim", &["hooksim-core"]),
    ("crates/hooksim-net", &["hooksim-core", "hooksim-sim"]),
    (".", &["hooksim-core", "hooksim-sim", "hooksim-net"]),
];

/// Inside the `hooksim` crate: the top modules each module may not name (`crate::x`). The
/// timeline draws a trace and knows nothing of runs; the runner runs scenarios and knows
/// nothing of certification or exploration; certification does not explore, exploration does
/// not certify.
const MODULE_RULES: [(&str, &[&str]); 4] = [
    ("src/timeline", &["runner", "certify", "explore", "net", "live", "protocol", "receiver"]),
    ("src/runner", &["certify", "explore", "timeline"]),
    ("src/certify", &["runner", "explore", "timeline"]),
    ("src/explore", &["certify", "live"]),
];

const ALLOWED_START: &str = "<!-- tidy: wall-clock allowed";
const ALLOWED_END: &str = "<!-- /tidy -->";

/// `(line number, code)` of every line that is not a comment.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim_start().starts_with("//"))
}

/// Every violation in one file, as `path:line: message`. `path` is relative to the crate root,
/// with `/` separators; `wall_clock_allowed` comes from ARCHITECTURE.md.
fn violations(path: &str, text: &str, wall_clock_allowed: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let in_core = SANS_IO_ROOTS.iter().any(|root| path.starts_with(root));
    let clock_allowed = wall_clock_allowed.iter().any(|a| a == path);
    let forbidden: &[&str] = MODULE_RULES.iter().find(|(root, _)| path.starts_with(root)).map_or(&[], |(_, f)| f);
    for (n, line) in code_lines(text) {
        for module in forbidden {
            if line.contains(&format!("crate::{module}::")) || line.contains(&format!("crate::{module};")) {
                found.push(format!(
                    "{path}:{n}: names `crate::{module}`, which its layer may not (tests/tidy.rs MODULE_RULES)"
                ));
            }
        }
        if in_core {
            for krate in IO_CRATES {
                if line.contains(&format!("{krate}::")) || line.contains(&format!("use {krate}")) {
                    found.push(format!("{path}:{n}: the sans-IO core names `{krate}`"));
                }
            }
        }
        for name in HASHED {
            if line.contains(name) {
                found.push(format!("{path}:{n}: `{name}` iterates in hash order; use a BTreeMap/BTreeSet or a Vec"));
            }
        }
        let prints = ["println!(", "print!("].iter().any(|m| line.contains(m) && !line.contains(&format!("e{m}")));
        if path.starts_with("src/cli/") && path != "src/cli/stdout.rs" && prints {
            found
                .push(format!("{path}:{n}: `println!` panics when a pipe closes (`hooksim run | head`); use `outln!`"));
        }
        if !clock_allowed {
            for read in WALL_CLOCK {
                if line.contains(read) {
                    found.push(format!(
                        "{path}:{n}: `{read}` reads the wall clock or the OS's entropy; only the files \
                         ARCHITECTURE.md lists may (add it there, with why, if it must)"
                    ));
                }
            }
        }
    }
    found
}

/// The files ARCHITECTURE.md allows to read the wall clock: the first `` `path` `` of each item
/// between the two tidy markers.
fn wall_clock_allowed(architecture: &str) -> Result<Vec<String>, String> {
    let start = architecture.find(ALLOWED_START).ok_or("ARCHITECTURE.md has no wall-clock list")?;
    let rest = &architecture[start..];
    let end = rest.find(ALLOWED_END).ok_or("the wall-clock list in ARCHITECTURE.md is not closed")?;
    let mut paths = Vec::new();
    for item in rest[..end].lines().skip(1) {
        let item = item.trim();
        let path = item.strip_prefix("- `").and_then(|r| r.split_once('`')).map(|(p, _)| p);
        match path {
            Some(p) => paths.push(p.to_string()),
            None if item.is_empty() => {}
            None => return Err(format!("not a `- `path`: why` item in the wall-clock list: {item:?}")),
        }
    }
    Ok(paths)
}

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn allowed_from_architecture() -> Vec<String> {
    let text = std::fs::read_to_string(crate_root().join("ARCHITECTURE.md")).unwrap();
    wall_clock_allowed(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn relative(path: &Path) -> String {
    let rel = path.strip_prefix(crate_root()).unwrap();
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

#[test]
fn the_source_keeps_the_invariants() {
    let allowed = allowed_from_architecture();
    let mut found = Vec::new();
    let mut files = 0;
    for root in SOURCE_ROOTS {
        for entry in WalkDir::new(crate_root().join(root)).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(entry.path()).unwrap();
                found.extend(violations(&relative(entry.path()), &text, &allowed));
                files += 1;
            }
        }
    }
    assert!(files > 100, "found only {files} source files");
    assert!(found.is_empty(), "\n{}", found.join("\n"));
}

/// The `[dependencies]` table's crate names in a `Cargo.toml` (one `name = ...` per line).
fn dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
        } else if in_deps && let Some((name, _)) = line.split_once('=') {
            names.push(name.trim().to_string());
        }
    }
    names
}

/// What is wrong with one crate's dependencies: a hooksim crate above its layer, or an IO crate
/// in a sans-IO crate.
fn layer_violations(dir: &str, allowed: &[&str], deps: &[String]) -> Vec<String> {
    let sans_io = SANS_IO_ROOTS.iter().any(|root| root.starts_with(&format!("{dir}/")));
    let mut found = Vec::new();
    for dep in deps {
        if dep.starts_with("hooksim") && !allowed.contains(&dep.as_str()) {
            found.push(format!("{dir}/Cargo.toml: depends on `{dep}`, above or beside its layer"));
        }
        if sans_io && IO_CRATES.iter().any(|io| dep == io || dep.starts_with(&format!("{io}-"))) {
            found.push(format!("{dir}/Cargo.toml: a crate without IO depends on `{dep}`"));
        }
    }
    found
}

#[test]
fn the_crates_depend_only_downwards() {
    let mut found = Vec::new();
    for (dir, allowed) in LAYERS {
        let manifest = std::fs::read_to_string(crate_root().join(dir).join("Cargo.toml")).unwrap();
        let deps = dependencies(&manifest);
        assert!(!deps.is_empty() || dir == "crates/hooksim-core", "{dir}/Cargo.toml: no dependencies read");
        found.extend(layer_violations(dir, allowed, &deps));
    }
    assert!(found.is_empty(), "\n{}", found.join("\n"));
}

#[test]
fn a_lower_crate_naming_an_upper_one_or_an_io_crate_is_reported() {
    let deps =
        dependencies("[package]\nname = \"x\"\n[dependencies]\nhooksim-net = { workspace = true }\ntokio = \"1\"\n");
    let found = layer_violations("crates/hooksim-sim", &["hooksim-core"], &deps);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("`hooksim-net`") && found[1].contains("`tokio`"));
    assert!(layer_violations("crates/hooksim-net", &["hooksim-core"], &["tokio".to_string()]).is_empty());
}

#[test]
fn a_module_naming_one_its_layer_may_not_is_reported() {
    let found = violations("src/runner/human.rs", "use crate::certify::Report;\n", &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("src/runner/human.rs:1: names `crate::certify`"));
    assert!(violations("src/cli/run.rs", "use crate::certify::Report;\n", &[]).is_empty());
}

#[test]
fn every_file_allowed_the_wall_clock_exists() {
    let allowed = allowed_from_architecture();
    assert!(!allowed.is_empty());
    for path in allowed {
        assert!(crate_root().join(&path).is_file(), "ARCHITECTURE.md allows the wall clock in {path}, which is gone");
    }
}

// Negative controls: each rule reports a planted violation, and only where it applies.

#[test]
fn the_core_may_not_name_an_io_crate() {
    let code = "use std::fmt;\nuse tokio::time::sleep;\nfn f() { let _ = hyper::StatusCode::OK; }\n";
    let found = violations("crates/hooksim-core/src/core/health.rs", code, &[]);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("crates/hooksim-core/src/core/health.rs:2: ") && found[0].contains("`tokio`"));
    assert!(found[1].starts_with("crates/hooksim-core/src/core/health.rs:3: ") && found[1].contains("`hyper`"));
    assert!(violations("crates/hooksim-net/src/net/http.rs", code, &[]).is_empty(), "shells may use them");
    assert!(violations("crates/hooksim-core/src/core/x.rs", "// tokio::spawn would be wrong here\n", &[]).is_empty());
}

#[test]
fn no_hash_ordered_collection_anywhere() {
    let code = "use std::collections::HashMap;\nlet s: HashSet<u8> = HashSet::new();\n";
    let found = violations("src/scenario/load.rs", code, &[]);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[1].starts_with("src/scenario/load.rs:2: `HashSet`"));
}

#[test]
fn the_wall_clock_only_where_allowed() {
    let code = "let t = std::time::Instant::now();\nlet id = Uuid::new_v4();\nlet mut r = rand::rng();\n";
    let found = violations("src/model/engine.rs", code, &[]);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].starts_with("src/model/engine.rs:1: `Instant::now`"));
    let allowed = vec!["src/model/engine.rs".to_string()];
    assert!(violations("src/model/engine.rs", code, &allowed).is_empty());
}

#[test]
fn the_binary_prints_through_its_pipe_tolerant_macros() {
    let code = "println!(\"x\");\neprintln!(\"y\");\noutln!(\"z\");\n";
    let found = violations("src/cli/run.rs", code, &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("src/cli/run.rs:1: `println!`"));
    assert!(violations("src/cli/stdout.rs", code, &[]).is_empty());
}

#[test]
fn the_allowed_list_is_read_from_its_markers() {
    let doc = "text `src/x.rs`\n<!-- tidy: wall-clock allowed -->\n  - `src/a.rs`: why\n\n  - `src/b/c.rs`: why\n<!-- /tidy -->\n- `src/d.rs`\n";
    assert_eq!(wall_clock_allowed(doc).unwrap(), ["src/a.rs", "src/b/c.rs"]);
    assert!(wall_clock_allowed("no list").is_err());
    assert!(wall_clock_allowed("<!-- tidy: wall-clock allowed -->\n  - src/a.rs\n<!-- /tidy -->").is_err());
}

// The cold build's choices (issue: a cold build in minutes) live in Cargo.lock, where a
// `cargo update` can quietly undo them; these tests say so, and what to run.

/// What to run after a `cargo update`, to return to one syn: the last releases built on syn 2.
const SYN2_HOLDS: &str = "cargo update -p serde --precise 1.0.228 && cargo update -p clap --precise 4.6.3 && \
cargo update -p tokio-macros --precise 2.7.1 && cargo update -p thiserror@2 --precise 2.0.18 && \
cargo update -p ref-cast --precise 1.0.25";

/// Every `(name, version)` package in a `Cargo.lock`.
fn locked_packages(lock: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(value) = line.strip_prefix("name = ") {
            name = Some(value.trim_matches('"').to_string());
        } else if let (Some(value), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            found.push((n, value.trim_matches('"').to_string()));
        }
    }
    found
}

/// What is wrong with the locked packages: aws-lc's C build, or an idna_adapter other than the
/// ASCII-only 1.0.0 (later releases compile the ICU stack).
fn lock_violations(packages: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, version) in packages {
        if name.starts_with("aws-lc") {
            found.push(format!("Cargo.lock: `{name}` {version}: reqwest and rustls use ring (Cargo.toml)"));
        }
        if name == "idna_adapter" && version != "1.0.0" {
            found.push(format!(
                "Cargo.lock: idna_adapter {version}: run `cargo update -p idna_adapter --precise 1.0.0` (ASCII only)"
            ));
        }
    }
    found
}

/// The versions of `krate` in `cargo tree --prefix none` output, each once.
fn versions_in_tree(tree: &str, krate: &str) -> std::collections::BTreeSet<String> {
    let prefix = format!("{krate} v");
    tree.lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_lockfile_keeps_the_cold_build_choices() {
    let lock = std::fs::read_to_string(crate_root().join("Cargo.lock")).unwrap();
    let packages = locked_packages(&lock);
    assert!(packages.iter().any(|(name, _)| name == "serde"), "Cargo.lock: no package read");
    let found = lock_violations(&packages);
    assert!(found.is_empty(), "\n{}", found.join("\n"));
}

/// One syn is compiled for this machine (Cargo.lock may list another that only wasm targets
/// reach). Asks cargo itself, offline: the lock's graph without a target filter is not the
/// build's.
#[test]
fn the_build_compiles_one_syn() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = std::process::Command::new(cargo)
        .current_dir(crate_root())
        .args(["tree", "--locked", "--offline", "--workspace", "--all-features"])
        .args(["-e", "normal,build,dev", "--prefix", "none", "--format", "{p}"])
        .output()
        .expect("cargo tree runs");
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "cargo tree failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let syns = versions_in_tree(&tree, "syn");
    assert_eq!(syns.len(), 1, "syn versions compiled: {syns:?}; after a `cargo update`, run:\n{SYN2_HOLDS}");
}

#[test]
fn a_second_syn_or_a_c_crypto_build_is_reported() {
    let tree = "hooksim v0.1.0 (/x)\nsyn v2.0.119\nsyn v3.0.10 (*)\nsyn v2.0.119 (*)\nsynstructure v0.13.1\n";
    assert_eq!(versions_in_tree(tree, "syn").len(), 2);
    assert_eq!(versions_in_tree("syn v2.0.119\nsynstructure v0.13.1\n", "syn").len(), 1);
    let lock = "[[package]]\nname = \"aws-lc-sys\"\nversion = \"0.30.0\"\n\n[[package]]\nname = \"idna_adapter\"\nversion = \"1.2.1\"\n";
    let found = lock_violations(&locked_packages(lock));
    assert_eq!(found.len(), 2, "{found:?}");
    let held = "[[package]]\nname = \"idna_adapter\"\nversion = \"1.0.0\"\n";
    assert!(lock_violations(&locked_packages(held)).is_empty());
}

/// The files `cargo package` would ship, with what is wrong with the list: a test snapshot, a
/// build output, an npm install, or more than `bytes_max` in all.
fn package_violations(listed: &[(String, u64)], bytes_max: u64) -> Vec<String> {
    let mut found: Vec<String> = listed
        .iter()
        .filter(|(path, _)| path.contains("node_modules/") || path.starts_with("tests/") || path.starts_with("target/"))
        .map(|(path, _)| format!("the package holds `{path}` (Cargo.toml's `include`)"))
        .collect();
    let total: u64 = listed.iter().map(|(_, bytes)| bytes).sum();
    if total > bytes_max {
        found.push(format!("the package holds {total} bytes, over {bytes_max}"));
    }
    found
}

/// What a user gets is what they need: the code, the libraries, examples and docs, about 1.6 MB
/// before compression; never the tests' snapshots or what npm installed beside an example.
#[test]
fn the_crate_holds_what_a_user_needs() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = std::process::Command::new(cargo)
        .current_dir(crate_root())
        .args(["package", "--list", "--locked", "--offline", "--allow-dirty", "-p", "hooksim"])
        .output()
        .expect("cargo package runs");
    assert!(output.status.success(), "cargo package --list:\n{}", String::from_utf8_lossy(&output.stderr));
    let listed: Vec<(String, u64)> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|path| (path.to_string(), std::fs::metadata(crate_root().join(path)).map_or(0, |m| m.len())))
        .collect();
    assert!(listed.iter().any(|(path, _)| path == "src/lib.rs"), "{listed:?}");
    let found = package_violations(&listed, 2_500_000);
    assert!(found.is_empty(), "\n{}", found.join("\n"));
}

#[test]
fn a_snapshot_an_npm_install_or_an_oversized_package_is_reported() {
    let listed = |paths: &[(&str, u64)]| paths.iter().map(|(p, b)| (p.to_string(), *b)).collect::<Vec<_>>();
    let bad = listed(&[
        ("src/lib.rs", 10),
        ("tests/it/snapshots/a.snap", 10),
        ("examples/receivers/octokit/node_modules/x/index.js", 10),
    ]);
    assert_eq!(package_violations(&bad, 1_000).len(), 2);
    assert_eq!(package_violations(&listed(&[("src/lib.rs", 2_000)]), 1_000).len(), 1);
    assert!(package_violations(&listed(&[("src/lib.rs", 10)]), 1_000).is_empty());
}
