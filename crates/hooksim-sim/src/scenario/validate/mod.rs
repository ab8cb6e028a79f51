//! From the parsed file to a [`Scenario`]: resolve names, check references and time order, build
//! the policy; every problem becomes an error at the position of the value at fault.
//!
//! - this file: the whole file, receivers and webhooks;
//! - [`policy`]: the policy from a profile and overrides, errors in the file's words;
//! - [`signing`]: `[signing]` and the receivers' secrets, the world's signatures;
//! - [`timeline`]: steps, their actions and the entities they refer to;
//! - [`expectations`]: `[[expect]]` entries resolved to [`Expectation`](crate::scenario::Expectation)s.

mod expectations;
mod policy;
mod signing;
mod timeline;
mod vocabulary;

use super::EventInfo;
use super::Scenario;
use super::error::{Collector, Locator, ScenarioErrors};
use super::file::{ReceiverFile, ScenarioFile, WebhookFile};
use crate::receiver::ReceiverKind;
use crate::world::{Behaviour, DISPATCHER_HOST, MAIL_HOST, ReceiverSpec, World};
use hooksim_core::domain::{Client, EventPath, PathFilter, Store, WebhookConfig, WebhookId};
use hooksim_core::policy::Policy;
use hooksim_core::provider::Provider;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;
use url::{Host, Url};

/// When a scenario gives no `latency`: every message takes 1 ms, so an answer never arrives in
/// the same instant its request left (which no network does).
const DEFAULT_LATENCY_MS: (u64, u64) = (1, 1);

/// Checks `parsed` (read from `text`, with the reading's `errors` so far) and builds the scenario.
pub(crate) fn validate(
    file: &Path,
    text: &str,
    parsed: ScenarioFile,
    errors: Collector<'_>,
) -> Result<Scenario, ScenarioErrors> {
    let mut v = Validator {
        errors,
        locator: Locator::new(file, text),
        webhook_ids: BTreeMap::new(),
        provider: Provider::Snapbill,
    };
    let scenario = v.scenario(file, parsed);
    v.errors.finish(scenario)
}

struct Validator<'a> {
    errors: Collector<'a>,
    locator: Locator<'a>,
    /// Webhook ids by name: a reference is a lookup, not a scan of every webhook.
    webhook_ids: BTreeMap<String, WebhookId>,
    /// The file's `provider` (SnapBill when absent or unknown): its bodies are what `body`
    /// expectations name.
    provider: Provider,
}

/// What the timeline has made exist so far, to check that later steps refer to real things.
#[derive(Default)]
struct Entities {
    clients: BTreeMap<u64, Client>,
    invoices: BTreeSet<u64>,
    /// The valid changes applied in order: what each event is about.
    store: Store,
}

/// What the file declares, for expectations to refer to.
struct Known<'a> {
    webhooks: &'a [String],
    configs: &'a [WebhookConfig],
    hosts: &'a BTreeSet<String>,
    events: &'a [EventInfo],
    /// Event ids by step name: an expectation's reference is a lookup, not a scan.
    event_names: BTreeMap<&'a str, u64>,
    entities: &'a Entities,
}

