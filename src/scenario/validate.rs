//! From the parsed file to a [`Scenario`]: resolve names, check references and time order, build
//! the policy; every problem becomes an error at the position of the value at fault.

use super::duration::Duration;
use super::error::{Collector, Locator, ScenarioErrors};
use super::expect::{Count, Expectation, OutcomeFilter, Window};
use super::file::{EventRef, ExpectFile, Never, PolicyFile, ReceiverFile, ScenarioFile, StepFile, WebhookFile};
use super::{EventInfo, Located, Scenario};
use crate::domain::{Change, Client, EventPath, Invoice, InvoiceState, PathFilter, WebhookConfig, WebhookId};
use crate::policy::{Backoff, Policy, PolicyError, PolicySpec, Profile, Schedule};
use crate::receiver::ReceiverKind;
use crate::time::SimTime;
use crate::world::{Action, Behaviour, DISPATCHER_HOST, Host, MAIL_HOST, ReceiverSpec, Step, World, url_host};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// When a scenario gives no `latency`: every message takes 1 ms, so an answer never arrives in
/// the same instant its request left (which no network does).
const DEFAULT_LATENCY_MS: (u64, u64) = (1, 1);

pub(crate) fn validate(file: &Path, text: &str, parsed: ScenarioFile) -> Result<Scenario, ScenarioErrors> {
    let mut v = Validator { errors: Collector::new(Locator::new(file, text)), locator: Locator::new(file, text) };
    let scenario = v.scenario(file, parsed);
    v.errors.finish(scenario)
}

struct Validator<'a> {
    errors: Collector<'a>,
    locator: Locator<'a>,
}

/// What the timeline has made exist so far, to check that later steps refer to real things.
#[derive(Default)]
struct Entities {
    clients: BTreeMap<u64, Client>,
    invoices: BTreeSet<u64>,
}

