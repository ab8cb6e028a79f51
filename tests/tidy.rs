//! Tidy: the source obeys the invariants that no type can enforce (ARCHITECTURE.md,
//! "Invariants"). The sans-IO core names no async runtime or network crate; no hash-ordered
//! collection anywhere under `src/`; the wall clock and the OS's entropy only in the files that
//! ARCHITECTURE.md allows, read from ARCHITECTURE.md itself so the list and the check cannot drift;
//! the binary prints through `outln!`, which survives a closed pipe.
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
    let in_core = path.starts_with("src/core/");
    let clock_allowed = wall_clock_allowed.iter().any(|a| a == path);
    for (n, line) in code_lines(text) {
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
    for entry in WalkDir::new(crate_root().join("src")).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            found.extend(violations(&relative(entry.path()), &text, &allowed));
            files += 1;
        }
    }
    assert!(files > 20, "found only {files} source files under src/");
    assert!(found.is_empty(), "\n{}", found.join("\n"));
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
    let found = violations("src/core/health.rs", code, &[]);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("src/core/health.rs:2: ") && found[0].contains("`tokio`"));
    assert!(found[1].starts_with("src/core/health.rs:3: ") && found[1].contains("`hyper`"));
    assert!(violations("src/net/http.rs", code, &[]).is_empty(), "shells may use them");
    assert!(violations("src/core/x.rs", "// tokio::spawn would be wrong here\n", &[]).is_empty());
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
