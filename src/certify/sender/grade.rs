//! The checks, and their verdicts from what arrived. Pure: a ledger and the run's length in, one
//! result per check out. A check is *passed* only for what was seen; what the budget did not
//! cover is *not observed*, never passed.

use super::check::CheckId;
use super::due::{deadline_ms, next_delay_ms};
use super::observe::{Arrival, Ledger, Outcome};
use super::script::{Failure, Plan, Timing};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    NotObserved,
}

/// One check's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub name: &'static str,
    pub checks: &'static str,
    pub verdict: Verdict,
    pub detail: String,
    /// How to fix a failure; for a check not observed, how to observe it.
    pub fix: &'static str,
}

const NOT_OBSERVED_FIX: &str =
    "give a longer --budget (or a --time-scale the sender supports), and make sure every event is sent";

/// What the grades need besides the ledger.
pub struct Context<'a> {
    pub timing: &'a Timing,
    pub plan: &'a Plan,
    /// Whether `--secret` was given.
    pub signing: bool,
    /// How long the run lasted (ms since it started).
    pub end_ms: u64,
}

/// What one check saw: parts that passed, failed, or were not seen.
#[derive(Default)]
struct Findings {
    ok: Vec<String>,
    bad: Vec<String>,
    unseen: Vec<String>,
}

impl Findings {
    fn verdict(self) -> (Verdict, String) {
        let join = |v: &[String]| v.join("; ");
        match (self.bad.is_empty(), self.unseen.is_empty(), self.ok.is_empty()) {
            (false, _, _) => (Verdict::Failed, join(&self.bad)),
            (true, false, _) => {
                let mut detail = format!("not observed: {}", join(&self.unseen));
                if !self.ok.is_empty() {
                    detail.push_str(&format!("; seen: {}", join(&self.ok)));
                }
                (Verdict::NotObserved, detail)
            }
            (true, true, false) => (Verdict::Passed, join(&self.ok)),
            (true, true, true) => (Verdict::NotObserved, "nothing arrived".into()),
        }
    }
}

pub fn grade(ledger: &Ledger, ctx: &Context) -> Vec<CheckResult> {
    CheckId::ALL
        .into_iter()
        .map(|id| {
            let findings = match id {
                CheckId::Retried => retried(ledger, ctx),
                CheckId::SameId => same_id(ledger),
                CheckId::DistinctIds => distinct_ids(ledger),
                CheckId::RedirectNotFollowed => redirect_not_followed(ledger, ctx),
                CheckId::RetryAfter => retry_after(ledger, ctx),
                CheckId::Gone => gone(ledger, ctx),
                CheckId::Timeout => timeout(ledger, ctx),
                CheckId::Schedule => schedule(ledger, ctx),
                CheckId::Envelope => envelope(ledger),
                CheckId::Signature => signature(ledger, ctx),
                CheckId::Concurrency => concurrency(ledger, ctx),
            };
            let (verdict, detail) = findings.verdict();
            let info = id.info();
            let fix = match verdict {
                Verdict::Passed => "",
                Verdict::Failed => info.fix,
                Verdict::NotObserved if id == CheckId::Signature => "pass --secret and --scheme to verify signatures",
                Verdict::NotObserved => NOT_OBSERVED_FIX,
            };
            CheckResult { name: info.name, checks: info.checks, verdict, detail, fix }
        })
        .collect()
}

/// What followed the failed attempt `failed` of an event playing `failure`.
enum Next {
    Came {
        delay_ms: u64,
    },
    /// Nothing by the deadline (tolerance included).
    Missed {
        waited_ms: u64,
    },
    /// The run ended (or the attempt is still open) before the deadline.
    Unseen,
}

