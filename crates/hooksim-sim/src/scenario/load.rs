//! Reading scenario files: bytes to text to TOML to a validated [`Scenario`].

use super::Scenario;
use super::error::{Collector, Locator, ScenarioError, ScenarioErrors};
use super::file::ScenarioFile;
use super::reader::Reader;
use super::validate::validate;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Loads one scenario file; on failure, the first error by position.
pub fn load_file(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
    super::files::load_file_all(path).map_err(ScenarioErrors::into_first)
}

/// Loads a scenario from text; `name` is the file name errors are reported against. Every error
/// of the text is reported at once, each at its `file:line:column`.
///
/// ```
/// use hooksim_sim::scenario::load_str;
/// let errors = load_str("typo.toml", "name = \"t\"\nrun_for = \"1 fortnight\"\nbogus = 1\n").unwrap_err();
/// let text = errors.to_string();
/// assert!(text.contains("typo.toml:2:"), "{text}");
/// assert!(text.contains("typo.toml:3:"), "{text}");
/// ```
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
