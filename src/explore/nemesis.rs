//! The nemesis: a seed becomes a world with faults. The world is a scenario file's (its
//! receivers, webhooks, policy and changes kept) or a built-in random one; onto it go crashes
//! and restarts of every host, partitions both ways and one way, holds, latency changes, reply
//! mixes (lost answers among them), attempts held at the sender (overtaken by later ones) and
//! invoice changes while deliveries retry.
//!
//! Everything is drawn from one ChaCha8 generator keyed by the seed: same seed, same world.

use crate::domain::{Change, Client, Invoice, InvoiceState, WebhookConfig, WebhookId};
use crate::policy::Profile;
use crate::receiver::ReceiverKind;
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, SimTime};
use crate::world::{Action, Answer, Behaviour, Host, ReceiverSpec, Reply, Step, World};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// How much the nemesis does to one world: each count is a maximum, drawn uniformly from
/// `0..=max` per seed. Part of the shard manifest: shards with other rates do not merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    /// Crashes, partitions and holds (each usually ended by a restart, repair or release).
    pub faults_max: u32,
    /// Changes of the network's latency.
    pub latency_changes_max: u32,
    /// Receivers' new reply mixes (500s, drops, acts whose answer is lost, slow answers).
    pub reply_mixes_max: u32,
    /// Invoices added (each then maybe paid and cancelled while its deliveries retry).
    pub invoices_max: u32,
    /// Re-enables of a (maybe disabled) webhook.
    pub enables_max: u32,
    /// `delay_attempts` steps: the next attempts to a receiver held at the sender, so later ones
    /// overtake them. Absent from manifests written before it existed, which had none.
    #[serde(default)]
    pub delays_max: u32,
}

/// The largest value of any rate. Each is a count of timeline steps added to one world: a
/// thousand faults already hold a world down more than it runs, and a hundred million took
/// minutes to draw and run or aborted on memory. `explore` refuses a flag above it (exit 2), as
/// `merge` refuses a manifest that names one.
pub const RATE_MAX: u32 = 1_000;

impl Rates {
    /// Each rate with its flag, in the order `explore --help` lists them.
    pub fn flags(&self) -> [(&'static str, u32); 6] {
        [
            ("--faults-max", self.faults_max),
            ("--latency-changes-max", self.latency_changes_max),
            ("--reply-mixes-max", self.reply_mixes_max),
            ("--invoices-max", self.invoices_max),
            ("--enables-max", self.enables_max),
            ("--delays-max", self.delays_max),
        ]
    }

    /// Every rate above [`RATE_MAX`], named by its flag.
    pub fn check(&self) -> Result<(), String> {
        let over: Vec<String> =
            self.flags().iter().filter(|(_, v)| *v > RATE_MAX).map(|(f, v)| format!("{f} {v}")).collect();
        if over.is_empty() { Ok(()) } else { Err(format!("above RATE_MAX ({RATE_MAX}): {}", over.join(", "))) }
    }
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            faults_max: 6,
            latency_changes_max: 2,
            reply_mixes_max: 3,
            invoices_max: 4,
            enables_max: 1,
            delays_max: 1,
        }
    }
}

/// The receivers of the built-in world.
const RECEIVERS: [&str; 3] = ["shop", "shed", "store"];