fn next_after(ledger: &Ledger, ctx: &Context, failure: Failure, failed: &Arrival) -> Next {
    let Some(event) = ledger.event(failure) else { return Next::Unseen };
    let Some(failed_at) = failed.failed_at_ms() else { return Next::Unseen };
    if let Some(attempt) = ledger.attempts(event).find(|a| a.attempt == failed.attempt + 1) {
        return Next::Came { delay_ms: attempt.at_ms.saturating_sub(failed_at) };
    }
    match deadline_ms(ctx.timing, ctx.plan, Some(failure), failed) {
        Some(deadline) if ctx.end_ms > deadline => Next::Missed { waited_ms: ctx.end_ms - failed_at },
        _ => Next::Unseen,
    }
}

/// The failed attempts of the event playing `failure`, in order.
fn failed_attempts(ledger: &Ledger, failure: Failure) -> Vec<&Arrival> {
    ledger.event(failure).map(|e| ledger.attempts(e).filter(|a| a.answer.is_failure()).collect()).unwrap_or_default()
}

fn retried(ledger: &Ledger, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    let gone_retried = !ctx.timing.policy.disables_at_once(410);
    for failure in Failure::ALL.into_iter().filter(|x| *x != Failure::Gone || gone_retried) {
        let failed = failed_attempts(ledger, failure);
        if failed.is_empty() {
            f.unseen.push(format!("no {} was answered", failure.name()));
        }
        for a in failed {
            match next_after(ledger, ctx, failure, a) {
                Next::Came { delay_ms, .. } => f.ok.push(format!("{} retried after {delay_ms} ms", failure.name())),
                Next::Missed { waited_ms } => f.bad.push(format!(
                    "no retry after the {} (attempt {}; waited {waited_ms} ms)",
                    failure.name(),
                    a.attempt
                )),
                Next::Unseen => f.unseen.push(format!("the retry after the {} (the run ended first)", failure.name())),
            }
        }
    }
    f
}

fn same_id(ledger: &Ledger) -> Findings {
    let mut f = Findings::default();
    for (n, event) in ledger.events.iter().enumerate() {
        let ids: Vec<&Result<String, String>> = ledger.attempts(event).map(|a| &a.id).collect();
        if ids.len() < 2 {
            continue;
        }
        if let Some(Err(why)) = ids.iter().find(|id| id.is_err()) {
            f.bad.push(format!("event {}: an attempt has no delivery id: {why}", n + 1));
            continue;
        }
        let mut distinct: Vec<&str> = ids.iter().filter_map(|id| id.as_deref().ok()).collect();
        distinct.dedup();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > 1 {
            f.bad.push(format!(
                "event {}: {} attempts carried {} ids ({})",
                n + 1,
                ids.len(),
                distinct.len(),
                distinct.join(", ")
            ));
        } else {
            f.ok.push(format!("event {}: {} attempts, one id", n + 1, ids.len()));
        }
    }
    f
}

fn distinct_ids(ledger: &Ledger) -> Findings {
    let mut f = Findings::default();
    let mut owner: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (n, event) in ledger.events.iter().enumerate() {
        for id in ledger.attempts(event).filter_map(|a| a.id.as_deref().ok()) {
            match owner.insert(id, n) {
                Some(other) if other != n => {
                    f.bad.push(format!("events {} and {} share delivery id {id}", other + 1, n + 1));
                }
                _ => {}
            }
        }
    }
    f.bad.dedup();
    match ledger.events.len() {
        0 | 1 => f.unseen.push("fewer than two events arrived".into()),
        n => f.ok.push(format!("{n} events, {} ids, none shared", owner.len())),
    }
    f
}

fn redirect_not_followed(ledger: &Ledger, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    let followed = ledger.arrivals.iter().filter(|a| a.redirect_target).count();
    if followed > 0 {
        f.bad.push(format!("{followed} request(s) reached the redirect target {}", ctx.plan.redirect_location));
        return f;
    }
    match failed_attempts(ledger, Failure::Redirect).first().and_then(|a| a.failed_at_ms()) {
        // A client that follows does it at once; a tolerance's wait is enough to see it.
        Some(at) if ctx.end_ms >= at + ctx.timing.tolerance_floor_ms => {
            f.ok.push("the redirect target saw nothing".into())
        }
        _ => f.unseen.push("no 307 was answered long enough before the end".into()),
    }
    f
}

