//! Errors in scenario files, each pinned to a position a person (or an editor) can jump to.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in one scenario file. Displays as `file:line:column: message`, the form editors
/// and terminals turn into links.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct ScenarioError {
    /// The file the error is in.
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, counted in characters (not bytes) so that it matches what an editor shows.
    pub column: usize,
    /// What is wrong, and what would be right.
    pub message: String,
}

/// Every problem found in one file, sorted by position. Never empty.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl ScenarioErrors {
    /// The first error by position (what a caller that wants just one should show).
    pub fn first(&self) -> Option<&ScenarioError> {
        self.0.first()
    }

    pub(crate) fn into_first(self) -> ScenarioError {
        // Built only from non-empty lists (see `Collector::finish`); the fallback is a
        // belt-and-braces answer rather than a panic.
        self.0.into_iter().next().unwrap_or_else(|| ScenarioError {
            file: PathBuf::new(),
            line: 1,
            column: 1,
            message: "invalid scenario".to_string(),
        })
    }
}

/// At most this many errors are reported per file; beyond it, one more line says how many
/// were left out (a file of 100,000 bad lines needs its first ones fixed, not all listed).
pub const ERRORS_PER_FILE_MAX: usize = 1000;

/// Turns byte offsets of one text into line and column numbers.
#[derive(Clone, Debug)]
pub(crate) struct Locator<'a> {
    file: &'a Path,
    text: &'a str,
    /// Byte offset of the start of every line: a position is a binary search, not a scan of
    /// the text before it (which made checking a long file quadratic).
    line_starts: Vec<usize>,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(file: &'a Path, text: &'a str) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Locator { file, text, line_starts }
    }

    /// Line and column (1-based, in characters) of byte `offset`; an offset past the end or
    /// inside a character is clamped, so any span toml hands back is safe to use.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|start| *start <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self.text[line_start..offset].chars().count() + 1;
        (line, column)
    }

    pub(crate) fn error(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        let (line, column) = self.position(span.start);
        ScenarioError { file: self.file.to_path_buf(), line, column, message: message.into() }
    }
}

/// Collects every error of one file, so that `hooksim check` reports them all at once.
#[derive(Debug)]
pub(crate) struct Collector<'a> {
    locator: Locator<'a>,
    /// Positions are worked out at the end, for the errors shown only.
    errors: Vec<(usize, String)>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(locator: Locator<'a>) -> Self {
        Collector { locator, errors: Vec::new() }
    }

    pub(crate) fn push(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push((span.start, message.into()));
    }

    pub(crate) fn len(&self) -> usize {
        self.errors.len()
    }

    /// `Ok(value)` when nothing went wrong; otherwise every error (up to
    /// [`ERRORS_PER_FILE_MAX`]), in file order (stable for errors at the same place, so the
    /// order they were found in is kept).
    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, ScenarioErrors> {
        if self.errors.is_empty() {
            return Ok(value);
        }
        self.errors.sort_by_key(|(start, _)| *start);
        self.errors.dedup();
        let more = self.errors.len().saturating_sub(ERRORS_PER_FILE_MAX);
        self.errors.truncate(ERRORS_PER_FILE_MAX);
        let mut out: Vec<ScenarioError> =
            self.errors.iter().map(|(start, m)| self.locator.error(*start..*start, m.clone())).collect();
        if more > 0 {
            let last = self.errors.last().map_or(0, |(start, _)| *start);
            out.push(self.locator.error(
                last..last,
                format!("{more} more error(s) after this one are not shown (at most {ERRORS_PER_FILE_MAX} per file)"),
            ));
        }
        Err(ScenarioErrors(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        let l = Locator::new(Path::new("f.toml"), text);
        assert_eq!(l.position(0), (1, 1));
        assert_eq!(l.position(6), (2, 1));
        // `=` comes after `b`, `é` (two bytes) and a space: the 4th character.
        assert_eq!(l.position(10), (2, 4));
        assert_eq!(l.position(8), (2, 2), "inside a character: clamped back");
        assert_eq!(l.position(10_000), (3, 1));
        let e = l.error(6..7, "bad");
        assert_eq!(e.to_string(), "f.toml:2:1: bad");
    }
}