/// The world of `seed`: `template`'s, or a built-in random one, with the nemesis's faults.
pub fn world(seed: u64, template: Option<&World>, rates: &Rates) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut world = match template {
        Some(t) => t.clone(),
        None => builtin(&mut rng),
    };
    world.seed = seed;
    world.name = format!("{} + nemesis (seed {seed})", world.name);
    let mut steps: Vec<(u64, Action)> = world.timeline.drain(..).map(|s| (s.at.as_millis(), s.action)).collect();
    let receivers: Vec<String> = world.receivers.iter().map(|r| r.host.clone()).collect();
    let end = world.run_for_ms.max(1);
    if template.is_none() {
        invoices(&mut rng, end, rates.invoices_max, &mut steps);
    }
    for _ in 0..rng.random_range(0..=rates.faults_max) {
        fault(&mut rng, end, &receivers, &mut steps);
    }
    for _ in 0..rng.random_range(0..=rates.latency_changes_max) {
        let low = rng.random_range(1..40);
        let high = low + rng.random_range(0..40);
        steps.push((rng.random_range(0..end), Action::Latency { min_ms: low, max_ms: high }));
    }
    if !receivers.is_empty() {
        for _ in 0..rng.random_range(0..=rates.reply_mixes_max) {
            let receiver = receivers[rng.random_range(0..receivers.len())].clone();
            steps.push((rng.random_range(0..end), Action::Behave { receiver, behaviour: behaviour(&mut rng) }));
        }
    }
    if !world.webhooks.is_empty() {
        for _ in 0..rng.random_range(0..=rates.enables_max) {
            let id = WebhookId(rng.random_range(0..world.webhooks.len()) as u32);
            steps.push((rng.random_range(0..end), Action::EnableWebhook(id)));
        }
    }
    // Drawn last, so that the worlds of every other rate are those they were before delays.
    if !receivers.is_empty() {
        for _ in 0..rng.random_range(0..=rates.delays_max) {
            let receiver = receivers[rng.random_range(0..receivers.len())].clone();
            steps.push((rng.random_range(0..end), delay(&mut rng, receiver)));
        }
    }
    world.timeline = in_store_order(steps);
    world
}

/// A random world: 1 to 3 webhooks, each to its own receiver of a random kind and behaviour,
/// a random profile, an hour to twelve days, one client.
fn builtin(rng: &mut ChaCha8Rng) -> World {
    let n = rng.random_range(1..=RECEIVERS.len());
    let kinds = [ReceiverKind::Dedup, ReceiverKind::Dedup, ReceiverKind::Picky, ReceiverKind::Naive];
    let receivers = RECEIVERS[..n]
        .iter()
        .map(|h| ReceiverSpec {
            host: h.to_string(),
            kind: kinds[rng.random_range(0..kinds.len())],
            behaviour: behaviour(rng),
        })
        .collect();
    let webhooks = RECEIVERS[..n]
        .iter()
        .map(|h| WebhookConfig {
            url: format!("http://{h}/webhook"),
            paths: vec![],
            owner_email: format!("ops@{h}.example"),
        })
        .collect();
    let profile = [Profile::Snapbill, Profile::Stripe, Profile::Svix][rng.random_range(0..3)];
    let client = Client { id: 1, name: "Ada".into(), email: "ada@example.com".into() };
    World {
        name: "built-in world".into(),
        seed: 0,
        policy: profile.policy(),
        webhooks,
        receivers,
        timeline: vec![Step { at: SimTime::ZERO, action: Action::Change(Change::AddClient(client)) }],
        run_for_ms: rng.random_range(HOUR_MS..12 * DAY_MS),
        latency_ms: (1, 20),
        signing: Default::default(),
        provider: Default::default(),
    }
}

/// Invoices added at random times, each maybe paid and then cancelled minutes to days later:
/// state changes while the earlier events' deliveries retry.
fn invoices(rng: &mut ChaCha8Rng, end: u64, max: u32, steps: &mut Vec<(u64, Action)>) {
    for id in 1..=u64::from(rng.random_range(0..=max)) {
        let t = rng.random_range(0..end);
        let invoice =
            Invoice { id, number: format!("INV-{id}"), client_id: 1, total_cents: 100, state: InvoiceState::Unpaid };
        steps.push((t, Action::Change(Change::AddInvoice(invoice))));
        let mut later = t;
        for state in [InvoiceState::Paid, InvoiceState::Cancelled] {
            if rng.random_bool(0.6) {
                later += rng.random_range(MINUTE_MS..2 * DAY_MS);
                steps.push((later, Action::Change(Change::SetInvoiceState { id, state })));
            }
        }
    }
}

fn host(rng: &mut ChaCha8Rng, receivers: &[String]) -> Host {
    match rng.random_range(0..2 + receivers.len()) {
        0 => Host::Dispatcher,
        1 => Host::Mail,
        n => Host::Receiver(receivers[n - 2].clone()),
    }
}

