//! Shrinking a failing world: drop timeline steps, webhooks and receivers' scripted replies,
//! and shorten the run, keeping each change only if the world still fails with the same
//! signature. Greedy, to a fixed point or [`RUNS_MAX`] runs, whichever comes first.

use super::search::{ENGINE_STOPPED, Plan};
use crate::world::{Behaviour, World};

/// Runs one shrink may spend. At the limit the smallest failing world found so far is kept.
pub const RUNS_MAX: usize = 2_000;

/// The smallest failing world found, and what finding it cost.
pub struct Shrunk {
    /// The shrunk world: it fails with the same signature.
    pub world: World,
    /// Runs spent.
    pub runs: usize,
}

/// The smallest world found that fails like `world` with `signature` (for `engine-stopped`,
/// stopping the same way: a world cut until a step is refused stops too, for another reason).
pub fn shrink(plan: &Plan, world: World, signature: &str) -> Shrunk {
    let stop_kind = if signature == ENGINE_STOPPED { plan.judge(&world).stop_kind } else { None };
    let mut s = Shrinker { plan, signature, stop_kind, runs: 0 };
    let mut best = world;
    loop {
        let before = size(&best);
        best = s.drop_steps(best);
        best = s.drop_webhooks(best);
        best = s.simplify_receivers(best);
        best = s.shorten(best);
        if size(&best) >= before || s.runs >= RUNS_MAX {
            return Shrunk { world: best, runs: s.runs };
        }
    }
}

/// What shrinking reduces: steps, webhooks, scripted replies, then time.
fn size(w: &World) -> (usize, usize, usize, u64) {
    let replies: usize = w.receivers.iter().map(|r| r.behaviour.replies.len()).sum();
    (w.timeline.len() + w.webhooks.len() + replies, w.timeline.len(), w.webhooks.len(), w.run_for_ms)
}

struct Shrinker<'a> {
    plan: &'a Plan,
    signature: &'a str,
    /// The kind of stop to keep, shrinking an `engine-stopped` world.
    stop_kind: Option<&'static str>,
    runs: usize,
}

impl Shrinker<'_> {
    fn fails(&mut self, w: &World) -> bool {
        if self.runs >= RUNS_MAX {
            return false;
        }
        self.runs += 1;
        let judged = self.plan.judge(w);
        judged.signatures.iter().any(|s| s == self.signature)
            && (self.stop_kind.is_none() || judged.stop_kind == self.stop_kind)
    }

    /// Each step, last first (later steps depend on earlier ones, not the reverse).
    fn drop_steps(&mut self, mut best: World) -> World {
        let mut i = best.timeline.len();
        while i > 0 {
            i -= 1;
            let mut w = best.clone();
            w.timeline.remove(i);
            if self.fails(&w) {
                best = w;
            }
        }
        best
    }

    /// A webhook, with the enables that name it dropped and later ones renumbered.
    fn drop_webhooks(&mut self, mut best: World) -> World {
        let mut i = best.webhooks.len();
        while i > 0 && best.webhooks.len() > 1 {
            i -= 1;
            let mut w = best.clone();
            w.webhooks.remove(i);
            w.timeline.retain(|s| !matches!(s.action, crate::world::Action::EnableWebhook(id) if id.0 as usize == i));
            for s in &mut w.timeline {
                if let crate::world::Action::EnableWebhook(id) = &mut s.action
                    && id.0 as usize > i
                {
                    id.0 -= 1;
                }
            }
            if self.fails(&w) {
                best = w;
            }
        }
        best
    }

    fn simplify_receivers(&mut self, mut best: World) -> World {
        for i in 0..best.receivers.len() {
            if best.receivers[i].behaviour.replies.is_empty() {
                continue;
            }
            let mut w = best.clone();
            let then = w.receivers[i].behaviour.then;
            w.receivers[i].behaviour = Behaviour { replies: vec![], then };
            if self.fails(&w) {
                best = w;
            }
        }
        best
    }

    /// The run cut to just after its last step, then halved while it still fails.
    fn shorten(&mut self, mut best: World) -> World {
        let last = best.timeline.last().map_or(0, |s| s.at.as_millis());
        loop {
            let mut w = best.clone();
            w.run_for_ms = last.max(best.run_for_ms / 2);
            if w.run_for_ms >= best.run_for_ms || !self.fails(&w) {
                return best;
            }
            best = w;
        }
    }
}

/// The `[[expect]]` lines that state `signature`'s property for `world`, when an expectation
/// kind fits: `dedup-acted-twice` is "this receiver did this at most once".
pub fn expectation(plan: &Plan, world: &World, signature: &str) -> Option<super::scenario_file::Expectation> {
    use crate::properties::check;
    use crate::trace::TraceEvent;
    let out = plan.run(world).ok()?;
    let v = check(&out.trace, &plan.context(world)).into_iter().find(|v| v.signature() == signature)?;
    if signature != "dedup-acted-twice" {
        return None;
    }
    v.entries.iter().find_map(|&i| match &out.trace.entries()[i].event {
        TraceEvent::ReceiverActed { receiver, action, .. } => Some(vec![
            format!("acted = {}", toml::Value::String(receiver.clone())),
            format!("action = {}", toml::Value::String(action.to_string())),
            "at_most = 1".to_string(),
        ]),
        _ => None,
    })
}