/// "No sooner than" is judged with this slack: the endpoint notes an answer as sent once it is
/// written, a moment after the sender may have read it and started its wait.
pub const MEASUREMENT_SLACK_MS: u64 = 10;

fn retry_after(ledger: &Ledger, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    let Some(first) = failed_attempts(ledger, Failure::RateLimited).into_iter().find(|a| a.attempt == 1) else {
        f.unseen.push("no 429 was answered".into());
        return f;
    };
    let retry_after_ms = ctx.plan.retry_after_s * 1000;
    let backoff = ctx.timing.backoff_ms(1);
    match next_after(ledger, ctx, Failure::RateLimited, first) {
        Next::Came { delay_ms, .. } if ctx.timing.honours_retry_after() => {
            let expected = next_delay_ms(ctx.timing, ctx.plan, Some(Failure::RateLimited), first);
            if delay_ms + MEASUREMENT_SLACK_MS >= expected {
                f.ok.push(format!("next attempt {delay_ms} ms after `Retry-After: {}`", ctx.plan.retry_after_s));
            } else {
                f.bad.push(format!(
                    "next attempt {delay_ms} ms after `Retry-After: {}` (the backoff is {backoff} ms): sooner than the {expected} ms asked",
                    ctx.plan.retry_after_s
                ));
            }
        }
        Next::Came { delay_ms, .. } => {
            let latest = backoff + ctx.timing.tolerance_ms(backoff);
            if delay_ms <= latest {
                f.ok.push(format!(
                    "next attempt {delay_ms} ms after the 429: the backoff; the profile ignores Retry-After"
                ));
            } else {
                f.bad.push(format!(
                    "next attempt {delay_ms} ms after `Retry-After: {}`: the profile ignores Retry-After, so its backoff ({backoff} ms, up to {latest} ms) applies",
                    ctx.plan.retry_after_s
                ));
            }
        }
        // No retry at all is the `retried` check's failure, not this one's.
        Next::Missed { .. } => f.unseen.push("no attempt after the 429 (see retried)".into()),
        Next::Unseen => f.unseen.push(format!("the attempt after the 429 (Retry-After {retry_after_ms} ms)")),
    }
    f
}

fn gone(ledger: &Ledger, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    let Some(first) = failed_attempts(ledger, Failure::Gone).into_iter().find(|a| a.attempt == 1) else {
        f.unseen.push("no 410 was answered".into());
        return f;
    };
    let Some(gone_at) = first.failed_at_ms() else {
        f.unseen.push("no 410 was answered".into());
        return f;
    };
    if ctx.timing.policy.disables_at_once(410) {
        let after = ledger.endpoint().filter(|a| a.at_ms > gone_at).count();
        let watched = deadline_ms(ctx.timing, ctx.plan, Some(Failure::Gone), first).is_some_and(|d| ctx.end_ms > d);
        if after > 0 {
            f.bad.push(format!("{after} request(s) after the 410: the profile disables the endpoint on 410"));
        } else if watched {
            f.ok.push(format!("nothing after the 410 for {} ms: disabled, as the profile says", ctx.end_ms - gone_at));
        } else {
            f.unseen.push("the quiet after the 410 (the run ended before a retry would have come)".into());
        }
        return f;
    }
    match next_after(ledger, ctx, Failure::Gone, first) {
        Next::Came { delay_ms, .. } => f.ok.push(format!("retried {delay_ms} ms after the 410, as the profile says")),
        Next::Missed { waited_ms } => {
            f.bad.push(format!("no retry after the 410 in {waited_ms} ms: the profile retries a 410 like any failure"))
        }
        Next::Unseen => f.unseen.push("the attempt after the 410 (the run ended first)".into()),
    }
    f
}

