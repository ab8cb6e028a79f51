//! Reading scenario files: bytes to text to TOML to a validated [`Scenario`].

use super::Scenario;
use super::error::{Collector, Locator, ScenarioError, ScenarioErrors};
use super::file::ScenarioFile;
use super::reader::Reader;
use super::validate::validate;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Loads one scenario file; on failure, the first error by position.
pub fn load_file(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
    load_file_all(path).map_err(ScenarioErrors::into_first)
}

/// Loads one scenario file; on failure, every error found.
pub fn load_file_all(path: impl AsRef<Path>) -> Result<Scenario, ScenarioErrors> {
    let path = path.as_ref();
    match std::fs::read(path) {
        Ok(bytes) => load_bytes(path, &bytes),
        Err(e) => Err(ScenarioErrors(vec![ScenarioError {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!("cannot read the scenario file: {e}"),
        }])),
    }
}

/// Loads a scenario from text; `name` is the file name errors are reported against.
pub fn load_str(name: impl AsRef<Path>, text: &str) -> Result<Scenario, ScenarioErrors> {
    let file = name.as_ref();
    let locator = Locator::new(file, text);
    // Only a syntax error stops the file: after it, nothing can be read reliably.
    let root = DeTable::parse(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = match e.message().trim_end() {
            // toml stops at 80 levels of tables, arrays and dotted keys, without a position.
            "recursion limit" | "cannot recurse further; max recursion depth met" => {
                "the file nests tables, arrays or dotted keys more than 80 levels deep".to_string()
            }
            m => m.to_string(),
        };
        ScenarioErrors(vec![locator.error(span, message)])
    })?;
    let root = Spanned::new(root.span(), DeValue::Table(root.into_inner()));
    let mut errors = Collector::new(locator.clone());
    let parsed = ScenarioFile::read(&mut Reader::new(&mut errors), &root);
    // The tree is read: free it before validation builds the world (a long file's peak).
    drop(root);
    validate(file, text, parsed, errors)
}

/// Loads a scenario from raw bytes (which need not be UTF-8; if not, that is the error).
pub fn load_bytes(name: impl AsRef<Path>, bytes: &[u8]) -> Result<Scenario, ScenarioErrors> {
    let file = name.as_ref();
    match std::str::from_utf8(bytes) {
        Ok(text) => load_str(file, text),
        Err(e) => {
            // The valid prefix is text: position the error in it.
            let good = &bytes[..e.valid_up_to()];
            let text = std::str::from_utf8(good).unwrap_or_default();
            let locator = Locator::new(file, text);
            Err(ScenarioErrors(vec![locator.error(text.len()..text.len(), "the file is not UTF-8 text")]))
        }
    }
}

/// The scenario files under `paths`, sorted: a file is taken as given (even without the
/// `.toml` extension, and even if missing, so that loading it reports the problem); a folder
/// gives every `*.toml` file beneath it.
pub fn discover(paths: &[impl AsRef<Path>]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if p.is_dir() {
            walk(p, &mut out);
        } else {
            out.push(p.to_path_buf());
        }
    }
    out.sort();
    out.dedup();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        // Unreadable: listing it lets the loader say so with the path.
        out.push(dir.to_path_buf());
        return;
    };
    let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// What `hooksim check` reports: the files looked at and every error in them.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub files: Vec<PathBuf>,
    pub loaded: Vec<Scenario>,
    pub errors: Vec<ScenarioError>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && !self.files.is_empty()
    }
}

/// Loads every scenario under `paths` and collects every error of every file. No paths, or
/// folders holding no scenario, is an error too: checking nothing must not pass silently.
pub fn check_paths(paths: &[impl AsRef<Path>]) -> CheckReport {
    let files = discover(paths);
    let mut report = CheckReport::default();
    if files.is_empty() {
        let where_ = paths.first().map_or_else(|| PathBuf::from("."), |p| p.as_ref().to_path_buf());
        report.errors.push(ScenarioError {
            file: where_,
            line: 1,
            column: 1,
            message: "no scenario files (*.toml) found".to_string(),
        });
        return report;
    }
    for f in &files {
        match load_file_all(f) {
            Ok(s) => report.loaded.push(s),
            Err(ScenarioErrors(errs)) => report.errors.extend(errs),
        }
    }
    report.files = files;
    report
}
