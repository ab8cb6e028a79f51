//! Partial matching of delivery bodies: the expectation names only the fields it cares about
//! (`body.invoice.state = "cancelled"`), everything else in the body may be anything.

use serde_json::Value;

/// True when `actual` has every field of `expected` with an equal value. Objects match
/// partially at every depth; arrays must have the same length and match element by element;
/// numbers compare by value (`1250` matches `1250.0`).
pub(crate) fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e.iter().all(|(k, ev)| a.get(k).is_some_and(|av| contains(av, ev))),
        (Value::Array(a), Value::Array(e)) => a.len() == e.len() && a.iter().zip(e).all(|(av, ev)| contains(av, ev)),
        (Value::Number(a), Value::Number(e)) => match (a.as_i64(), e.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => a.as_f64() == e.as_f64(),
        },
        (a, e) => a == e,
    }
}

/// `invoice.state = "cancelled", id = 3`: the expected fields, flattened to dotted paths.
pub(crate) fn describe(expected: &Value) -> String {
    let mut parts = Vec::new();
    flatten("", expected, &mut parts);
    parts.join(", ")
}

/// The values `actual` has at the paths `expected` names (`invoice.state = "cancelled"`), so a
/// failed match shows what was there instead; a missing field shows as `(absent)`.
pub(crate) fn actual_at(actual: &Value, expected: &Value) -> String {
    let mut paths = Vec::new();
    leaf_paths(Vec::new(), expected, &mut paths);
    paths
        .iter()
        .map(|p| {
            let found = p.iter().try_fold(actual, |v, k| v.get(k.as_str()));
            match found {
                Some(v) => format!("{} = {v}", p.join(".")),
                None => format!("{} (absent)", p.join(".")),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn leaf_paths(prefix: Vec<String>, v: &Value, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let mut p = prefix.clone();
                p.push(k.clone());
                leaf_paths(p, v, out);
            }
        }
        _ => out.push(prefix),
    }
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&p, v, out);
            }
        }
        other => out.push(format!("{prefix} = {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn partial_match_ignores_what_is_not_asked() {
        let body = json!({"id": 3, "path": "/invoice/update/state", "invoice": {"id": 4, "state": "cancelled", "total_cents": 1250}});
        assert!(contains(&body, &json!({"invoice": {"state": "cancelled"}})));
        assert!(contains(&body, &json!({"invoice": {"total_cents": 1250.0}})));
        assert!(!contains(&body, &json!({"invoice": {"state": "paid"}})));
        assert!(!contains(&body, &json!({"client": {}})));
        assert_eq!(describe(&json!({"invoice": {"state": "cancelled"}})), "invoice.state = \"cancelled\"");
    }
}
