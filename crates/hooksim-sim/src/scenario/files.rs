//! Which files a run or a check reads, and reading them safely. A folder is searched for
//! `*.toml` files at every depth (with walkdir: symbolic links are followed, a link that loops
//! back is an error, not an endless walk); only regular files are read (a named pipe or a device
//! would block or never end), and at most [`SCENARIO_FILE_BYTES_MAX`] bytes of each.
//! [`read_regular_file`] is that rule for any file a command reads (explore's templates,
//! merge's out files).

use super::Scenario;
use super::error::{ScenarioError, ScenarioErrors};
use super::load::load_bytes;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// The largest scenario file read, in bytes; a longer file is an error (nothing of it is
/// loaded). The library's files are a few kilobytes; 100,000 timeline steps take about 6 MiB.
pub const SCENARIO_FILE_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// Loads one scenario file; on failure, every error found.
pub fn load_file_all(path: impl AsRef<Path>) -> Result<Scenario, ScenarioErrors> {
    let path = path.as_ref();
    let bytes = read_scenario_file(path).map_err(|message| ScenarioErrors(vec![file_error(path, message)]))?;
    load_bytes(path, &bytes)
}

/// The bytes of a scenario file, or why they cannot be had.
fn read_scenario_file(path: &Path) -> Result<Vec<u8>, String> {
    read_regular_file(path, "scenario file", ("SCENARIO_FILE_BYTES_MAX", SCENARIO_FILE_BYTES_MAX))
}

/// The bytes of the regular file at `path`, or why they cannot be had: what is not a regular
/// file (a named pipe, a device, a folder) is refused unread, and a file longer than `limit`
/// (its name and its value in bytes) is refused after reading one byte past it. `what` names
/// the file in the error (`scenario file`, `out file`). Every command that reads a file its user
/// names reads it through here.
pub fn read_regular_file(path: &Path, what: &str, limit: (&str, u64)) -> Result<Vec<u8>, String> {
    let (limit_name, bytes_max) = limit;
    let cannot = |e: std::io::Error| format!("cannot read the {what}: {e}");
    // `metadata` follows links and never blocks: a named pipe is refused before it is opened.
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(format!("not a regular file ({})", file_kind(&meta)));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path).and_then(|f| f.take(bytes_max + 1).read_to_end(&mut bytes)).map_err(cannot)?;
    if bytes.len() as u64 > bytes_max {
        return Err(format!("the file is larger than {limit_name} ({bytes_max} bytes)"));
    }
    Ok(bytes)
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() { "a folder" } else { "not a file" }
}

fn file_error(file: &Path, message: String) -> ScenarioError {
    ScenarioError { file: file.to_path_buf(), line: 1, column: 1, message }
}

/// The scenario files under `paths`, sorted: a file is taken as given (even without the
/// `.toml` extension, and even if missing, so that loading it reports the problem); a folder
/// gives every `*.toml` file beneath it, in subfolders too. Folders that cannot be walked are
/// left out; [`check_paths`] reports them.
pub fn discover(paths: &[impl AsRef<Path>]) -> Vec<PathBuf> {
    discover_all(paths).0
}

/// [`discover`], and an error for every part of a folder that could not be walked.
fn discover_all(paths: &[impl AsRef<Path>]) -> (Vec<PathBuf>, Vec<ScenarioError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if p.is_dir() {
            walk(p, &mut files, &mut errors);
        } else {
            files.push(p.to_path_buf());
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<ScenarioError>) {
    for entry in WalkDir::new(dir).follow_links(true).sort_by_file_name() {
        match entry {
            // Any kind of file named *.toml is listed: reading it says what is wrong with it.
            Ok(e) if !e.file_type().is_dir() && e.path().extension().is_some_and(|x| x == "toml") => {
                files.push(e.into_path());
            }
            Ok(_) => {}
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                let message = match e.loop_ancestor() {
                    Some(ancestor) => {
                        format!("a symbolic link loops back to {}: not followed", ancestor.display())
                    }
                    None => {
                        format!("cannot read the folder: {}", e.io_error().map_or(e.to_string(), |io| io.to_string()))
                    }
                };
                errors.push(file_error(&path, message));
            }
        }
    }
}

/// What `hooksim check` reports: the files looked at and every error in them.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Every scenario file found.
    pub files: Vec<PathBuf>,
    /// Those that loaded.
    pub loaded: Vec<Scenario>,
    /// Every error of every file.
    pub errors: Vec<ScenarioError>,
}

impl CheckReport {
    /// Whether files were found and none had an error.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && !self.files.is_empty()
    }

    /// Every file (or folder) with at least one error, once each, in the order reported.
    pub fn bad_files(&self) -> Vec<&Path> {
        let mut seen = std::collections::BTreeSet::new();
        self.errors.iter().map(|e| e.file.as_path()).filter(|f| seen.insert(*f)).collect()
    }
}

/// Loads every scenario under `paths` and collects every error of every file, and of every
/// folder walked. No paths, or folders holding no scenario, is an error too: checking nothing
/// must not pass silently.
pub fn check_paths(paths: &[impl AsRef<Path>]) -> CheckReport {
    let (files, walk_errors) = discover_all(paths);
    let mut report = CheckReport { errors: walk_errors, ..CheckReport::default() };
    if files.is_empty() {
        let where_ = paths.first().map_or_else(|| PathBuf::from("."), |p| p.as_ref().to_path_buf());
        report.errors.push(file_error(&where_, "no scenario files (*.toml) found".to_string()));
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