fn timeout(ledger: &Ledger, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    let declared = ctx.timing.timeout_ms();
    let tolerance = ctx.timing.tolerance_ms(declared);
    let held = ledger.event(Failure::Timeout).and_then(|e| ledger.attempts(e).next());
    match held.map(|a| (&a.outcome, a.ended_ms.map(|end| end.saturating_sub(a.at_ms)))) {
        Some((Outcome::SenderGaveUp, Some(waited))) if waited.abs_diff(declared) <= tolerance => {
            f.ok.push(format!("gave up after {waited} ms (declared {declared} ms, ±{tolerance})"))
        }
        Some((Outcome::SenderGaveUp, Some(waited))) => {
            f.bad.push(format!("gave up after {waited} ms; the profile declares {declared} ms (±{tolerance})"))
        }
        Some((Outcome::HoldCapReached, Some(waited))) => {
            f.bad.push(format!("still waiting after {waited} ms; the profile declares {declared} ms"))
        }
        _ => f.unseen.push("a held request's end (the run ended first)".into()),
    }
    f
}

fn schedule(ledger: &Ledger, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    let failed = failed_attempts(ledger, Failure::ServerError);
    for n in 1..=ctx.plan.schedule_failures {
        let expected = ctx.timing.backoff_ms(n);
        let tolerance = ctx.timing.tolerance_ms(expected);
        let Some(a) = failed.iter().find(|a| a.attempt == n) else {
            f.unseen.push(format!("delay {n} (no attempt {n})"));
            continue;
        };
        match next_after(ledger, ctx, Failure::ServerError, a) {
            Next::Came { delay_ms, .. } if delay_ms.abs_diff(expected) <= tolerance => {
                f.ok.push(format!("delay {n}: {delay_ms} ms (expected {expected} ±{tolerance})"))
            }
            Next::Came { delay_ms, .. } => {
                f.bad.push(format!("delay {n}: {delay_ms} ms, expected {expected} ms ±{tolerance}"))
            }
            Next::Missed { .. } | Next::Unseen => f.unseen.push(format!("delay {n} (no attempt {})", n + 1)),
        }
    }
    if f.bad.is_empty() && f.unseen.is_empty() {
        let next = ctx.timing.backoff_ms(ctx.plan.schedule_failures + 1);
        f.ok.push(format!(
            "beyond the budget, not covered: delay {} ({next} ms) and later",
            ctx.plan.schedule_failures + 1
        ));
    }
    f
}

fn envelope(ledger: &Ledger) -> Findings {
    let mut f = Findings::default();
    let bad: Vec<String> = ledger
        .endpoint()
        .filter_map(|a| {
            a.envelope
                .as_ref()
                .err()
                .map(|why| format!("attempt {} of event {}: {why}", a.attempt, a.event.map_or(0, |e| e + 1)))
        })
        .collect();
    let total = ledger.endpoint().count();
    if let Some(first) = bad.first() {
        f.bad.push(format!("{} of {total} bodies: {first}", bad.len()));
    } else if total > 0 {
        f.ok.push(format!("{total} bodies"));
    }
    f
}

fn signature(ledger: &Ledger, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    if !ctx.signing {
        f.unseen.push("no --secret given".into());
        return f;
    }
    let checked: Vec<&Arrival> = ledger.endpoint().collect();
    let bad: Vec<String> = checked
        .iter()
        .filter_map(|a| match &a.signature {
            Some(Err(why)) => Some(format!("attempt {} of event {}: {why}", a.attempt, a.event.map_or(0, |e| e + 1))),
            _ => None,
        })
        .collect();
    if let Some(first) = bad.first() {
        f.bad.push(format!("{} of {} attempts: {first}", bad.len(), checked.len()));
    } else if !checked.is_empty() {
        f.ok.push(format!("{} attempts, each verified", checked.len()));
    }
    f
}

fn concurrency(ledger: &Ledger, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    let max = ctx.timing.policy.in_flight_per_webhook_max();
    let peak = ledger.in_flight_peak;
    if peak > max {
        f.bad.push(format!("{peak} requests in flight at once; the profile allows {max}"));
    } else if peak > 0 {
        f.ok.push(format!("at most {peak} in flight (the profile allows {max})"));
    }
    f
}
