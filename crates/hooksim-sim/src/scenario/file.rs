//! The TOML format of a scenario: its tables as structs, read key by key from the parsed tree
//! (see [`Reader`]) so that every bad value of a file is reported, not just the first. Every
//! table refuses unknown keys (a typo is an error, not a silently ignored setting), and values
//! whose position matters for a later check are kept `Spanned`. `scenarios/README.md` documents
//! every key.

use super::body::{Body, read_body};
use super::duration::{Duration, LatencyRange};
use super::expect::{Qualifier, Subject};
use super::reader::{Node, Reader};
use super::reply::{BehaviourSpec, read_behaviour};
use hooksim_core::domain::InvoiceState;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::ops::Range;
use toml::Spanned;

/// A whole scenario file.
#[derive(Debug, Default)]
pub(crate) struct ScenarioFile {
    /// Absent when the key is missing or its value unreadable (an error says which).
    pub name: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub seed: Option<Spanned<u64>>,
    pub run_for: Option<Spanned<Duration>>,
    pub latency: Option<Spanned<LatencyRange>>,
    /// `provider = "stripe"`: whose shape every attempt is rendered in.
    pub provider: Option<Spanned<String>>,
    pub policy: Option<Spanned<PolicyFile>>,
    pub signing: Option<Spanned<SigningFile>>,
    /// In file order (webhook ids follow it).
    pub webhooks: Vec<(Spanned<String>, Spanned<WebhookFile>)>,
    pub receivers: Vec<(Spanned<String>, Spanned<ReceiverFile>)>,
    pub timeline: Vec<Spanned<StepFile>>,
    pub expect: Vec<Spanned<ExpectFile>>,
}

/// `[policy]`: a named profile, then any field overridden.
#[derive(Debug, Default)]
pub(crate) struct PolicyFile {
    pub profile: Option<Spanned<String>>,
    /// Delays after the 1st, 2nd, ... failure; the last repeats.
    pub retries: Option<Spanned<Vec<Spanned<Duration>>>>,
    pub backoff: Option<Spanned<BackoffFile>>,
    pub jitter_percent: Option<Spanned<u8>>,
    pub warn_after: Option<Spanned<Never<Duration>>>,
    pub disable_after: Option<Spanned<Never<Duration>>>,
    pub attempt_timeout: Option<Spanned<Duration>>,
    pub attempts_max: Option<Spanned<Never<u32>>>,
    pub retry_window: Option<Spanned<Never<Duration>>>,
    pub in_flight_max: Option<Spanned<u32>>,
    pub pending_max: Option<Spanned<u32>>,
    /// Some value could not be read (and was reported): the policy is not built.
    pub broken: bool,
}

/// `backoff = { initial = "1m", multiplier = 2, max = "12h" }`: exponential backoff.
#[derive(Debug)]
pub(crate) struct BackoffFile {
    pub initial: Spanned<Duration>,
    pub multiplier: Spanned<u32>,
    pub max: Spanned<Duration>,
}

/// A value, or `"never"` for "no limit" (`warn_after = "never"`, `attempts_max = "never"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Never<T> {
    Never,
    Value(T),
}

impl<T> Never<T> {
    pub(crate) fn into_option(self) -> Option<T> {
        match self {
            Never::Never => None,
            Never::Value(v) => Some(v),
        }
    }
}

