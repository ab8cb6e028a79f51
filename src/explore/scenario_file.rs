//! A world written back as a scenario file (scenarios/README.md), so a shrunk counterexample
//! can be committed next to its fix and run with `hooksim run`.

use crate::domain::Change;
use crate::policy::{Backoff, Profile};
use crate::world::{Action, Behaviour, Host, Reply, World, url_host};
use std::fmt::Write;

/// An `[[expect]]` table's lines (without the header), stating the failing property.
pub type Expectation = Vec<String>;

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn ms(v: u64) -> String {
    q(&format!("{v}ms"))
}

fn opt_ms(v: Option<u64>) -> String {
    v.map_or_else(|| q("never"), ms)
}

/// The name of webhook `i` in the file: its receiver's host (then `-2`, ... when taken).
pub fn webhook_names(world: &World) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (i, w) in world.webhooks.iter().enumerate() {
        let base = url_host(&w.url).unwrap_or_else(|| format!("webhook{i}"));
        let mut name = base.clone();
        let mut n = 1;
        while names.contains(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        names.push(name);
    }
    names
}

fn reply(r: &Reply) -> String {
    use crate::world::Answer::*;
    let answer = match r.answer {
        Status(c) => c.to_string(),
        StatusRetryAfter(c, wait) => format!("{c} {wait}"),
        ActThenStatus(c) => format!("act then {c}"),
        ActThenDrop => "act then drop".into(),
        Drop => "drop".into(),
    };
    if r.latency_ms > 0 { q(&format!("{answer} after {}ms", r.latency_ms)) } else { q(&answer) }
}

fn behaviour(b: &Behaviour) -> String {
    let replies: Vec<String> = b.replies.iter().map(reply).collect();
    format!("{{ replies = [{}], then = {} }}", replies.join(", "), reply(&b.then))
}

fn pair(a: &Host, b: &Host) -> String {
    format!("[{}, {}]", q(a.name()), q(b.name()))
}

/// The whole file: `world` with `expect` as its one `[[expect]]` (or a comment saying why none).
pub fn render(world: &World, description: &str, expect: Option<&Expectation>) -> String {
    let mut f = String::new();
    let _ = writeln!(f, "name = {}\ndescription = {}\nseed = {}", q(&world.name), q(description), world.seed);
    let _ = writeln!(f, "run_for = {}", ms(world.run_for_ms));
    let _ = writeln!(f, "latency = {}", q(&format!("{}ms..{}ms", world.latency_ms.0, world.latency_ms.1)));
    if world.provider != hooksim_core::provider::Provider::Snapbill {
        let _ = writeln!(f, "provider = {}", q(world.provider.name()));
    }
    policy(&mut f, world);
    signing(&mut f, world);
    let names = webhook_names(world);
    for (w, name) in world.webhooks.iter().zip(&names) {
        let _ = writeln!(f, "\n[webhooks.{}]\nurl = {}\nowner = {}", q(name), q(&w.url), q(&w.owner_email));
        if !w.paths.is_empty() {
            let paths: Vec<String> = w.paths.iter().map(|p| q(&p.0)).collect();
            let _ = writeln!(f, "paths = [{}]", paths.join(", "));
        }
    }
    for r in &world.receivers {
        let _ = writeln!(
            f,
            "\n[receivers.{}]\nkind = {}\nbehaviour = {}",
            q(&r.host),
            q(r.kind.as_str()),
            behaviour(&r.behaviour)
        );
        if let Some(keys) = world.signing.receivers.get(&r.host) {
            let secrets: Vec<String> = keys.secrets.iter().map(|s| q(s)).collect();
            let _ = writeln!(
                f,
                "secret = [{}]\ntolerance = {}",
                secrets.join(", "),
                ms(keys.tolerance_s.max(0) as u64 * 1_000)
            );
        }
    }
    // A step after the end is never reached, and a scenario file may not hold one.
    let (within, after): (Vec<_>, Vec<_>) = world.timeline.iter().partition(|s| s.at.as_millis() <= world.run_for_ms);
    for s in within {
        let _ = writeln!(f, "\n[[timeline]]\nat = {}\n{}", ms(s.at.as_millis()), action(&s.action, &names));
    }
    if !after.is_empty() {
        let _ = writeln!(f, "\n# {} step(s) after the run's end left out: never reached.", after.len());
    }
    match expect {
        Some(lines) => {
            let _ = writeln!(f, "\n[[expect]]\n{}", lines.join("\n"));
        }
        None => f.push_str(
            "\n# No expectation kind states the failing property: the command in the description checks it.\n",
        ),
    }
    f
}

