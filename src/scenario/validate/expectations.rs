//! `[[expect]]`: one subject, the qualifiers that apply to it, references resolved.

use super::{Validator, known, unknown_receiver};
use crate::scenario::expect::{Count, Expectation, OutcomeFilter, Window};
use crate::scenario::file::{EventRef, ExpectFile};
use crate::scenario::{EventInfo, Located};
use crate::time::SimTime;
use std::collections::BTreeSet;
use std::ops::Range;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn expectation(
        &mut self,
        e: &Spanned<ExpectFile>,
        webhooks: &[String],
        hosts: &BTreeSet<String>,
        events: &[EventInfo],
    ) -> Option<Located<Expectation>> {
        let x = e.get_ref();
        let subjects: Vec<(&str, Range<usize>)> = [
            ("delivered", x.delivered.as_ref().map(|s| s.span())),
            ("never_delivered", x.never_delivered.as_ref().map(|s| s.span())),
            ("attempts", x.attempts.as_ref().map(|s| s.span())),
            ("warned", x.warned.as_ref().map(|s| s.span())),
            ("not_warned", x.not_warned.as_ref().map(|s| s.span())),
            ("emailed", x.emailed.as_ref().map(|s| s.span())),
            ("disabled", x.disabled.as_ref().map(|s| s.span())),
            ("not_disabled", x.not_disabled.as_ref().map(|s| s.span())),
            ("no_attempt_after_disable", x.no_attempt_after_disable.as_ref().map(|s| s.span())),
            ("abandoned", x.abandoned.as_ref().map(|s| s.span())),
            ("acted", x.acted.as_ref().map(|s| s.span())),
            ("skipped", x.skipped.as_ref().map(|s| s.span())),
            ("delivered_in_order", x.delivered_in_order.as_ref().map(|s| s.span())),
        ]
        .into_iter()
        .filter_map(|(k, sp)| sp.map(|sp| (k, sp)))
        .collect();
        let subject = match subjects.as_slice() {
            [] => {
                self.err(
                    e.span(),
                    "expectation has nothing to check; give one of delivered, never_delivered, attempts, warned, not_warned, emailed, disabled, not_disabled, no_attempt_after_disable, abandoned, acted, skipped, delivered_in_order",
                );
                return None;
            }
            [(k, _)] => *k,
            [(first, _), (second, sp), ..] => {
                self.err(
                    sp.clone(),
                    format!(
                        "expectation checks more than one thing (`{first}` and `{second}`); write one [[expect]] each"
                    ),
                );
                return None;
            }
        };
        let allowed: &[&str] = match subject {
            "delivered" => &["event", "body", "count", "window"],
            "attempts" => &["event", "body", "outcome", "count", "window"],
            "never_delivered" => &["event", "body", "window"],
            "warned" | "emailed" => &["to", "count", "window"],
            "disabled" => &["count", "window"],
            "abandoned" | "skipped" => &["event", "count", "window"],
            "acted" => &["event", "action", "count", "window"],
            "not_warned" | "not_disabled" => &["window"],
            "delivered_in_order" => &["webhook"],
            _ => &[],
        };
        let takes: Vec<&str> = allowed
            .iter()
            .map(|k| match *k {
                "count" => "exactly/at_least/at_most",
                "window" => "after/before",
                k => k,
            })
            .collect();
        let takes = if takes.is_empty() { "nothing else".to_string() } else { takes.join(", ") };
        let allowed = |q: &str| -> bool {
            match q {
                "exactly" | "at_least" | "at_most" => allowed.contains(&"count"),
                "after" | "before" => allowed.contains(&"window"),
                q => allowed.contains(&q),
            }
        };
        let qualifiers: [(&str, Option<Range<usize>>); 10] = [
            ("webhook", x.webhook.as_ref().map(|s| s.span())),
            ("event", x.event.as_ref().map(|s| s.span())),
            ("body", x.body.as_ref().map(|s| s.span())),
            ("outcome", x.outcome.as_ref().map(|s| s.span())),
            ("to", x.to.as_ref().map(|s| s.span())),
            ("action", x.action.as_ref().map(|s| s.span())),
            ("exactly", x.exactly.as_ref().map(|s| s.span())),
            ("at_least", x.at_least.as_ref().map(|s| s.span())),
            ("at_most", x.at_most.as_ref().map(|s| s.span())),
            ("after", x.after.as_ref().map(|s| s.span())),
        ];
        let mut ok = true;
        for (q, sp) in qualifiers.into_iter().chain([("before", x.before.as_ref().map(|s| s.span()))]) {
            if let Some(sp) = sp
                && !allowed(q)
            {
                self.err(sp, format!("`{q}` does not apply to `{subject}` (it takes: {takes})"));
                ok = false;
            }
        }
        let count = self.count(x, subject);
        let window = self.window(x);
        let event = x.event.as_ref().and_then(|r| self.event(r, events));
        let body = x.body.as_ref().and_then(|b| match crate::scenario::matching::toml_to_json(b.get_ref()) {
            Ok(v) => Some(v),
            Err(why) => {
                self.err(b.span(), why);
                None
            }
        });
        let outcome = x.outcome.as_ref().and_then(|o| match o.get_ref().parse::<OutcomeFilter>() {
            Ok(f) => Some(f),
            Err(why) => {
                self.err(o.span(), why);
                None
            }
        });
        let what = |s: &Option<Spanned<String>>| s.clone();
        let subject_value = [
            what(&x.delivered),
            what(&x.never_delivered),
            what(&x.attempts),
            what(&x.warned),
            what(&x.not_warned),
            what(&x.emailed),
            what(&x.disabled),
            what(&x.not_disabled),
            what(&x.no_attempt_after_disable),
            what(&x.abandoned),
            what(&x.acted),
            what(&x.skipped),
        ]
        .into_iter()
        .flatten()
        .next();
        // Unresolvable references have been reported; what is left is only checked, not built.
        let expectation = match subject {
            "acted" | "skipped" => {
                let r = subject_value?;
                if !hosts.contains(r.get_ref()) {
                    self.err(r.span(), unknown_receiver(r.get_ref(), hosts));
                    return None;
                }
                let receiver = r.get_ref().clone();
                if subject == "acted" {
                    Expectation::Acted {
                        receiver,
                        event,
                        action: x.action.as_ref().map(|a| a.get_ref().clone()),
                        count: count?,
                        window: window?,
                    }
                } else {
                    Expectation::Skipped { receiver, event, count: count?, window: window? }
                }
            }
            "delivered_in_order" => {
                let list = x.delivered_in_order.as_ref()?;
                let Some(w) = &x.webhook else {
                    self.err(list.span(), "`delivered_in_order` needs `webhook = \"<name>\"`");
                    return None;
                };
                let webhook = self.webhook(w, webhooks);
                if list.get_ref().len() < 2 {
                    self.err(list.span(), "`delivered_in_order` needs at least two events");
                }
                let evs: Vec<Option<u64>> = list.get_ref().iter().map(|r| self.event(r, events)).collect();
                let mut seen = BTreeSet::new();
                for (r, e) in list.get_ref().iter().zip(&evs) {
                    if let Some(e) = e
                        && !seen.insert(*e)
                    {
                        self.err(r.span(), format!("event {e} is listed twice; each event comes once in an order"));
                    }
                }
                Expectation::DeliveredInOrder {
                    webhook: webhook?,
                    events: evs.into_iter().collect::<Option<Vec<_>>>()?,
                }
            }
            _ => {
                let w = subject_value?;
                let webhook = self.webhook(&w, webhooks)?;
                let (count, window) = (count?, window?);
                match subject {
                    "delivered" | "never_delivered" => Expectation::Delivered { webhook, event, body, count, window },
                    "attempts" => Expectation::Attempts { webhook, event, body, outcome, count, window },
                    "warned" | "not_warned" => {
                        Expectation::Warned { webhook, to: x.to.as_ref().map(|t| t.get_ref().clone()), count, window }
                    }
                    "emailed" => {
                        Expectation::Emailed { webhook, to: x.to.as_ref().map(|t| t.get_ref().clone()), count, window }
                    }
                    "disabled" | "not_disabled" => Expectation::Disabled { webhook, count, window },
                    "abandoned" => Expectation::Abandoned { webhook, event, count, window },
                    _ => Expectation::NoAttemptAfterDisable { webhook },
                }
            }
        };
        if !ok || (x.event.is_some() && event.is_none()) {
            return None;
        }
        let (line, column) = self.line(&e.span());
        Some(Located { line, column, value: expectation })
    }

    fn count(&mut self, x: &ExpectFile, subject: &str) -> Option<Count> {
        if matches!(subject, "never_delivered" | "not_warned" | "not_disabled") {
            return Some(Count::NONE);
        }
        let get = |c: &Option<Spanned<u64>>| c.as_ref().map(|c| *c.get_ref());
        if let (Some(ex), Some(other)) = (&x.exactly, x.at_least.as_ref().or(x.at_most.as_ref())) {
            self.err(
                other.span(),
                format!("`exactly = {}` already fixes the count; drop `at_least`/`at_most`", ex.get_ref()),
            );
            return None;
        }
        if let Some(n) = get(&x.exactly) {
            return Some(Count { min: n, max: Some(n) });
        }
        let min = get(&x.at_least);
        let max = get(&x.at_most);
        if let (Some(lo), Some(hi), Some(sp)) = (min, max, &x.at_most)
            && lo > hi
        {
            self.err(sp.span(), format!("`at_most = {hi}` is below `at_least = {lo}`: no count can satisfy both"));
            return None;
        }
        Some(Count {
            // "It happened" by default; `at_most` alone allows zero.
            min: min.unwrap_or(if max.is_some() { 0 } else { 1 }),
            max,
        })
    }

    fn window(&mut self, x: &ExpectFile) -> Option<Window> {
        let after = x.after.as_ref().map(|d| SimTime::from_millis(d.get_ref().ms()));
        let before = x.before.as_ref().map(|d| SimTime::from_millis(d.get_ref().ms()));
        if let (Some(a), Some(b), Some(sp)) = (after, before, &x.before)
            && b < a
        {
            self.err(sp.span(), "`before` is earlier than `after`: the window is empty");
            return None;
        }
        Some(Window { after, before })
    }

    fn event(&mut self, r: &Spanned<EventRef>, events: &[EventInfo]) -> Option<u64> {
        match r.get_ref() {
            EventRef::Index(n) => {
                if *n >= 1 && *n <= events.len() as u64 {
                    Some(*n)
                } else {
                    self.err(
                        r.span(),
                        format!(
                            "no event {n}: the timeline's changes record {} event(s), numbered from 1",
                            events.len()
                        ),
                    );
                    None
                }
            }
            EventRef::Name(name) => match events.iter().find(|e| e.name.as_deref() == Some(name)) {
                Some(e) => Some(e.id),
                None => {
                    let named: Vec<&str> = events.iter().filter_map(|e| e.name.as_deref()).collect();
                    self.err(
                        r.span(),
                        format!(
                            "no change step is named {name:?} ({})",
                            known(named.into_iter(), "no change step has a name")
                        ),
                    );
                    None
                }
            },
        }
    }
}
