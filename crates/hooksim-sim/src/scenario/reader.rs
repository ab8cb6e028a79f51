//! Reading the parsed TOML tree one key at a time. serde's derive stops at the first bad value
//! of a file; reading key by key makes a bad value one error among the others, so `hooksim
//! check` reports every error of a file in one go. Leaves (durations, replies, event references,
//! ...) still go through their `Deserialize`, each on its own.

use super::error::Collector;
use serde::de::DeserializeOwned;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// A value of the parsed file, with its position.
pub(crate) type Node<'i> = Spanned<DeValue<'i>>;

/// Reads values and collects what is wrong with them.
pub(crate) struct Reader<'c, 'a> {
    errors: &'c mut Collector<'a>,
}

/// The keys of one table, checked against the keys it may have.
pub(crate) struct Fields<'n, 'i> {
    table: &'n DeTable<'i>,
    pub span: Range<usize>,
}

impl<'n, 'i> Fields<'n, 'i> {
    pub(crate) fn get(&self, key: &str) -> Option<&'n Node<'i>> {
        self.table.get(key)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.table.get(key).is_some()
    }

    /// Every entry, in the order of the file (a table comes back sorted by key).
    pub(crate) fn entries(&self) -> Vec<(Spanned<String>, &'n Node<'i>)> {
        let mut v: Vec<_> =
            self.table.iter().map(|(k, v)| (Spanned::new(k.span(), k.get_ref().to_string()), v)).collect();
        v.sort_by_key(|(k, _)| k.span().start);
        v
    }
}

impl<'c, 'a> Reader<'c, 'a> {
    pub(crate) fn new(errors: &'c mut Collector<'a>) -> Self {
        Reader { errors }
    }

    pub(crate) fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(span, message);
    }

    /// How many errors so far: a reader compares it before and after a table to know whether
    /// something inside went wrong (and then keeps quiet about what that error explains).
    pub(crate) fn error_count(&self) -> usize {
        self.errors.len()
    }

    /// One leaf, through its `Deserialize`; a bad one is reported where toml says it is.
    pub(crate) fn value<T: DeserializeOwned>(&mut self, node: &Node<'_>) -> Option<Spanned<T>> {
        let span = node.span();
        match T::deserialize(ValueDeserializer::from(node.clone())) {
            Ok(v) => Some(Spanned::new(span, v)),
            Err(e) => {
                self.err(e.span().unwrap_or(span), tidy(e.message()));
                None
            }
        }
    }

    /// `fields.get(key)` read as a `T`, when present.
    pub(crate) fn opt<T: DeserializeOwned>(&mut self, fields: &Fields<'_, '_>, key: &str) -> Option<Spanned<T>> {
        fields.get(key).and_then(|n| self.value(n))
    }

    /// Like [`Reader::opt`], and its absence is an error at the table.
    pub(crate) fn req<T: DeserializeOwned>(&mut self, fields: &Fields<'_, '_>, key: &str) -> Option<Spanned<T>> {
        if !fields.has(key) {
            self.err(fields.span.clone(), format!("missing field `{key}`"));
            return None;
        }
        self.opt(fields, key)
    }

    /// A table that may hold only `keys`; each other key is an error at the key.
    pub(crate) fn table<'n, 'i>(&mut self, node: &'n Node<'i>, what: &str, keys: &[&str]) -> Option<Fields<'n, 'i>> {
        let DeValue::Table(table) = node.get_ref() else {
            self.err(node.span(), format!("invalid type: {}, expected {what}", describe(node.get_ref())));
            return None;
        };
        for (k, _) in table.iter() {
            if !keys.contains(&k.get_ref().as_ref()) {
                let expected = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
                self.err(k.span(), format!("unknown field `{}`, expected one of {expected}", k.get_ref()));
            }
        }
        Some(Fields { table, span: node.span() })
    }

    /// A table whose keys are names the file chooses (`[webhooks.<name>]`).
    pub(crate) fn named<'n, 'i>(&mut self, node: &'n Node<'i>, what: &str) -> Option<Fields<'n, 'i>> {
        let DeValue::Table(table) = node.get_ref() else {
            self.err(node.span(), format!("invalid type: {}, expected {what}", describe(node.get_ref())));
            return None;
        };
        Some(Fields { table, span: node.span() })
    }

    pub(crate) fn array<'n, 'i>(&mut self, node: &'n Node<'i>, what: &str) -> Option<&'n [Node<'i>]> {
        match node.get_ref() {
            DeValue::Array(a) => Some(a),
            other => {
                self.err(node.span(), format!("invalid type: {}, expected {what}", describe(other)));
                None
            }
        }
    }
}

/// What a value is, in serde's words ("string \"x\"", "integer `1`").
pub(crate) fn describe(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => format!("string {:?}", s.as_ref()),
        DeValue::Integer(i) => format!("integer `{}`", i.as_str()),
        DeValue::Float(f) => format!("floating point `{}`", f.as_str()),
        DeValue::Boolean(b) => format!("boolean `{b}`"),
        DeValue::Datetime(d) => format!("date `{d}`"),
        DeValue::Array(_) => "array".to_string(),
        DeValue::Table(_) => "table".to_string(),
    }
}

/// serde's messages name Rust types ("expected u64"); say what a person writes instead.
pub(crate) fn tidy(message: &str) -> String {
    let m = message.trim_end().to_string();
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