impl Validator<'_> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(span, message);
    }

    /// `provider = "..."`: a pack's name; another name is an error listing the known ones.
    fn provider(&mut self, f: &ScenarioFile) -> Provider {
        let Some(name) = &f.provider else { return Provider::Snapbill };
        match name.get_ref().parse::<Provider>() {
            Ok(p) => p,
            Err(e) => {
                self.err(name.span(), e.to_string());
                Provider::Snapbill
            }
        }
    }

    fn line(&self, span: &Range<usize>) -> (usize, usize) {
        self.locator.position(span.start)
    }

    fn scenario(&mut self, file: &Path, f: ScenarioFile) -> Scenario {
        for (key, s) in [("name", &f.name), ("description", &f.description)] {
            if let Some(s) = s
                && s.get_ref().trim().is_empty()
            {
                self.err(s.span(), format!("`{key}` must not be empty"));
            }
        }
        let seed = f.seed.as_ref().map_or(0, |s| *s.get_ref());
        // Missing or unreadable (reported): no step is "after the end".
        let run_for = f.run_for.as_ref().map_or(u64::MAX, |r| r.get_ref().ms());
        if let Some(r) = &f.run_for
            && run_for == 0
        {
            self.err(r.span(), "`run_for` must be longer than zero");
        }
        let latency_ms =
            f.latency.as_ref().map_or(DEFAULT_LATENCY_MS, |l| (l.get_ref().min.ms(), l.get_ref().max.ms()));
        let policy = match &f.policy {
            Some(p) => self.policy(p),
            None => Policy::default(),
        };

        self.provider = self.provider(&f);
        let signing = self.signing(&f);
        let receivers = self.receivers(&f.receivers);
        let hosts: BTreeSet<String> = receivers.iter().map(|r| r.host.clone()).collect();
        let (webhook_names, webhooks) = self.webhooks(&f.webhooks, &hosts);
        self.webhook_ids = (0..).zip(&webhook_names).map(|(i, n)| (n.clone(), WebhookId(i))).collect();

        let mut events = Vec::new();
        let mut entities = Entities::default();
        let timeline = self.timeline(&f.timeline, &hosts, &webhook_names, run_for, &mut events, &mut entities);
        let known = Known {
            webhooks: &webhook_names,
            configs: &webhooks,
            hosts: &hosts,
            events: &events,
            event_names: events.iter().filter_map(|e| Some((e.name.as_deref()?, e.id))).collect(),
            entities: &entities,
        };
        let expectations = f.expect.iter().filter_map(|e| self.expectation(e, &known)).collect();

        // Whatever an engine refuses is bad input found here (`World::validate`, which both
        // engines run too): reported at the policy table, or the file's first line. Only for a
        // world read without error: a world assembled around missing parts would add noise.
        let world_span = f.policy.as_ref().map_or(0..0, |p| p.span());
        let read_cleanly = self.errors.len() == 0;
        let name = f.name.map(Spanned::into_inner).unwrap_or_default();
        let scenario = Scenario {
            name: name.clone(),
            description: f.description.map(|d| d.get_ref().trim().to_string()).unwrap_or_default(),
            file: file.to_path_buf(),
            world: World {
                name,
                seed,
                policy,
                webhooks,
                receivers,
                timeline,
                run_for_ms: run_for,
                latency_ms,
                signing,
                provider: self.provider,
            },
            expectations,
            webhook_names,
            events,
        };
        if read_cleanly {
            for e in scenario.world.validate() {
                self.err(world_span.clone(), e.to_string());
            }
        }
        scenario
    }

    // ---------------------------------------------------------------- receivers and webhooks

    fn receivers(&mut self, files: &[(Spanned<String>, Spanned<ReceiverFile>)]) -> Vec<ReceiverSpec> {
        let mut out = Vec::new();
        for (host, r) in files {
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
        files: &[(Spanned<String>, Spanned<WebhookFile>)],
        hosts: &BTreeSet<String>,
    ) -> (Vec<String>, Vec<WebhookConfig>) {
        let mut names = Vec::new();
        let mut configs = Vec::new();
        for (name, w) in files {
            let w = w.get_ref();
            if let Some(u) = &w.url {
                self.url(u, hosts);
            }
            let url = w.url.as_ref().map(|u| u.get_ref().clone()).unwrap_or_default();
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
            configs.push(WebhookConfig { url, paths, owner_email });
        }
        (names, configs)
    }

    fn url(&mut self, u: &Spanned<String>, hosts: &BTreeSet<String>) {
        let url = u.get_ref();
        match receiver_url(url) {
            Err(why) => self.err(u.span(), why),
            Ok(host) if !hosts.contains(&host) => self.err(
                u.span(),
                format!(
                    "webhook URL {url:?} names host {host:?}, which is not a receiver ({})",
                    known(hosts.iter().map(String::as_str), "no receivers are declared")
                ),
            ),
            Ok(_) => {}
        }
    }
}

/// The receiver host of a webhook URL. Both engines serve the reference receivers at
/// `POST http://<host>/webhook` (port 80); a URL the network engine would answer with 404 or a
/// refused connect, while the model engine delivered it, would make the engines disagree.
fn receiver_url(text: &str) -> Result<String, String> {
    let bad = |why: &str| {
        format!(
            "webhook URL {text:?} must be \"http://<receiver host>/webhook\" (the reference receivers take deliveries there): {why}"
        )
    };
    let url = Url::parse(text).map_err(|e| bad(&e.to_string()))?;
    if url.scheme() != "http" {
        return Err(bad(&format!("the scheme is {:?}, not \"http\"", url.scheme())));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it has a user name or password"));
    }
    // `Url` drops the default port, so a port left is not 80.
    if let Some(port) = url.port() {
        return Err(bad(&format!("port {port} is not 80")));
    }
    if url.path() != "/webhook" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad("the path is not /webhook"));
    }
    let host = match url.host() {
        Some(Host::Domain(d)) => d.to_string(),
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => return Err(bad("it names an IP address; receivers are host names")),
        None => return Err(bad("it has no host")),
    };
    // The engines route by the host as the `url` crate reads it (`world::url_host`), as here.
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

/// At most this many names are listed in a message: a file may declare thousands.
const NAMES_LISTED_MAX: usize = 20;

fn known<'a>(names: impl Iterator<Item = &'a str>, none: &str) -> String {
    let mut names = names.peekable();
    if names.peek().is_none() {
        return none.to_string();
    }
    let listed: Vec<String> = names.by_ref().take(NAMES_LISTED_MAX).map(|n| format!("{n:?}")).collect();
    let more = names.count();
    let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
    format!("known: {}{tail}", listed.join(", "))
}