/// The sender's keys as a file says them: a secret, and at most one rotation (what a file can
/// hold; a verifying receiver without a `[signing]` table takes the profile's scheme).
fn signing(f: &mut String, world: &World) {
    let Some(sender) = &world.signing.sender else { return };
    let Some(first) = sender.keys.first() else { return };
    let _ = writeln!(f, "\n[signing]\nscheme = {}\nsecret = {}", q(sender.scheme.as_str()), q(&first.secret));
    if let Some(next) = sender.keys.get(1) {
        let overlap_ms = first.until.map_or(0, |u| u.as_millis().saturating_sub(next.from.as_millis()));
        let _ = writeln!(
            f,
            "rotate = {{ at = {}, secret = {}, overlap = {} }}",
            ms(next.from.as_millis()),
            q(&next.secret),
            ms(overlap_ms)
        );
    }
}

fn policy(f: &mut String, world: &World) {
    let spec = world.policy.spec();
    // The profile supplies what a file cannot say (disable on 410, Retry-After handling);
    // everything else is written out.
    let profile = Profile::ALL
        .into_iter()
        .find(|p| p.spec() == *spec)
        .or_else(|| Profile::ALL.into_iter().find(|p| p.spec().disable_on_gone == spec.disable_on_gone))
        .unwrap_or(Profile::Snapbill);
    let name = serde_json::to_value(profile).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let _ = writeln!(f, "\n[policy]\nprofile = {}", q(&name));
    let _ = writeln!(f, "attempt_timeout = {}", ms(spec.attempt_timeout_ms));
    let _ =
        writeln!(f, "warn_after = {}\ndisable_after = {}", opt_ms(spec.warn_after_ms), opt_ms(spec.disable_after_ms));
    let _ = writeln!(f, "attempts_max = {}", spec.attempts_max.map_or_else(|| q("never"), |n| n.to_string()));
    let _ = writeln!(f, "retry_window = {}", opt_ms(spec.retry_window_ms));
    match &spec.schedule.backoff {
        Backoff::List { delays_ms } => {
            let d: Vec<String> = delays_ms.iter().map(|&d| ms(d)).collect();
            let _ = writeln!(f, "retries = [{}]", d.join(", "));
        }
        Backoff::Exponential { initial_ms, multiplier, max_ms } => {
            let _ = writeln!(
                f,
                "backoff = {{ initial = {}, multiplier = {multiplier}, max = {} }}",
                ms(*initial_ms),
                ms(*max_ms)
            );
        }
    }
    let _ = writeln!(f, "jitter_percent = {}", spec.schedule.jitter_percent);
    let _ = writeln!(
        f,
        "in_flight_max = {}\npending_max = {}",
        spec.in_flight_per_webhook_max, spec.pending_per_webhook_max
    );
}

fn action(a: &Action, names: &[String]) -> String {
    match a {
        Action::Change(Change::AddClient(c)) | Action::Change(Change::UpdateClient(c)) => {
            let key = if matches!(a, Action::Change(Change::AddClient(_))) { "add_client" } else { "update_client" };
            format!("{key} = {{ id = {}, name = {}, email = {} }}", c.id, q(&c.name), q(&c.email))
        }
        Action::Change(Change::AddInvoice(i)) => format!(
            "add_invoice = {{ id = {}, client = {}, total_cents = {}, state = {}, number = {} }}",
            i.id,
            i.client_id,
            i.total_cents,
            q(i.state.as_str()),
            q(&i.number)
        ),
        Action::Change(Change::SetInvoiceState { id, state }) => {
            format!("invoice_state = {{ id = {id}, state = {} }}", q(state.as_str()))
        }
        Action::EnableWebhook(id) => {
            format!("enable = {}", q(names.get(id.0 as usize).map_or("?", String::as_str)))
        }
        Action::Behave { receiver, behaviour: b } => format!("receiver = {}\nbehave = {}", q(receiver), behaviour(b)),
        Action::Partition { from, to, one_way } => format!("partition = {}\none_way = {one_way}", pair(from, to)),
        Action::Repair { a, b } => format!("repair = {}", pair(a, b)),
        Action::Hold { a, b } => format!("hold = {}", pair(a, b)),
        Action::Release { a, b } => format!("release = {}", pair(a, b)),
        Action::Latency { min_ms, max_ms } => format!("latency = {}", q(&format!("{min_ms}ms..{max_ms}ms"))),
        Action::Crash(h) => format!("crash = {}", q(h.name())),
        Action::Restart(h) => format!("restart = {}", q(h.name())),
        Action::DelayAttempts { receiver, count, by_ms } => {
            format!("delay_attempts = {{ receiver = {}, count = {count}, by = {} }}", q(receiver), ms(*by_ms))
        }
    }
}
