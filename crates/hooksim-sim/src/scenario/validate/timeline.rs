//! `[[timeline]]`: time order, one action per step, references to what exists at that point.

use super::{Entities, Validator, known, unknown_receiver};
use crate::scenario::EventInfo;
use crate::scenario::duration::Duration;
use crate::scenario::file::{DelayAttemptsFile, StepFile};
use crate::shell::limits::ATTEMPT_DELAY_MS_MAX;
use crate::world::{Action, DISPATCHER_HOST, Host, MAIL_HOST, Step};
use hooksim_core::domain::{Change, Client, Invoice, InvoiceState, WebhookId};
use hooksim_core::time::SimTime;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use toml::Spanned;

/// What one step's action is read against.
struct Place<'s> {
    step: &'s StepFile,
    hosts: &'s BTreeSet<String>,
    webhooks: &'s [String],
}

/// One kind of timeline action: its key in the file, where it is written (if it is), how it is
/// read into an [`Action`], and how the "no action" error names it. The one table of steps: a
/// new step is a row here (and its field on [`StepFile`]); every list of names and every check
/// of "exactly one action" follows.
struct StepKind {
    name: &'static str,
    hint: Option<&'static str>,
    span: fn(&StepFile) -> Option<Range<usize>>,
    read: for<'v, 'p> fn(&mut Validator<'v>, &Place<'p>, &mut Entities) -> Option<Action>,
}

macro_rules! read_with {
    ($method:ident) => {
        |v: &mut Validator<'_>, at: &Place<'_>, entities: &mut Entities| v.$method(at, entities)
    };
}

macro_rules! span_of {
    ($field:ident) => {
        |s: &StepFile| s.$field.as_ref().map(|x| x.span())
    };
}

const STEP_KINDS: [StepKind; 14] = [
    StepKind { name: "add_client", hint: None, span: span_of!(add_client), read: read_with!(add_client) },
    StepKind { name: "update_client", hint: None, span: span_of!(update_client), read: read_with!(update_client) },
    StepKind { name: "add_invoice", hint: None, span: span_of!(add_invoice), read: read_with!(add_invoice) },
    StepKind { name: "invoice_state", hint: None, span: span_of!(invoice_state), read: read_with!(invoice_state) },
    StepKind { name: "enable", hint: None, span: span_of!(enable), read: read_with!(enable) },
    StepKind { name: "behave", hint: Some("behave (with receiver)"), span: span_of!(behave), read: read_with!(behave) },
    StepKind { name: "partition", hint: None, span: span_of!(partition), read: read_with!(partition) },
    StepKind { name: "repair", hint: None, span: span_of!(repair), read: read_with!(repair) },
    StepKind { name: "hold", hint: None, span: span_of!(hold), read: read_with!(hold) },
    StepKind { name: "release", hint: None, span: span_of!(release), read: read_with!(release) },
    StepKind { name: "latency", hint: None, span: span_of!(latency), read: read_with!(latency) },
    StepKind { name: "crash", hint: None, span: span_of!(crash), read: read_with!(crash) },
    StepKind { name: "restart", hint: None, span: span_of!(restart), read: read_with!(restart) },
    StepKind { name: "delay_attempts", hint: None, span: span_of!(delay_attempts), read: read_with!(delay) },
];

