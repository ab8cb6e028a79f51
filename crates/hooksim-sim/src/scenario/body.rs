//! An expectation's `body`: the fields of a delivery's body it names, each with its dotted path
//! and position (to check the path against the envelope), and the whole as JSON (to match).
//!
//! Bounded: a path is at most [`BODY_DEPTH_MAX`] fields deep (tables, dotted keys, quoted dotted
//! keys and nested arrays all count) and a key at most [`KEY_BYTES_MAX`] bytes long, so that no
//! file can make matching recurse without end or cost more than the file is long.

use super::reader::{Node, Reader, describe};
use serde_json::{Map, Value};
use std::ops::Range;
use toml::Spanned;
use toml::de::DeValue;

/// How deep a `body` may nest. SnapBill's envelope is two levels deep (`invoice.state`).
pub const BODY_DEPTH_MAX: usize = 8;
/// The longest key a `body` may have (SnapBill's longest field name is 11 bytes).
pub const KEY_BYTES_MAX: usize = 64;

/// The fields an expectation's `body` names.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Body {
    pub fields: Vec<BodyField>,
}

/// One named field: `invoice.state = "paid"`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BodyField {
    pub path: Vec<String>,
    /// Where the key is written.
    pub span: Range<usize>,
    pub value: Value,
}

impl Body {
    /// The fields as one JSON object, to match a delivery's body against.
    pub(crate) fn to_json(&self) -> Value {
        let mut root = Map::new();
        for f in &self.fields {
            let mut cur = &mut root;
            let (last, parents) = f.path.split_last().expect("a field has a path");
            for p in parents {
                let slot = cur.entry(p.clone()).or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                cur = slot.as_object_mut().expect("made an object above");
            }
            cur.insert(last.clone(), f.value.clone());
        }
        Value::Object(root)
    }
}

/// Reads `body = { ... }` (or `body.x.y = ...` keys); `None` when anything in it is wrong.
pub(crate) fn read_body(r: &mut Reader<'_, '_>, node: &Node<'_>) -> Option<Spanned<Body>> {
    let before = r.error_count();
    let mut body = Body::default();
    let DeValue::Table(_) = node.get_ref() else {
        r.err(node.span(), format!("invalid type: {}, expected a table of body fields", describe(node.get_ref())));
        return None;
    };
    // Depth-first with an explicit stack: the depth is checked before going deeper.
    let mut stack: Vec<(Vec<String>, &Node<'_>)> = vec![(Vec::new(), node)];
    while let Some((prefix, node)) = stack.pop() {
        let DeValue::Table(t) = node.get_ref() else { continue };
        let mut entries: Vec<_> = t.iter().collect();
        entries.sort_by_key(|(k, _)| std::cmp::Reverse(k.span().start));
        for (key, value) in entries {
            let Some(path) = extend(r, &prefix, key.get_ref(), key.span()) else { continue };
            match value.get_ref() {
                DeValue::Table(_) => stack.push((path, value)),
                _ => {
                    if let Some(json) = to_json(r, value, path.len()) {
                        body.fields.push(BodyField { path, span: key.span(), value: json });
                    }
                }
            }
        }
    }
    body.fields.sort_by_key(|f| f.span.start);
    // Sorted by path, a field and one inside it (or its twin) are neighbours.
    let mut by_path: Vec<&BodyField> = body.fields.iter().collect();
    by_path.sort_by(|a, b| a.path.cmp(&b.path));
    for pair in by_path.windows(2) {
        if let Some(clash) = overlap(pair[0], pair[1]) {
            let later = if pair[0].span.start > pair[1].span.start { pair[0] } else { pair[1] };
            r.err(later.span.clone(), clash);
        }
    }
    (r.error_count() == before).then(|| Spanned::new(node.span(), body))
}

/// `prefix` and `key`'s parts (`"invoice.state" = ...` is split like `invoice.state = ...`).
fn extend(r: &mut Reader<'_, '_>, prefix: &[String], key: &str, span: Range<usize>) -> Option<Vec<String>> {
    if key.len() > KEY_BYTES_MAX {
        r.err(span, format!("a `body` key is at most {KEY_BYTES_MAX} bytes long; this one has {}", key.len()));
        return None;
    }
    let mut path = prefix.to_vec();
    for part in key.split('.') {
        if part.is_empty() {
            r.err(span, format!("`body` key {key:?} has an empty part"));
            return None;
        }
        path.push(part.to_string());
        if path.len() > BODY_DEPTH_MAX {
            r.err(span, format!("`body` nests deeper than {BODY_DEPTH_MAX} fields"));
            return None;
        }
    }
    Some(path)
}

/// Two fields where one is inside the other (`invoice = 1` and `invoice.id = 2`) or the same.
fn overlap(a: &BodyField, b: &BodyField) -> Option<String> {
    let n = a.path.len().min(b.path.len());
    (a.path[..n] == b.path[..n]).then(|| {
        if a.path.len() == b.path.len() {
            format!("`body` gives field {:?} twice", b.path.join("."))
        } else {
            format!("`body` gives field {:?} both a value and fields", a.path[..n].join("."))
        }
    })
}

fn to_json(r: &mut Reader<'_, '_>, node: &Node<'_>, depth: usize) -> Option<Value> {
    if depth > BODY_DEPTH_MAX {
        r.err(node.span(), format!("`body` nests deeper than {BODY_DEPTH_MAX} fields"));
        return None;
    }
    Some(match node.get_ref() {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Integer(_) => Value::from(r.value::<i64>(node)?.into_inner()),
        DeValue::Float(_) => {
            let f = r.value::<f64>(node)?.into_inner();
            let Some(n) = serde_json::Number::from_f64(f) else {
                r.err(node.span(), format!("`body` value {f} is not a number JSON can hold"));
                return None;
            };
            Value::Number(n)
        }
        DeValue::Datetime(d) => {
            r.err(
                node.span(),
                format!("`body` value {d} is a TOML date; webhook bodies hold no dates, write it as a string"),
            );
            return None;
        }
        DeValue::Array(items) => {
            let values: Vec<Option<Value>> = items.iter().map(|v| to_json(r, v, depth + 1)).collect();
            Value::Array(values.into_iter().collect::<Option<_>>()?)
        }
        DeValue::Table(t) => {
            let mut m = Map::new();
            for (k, v) in t.iter() {
                m.insert(k.get_ref().to_string(), to_json(r, v, depth + 1)?);
            }
            Value::Object(m)
        }
    })
}