/// A fault that starts at a random time and, usually, ends minutes to days later: a crash of
/// any host, a partition (one way or both, either direction) or a hold between the dispatcher
/// and another host.
fn fault(rng: &mut ChaCha8Rng, end: u64, receivers: &[String], steps: &mut Vec<(u64, Action)>) {
    let at = rng.random_range(0..end);
    let for_ms = rng.random_range(MINUTE_MS..3 * DAY_MS);
    let other = host(rng, receivers);
    let (start, stop) = match rng.random_range(0..3) {
        0 => (Action::Crash(other.clone()), Action::Restart(other)),
        _ if other == Host::Dispatcher => return,
        1 => {
            let one_way = rng.random_bool(0.5);
            let (from, to) = if rng.random_bool(0.5) { (Host::Dispatcher, other) } else { (other, Host::Dispatcher) };
            (Action::Partition { from: from.clone(), to: to.clone(), one_way }, Action::Repair { a: from, b: to })
        }
        _ => {
            (Action::Hold { a: Host::Dispatcher, b: other.clone() }, Action::Release { a: Host::Dispatcher, b: other })
        }
    };
    steps.push((at, start));
    if rng.random_bool(0.85) {
        steps.push((at + for_ms, stop));
    }
}

/// The next one to three attempts to `receiver` held a few seconds (within the attempt timeout:
/// overtaken, still answered) to twenty minutes (past it: retried meanwhile, answered late).
fn delay(rng: &mut ChaCha8Rng, receiver: String) -> Action {
    const BY_MS: [u64; 4] = [5 * SECOND_MS, 45 * SECOND_MS, 2 * MINUTE_MS, 20 * MINUTE_MS];
    Action::DelayAttempts { receiver, count: rng.random_range(1..=3), by_ms: BY_MS[rng.random_range(0..BY_MS.len())] }
}

fn reply(rng: &mut ChaCha8Rng) -> Reply {
    let answer = match rng.random_range(0..7) {
        0 | 1 => Answer::Status(200),
        2 => Answer::Status(500),
        3 => Answer::ActThenStatus(500),
        4 => Answer::ActThenDrop,
        5 => Answer::Status(410),
        _ => Answer::Drop,
    };
    let latency_ms = if rng.random_bool(0.1) { 40_000 } else { rng.random_range(0..50) };
    Reply { answer, latency_ms }
}

/// A reply mix: up to three scripted replies, then 500s or one more random reply for ever.
fn behaviour(rng: &mut ChaCha8Rng) -> Behaviour {
    let replies = (0..rng.random_range(0..4)).map(|_| reply(rng)).collect();
    let then = if rng.random_bool(0.5) { Reply::status(500) } else { reply(rng) };
    Behaviour { replies, then }
}

/// Steps sorted by time (stable: a template's steps keep their order), with any invoice state
/// change dropped that would come before its invoice exists (the store refuses it).
fn in_store_order(mut steps: Vec<(u64, Action)>) -> Vec<Step> {
    steps.sort_by_key(|(t, _)| *t);
    let mut added = std::collections::BTreeSet::new();
    let mut timeline = Vec::new();
    for (t, a) in steps {
        match &a {
            Action::Change(Change::AddInvoice(i)) => {
                added.insert(i.id);
            }
            Action::Change(Change::SetInvoiceState { id, .. }) if !added.contains(id) => continue,
            _ => {}
        }
        timeline.push(Step { at: SimTime::from_millis(t), action: a });
    }
    timeline
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_world() {
        let r = Rates::default();
        for seed in 0..20 {
            let (a, b) = (world(seed, None, &r), world(seed, None, &r));
            assert_eq!(format!("{:?}", a.timeline), format!("{:?}", b.timeline));
        }
    }

    /// Delay steps come on top of the worlds other rates make (drawn last), and are valid.
    #[test]
    fn delays_are_added_on_top_of_the_same_world() {
        let rates = Rates::default();
        let none = Rates { delays_max: 0, ..rates };
        let is_delay = |s: &&Step| matches!(s.action, Action::DelayAttempts { .. });
        let mut delays = 0;
        for seed in 0..64 {
            let (with, without) = (world(seed, None, &rates), world(seed, None, &none));
            assert_eq!(with.validate(), vec![], "seed {seed}");
            delays += with.timeline.iter().filter(is_delay).count();
            let others: Vec<&Step> = with.timeline.iter().filter(|s| !is_delay(s)).collect();
            assert_eq!(format!("{others:?}"), format!("{:?}", without.timeline.iter().collect::<Vec<_>>()));
        }
        assert!(delays > 10, "{delays} delay steps in 64 worlds");
    }
}