impl Validator<'_> {
    pub(super) fn timeline(
        &mut self,
        steps: &[Spanned<StepFile>],
        hosts: &BTreeSet<String>,
        webhooks: &[String],
        run_for: u64,
        events: &mut Vec<EventInfo>,
        entities: &mut Entities,
    ) -> Vec<Step> {
        let mut out = Vec::new();
        let mut previous: Option<(u64, Range<usize>)> = None;
        let mut names: BTreeMap<String, ()> = BTreeMap::new();
        for (i, step) in steps.iter().enumerate() {
            let n = i + 1;
            let span = step.span();
            let s = step.get_ref();
            let Some(at) = &s.at else {
                // An unreadable `at` has been reported where it is written.
                if !s.broken {
                    self.err(
                        span.clone(),
                        format!("timeline step {n} has no `at` (when it happens, such as at = \"2h\")"),
                    );
                }
                if s.records_event {
                    // Still an event: the events after it keep their numbers.
                    let at = SimTime::from_millis(previous.as_ref().map_or(0, |p| p.0));
                    let name = s.name.as_ref().map(|nm| nm.get_ref().clone());
                    let line = self.line(&span).0;
                    events.push(EventInfo { id: events.len() as u64 + 1, name, at, line, path: None, entity: None });
                }
                continue;
            };
            let at_ms = at.get_ref().ms();
            if let Some((prev, _)) = &previous
                && at_ms < *prev
            {
                self.err(
                    at.span(),
                    format!(
                        "timeline step {n} at {} comes before the step above it at {}: steps must be in time order",
                        at.get_ref(),
                        Duration(*prev)
                    ),
                );
            }
            if at_ms > run_for {
                self.err(
                    at.span(),
                    format!(
                        "timeline step {n} at {} is after the run ends (run_for = {})",
                        at.get_ref(),
                        Duration(run_for)
                    ),
                );
            }
            previous = Some((at_ms.max(previous.map_or(0, |p| p.0)), at.span()));
            let is_change = s.records_event;
            let action = self.action(n, step, hosts, webhooks, entities);
            if is_change {
                let id = events.len() as u64 + 1;
                let name = s.name.as_ref().map(|nm| nm.get_ref().clone());
                if let Some(nm) = &s.name
                    && names.insert(nm.get_ref().clone(), ()).is_some()
                {
                    self.err(nm.span(), format!("another change step is already named {:?}", nm.get_ref()));
                }
                // What the event is about, for expectations on it (none when the change is in error).
                let about = match &action {
                    Some(Action::Change(c)) => c.apply(&mut entities.store).ok(),
                    _ => None,
                };
                events.push(EventInfo {
                    id,
                    name,
                    at: SimTime::from_millis(at_ms),
                    line: self.line(&span).0,
                    path: about.map(|a| a.0),
                    entity: about.map(|a| a.2),
                });
            } else if let Some(nm) = &s.name {
                self.err(nm.span(), "`name` names the event a change records; this step records no event");
            }
            // A change step in error still counts as an event (above), so that the events after
            // it keep their numbers and expectations are not reported wrong on top of it.
            if let Some(action) = action {
                out.push(Step { at: SimTime::from_millis(at_ms), action });
            }
        }
        // Already in order when valid; a stable sort keeps same-time steps as written.
        out.sort_by_key(|s| s.at);
        out
    }

    fn action(
        &mut self,
        n: usize,
        step: &Spanned<StepFile>,
        hosts: &BTreeSet<String>,
        webhooks: &[String],
        entities: &mut Entities,
    ) -> Option<Action> {
        let s = step.get_ref();
        let present: Vec<(&StepKind, Range<usize>)> =
            STEP_KINDS.iter().filter_map(|kind| (kind.span)(s).map(|span| (kind, span))).collect();
        let kind = match present.as_slice() {
            // A value that could not be read has been reported where it is written.
            [] if s.broken => return None,
            [] => {
                let names: Vec<&str> = STEP_KINDS.iter().map(|k| k.hint.unwrap_or(k.name)).collect();
                self.err(step.span(), format!("timeline step {n} has no action; give one of {}", names.join(", ")));
                return None;
            }
            [(kind, _)] => *kind,
            [(first, _), (second, span), ..] => {
                let (first, second) = (first.name, second.name);
                self.err(
                    span.clone(),
                    format!(
                        "timeline step {n} has more than one action (`{first}` and `{second}`); give exactly one per step"
                    ),
                );
                return None;
            }
        };
        if s.behave.is_none()
            && let Some(r) = &s.receiver
        {
            self.err(r.span(), "`receiver` goes with `behave`, which this step lacks");
        }
        if s.partition.is_none()
            && let Some(o) = &s.one_way
        {
            self.err(o.span(), "`one_way` goes with `partition`, which this step lacks");
        }
        (kind.read)(self, &Place { step: s, hosts, webhooks }, entities)
    }

    fn add_client(&mut self, at: &Place<'_>, entities: &mut Entities) -> Option<Action> {
        let c = at.step.add_client.as_ref()?.get_ref();
        let id = *c.id.get_ref();
        if entities.clients.contains_key(&id) {
            self.err(c.id.span(), format!("client {id} already exists"));
            return None;
        }
        let client = Client {
            id,
            name: c.name.clone().unwrap_or_else(|| format!("Client {id}")),
            email: c.email.clone().unwrap_or_else(|| format!("client{id}@example.com")),
        };
        entities.clients.insert(id, client.clone());
        Some(Action::Change(Change::AddClient(client)))
    }

    fn update_client(&mut self, at: &Place<'_>, entities: &mut Entities) -> Option<Action> {
        let c = at.step.update_client.as_ref()?.get_ref();
        let id = *c.id.get_ref();
        let Some(old) = entities.clients.get_mut(&id) else {
            self.err(
                c.id.span(),
                format!("no client {id} exists at this point of the timeline (add it first with add_client)"),
            );
            return None;
        };
        // Fields not given keep their value: an update changes what it names.
        if let Some(name) = &c.name {
            old.name = name.clone();
        }
        if let Some(email) = &c.email {
            old.email = email.clone();
        }
        Some(Action::Change(Change::UpdateClient(old.clone())))
    }

    fn add_invoice(&mut self, at: &Place<'_>, entities: &mut Entities) -> Option<Action> {
        let inv = at.step.add_invoice.as_ref()?.get_ref();
        let id = *inv.id.get_ref();
        let client = *inv.client.get_ref();
        if entities.invoices.contains(&id) {
            self.err(inv.id.span(), format!("invoice {id} already exists"));
            return None;
        }
        if !entities.clients.contains_key(&client) {
            self.err(
                inv.client.span(),
                format!("no client {client} exists at this point of the timeline (add it first with add_client)"),
            );
            // Count the invoice as added anyway: later steps about it would only repeat this error.
            entities.invoices.insert(id);
            return None;
        }
        entities.invoices.insert(id);
        Some(Action::Change(Change::AddInvoice(Invoice {
            id,
            number: inv.number.clone().unwrap_or_else(|| format!("INV-{id}")),
            client_id: client,
            total_cents: inv.total_cents.unwrap_or(10_000),
            state: inv.state.unwrap_or(InvoiceState::Unpaid),
        })))
    }

    fn invoice_state(&mut self, at: &Place<'_>, entities: &mut Entities) -> Option<Action> {
        let st = at.step.invoice_state.as_ref()?.get_ref();
        let id = *st.id.get_ref();
        if !entities.invoices.contains(&id) {
            self.err(
                st.id.span(),
                format!("no invoice {id} exists at this point of the timeline (add it first with add_invoice)"),
            );
            return None;
        }
        Some(Action::Change(Change::SetInvoiceState { id, state: st.state }))
    }

    fn enable(&mut self, at: &Place<'_>, _: &mut Entities) -> Option<Action> {
        let id = self.webhook(at.step.enable.as_ref()?, at.webhooks)?;
        Some(Action::EnableWebhook(id))
    }

    fn behave(&mut self, at: &Place<'_>, _: &mut Entities) -> Option<Action> {
        let b = at.step.behave.as_ref()?;
        let Some(r) = &at.step.receiver else {
            self.err(b.span(), "`behave` needs `receiver = \"<host>\"` to say which receiver");
            return None;
        };
        if !at.hosts.contains(r.get_ref()) {
            self.err(r.span(), unknown_receiver(r.get_ref(), at.hosts));
            return None;
        }
        Some(Action::Behave { receiver: r.get_ref().clone(), behaviour: b.get_ref().0.clone() })
    }

    fn partition(&mut self, at: &Place<'_>, _: &mut Entities) -> Option<Action> {
        let (from, to) = self.host_pair(at.step.partition.as_ref()?, at.hosts)?;
        let one_way = at.step.one_way.as_ref().is_some_and(|o| *o.get_ref());
        Some(Action::Partition { from, to, one_way })
    }

    fn repair(&mut self, at: &Place<'_>, _: &mut Entities) -> Option<Action> {
        let (a, b) = self.host_pair(at.step.repair.as_ref()?, at.hosts)?;
        Some(Action::Repair { a, b })
    }

    fn hold(&mut self, at: &Place<'_>, _: &mut Entities) -> Option<Action> {
        let (a, b) = self.host_pair(at.step.hold.as_ref()?, at.hosts)?;
        Some(Action::Hold { a, b })
    }

    fn release(&mut self, at: &Place<'_>, _: &mut Entities) -> Option<Action> {
        let (a, b) = self.host_pair(at.step.release.as_ref()?, at.hosts)?;
        Some(Action::Release { a, b })
    }

    fn latency(&mut self, at: &Place<'_>, _: &mut Entities) -> Option<Action> {
        let l = at.step.latency.as_ref()?.get_ref();
        Some(Action::Latency { min_ms: l.min.ms(), max_ms: l.max.ms() })
    }

    fn crash(&mut self, at: &Place<'_>, _: &mut Entities) -> Option<Action> {
        self.host(at.step.crash.as_ref()?, at.hosts).map(Action::Crash)
    }

    fn restart(&mut self, at: &Place<'_>, _: &mut Entities) -> Option<Action> {
        self.host(at.step.restart.as_ref()?, at.hosts).map(Action::Restart)
    }

    fn delay(&mut self, at: &Place<'_>, _: &mut Entities) -> Option<Action> {
        self.delay_attempts(at.step.delay_attempts.as_ref()?.get_ref(), at.hosts)
    }

    /// `delay_attempts`: a receiver of the file, at least one attempt, a delay of at least 1 ms
    /// and at most [`ATTEMPT_DELAY_MS_MAX`] (the same bounds as `World::validate`).
    fn delay_attempts(&mut self, d: &DelayAttemptsFile, hosts: &BTreeSet<String>) -> Option<Action> {
        let receiver = d.receiver.get_ref();
        let mut ok = true;
        if !hosts.contains(receiver) {
            self.err(d.receiver.span(), unknown_receiver(receiver, hosts));
            ok = false;
        }
        let count = d.count.as_ref().map_or(1, |c| *c.get_ref());
        if let Some(c) = d.count.as_ref().filter(|c| *c.get_ref() == 0) {
            self.err(c.span(), "`count` is how many attempts to delay: at least 1");
            ok = false;
        }
        let by_ms = d.by.get_ref().ms();
        if by_ms == 0 || by_ms > ATTEMPT_DELAY_MS_MAX {
            self.err(
                d.by.span(),
                format!(
                    "`by` must be more than 0s and at most {} (how long an exchange stays open after its \
                     attempt's timeout: a longer delay would never reach the network)",
                    Duration(ATTEMPT_DELAY_MS_MAX)
                ),
            );
            ok = false;
        }
        ok.then(|| Action::DelayAttempts { receiver: receiver.clone(), count, by_ms })
    }

    fn host(&mut self, h: &Spanned<String>, hosts: &BTreeSet<String>) -> Option<Host> {
        let name = h.get_ref();
        if name == DISPATCHER_HOST || name == MAIL_HOST || hosts.contains(name) {
            return Some(Host::from_name(name));
        }
        self.err(
            h.span(),
            format!(
                "unknown host {name:?} (hosts: {DISPATCHER_HOST}, {MAIL_HOST}{}{})",
                if hosts.is_empty() { "" } else { ", " },
                hosts.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
        None
    }

    fn host_pair(
        &mut self,
        p: &Spanned<(Spanned<String>, Spanned<String>)>,
        hosts: &BTreeSet<String>,
    ) -> Option<(Host, Host)> {
        let (a, b) = p.get_ref();
        let ha = self.host(a, hosts);
        let hb = self.host(b, hosts);
        let (ha, hb) = (ha?, hb?);
        if ha == hb {
            self.err(b.span(), "the two hosts must differ");
            return None;
        }
        Some((ha, hb))
    }

    pub(super) fn webhook(&mut self, w: &Spanned<String>, webhooks: &[String]) -> Option<WebhookId> {
        match self.webhook_ids.get(w.get_ref()) {
            Some(id) => Some(*id),
            None => {
                self.err(
                    w.span(),
                    format!(
                        "unknown webhook {:?} ({})",
                        w.get_ref(),
                        known(webhooks.iter().map(String::as_str), "no webhooks are declared")
                    ),
                );
                None
            }
        }
    }
}
