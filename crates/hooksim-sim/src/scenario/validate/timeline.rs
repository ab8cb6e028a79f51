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
        let present: Vec<(&str, Range<usize>)> = [
            ("add_client", s.add_client.as_ref().map(|x| x.span())),
            ("update_client", s.update_client.as_ref().map(|x| x.span())),
            ("add_invoice", s.add_invoice.as_ref().map(|x| x.span())),
            ("invoice_state", s.invoice_state.as_ref().map(|x| x.span())),
            ("enable", s.enable.as_ref().map(|x| x.span())),
            ("behave", s.behave.as_ref().map(|x| x.span())),
            ("partition", s.partition.as_ref().map(|x| x.span())),
            ("repair", s.repair.as_ref().map(|x| x.span())),
            ("hold", s.hold.as_ref().map(|x| x.span())),
            ("release", s.release.as_ref().map(|x| x.span())),
            ("latency", s.latency.as_ref().map(|x| x.span())),
            ("crash", s.crash.as_ref().map(|x| x.span())),
            ("restart", s.restart.as_ref().map(|x| x.span())),
            ("delay_attempts", s.delay_attempts.as_ref().map(|x| x.span())),
        ]
        .into_iter()
        .filter_map(|(k, sp)| sp.map(|sp| (k, sp)))
        .collect();
        match present.as_slice() {
            // A value that could not be read has been reported where it is written.
            [] if s.broken => return None,
            [] => {
                self.err(
                    step.span(),
                    format!(
                        "timeline step {n} has no action; give one of add_client, update_client, add_invoice, invoice_state, enable, behave (with receiver), partition, repair, hold, release, latency, crash, restart, delay_attempts"
                    ),
                );
                return None;
            }
            [_] => {}
            [(first, _), (second, sp), ..] => {
                self.err(
                    sp.clone(),
                    format!(
                        "timeline step {n} has more than one action (`{first}` and `{second}`); give exactly one per step"
                    ),
                );
                return None;
            }
        }
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
        if let Some(c) = &s.add_client {
            let c = c.get_ref();
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
            return Some(Action::Change(Change::AddClient(client)));
        }
        if let Some(c) = &s.update_client {
            let c = c.get_ref();
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
            return Some(Action::Change(Change::UpdateClient(old.clone())));
        }
        if let Some(inv) = &s.add_invoice {
            let inv = inv.get_ref();
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
            return Some(Action::Change(Change::AddInvoice(Invoice {
                id,
                number: inv.number.clone().unwrap_or_else(|| format!("INV-{id}")),
                client_id: client,
                total_cents: inv.total_cents.unwrap_or(10_000),
                state: inv.state.unwrap_or(InvoiceState::Unpaid),
            })));
        }
        if let Some(st) = &s.invoice_state {
            let st = st.get_ref();
            let id = *st.id.get_ref();
            if !entities.invoices.contains(&id) {
                self.err(
                    st.id.span(),
                    format!("no invoice {id} exists at this point of the timeline (add it first with add_invoice)"),
                );
                return None;
            }
            return Some(Action::Change(Change::SetInvoiceState { id, state: st.state }));
        }
        if let Some(w) = &s.enable {
            let id = self.webhook(w, webhooks)?;
            return Some(Action::EnableWebhook(id));
        }
        if let Some(b) = &s.behave {
            let Some(r) = &s.receiver else {
                self.err(b.span(), "`behave` needs `receiver = \"<host>\"` to say which receiver");
                return None;
            };
            if !hosts.contains(r.get_ref()) {
                self.err(r.span(), unknown_receiver(r.get_ref(), hosts));
                return None;
            }
            return Some(Action::Behave { receiver: r.get_ref().clone(), behaviour: b.get_ref().0.clone() });
        }
        if let Some(p) = &s.partition {
            let (from, to) = self.host_pair(p, hosts)?;
            let one_way = s.one_way.as_ref().is_some_and(|o| *o.get_ref());
            return Some(Action::Partition { from, to, one_way });
        }
        for (pair, make) in [
            (&s.repair, (|a, b| Action::Repair { a, b }) as fn(Host, Host) -> Action),
            (&s.hold, |a, b| Action::Hold { a, b }),
            (&s.release, |a, b| Action::Release { a, b }),
        ] {
            if let Some(p) = pair {
                let (a, b) = self.host_pair(p, hosts)?;
                return Some(make(a, b));
            }
        }
        if let Some(l) = &s.latency {
            return Some(Action::Latency { min_ms: l.get_ref().min.ms(), max_ms: l.get_ref().max.ms() });
        }
        if let Some(h) = &s.crash {
            return self.host(h, hosts).map(Action::Crash);
        }
        if let Some(h) = &s.restart {
            return self.host(h, hosts).map(Action::Restart);
        }
        if let Some(d) = &s.delay_attempts {
            return self.delay_attempts(d.get_ref(), hosts);
        }
        None
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