impl<'de> Deserialize<'de> for Never<Duration> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Never<Duration>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a duration such as "7d" or "never""#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.trim() == "never" {
                    return Ok(Never::Never);
                }
                super::duration::parse_duration(v).map(Never::Value).map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Err(E::custom(format!(
                    "a duration must be a string with a unit, such as \"{v}s\" or \"{v}d\", or \"never\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Never<u32> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Never<u32>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a count such as 10, or "never" for no limit"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.trim() == "never" {
                    Ok(Never::Never)
                } else {
                    Err(E::custom(format!("expected a count such as 10, or \"never\" for no limit, found {v:?}")))
                }
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u32::try_from(v)
                    .map(Never::Value)
                    .map_err(|_| E::custom(format!("count {v} is out of range (0 to {})", u32::MAX)))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[webhooks.<name>]`.
#[derive(Debug, Default)]
pub(crate) struct WebhookFile {
    /// Absent when missing or unreadable (reported).
    pub url: Option<Spanned<String>>,
    /// Empty or absent: every path.
    pub paths: Vec<Spanned<String>>,
    /// Who gets the warning email.
    pub owner: Option<Spanned<String>>,
}

/// `[receivers.<host>]`.
#[derive(Debug, Default)]
pub(crate) struct ReceiverFile {
    pub kind: Option<Spanned<String>>,
    pub behaviour: Option<Spanned<BehaviourSpec>>,
    /// The receiver verifies signatures with this secret (or these, during its own rotation).
    pub secret: Option<Spanned<Secrets>>,
    /// How far a signed timestamp may be from the receiver's now (default 5 minutes).
    pub tolerance: Option<Spanned<Duration>>,
}

/// `[signing]`: how the sender signs every attempt.
#[derive(Debug, Default)]
pub(crate) struct SigningFile {
    /// Absent: the profile's scheme (`svix`, `standard-webhooks`, `stripe`).
    pub scheme: Option<Spanned<String>>,
    pub secret: Option<Spanned<String>>,
    pub rotate: Option<Spanned<RotateFile>>,
}

/// `rotate = { at = "2h", secret = "...", overlap = "1h" }`: from `at` the new secret signs; the
/// old one signs alongside it until `at + overlap`.
#[derive(Debug)]
pub(crate) struct RotateFile {
    pub at: Spanned<Duration>,
    pub secret: Spanned<String>,
    pub overlap: Option<Spanned<Duration>>,
}

/// One secret, or a list of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Secrets(pub Vec<String>);

impl<'de> Deserialize<'de> for Secrets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Secrets;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a secret such as "whsec_..." or a list of them"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Secrets, E> {
                Ok(Secrets(vec![v.to_string()]))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Secrets, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                if out.is_empty() {
                    return Err(de::Error::custom("the list of secrets is empty"));
                }
                Ok(Secrets(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// One `[[timeline]]` entry: `at` plus exactly one action (checked in `validate`).
#[derive(Debug, Default)]
pub(crate) struct StepFile {
    pub at: Option<Spanned<Duration>>,
    /// A name for the event a change records, for expectations to refer to.
    pub name: Option<Spanned<String>>,
    pub add_client: Option<Spanned<ClientFile>>,
    pub update_client: Option<Spanned<ClientFile>>,
    pub add_invoice: Option<Spanned<InvoiceFile>>,
    pub invoice_state: Option<Spanned<InvoiceStateFile>>,
    pub enable: Option<Spanned<String>>,
    pub receiver: Option<Spanned<String>>,
    pub behave: Option<Spanned<BehaviourSpec>>,
    pub partition: Option<Spanned<(Spanned<String>, Spanned<String>)>>,
    pub one_way: Option<Spanned<bool>>,
    pub repair: Option<Spanned<(Spanned<String>, Spanned<String>)>>,
    pub hold: Option<Spanned<(Spanned<String>, Spanned<String>)>>,
    pub release: Option<Spanned<(Spanned<String>, Spanned<String>)>>,
    pub latency: Option<Spanned<LatencyRange>>,
    pub crash: Option<Spanned<String>>,
    pub restart: Option<Spanned<String>>,
    pub delay_attempts: Option<Spanned<DelayAttemptsFile>>,
    /// The step changes an entity (so it records an event), even if the change could not be read.
    pub records_event: bool,
    /// Some value of the step could not be read (and was reported).
    pub broken: bool,
}

#[derive(Debug)]
pub(crate) struct ClientFile {
    pub id: Spanned<u64>,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug)]
pub(crate) struct InvoiceFile {
    pub id: Spanned<u64>,
    pub client: Spanned<u64>,
    pub number: Option<String>,
    pub total_cents: Option<i64>,
    pub state: Option<InvoiceState>,
}

/// `delay_attempts = { receiver = "shop", count = 1, by = "2m" }`: the next `count` attempts to
/// the receiver are held `by` at the sender.
#[derive(Debug)]
pub(crate) struct DelayAttemptsFile {
    pub receiver: Spanned<String>,
    /// 1 when not given.
    pub count: Option<Spanned<u32>>,
    pub by: Spanned<Duration>,
}

#[derive(Debug)]
pub(crate) struct InvoiceStateFile {
    pub id: Spanned<u64>,
    pub state: InvoiceState,
}

/// One `[[expect]]` entry: exactly one subject key (`delivered`, `warned`, ...) and the
/// qualifiers that apply to it (checked in `validate`).
#[derive(Debug, Default)]
pub(crate) struct ExpectFile {
    /// The subject keys present, in file order, with the receiver or webhook they name.
    pub subjects: Vec<(Subject, Spanned<String>)>,
    /// `delivered_in_order`: its list of events.
    pub order: Option<Spanned<Vec<Spanned<EventRef>>>>,
    // ---- qualifiers ----
    pub webhook: Option<Spanned<String>>,
    pub event: Option<Spanned<EventRef>>,
    pub body: Option<Spanned<Body>>,
    pub outcome: Option<Spanned<String>>,
    pub to: Option<Spanned<String>>,
    pub action: Option<Spanned<String>>,
    pub exactly: Option<Spanned<u64>>,
    pub at_least: Option<Spanned<u64>>,
    pub at_most: Option<Spanned<u64>>,
    pub after: Option<Spanned<Duration>>,
    pub before: Option<Spanned<Duration>>,
    /// Some value of the entry could not be read (and was reported).
    pub broken: bool,
}

/// An event, named by its change step's `name` or by the 1-based index of the change among the
/// timeline's changes (which is the event id the dispatcher gives it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EventRef {
    Index(u64),
    Name(String),
}

impl<'de> Deserialize<'de> for EventRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = EventRef;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an event: the name of a change step, or its 1-based number among the changes")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<EventRef, E> {
                Ok(EventRef::Name(v.to_string()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<EventRef, E> {
                match u64::try_from(v) {
                    Ok(n) if n >= 1 => Ok(EventRef::Index(n)),
                    _ => Err(E::custom(format!("event number {v} is out of range: changes are numbered from 1"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl fmt::Display for EventRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventRef::Index(n) => write!(f, "{n}"),
            EventRef::Name(s) => write!(f, "{s:?}"),
        }
    }
}

// ------------------------------------------------------------------------------- reading

const SCENARIO_KEYS: &[&str] = &[
    "name",
    "description",
    "seed",
    "run_for",
    "latency",
    "provider",
    "policy",
    "signing",
    "webhooks",
    "receivers",
    "timeline",
    "expect",
];
const POLICY_KEYS: &[&str] = &[
    "profile",
    "retries",
    "backoff",
    "jitter_percent",
    "warn_after",
    "disable_after",
    "attempt_timeout",
    "attempts_max",
    "retry_window",
    "in_flight_max",
    "pending_max",
];
const BACKOFF_KEYS: &[&str] = &["initial", "multiplier", "max"];
const WEBHOOK_KEYS: &[&str] = &["url", "paths", "owner"];
const RECEIVER_KEYS: &[&str] = &["kind", "behaviour", "secret", "tolerance"];
const SIGNING_KEYS: &[&str] = &["scheme", "secret", "rotate"];
const ROTATE_KEYS: &[&str] = &["at", "secret", "overlap"];
/// The keys of a step that change an entity: such a step records an event.
const CHANGE_KEYS: &[&str] = &["add_client", "update_client", "add_invoice", "invoice_state"];
const STEP_KEYS: &[&str] = &[
    "at",
    "name",
    "add_client",
    "update_client",
    "add_invoice",
    "invoice_state",
    "enable",
    "receiver",
    "behave",
    "partition",
    "one_way",
    "repair",
    "hold",
    "release",
    "latency",
    "crash",
    "restart",
    "delay_attempts",
];
const CLIENT_KEYS: &[&str] = &["id", "name", "email"];
const INVOICE_KEYS: &[&str] = &["id", "client", "number", "total_cents", "state"];
const INVOICE_STATE_KEYS: &[&str] = &["id", "state"];
const DELAY_ATTEMPTS_KEYS: &[&str] = &["receiver", "count", "by"];

impl ScenarioFile {
    pub(crate) fn read(r: &mut Reader<'_, '_>, root: &Node<'_>) -> ScenarioFile {
        let Some(f) = r.table(root, "a scenario", SCENARIO_KEYS) else {
            return ScenarioFile::default();
        };
        let mut file = ScenarioFile {
            name: r.req(&f, "name"),
            description: r.req(&f, "description"),
            seed: r.opt(&f, "seed"),
            run_for: r.req(&f, "run_for"),
            latency: r.opt(&f, "latency"),
            provider: r.opt(&f, "provider"),
            policy: f.get("policy").and_then(|p| PolicyFile::read(r, p)),
            signing: f.get("signing").and_then(|p| SigningFile::read(r, p)),
            ..ScenarioFile::default()
        };
        if let Some(webhooks) = f.get("webhooks").and_then(|n| r.named(n, "a table of webhooks")) {
            for (name, node) in webhooks.entries() {
                let w = WebhookFile::read(r, node).unwrap_or_default();
                file.webhooks.push((name, Spanned::new(node.span(), w)));
            }
        }
        if let Some(receivers) = f.get("receivers").and_then(|n| r.named(n, "a table of receivers")) {
            for (host, node) in receivers.entries() {
                let rf = ReceiverFile::read(r, node).unwrap_or_default();
                file.receivers.push((host, Spanned::new(node.span(), rf)));
            }
        }
        if let Some(steps) = f.get("timeline").and_then(|n| r.array(n, "an array of [[timeline]] steps")) {
            for node in steps {
                let step = StepFile::read(r, node);
                file.timeline.push(Spanned::new(node.span(), step));
            }
        }
        if let Some(entries) = f.get("expect").and_then(|n| r.array(n, "an array of [[expect]] entries")) {
            for node in entries {
                if let Some(x) = ExpectFile::read(r, node) {
                    file.expect.push(Spanned::new(node.span(), x));
                }
            }
        }
        file
    }
}

impl PolicyFile {
    fn read(r: &mut Reader<'_, '_>, node: &Node<'_>) -> Option<Spanned<PolicyFile>> {
        let before = r.error_count();
        let f = r.table(node, "a [policy] table", POLICY_KEYS)?;
        let retries = f.get("retries").and_then(|n| {
            let items = r.array(n, "an array of delays, like [\"1m\", \"1h\"]")?;
            let delays: Vec<Option<Spanned<Duration>>> = items.iter().map(|d| r.value(d)).collect();
            delays.into_iter().collect::<Option<Vec<_>>>().map(|d| Spanned::new(n.span(), d))
        });
        let backoff = f.get("backoff").and_then(|n| {
            let b = r.table(n, "a table { initial, multiplier, max }", BACKOFF_KEYS)?;
            let (initial, multiplier, max) = (r.req(&b, "initial"), r.req(&b, "multiplier"), r.req(&b, "max"));
            Some(Spanned::new(n.span(), BackoffFile { initial: initial?, multiplier: multiplier?, max: max? }))
        });
        let mut p = PolicyFile {
            profile: r.opt(&f, "profile"),
            retries,
            backoff,
            jitter_percent: r.opt(&f, "jitter_percent"),
            warn_after: r.opt(&f, "warn_after"),
            disable_after: r.opt(&f, "disable_after"),
            attempt_timeout: r.opt(&f, "attempt_timeout"),
            attempts_max: r.opt(&f, "attempts_max"),
            retry_window: r.opt(&f, "retry_window"),
            in_flight_max: r.opt(&f, "in_flight_max"),
            pending_max: r.opt(&f, "pending_max"),
            broken: false,
        };
        p.broken = r.error_count() > before;
        Some(Spanned::new(node.span(), p))
    }
}

impl WebhookFile {
    fn read(r: &mut Reader<'_, '_>, node: &Node<'_>) -> Option<WebhookFile> {
        let f = r.table(node, "a webhook table { url, paths, owner }", WEBHOOK_KEYS)?;
        let paths = f
            .get("paths")
            .and_then(|n| r.array(n, "an array of paths, like [\"/invoice/*\"]"))
            .map(|items| items.iter().filter_map(|p| r.value(p)).collect())
            .unwrap_or_default();
        Some(WebhookFile { url: r.req(&f, "url"), paths, owner: r.opt(&f, "owner") })
    }
}

impl ReceiverFile {
    fn read(r: &mut Reader<'_, '_>, node: &Node<'_>) -> Option<ReceiverFile> {
        let f = r.table(node, "a receiver table { kind, behaviour, secret, tolerance }", RECEIVER_KEYS)?;
        Some(ReceiverFile {
            kind: r.opt(&f, "kind"),
            behaviour: f.get("behaviour").and_then(|b| read_behaviour(r, b)),
            secret: r.opt(&f, "secret"),
            tolerance: r.opt(&f, "tolerance"),
        })
    }
}

impl SigningFile {
    fn read(r: &mut Reader<'_, '_>, node: &Node<'_>) -> Option<Spanned<SigningFile>> {
        let f = r.table(node, "a [signing] table { scheme, secret, rotate }", SIGNING_KEYS)?;
        let rotate = f.get("rotate").and_then(|n| {
            let t = r.table(n, r#"a table { at = "2h", secret = "...", overlap = "1h" }"#, ROTATE_KEYS)?;
            let (at, secret, overlap) = (r.req(&t, "at"), r.req(&t, "secret"), r.opt(&t, "overlap"));
            Some(Spanned::new(n.span(), RotateFile { at: at?, secret: secret?, overlap }))
        });
        let file = SigningFile { scheme: r.opt(&f, "scheme"), secret: r.req(&f, "secret"), rotate };
        Some(Spanned::new(node.span(), file))
    }
}

impl StepFile {
    fn read(r: &mut Reader<'_, '_>, node: &Node<'_>) -> StepFile {
        let before = r.error_count();
        let Some(f) = r.table(node, "a [[timeline]] step", STEP_KEYS) else {
            return StepFile { broken: true, ..StepFile::default() };
        };
        let mut s = StepFile {
            at: r.opt(&f, "at"),
            name: r.opt(&f, "name"),
            add_client: f.get("add_client").and_then(|n| ClientFile::read(r, n)),
            update_client: f.get("update_client").and_then(|n| ClientFile::read(r, n)),
            add_invoice: f.get("add_invoice").and_then(|n| InvoiceFile::read(r, n)),
            invoice_state: f.get("invoice_state").and_then(|n| InvoiceStateFile::read(r, n)),
            enable: r.opt(&f, "enable"),
            receiver: r.opt(&f, "receiver"),
            behave: f.get("behave").and_then(|b| read_behaviour(r, b)),
            partition: r.opt(&f, "partition"),
            one_way: r.opt(&f, "one_way"),
            repair: r.opt(&f, "repair"),
            hold: r.opt(&f, "hold"),
            release: r.opt(&f, "release"),
            latency: r.opt(&f, "latency"),
            crash: r.opt(&f, "crash"),
            restart: r.opt(&f, "restart"),
            delay_attempts: f.get("delay_attempts").and_then(|n| DelayAttemptsFile::read(r, n)),
            records_event: CHANGE_KEYS.iter().any(|k| f.has(k)),
            broken: false,
        };
        s.broken = r.error_count() > before;
        s
    }
}

impl ClientFile {
    fn read(r: &mut Reader<'_, '_>, node: &Node<'_>) -> Option<Spanned<ClientFile>> {
        let f = r.table(node, "a table { id, name, email }", CLIENT_KEYS)?;
        let (id, name, email) = (r.req(&f, "id"), r.opt::<String>(&f, "name"), r.opt::<String>(&f, "email"));
        let c = ClientFile { id: id?, name: name.map(Spanned::into_inner), email: email.map(Spanned::into_inner) };
        Some(Spanned::new(node.span(), c))
    }
}

impl InvoiceFile {
    fn read(r: &mut Reader<'_, '_>, node: &Node<'_>) -> Option<Spanned<InvoiceFile>> {
        let f = r.table(node, "a table { id, client, number, total_cents, state }", INVOICE_KEYS)?;
        let (id, client) = (r.req(&f, "id"), r.req(&f, "client"));
        let number = r.opt::<String>(&f, "number").map(Spanned::into_inner);
        let total_cents = r.opt::<i64>(&f, "total_cents").map(Spanned::into_inner);
        let state = r.opt::<InvoiceState>(&f, "state").map(Spanned::into_inner);
        let inv = InvoiceFile { id: id?, client: client?, number, total_cents, state };
        Some(Spanned::new(node.span(), inv))
    }
}

impl InvoiceStateFile {
    fn read(r: &mut Reader<'_, '_>, node: &Node<'_>) -> Option<Spanned<InvoiceStateFile>> {
        let f = r.table(node, "a table { id, state }", INVOICE_STATE_KEYS)?;
        let (id, state) = (r.req(&f, "id"), r.req::<InvoiceState>(&f, "state"));
        Some(Spanned::new(node.span(), InvoiceStateFile { id: id?, state: state?.into_inner() }))
    }
}

impl DelayAttemptsFile {
    fn read(r: &mut Reader<'_, '_>, node: &Node<'_>) -> Option<Spanned<DelayAttemptsFile>> {
        let f = r.table(node, "a table { receiver, count, by }", DELAY_ATTEMPTS_KEYS)?;
        let (receiver, count, by) = (r.req(&f, "receiver"), r.opt(&f, "count"), r.req(&f, "by"));
        Some(Spanned::new(node.span(), DelayAttemptsFile { receiver: receiver?, count, by: by? }))
    }
}

impl ExpectFile {
    fn read(r: &mut Reader<'_, '_>, node: &Node<'_>) -> Option<ExpectFile> {
        let before = r.error_count();
        let keys = expect_keys();
        let f = r.table(node, "an [[expect]] entry", &keys)?;
        let mut x = ExpectFile::default();
        for (key, value) in f.entries() {
            let Ok(subject) = key.get_ref().parse::<Subject>() else { continue };
            if subject == Subject::DeliveredInOrder {
                x.order = r.value(value);
                // Listed as a subject too, so that "more than one subject" sees it.
                x.subjects.push((subject, Spanned::new(value.span(), String::new())));
            } else if let Some(v) = r.value(value) {
                x.subjects.push((subject, v));
            }
        }
        x.webhook = r.opt(&f, "webhook");
        x.event = r.opt(&f, "event");
        x.body = f.get("body").and_then(|b| read_body(r, b));
        x.outcome = r.opt(&f, "outcome");
        x.to = r.opt(&f, "to");
        x.action = r.opt(&f, "action");
        x.exactly = r.opt(&f, "exactly");
        x.at_least = r.opt(&f, "at_least");
        x.at_most = r.opt(&f, "at_most");
        x.after = r.opt(&f, "after");
        x.before = r.opt(&f, "before");
        x.broken = r.error_count() > before;
        Some(x)
    }
}

impl ExpectFile {
    /// Where qualifier `q` is written, if it is.
    pub(crate) fn span_of(&self, q: Qualifier) -> Option<Range<usize>> {
        fn at<T>(v: &Option<Spanned<T>>) -> Option<Range<usize>> {
            v.as_ref().map(Spanned::span)
        }
        match q {
            Qualifier::Webhook => at(&self.webhook),
            Qualifier::Event => at(&self.event),
            Qualifier::Body => at(&self.body),
            Qualifier::Outcome => at(&self.outcome),
            Qualifier::To => at(&self.to),
            Qualifier::Action => at(&self.action),
            Qualifier::Exactly => at(&self.exactly),
            Qualifier::AtLeast => at(&self.at_least),
            Qualifier::AtMost => at(&self.at_most),
            Qualifier::After => at(&self.after),
            Qualifier::Before => at(&self.before),
        }
    }
}

/// The keys an `[[expect]]` entry may have: every subject, every qualifier.
fn expect_keys() -> Vec<&'static str> {
    use strum::IntoEnumIterator;
    Subject::iter().map(Subject::key).chain(Qualifier::iter().map(Qualifier::key)).collect()
}