impl Validator<'_> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(span, message);
    }

    fn line(&self, span: &Range<usize>) -> (usize, usize) {
        self.locator.position(span.start)
    }

    fn scenario(&mut self, file: &Path, f: ScenarioFile) -> Scenario {
        for (key, s) in [("name", &f.name), ("description", &f.description)] {
            if s.get_ref().trim().is_empty() {
                self.err(s.span(), format!("`{key}` must not be empty"));
            }
        }
        let seed = f.seed.as_ref().map_or(0, |s| *s.get_ref());
        let run_for = f.run_for.get_ref().ms();
        if run_for == 0 {
            self.err(f.run_for.span(), "`run_for` must be longer than zero");
        }
        let latency_ms =
            f.latency.as_ref().map_or(DEFAULT_LATENCY_MS, |l| (l.get_ref().min.ms(), l.get_ref().max.ms()));
        let policy = match &f.policy {
            Some(p) => self.policy(p),
            None => Policy::default(),
        };

        let receivers = self.receivers(&f.receivers);
        let hosts: BTreeSet<String> = receivers.iter().map(|r| r.host.clone()).collect();
        let (webhook_names, webhooks) = self.webhooks(&f.webhooks, &hosts);

        let mut events = Vec::new();
        let timeline = self.timeline(&f.timeline, &hosts, &webhook_names, run_for, &mut events);
        let expectations =
            f.expect.iter().filter_map(|e| self.expectation(e, &webhook_names, &hosts, &events)).collect();

        Scenario {
            name: f.name.get_ref().clone(),
            description: f.description.get_ref().trim().to_string(),
            file: file.to_path_buf(),
            world: World {
                name: f.name.into_inner(),
                seed,
                policy,
                webhooks,
                receivers,
                timeline,
                run_for_ms: run_for,
                latency_ms,
            },
            expectations,
            webhook_names,
            events,
        }
    }

    // ---------------------------------------------------------------- policy

    fn policy(&mut self, p: &Spanned<PolicyFile>) -> Policy {
        let table = p.get_ref();
        let profile = match &table.profile {
            None => Profile::Snapbill,
            Some(name) => match name.get_ref().parse::<Profile>() {
                Ok(p) => p,
                Err(e) => {
                    self.err(name.span(), e.to_string());
                    return Policy::default();
                }
            },
        };
        let mut spec: PolicySpec = profile.spec();
        if table.retries.is_some()
            && let Some(b) = &table.backoff
        {
            self.err(b.span(), "give either `retries` (a list of delays) or `backoff` (exponential), not both");
        }
        if let Some(r) = &table.retries {
            spec.schedule.backoff = Backoff::List { delays_ms: r.get_ref().iter().map(|d| d.get_ref().ms()).collect() };
        }
        if let Some(b) = &table.backoff {
            let b = b.get_ref();
            spec.schedule.backoff = Backoff::Exponential {
                initial_ms: b.initial.get_ref().ms(),
                multiplier: *b.multiplier.get_ref(),
                max_ms: b.max.get_ref().ms(),
            };
        }
        if let Some(j) = &table.jitter_percent {
            spec.schedule = Schedule { jitter_percent: *j.get_ref(), ..spec.schedule };
        }
        let dur = |d: &Option<Spanned<Never<Duration>>>, old: Option<u64>| {
            d.as_ref().map_or(old, |d| d.get_ref().into_option().map(Duration::ms))
        };
        spec.warn_after_ms = dur(&table.warn_after, spec.warn_after_ms);
        spec.disable_after_ms = dur(&table.disable_after, spec.disable_after_ms);
        spec.retry_window_ms = dur(&table.retry_window, spec.retry_window_ms);
        if let Some(t) = &table.attempt_timeout {
            spec.attempt_timeout_ms = t.get_ref().ms();
        }
        if let Some(n) = &table.attempts_max {
            spec.attempts_max = n.get_ref().into_option();
        }
        if let Some(n) = &table.in_flight_max {
            spec.in_flight_per_webhook_max = *n.get_ref();
        }
        if let Some(n) = &table.pending_max {
            spec.pending_per_webhook_max = *n.get_ref();
        }
        let (warn, disable) = (spec.warn_after_ms, spec.disable_after_ms);
        match spec.build() {
            Ok(policy) => policy,
            Err(e) => {
                let (span, message) = self.policy_error(p, profile, e, warn, disable);
                self.err(span, message);
                Policy::default()
            }
        }
    }

    /// Says what is wrong in the file's words (`warn_after`, not `warn_after_ms`) at the key the
    /// user wrote, or at the profile when the bad value came from it.
    fn policy_error(
        &self,
        p: &Spanned<PolicyFile>,
        profile: Profile,
        e: PolicyError,
        warn: Option<u64>,
        disable: Option<u64>,
    ) -> (Range<usize>, String) {
        let t = p.get_ref();
        let fallback = t.profile.as_ref().map_or(p.span(), |s| s.span());
        let at = |s: Option<Range<usize>>| s.unwrap_or_else(|| fallback.clone());
        let fmt = |ms: Option<u64>| ms.map_or("never".to_string(), |ms| Duration(ms).to_string());
        match e {
            PolicyError::Zero { field } => {
                let (key, span) = match field {
                    "attempt_timeout_ms" => ("attempt_timeout", t.attempt_timeout.as_ref().map(|s| s.span())),
                    "in_flight_per_webhook_max" => ("in_flight_max", t.in_flight_max.as_ref().map(|s| s.span())),
                    "pending_per_webhook_max" => ("pending_max", t.pending_max.as_ref().map(|s| s.span())),
                    "attempts_max" => ("attempts_max", t.attempts_max.as_ref().map(|s| s.span())),
                    "retry_window_ms" => ("retry_window", t.retry_window.as_ref().map(|s| s.span())),
                    "warn_after_ms" => ("warn_after", t.warn_after.as_ref().map(|s| s.span())),
                    "disable_after_ms" => ("disable_after", t.disable_after.as_ref().map(|s| s.span())),
                    _ => ("backoff.initial", t.backoff.as_ref().map(|b| b.get_ref().initial.span())),
                };
                let never = matches!(key, "attempts_max" | "retry_window" | "warn_after" | "disable_after");
                let hint = if never { " (write \"never\" for no limit)" } else { "" };
                (at(span), format!("`{key}` must be greater than zero{hint}"))
            }
            PolicyError::EmptySchedule => {
                (at(t.retries.as_ref().map(|s| s.span())), "`retries` must list at least one delay".to_string())
            }
            PolicyError::ZeroDelay { index } => (
                at(t.retries.as_ref().and_then(|r| r.get_ref().get(index).map(|d| d.span()))),
                format!("`retries[{index}]` must be greater than zero"),
            ),
            PolicyError::Multiplier => (
                at(t.backoff.as_ref().map(|b| b.get_ref().multiplier.span())),
                "`backoff.multiplier` must be at least 1".to_string(),
            ),
            PolicyError::CapBelowInitial => (
                at(t.backoff.as_ref().map(|b| b.get_ref().max.span())),
                "`backoff.max` must not be less than `backoff.initial`".to_string(),
            ),
            PolicyError::Jitter(j) => (
                at(t.jitter_percent.as_ref().map(|s| s.span())),
                format!("`jitter_percent` must be at most 100, got {j}"),
            ),
            PolicyError::DisableNotAfterWarn { .. } => (
                at(t.disable_after.as_ref().or(t.warn_after.as_ref()).map(|s| s.span())),
                format!(
                    "impossible policy: `disable_after` ({}) must be later than `warn_after` ({}), since a webhook is warned before it is disabled{}",
                    fmt(disable),
                    fmt(warn),
                    profile_note(t, profile)
                ),
            ),
            PolicyError::DisableWithoutWarn => (
                at(t.warn_after.as_ref().or(t.disable_after.as_ref()).map(|s| s.span())),
                format!(
                    "impossible policy: `disable_after` ({}) needs a `warn_after`: a webhook is warned before it is disabled{}",
                    fmt(disable),
                    profile_note(t, profile)
                ),
            ),
        }
    }

    // ---------------------------------------------------------------- receivers and webhooks

    fn receivers(&mut self, files: &BTreeMap<Spanned<String>, Spanned<ReceiverFile>>) -> Vec<ReceiverSpec> {
        let mut out = Vec::new();
        for (host, r) in in_file_order(files) {
            let name = host.get_ref();
            if let Err(why) = check_host_name(name) {
                self.err(host.span(), why);
            }
            let r = r.get_ref();
            let kind = match &r.kind {
                None => ReceiverKind::Dedup,
                Some(k) => match k.get_ref().parse::<ReceiverKind>() {
                    Ok(kind) => kind,
                    Err(e) => {
                        self.err(k.span(), e.to_string());
                        ReceiverKind::Dedup
                    }
                },
            };
            let behaviour = r.behaviour.as_ref().map_or_else(Behaviour::default, |b| b.get_ref().0.clone());
            out.push(ReceiverSpec { host: name.clone(), kind, behaviour });
        }
        out
    }

    fn webhooks(
        &mut self,
        files: &BTreeMap<Spanned<String>, Spanned<WebhookFile>>,
        hosts: &BTreeSet<String>,
    ) -> (Vec<String>, Vec<WebhookConfig>) {
        let mut names = Vec::new();
        let mut configs = Vec::new();
        for (name, w) in in_file_order(files) {
            let w = w.get_ref();
            let url = w.url.get_ref();
            match receiver_url(url) {
                Err(why) => self.err(w.url.span(), why),
                Ok(host) if !hosts.contains(host) => self.err(
                    w.url.span(),
                    format!(
                        "webhook URL {url:?} names host {host:?}, which is not a receiver ({})",
                        known(hosts.iter().map(String::as_str), "no receivers are declared")
                    ),
                ),
                Ok(_) => {}
            }
            let mut paths = Vec::new();
            for p in &w.paths {
                let filter = PathFilter(p.get_ref().clone());
                if !filter.matches_any_known() {
                    self.err(
                        p.span(),
                        format!(
                            "path filter {:?} matches no event path (known: {}; a trailing * matches a prefix)",
                            p.get_ref(),
                            EventPath::ALL.map(EventPath::as_str).join(", ")
                        ),
                    );
                }
                paths.push(filter);
            }
            let owner_email =
                w.owner.as_ref().map_or_else(|| format!("owner@{}.example", name.get_ref()), |o| o.get_ref().clone());
            names.push(name.get_ref().clone());
            configs.push(WebhookConfig { url: url.clone(), paths, owner_email });
        }
        (names, configs)
    }

    // ---------------------------------------------------------------- timeline

    fn timeline(
        &mut self,
        steps: &[Spanned<StepFile>],
        hosts: &BTreeSet<String>,
        webhooks: &[String],
        run_for: u64,
        events: &mut Vec<EventInfo>,
    ) -> Vec<Step> {
        let mut out = Vec::new();
        let mut entities = Entities::default();
        let mut previous: Option<(u64, Range<usize>)> = None;
        let mut names: BTreeMap<String, ()> = BTreeMap::new();
        for (i, step) in steps.iter().enumerate() {
            let n = i + 1;
            let span = step.span();
            let s = step.get_ref();
            let Some(at) = &s.at else {
                self.err(span, format!("timeline step {n} has no `at` (when it happens, such as at = \"2h\")"));
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
            let is_change = s.add_client.is_some()
                || s.update_client.is_some()
                || s.add_invoice.is_some()
                || s.invoice_state.is_some();
            let action = self.action(n, step, hosts, webhooks, &mut entities);
            if is_change {
                let id = events.len() as u64 + 1;
                let name = s.name.as_ref().map(|nm| nm.get_ref().clone());
                if let Some(nm) = &s.name
                    && names.insert(nm.get_ref().clone(), ()).is_some()
                {
                    self.err(nm.span(), format!("another change step is already named {:?}", nm.get_ref()));
                }
                events.push(EventInfo { id, name, at: SimTime::from_millis(at_ms), line: self.line(&span).0 });
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
        ]
        .into_iter()
        .filter_map(|(k, sp)| sp.map(|sp| (k, sp)))
        .collect();
        match present.as_slice() {
            [] => {
                self.err(
                    step.span(),
                    format!(
                        "timeline step {n} has no action; give one of add_client, update_client, add_invoice, invoice_state, enable, behave (with receiver), partition, repair, hold, release, latency, crash, restart"
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
        None
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

    fn webhook(&mut self, w: &Spanned<String>, webhooks: &[String]) -> Option<WebhookId> {
        match webhooks.iter().position(|n| n == w.get_ref()) {
            Some(i) => u32::try_from(i).ok().map(WebhookId),
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

    // ---------------------------------------------------------------- expectations

    fn expectation(
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
        let body = x.body.as_ref().and_then(|b| match super::matching::toml_to_json(b.get_ref()) {
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

fn profile_note(t: &PolicyFile, profile: Profile) -> String {
    match (&t.profile, &t.warn_after, &t.disable_after) {
        (_, Some(_), Some(_)) => String::new(),
        _ => format!(
            " (the `{}` profile supplies the value not given here)",
            serde_json::to_value(profile).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
        ),
    }
}

/// Tables come out of serde sorted by name; users expect the order they wrote (webhook ids
/// follow it), which the key spans give back.
fn in_file_order<V>(map: &BTreeMap<Spanned<String>, V>) -> Vec<(&Spanned<String>, &V)> {
    let mut v: Vec<_> = map.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

/// The receiver host of a webhook URL. Both engines serve the reference receivers at
/// `POST http://<host>/webhook` (port 80); a URL the network engine would answer with 404 or a
/// refused connect, while the model engine delivered it, would make the engines disagree.
fn receiver_url(url: &str) -> Result<&str, String> {
    let bad = || {
        format!(
            "webhook URL {url:?} must be \"http://<receiver host>/webhook\" (the reference receivers take deliveries there)"
        )
    };
    let rest = url.strip_prefix("http://").ok_or_else(bad)?;
    let (authority, path) = rest.split_once('/').ok_or_else(bad)?;
    let host = authority.strip_suffix(":80").unwrap_or(authority);
    if path != "webhook" || host.is_empty() || host.contains([':', '@']) || url_host(url) != Some(host) {
        return Err(bad());
    }
    Ok(host)
}

/// Receiver hosts become host names on the simulated network: keep them plain.
fn check_host_name(name: &str) -> Result<(), String> {
    if name == DISPATCHER_HOST || name == MAIL_HOST {
        return Err(format!("{name:?} is reserved for the simulation's own {name} host; name the receiver otherwise"));
    }
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && !name.starts_with(['-', '.']);
    if plain {
        Ok(())
    } else {
        Err(format!("receiver host {name:?} must be a plain host name (lowercase letters, digits, '-' and '.')"))
    }
}

fn unknown_receiver(name: &str, hosts: &BTreeSet<String>) -> String {
    format!("unknown receiver {name:?} ({})", known(hosts.iter().map(String::as_str), "no receivers are declared"))
}

fn known<'a>(names: impl Iterator<Item = &'a str>, none: &str) -> String {
    let names: Vec<String> = names.map(|n| format!("{n:?}")).collect();
    if names.is_empty() { none.to_string() } else { format!("known: {}", names.join(", ")) }
}
