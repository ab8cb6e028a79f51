//! How a receiver answers, as written in a scenario: `"200"`, `"500 after 45s"`, `"act then 500"`,
//! `"act then drop"`, `"drop"`, `"429 retry-after 30s"`, `"503 retry-after 2m as date"`; and
//! behaviours made of them.

use super::duration::{Duration, parse_duration};
use super::reader::{Node, Reader};
use crate::world::{Answer, Behaviour, Reply, RetryAfter};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use toml::Spanned;
use toml::de::DeValue;

const REPLY_HINT: &str = r#"a reply is "200" (any status 100-599), "429 retry-after 30s" (or "... as date"), "act then 500", "act then drop" or "drop", optionally followed by " after 45s""#;

/// Parses one reply. `default_latency` applies when the text has no `after` part.
pub fn parse_reply(text: &str, default_latency: u64) -> Result<Reply, String> {
    let t = text.trim();
    let (answer, latency_ms) = match t.split_once(" after ") {
        Some((a, d)) => (a.trim(), parse_duration(d)?.ms()),
        None => (t, default_latency),
    };
    if let Some((code, wait)) = answer.split_once(" retry-after ") {
        let answer = Answer::StatusRetryAfter(status(code.trim(), text)?, retry_after(wait, text)?);
        return Ok(Reply { answer, latency_ms });
    }
    let words: Vec<&str> = answer.split_whitespace().collect();
    let answer = match words.as_slice() {
        ["drop"] => Answer::Drop,
        ["act", "then", "drop"] => Answer::ActThenDrop,
        ["act", "then", code] => Answer::ActThenStatus(status(code, text)?),
        [code] => Answer::Status(status(code, text)?),
        _ => return Err(format!("unknown reply {text:?}; {REPLY_HINT}")),
    };
    Ok(Reply { answer, latency_ms })
}

/// `30s`, `2m as date`: whole seconds (`Retry-After` carries no finer unit).
fn retry_after(text: &str, whole: &str) -> Result<RetryAfter, String> {
    let (wait, as_date) = match text.trim().strip_suffix(" as date") {
        Some(wait) => (wait, true),
        None => (text.trim(), false),
    };
    let wait_ms = parse_duration(wait).map_err(|e| format!("in {whole:?}: {e}"))?.ms();
    if wait_ms % 1_000 != 0 {
        return Err(format!("in {whole:?}: a Retry-After is whole seconds, not {wait_ms} ms"));
    }
    Ok(RetryAfter { wait_s: wait_ms / 1_000, as_date })
}

fn status(code: &str, text: &str) -> Result<u16, String> {
    match code.parse::<u16>() {
        Ok(c) if (100..=599).contains(&c) => Ok(c),
        _ => Err(format!("unknown reply {text:?}; {REPLY_HINT}")),
    }
}

/// A reply kept as written until the behaviour's default latency is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReplyText(pub String);

impl<'de> Deserialize<'de> for ReplyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ReplyText;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(REPLY_HINT)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ReplyText, E> {
                // Checked here (with no latency yet) so a bad reply is reported at its own spot.
                parse_reply(v, 0).map_err(E::custom)?;
                Ok(ReplyText(v.to_string()))
            }

            // `reply = 500` is natural to write: take a status number as its text.
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ReplyText, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

/// A behaviour in a scenario: a single reply (`"500"`, every request gets it) or a table
/// `{ replies = ["500", "act then drop"], then = "200", latency = "45s" }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BehaviourSpec(pub Behaviour);

const BEHAVIOUR_KEYS: &[&str] = &["replies", "then", "latency"];

/// Reads a behaviour; every bad reply of it is reported, not just the first.
pub(crate) fn read_behaviour(r: &mut Reader<'_, '_>, node: &Node<'_>) -> Option<Spanned<BehaviourSpec>> {
    let behaviour = match node.get_ref() {
        DeValue::String(_) | DeValue::Integer(_) => {
            let reply = r.value::<ReplyText>(node)?;
            Behaviour::always(parse_reply(&reply.get_ref().0, 0).ok()?)
        }
        _ => {
            let before = r.error_count();
            let f = r.table(
                node,
                r#"a reply such as "500" or a table such as { replies = ["500"], then = "200", latency = "45s" }"#,
                BEHAVIOUR_KEYS,
            )?;
            let replies: Vec<Option<Spanned<ReplyText>>> = match f.get("replies") {
                Some(n) => r.array(n, "an array, like [\"500\", \"200\"]")?.iter().map(|x| r.value(x)).collect(),
                None => Vec::new(),
            };
            let then = r.opt::<ReplyText>(&f, "then");
            let latency = r.opt::<Duration>(&f, "latency").map_or(0, |d| d.get_ref().ms());
            if r.error_count() > before {
                return None;
            }
            let replies = replies.into_iter().flatten().map(|t| parse_reply(&t.get_ref().0, latency));
            let replies = replies.collect::<Result<Vec<_>, _>>().ok()?;
            let then = match then {
                Some(t) => parse_reply(&t.get_ref().0, latency).ok()?,
                None => Reply { latency_ms: latency, ..Reply::OK },
            };
            Behaviour { replies, then }
        }
    };
    Some(Spanned::new(node.span(), BehaviourSpec(behaviour)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_read_as_written() {
        let r = |t| parse_reply(t, 0).unwrap().answer;
        assert_eq!(r("200"), Answer::Status(200));
        assert_eq!(r("act then 500"), Answer::ActThenStatus(500));
        assert_eq!(r("act  then drop"), Answer::ActThenDrop);
        assert_eq!(r("drop"), Answer::Drop);
        let slow = parse_reply("503 after 45s", 7).unwrap();
        assert_eq!((slow.answer, slow.latency_ms), (Answer::Status(503), 45_000));
        assert_eq!(parse_reply("200", 7).unwrap().latency_ms, 7);
        let slow = parse_reply("429 retry-after 30s after 2s", 0).unwrap();
        assert_eq!(slow.answer, Answer::StatusRetryAfter(429, RetryAfter { wait_s: 30, as_date: false }));
        assert_eq!(slow.latency_ms, 2_000);
        let dated = r("503 retry-after 2m as date");
        assert_eq!(dated, Answer::StatusRetryAfter(503, RetryAfter { wait_s: 120, as_date: true }));
        let bad = ["", "ok", "700", "act", "act then", "act now 500", "200 after soon", "429 retry-after 1500ms"];
        for bad in bad.into_iter().chain(["429 retry-after soon", "42x retry-after 1s"]) {
            assert!(parse_reply(bad, 0).is_err(), "{bad:?}");
        }
    }
}
