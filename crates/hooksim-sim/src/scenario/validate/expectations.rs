//! `[[expect]]`: one subject, the qualifiers that apply to it, references resolved.

use super::vocabulary::vocabulary;
use super::{Known, Validator, known, unknown_receiver};
use crate::scenario::Located;
use crate::scenario::expect::{Count, Expectation, OutcomeFilter, Qualifier, Subject, Target, Window};
use crate::scenario::file::{EventRef, ExpectFile};
use hooksim_core::domain::{EntityKind, EntityRef, EventPath, WebhookId};
use hooksim_core::time::SimTime;
use std::collections::BTreeSet;
use strum::IntoEnumIterator;
use toml::Spanned;

/// What an expectation's subject key names, looked up.
enum Resolved {
    Webhook(WebhookId),
    Receiver(String),
    Order(WebhookId, Vec<u64>),
}

impl Validator<'_> {
    pub(super) fn expectation(&mut self, e: &Spanned<ExpectFile>, known: &Known<'_>) -> Option<Located<Expectation>> {
        let (webhooks, hosts) = (known.webhooks, known.hosts);
        let x = e.get_ref();
        let (subject, named) = match x.subjects.as_slice() {
            // An unreadable subject has been reported where it is written.
            [] if x.broken => return None,
            [] => {
                self.err(e.span(), format!("expectation has nothing to check; give one of {}", Subject::all_keys()));
                return None;
            }
            [(subject, named)] => (*subject, named),
            [(first, _), (second, sp), ..] => {
                self.err(
                    sp.span(),
                    format!(
                        "expectation checks more than one thing (`{}` and `{}`); write one [[expect]] each",
                        first.key(),
                        second.key()
                    ),
                );
                return None;
            }
        };
        let mut ok = true;
        for q in Qualifier::iter() {
            if let Some(sp) = x.span_of(q)
                && !subject.takes(q)
            {
                let message =
                    format!("`{}` does not apply to `{}` (it takes: {})", q.key(), subject.key(), subject.takes_text());
                self.err(sp, message);
                ok = false;
            }
        }
        let count = self.count(x, subject);
        let window = self.window(x);
        let event = x.event.as_ref().and_then(|r| self.event(r, known));
        let body = x.body.as_ref().map(|b| b.get_ref().to_json());
        let outcome = x.outcome.as_ref().and_then(|o| match o.get_ref().parse::<OutcomeFilter>() {
            Ok(f) => Some(f),
            Err(why) => {
                self.err(o.span(), why);
                None
            }
        });
        let target = match subject.target() {
            Target::Webhook => self.webhook(named, webhooks).map(Resolved::Webhook),
            Target::Receiver => self.receiver(named, hosts).map(Resolved::Receiver),
            Target::Events => self.order(x, known),
        };
        // Qualifiers that name something that cannot happen would make `exactly = 0` pass
        // whatever the run does: each is checked against what can happen.
        if let (Some(Resolved::Webhook(w)), true) = (&target, ok) {
            self.owner(x, *w, known);
            self.body(x, *w, event, known);
        }
        if ok {
            self.receiver_action(x, event, known);
        }
        // Every part has been checked (and its errors reported); build only from a whole.
        if !ok || x.broken || (x.event.is_some() && event.is_none()) {
            return None;
        }
        let (count, window, target) = (count?, window?, target?);
        let to = x.to.as_ref().map(|t| t.get_ref().clone());
        let expectation = match (subject, target) {
            (Subject::Delivered | Subject::NeverDelivered, Resolved::Webhook(webhook)) => {
                Expectation::Delivered { webhook, event, body, count, window }
            }
            (Subject::Attempts, Resolved::Webhook(webhook)) => {
                Expectation::Attempts { webhook, event, body, outcome, count, window }
            }
            (Subject::Warned | Subject::NotWarned, Resolved::Webhook(webhook)) => {
                Expectation::Warned { webhook, to, count, window }
            }
            (Subject::Emailed, Resolved::Webhook(webhook)) => Expectation::Emailed { webhook, to, count, window },
            (Subject::Disabled | Subject::NotDisabled, Resolved::Webhook(webhook)) => {
                Expectation::Disabled { webhook, count, window }
            }
            (Subject::NoAttemptAfterDisable, Resolved::Webhook(webhook)) => {
                Expectation::NoAttemptAfterDisable { webhook }
            }
            (Subject::Abandoned, Resolved::Webhook(webhook)) => {
                Expectation::Abandoned { webhook, event, count, window }
            }
            (Subject::Acted, Resolved::Receiver(receiver)) => {
                let action = x.action.as_ref().map(|a| a.get_ref().clone());
                Expectation::Acted { receiver, event, action, count, window }
            }
            (Subject::Skipped, Resolved::Receiver(receiver)) => Expectation::Skipped { receiver, event, count, window },
            (Subject::Rejected, Resolved::Receiver(receiver)) => {
                Expectation::Rejected { receiver, event, count, window }
            }
            (Subject::DeliveredInOrder, Resolved::Order(webhook, events)) => {
                Expectation::DeliveredInOrder { webhook, events }
            }
            // `Subject::target` decides the resolution, so a mismatch cannot come from a file.
            (_, Resolved::Webhook(_) | Resolved::Receiver(_) | Resolved::Order(..)) => return None,
        };
        let (line, column) = self.line(&e.span());
        Some(Located { line, column, value: expectation })
    }

    /// `to` must be the address warnings about the webhook go to.
    fn owner(&mut self, x: &ExpectFile, webhook: WebhookId, known: &Known<'_>) {
        let (Some(to), Some(config)) = (&x.to, known.configs.get(webhook.0 as usize)) else { return };
        if *to.get_ref() != config.owner_email {
            self.err(
                to.span(),
                format!(
                    "warnings about {:?} go to its owner {:?}, never to {:?} (set the webhook's `owner` to change it)",
                    known.webhooks[webhook.0 as usize],
                    config.owner_email,
                    to.get_ref()
                ),
            );
        }
    }

    /// Every `body` field must exist in the envelope of the events it can match: those of
    /// `event` when given, else those the webhook subscribes to.
    fn body(&mut self, x: &ExpectFile, webhook: WebhookId, event: Option<u64>, known: &Known<'_>) {
        let Some(body) = &x.body else { return };
        let paths: BTreeSet<EventPath> = match event {
            Some(id) => match known.events.get(id as usize - 1).and_then(|e| e.path) {
                Some(p) => [p].into(),
                None => return,
            },
            None => {
                let Some(config) = known.configs.get(webhook.0 as usize) else { return };
                EventPath::ALL.into_iter().filter(|p| config.wants(*p)).collect()
            }
        };
        for f in &body.get_ref().fields {
            if let Err(why) = vocabulary().check_body_path(self.provider, &paths, &f.path, &f.value) {
                self.err(f.span.clone(), why);
            }
        }
    }

    /// `action` must be something a reference receiver does, to an entity the timeline makes
    /// (and to the entity of `event`, when given).
    fn receiver_action(&mut self, x: &ExpectFile, event: Option<u64>, known: &Known<'_>) {
        let Some(a) = &x.action else { return };
        let v = vocabulary();
        let text = a.get_ref();
        let parsed = text.rsplit_once(' ').and_then(|(verb, id)| Some((v.actions.get(verb)?, id.parse::<u64>().ok()?)));
        let Some((kind, id)) = parsed else {
            self.err(a.span(), format!("no receiver does {text:?}; the reference receivers do {}", v.actions_text()));
            return;
        };
        let exists = match kind {
            EntityKind::Client => known.entities.clients.contains_key(&id),
            EntityKind::Invoice => known.entities.invoices.contains(&id),
        };
        let entity = EntityRef { kind: *kind, id };
        if !exists {
            self.err(a.span(), format!("{text:?} can never happen: the timeline has no {entity}"));
            return;
        }
        let about = event.and_then(|id| known.events.get(id as usize - 1)).and_then(|e| e.entity);
        if let Some(about) = about
            && about != entity
        {
            self.err(
                a.span(),
                format!("{text:?} can never happen on event {}: that event is about {about}", event.unwrap_or(0)),
            );
        }
    }

    fn receiver(&mut self, r: &Spanned<String>, hosts: &BTreeSet<String>) -> Option<String> {
        if hosts.contains(r.get_ref()) {
            return Some(r.get_ref().clone());
        }
        self.err(r.span(), unknown_receiver(r.get_ref(), hosts));
        None
    }

    /// `delivered_in_order = [...]` with `webhook = "..."`.
    fn order(&mut self, x: &ExpectFile, known: &Known<'_>) -> Option<Resolved> {
        let list = x.order.as_ref()?;
        let Some(w) = &x.webhook else {
            self.err(list.span(), "`delivered_in_order` needs `webhook = \"<name>\"`");
            return None;
        };
        let webhook = self.webhook(w, known.webhooks);
        if list.get_ref().len() < 2 {
            self.err(list.span(), "`delivered_in_order` needs at least two events");
        }
        let evs: Vec<Option<u64>> = list.get_ref().iter().map(|r| self.event(r, known)).collect();
        let mut seen = BTreeSet::new();
        for (r, e) in list.get_ref().iter().zip(&evs) {
            if let Some(e) = e
                && !seen.insert(*e)
            {
                self.err(r.span(), format!("event {e} is listed twice; each event comes once in an order"));
            }
        }
        Some(Resolved::Order(webhook?, evs.into_iter().collect::<Option<Vec<_>>>()?))
    }

    fn count(&mut self, x: &ExpectFile, subject: Subject) -> Option<Count> {
        if subject.expects_none() {
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

    fn event(&mut self, r: &Spanned<EventRef>, k: &Known<'_>) -> Option<u64> {
        let events = k.events;
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
            EventRef::Name(name) => match k.event_names.get(name.as_str()) {
                Some(id) => Some(*id),
                None => {
                    let named = k.event_names.keys().copied();
                    self.err(
                        r.span(),
                        format!("no change step is named {name:?} ({})", known(named, "no change step has a name")),
                    );
                    None
                }
            },
        }
    }
}
