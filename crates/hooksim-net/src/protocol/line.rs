//! One protocol line read into a typed message, both ways (the harness reading a process, and
//! `hooksim dispatcher --stdio` reading its harness).
//!
//! The schema's `integer` is JSON Schema's, where `3.0` and `3e4` are integers too, and a JSON
//! library that reads every number as a double (Gson's maps, JavaScript) writes them so. A line
//! is read as written first; only when that fails is it read again with its whole-number
//! doubles as integers, so the common case costs nothing.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Largest magnitude a double holds every integer up to (2^53): beyond it `x.0` may not be the
/// integer the writer meant, so it stays a float and the line is refused.
const WHOLE_DOUBLE_MAX: f64 = 9_007_199_254_740_992.0;

/// `text` as a `T`; on failure, the first reading's error (it names the field as written).
pub(crate) fn from_line<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(text).or_else(|e| {
        let whole = serde_json::from_str(text).ok().and_then(whole_numbers_as_integers);
        whole.and_then(|value| serde_json::from_value(value).ok()).ok_or(e)
    })
}

/// `value` with every whole-number double (within [`WHOLE_DOUBLE_MAX`]) an integer; `None` when
/// there was none (nothing to read again).
fn whole_numbers_as_integers(mut value: Value) -> Option<Value> {
    fn walk(value: &mut Value, changed: &mut bool) {
        match value {
            Value::Number(n) if n.is_f64() => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                if x.fract() == 0.0 && x.abs() <= WHOLE_DOUBLE_MAX {
                    // Exact: an integer of magnitude at most 2^53 fits an i64 with nothing lost.
                    #[allow(clippy::cast_possible_truncation)]
                    let whole = x as i64;
                    *value = Value::from(whole);
                    *changed = true;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, changed)),
            Value::Object(fields) => fields.values_mut().for_each(|v| walk(v, changed)),
            _ => {}
        }
    }
    let mut changed = false;
    walk(&mut value, &mut changed);
    changed.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hooksim_sim::protocol::message::{FromDispatcher, ToDispatcher};

    #[test]
    fn whole_numbers_written_as_doubles_are_integers_as_the_schema_says() {
        let plain: FromDispatcher = from_line(r#"{"type":"done","wake_at":30000}"#).unwrap();
        assert_eq!(from_line::<FromDispatcher>(r#"{"type":"done","wake_at":30000.0}"#).unwrap(), plain);
        assert_eq!(from_line::<FromDispatcher>(r#"{"type":"done","wake_at":3e4}"#).unwrap(), plain);
        let wake: ToDispatcher = from_line(r#"{"type":"wake","now":5}"#).unwrap();
        assert_eq!(from_line::<ToDispatcher>(r#"{"type":"wake","now":5.0}"#).unwrap(), wake);
    }

    #[test]
    fn a_fraction_or_a_double_past_two_to_the_53_is_still_refused_in_the_first_readings_words() {
        for line in [r#"{"type":"done","wake_at":1.5}"#, r#"{"type":"done","wake_at":1e300}"#] {
            let error = from_line::<FromDispatcher>(line).unwrap_err();
            assert!(error.to_string().contains("floating point"), "{line}: {error}");
        }
    }
}
