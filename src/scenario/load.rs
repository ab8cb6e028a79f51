//! Reading scenario files: bytes to text to TOML to a validated [`Scenario`].

use super::Scenario;
use super::error::{Locator, ScenarioError, ScenarioErrors};
use super::file::ScenarioFile;
use super::validate::validate;
use std::path::Path;

/// Loads one scenario file; on failure, the first error by position.
pub fn load_file(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
    super::files::load_file_all(path).map_err(ScenarioErrors::into_first)
}

/// Loads a scenario from text; `name` is the file name errors are reported against.
pub fn load_str(name: impl AsRef<Path>, text: &str) -> Result<Scenario, ScenarioErrors> {
    let file = name.as_ref();
    let locator = Locator::new(file, text);
    let parsed: ScenarioFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        ScenarioErrors(vec![locator.error(span, tidy(e.message()))])
    })?;
    validate(file, text, parsed)
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

/// serde's messages name Rust types ("expected u64"); say what a person writes instead.
fn tidy(message: &str) -> String {
    let mut m = message.trim_end().to_string();
    for (rust, toml) in [
        ("struct ScenarioFile", "a scenario"),
        ("struct PolicyFile", "a [policy] table"),
        ("struct BackoffFile", "a table { initial, multiplier, max }"),
        ("struct WebhookFile", "a webhook table { url, paths, owner }"),
        ("struct ReceiverFile", "a receiver table { kind, behaviour }"),
        ("struct StepFile", "a [[timeline]] step"),
        ("struct ClientFile", "a table { id, name, email }"),
        ("struct InvoiceFile", "a table { id, client, number, total_cents, state }"),
        ("struct InvoiceStateFile", "a table { id, state }"),
        ("struct ExpectFile", "an [[expect]] entry"),
    ] {
        m = m.replace(&format!("expected {rust}"), &format!("expected {toml}"));
    }
    m.replace("expected u64", "expected a whole number (0 or more)")
        .replace("expected u32", "expected a whole number (0 or more)")
        .replace("expected u8", "expected a whole number from 0 to 255")
        .replace("expected i64", "expected a whole number")
        .replace("expected a boolean", "expected true or false")
        .replace("expected struct ", "expected a table ")
        .replace("expected a sequence", "expected an array, like [\"a\", \"b\"]")
        .replace("expected a map", "expected a table, like { key = \"value\" }")
        .replace("expected a tuple of size 2", "expected two host names, like [\"dispatcher\", \"shop\"]")
}
