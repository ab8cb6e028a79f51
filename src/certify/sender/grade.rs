//! The checks, and their verdicts from what arrived. Pure: a ledger and the run's length in, one
//! result per check out. A check is *passed* only for what was seen; what the budget did not
//! cover is *not observed*, never passed.

use super::check::CheckId;
use super::due::{LATE_WAIT_FACTOR, after_success_watch_ms, next_delay_ms, wait_end_ms};
use super::load::QUEUE_DRAIN_MS;
use super::observe::{Arrival, Ledger, Outcome};
use super::script::{Failure, Plan, Timing};
use crate::signing::TOLERANCE_S_DEFAULT;
use serde::Serialize;

/// A check's verdict; nothing passes without being observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It was observed, and held.
    Passed,
    /// It was observed, and broken.
    Failed,
    /// The run did not let it be seen (the budget, the sender, a saturated listener): never a pass.
    NotObserved,
}

/// One check's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    /// The check's name, e.g. `same-id`.
    pub name: &'static str,
    /// What passes, in a sentence.
    pub checks: &'static str,
    /// Its verdict.
    pub verdict: Verdict,
    /// What was seen, in words.
    pub detail: String,
    /// How to fix a failure; for a check not observed, how to observe it.
    pub fix: &'static str,
    /// How many things the check saw and judged (each attempt, delay, event...): a check is
    /// passed only with at least one, and every one of them right.
    pub observed: usize,
}

const NOT_OBSERVED_FIX: &str =
    "give a longer --budget (or a --time-scale the sender supports), and make sure every event is sent";

/// What the grades need besides the ledger.
pub struct Context<'a> {
    /// The profile's timing at the run's scale.
    pub timing: &'a Timing,
    /// What the run played.
    pub plan: &'a Plan,
    /// Whether `--secret` was given.
    pub signing: bool,
    /// How long the run lasted (ms since it started).
    pub end_ms: u64,
    /// Whether the sender verifies the endpoint before its first delivery (it claims to be
    /// Slack): adds `url-verification-first`.
    pub handshake: bool,
}

/// What one check saw: parts that passed, failed, or were not seen, and remarks that are none
/// of those.
#[derive(Default)]
struct Findings {
    ok: Vec<String>,
    bad: Vec<String>,
    unseen: Vec<String>,
    notes: Vec<String>,
}

impl Findings {
    fn verdict(self) -> (Verdict, String, usize) {
        let join = |v: &[String]| v.join("; ");
        let observed = self.ok.len() + self.bad.len();
        let (verdict, mut detail) = match (self.bad.is_empty(), self.unseen.is_empty(), self.ok.is_empty()) {
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
        };
        if !self.notes.is_empty() {
            detail.push_str(&format!("; {}", join(&self.notes)));
        }
        (verdict, detail, observed)
    }
}

/// Grades every check of the catalogue over what arrived.
pub fn grade(ledger: &Ledger, ctx: &Context) -> Vec<CheckResult> {
    let handshake = ctx.handshake.then_some(CheckId::UrlVerificationFirst);
    CheckId::ALL
        .into_iter()
        .chain(handshake)
        .map(|id| {
            let findings = match id {
                CheckId::Retried => retried(ledger, ctx),
                CheckId::StoppedAfter2xx => stopped_after_2xx(ledger, ctx),
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
                CheckId::UrlVerificationFirst => url_verification_first(ledger),
            };
            let (verdict, detail, observed) = findings.verdict();
            let info = id.info();
            let fix = match verdict {
                Verdict::Passed => "",
                Verdict::Failed => info.fix,
                Verdict::NotObserved if id == CheckId::Signature && !ctx.signing => {
                    "pass --secret and --scheme to verify signatures"
                }
                Verdict::NotObserved if saturated(ledger) => SATURATED_FIX,
                Verdict::NotObserved => NOT_OBSERVED_FIX,
            };
            CheckResult { name: info.name, checks: info.checks, verdict, detail, fix, observed }
        })
        .collect()
}

const SATURATED_FIX: &str =
    "run again with nothing else holding the endpoint's connections (see the note on the saturated listener)";

const HIDDEN: &str = "the listener was saturated meanwhile (every connection slot held): a request may have waited";

fn saturated(ledger: &Ledger) -> bool {
    !ledger.listener.saturated.is_empty()
}

/// Whether saturation may have delayed what arrived between `from_ms` and `to_ms`.
fn hidden(ledger: &Ledger, from_ms: u64, to_ms: u64) -> bool {
    ledger.listener.hides(from_ms, to_ms, QUEUE_DRAIN_MS)
}

/// The number of `a`'s event as the report says it: its `HOOKSIM_EVENT`, or its arrival order.
fn event_no(ledger: &Ledger, a: &Arrival) -> u32 {
    a.event.map_or(0, |e| ledger.number(e))
}

/// What followed the failed attempt `failed` of an event playing `failure`.
enum Next {
    Came {
        delay_ms: u64,
    },
    /// Nothing while the endpoint waited for it (late ones included).
    Missed {
        waited_ms: u64,
    },
    /// The run ended (or the attempt is still open) before the wait did, or the saturated
    /// listener may have held it back.
    Unseen(String),
}

fn next_after(ledger: &Ledger, ctx: &Context, failure: Failure, failed: &Arrival) -> Next {
    let ended_first = || Next::Unseen("the run ended first".into());
    let Some(event) = ledger.event(failure) else { return ended_first() };
    let Some(failed_at) = failed.failed_at_ms() else { return ended_first() };
    if let Some(next) = ledger.attempts(event).find(|a| a.attempt == failed.attempt + 1) {
        if failed.queued || next.queued || hidden(ledger, failed_at, next.at_ms) {
            return Next::Unseen(HIDDEN.into());
        }
        return Next::Came { delay_ms: next.at_ms.saturating_sub(failed_at) };
    }
    match wait_end_ms(ctx.timing, ctx.plan, Some(failure), failed) {
        Some(_) if hidden(ledger, failed_at, ctx.end_ms) => Next::Unseen(HIDDEN.into()),
        Some(end) if ctx.end_ms > end => Next::Missed { waited_ms: ctx.end_ms - failed_at },
        _ => ended_first(),
    }
}

/// The failed attempts of the event playing `failure`, in order.
fn failed_attempts(ledger: &Ledger, failure: Failure) -> Vec<&Arrival> {
    ledger.event(failure).map(|e| ledger.attempts(e).filter(|a| a.failed()).collect()).unwrap_or_default()
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
                    "no retry after the {} (attempt {}) in {waited_ms} ms ({LATE_WAIT_FACTOR} times the {} ms the profile gives, and its tolerance)",
                    failure.name(),
                    a.attempt,
                    next_delay_ms(ctx.timing, ctx.plan, Some(failure), a),
                )),
                Next::Unseen(why) => f.unseen.push(format!("the retry after the {} ({why})", failure.name())),
            }
        }
    }
    f
}

/// Every event's attempts after the one that got a 2xx: none may come.
fn stopped_after_2xx(ledger: &Ledger, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    let watch = after_success_watch_ms(ctx.timing);
    let mut watched = 0;
    for event in &ledger.events {
        let attempts: Vec<&Arrival> = ledger.attempts(event).collect();
        // A 2xx the sender reset unread (its timeout fired first) did not end the delivery for it.
        let Some(ok) = attempts.iter().position(|a| a.succeeded() && !a.answer_unread) else { continue };
        let (success, ended) = (attempts[ok], attempts[ok].ended_ms.unwrap_or(u64::MAX));
        let after: Vec<&&Arrival> = attempts[ok + 1..].iter().filter(|a| a.at_ms > ended).collect();
        let n = event_no(ledger, success);
        match after.first() {
            Some(a) if a.queued || hidden(ledger, ended, a.at_ms) => {
                f.unseen.push(format!("event {n} after its 2xx ({HIDDEN})"))
            }
            Some(a) => f.bad.push(format!(
                "event {n}: {} attempt(s) after its 2xx (attempt {}), the first {} ms after it",
                after.len(),
                success.attempt,
                a.at_ms - ended
            )),
            None if hidden(ledger, ended, ctx.end_ms) => f.unseen.push(format!("event {n} after its 2xx ({HIDDEN})")),
            None if ctx.end_ms > ended.saturating_add(watch) => watched += 1,
            None => f.unseen.push(format!("the watch after event {n}'s 2xx (the run ended first)")),
        }
    }
    if watched > 0 {
        f.ok.push(format!("{watched} event(s): nothing after the 2xx, each watched {watch} ms"));
    }
    if f.ok.is_empty() && f.bad.is_empty() && f.unseen.is_empty() {
        f.unseen.push("no 2xx was answered".into());
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
            f.bad.push(format!("event {}: an attempt has no delivery id: {why}", ledger.number(n)));
            continue;
        }
        let mut distinct: Vec<&str> = ids.iter().filter_map(|id| id.as_deref().ok()).collect();
        distinct.dedup();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > 1 {
            f.bad.push(format!(
                "event {}: {} attempts carried {} ids ({})",
                ledger.number(n),
                ids.len(),
                distinct.len(),
                distinct.join(", ")
            ));
        } else {
            f.ok.push(format!("event {}: {} attempts, one id", ledger.number(n), ids.len()));
        }
    }
    f
}

fn distinct_ids(ledger: &Ledger) -> Findings {
    let mut f = Findings::default();
    let mut owner: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let mut without = Vec::new();
    for (n, event) in ledger.events.iter().enumerate() {
        let mut any = false;
        for id in ledger.attempts(event).filter_map(|a| a.id.as_deref().ok()) {
            any = true;
            match owner.insert(id, n) {
                Some(other) if other != n => {
                    f.bad.push(format!(
                        "events {} and {} share delivery id {id}",
                        ledger.number(other),
                        ledger.number(n)
                    ));
                }
                _ => {}
            }
        }
        if !any {
            without.push(ledger.number(n).to_string());
        }
    }
    f.bad.dedup();
    // An event whose id could not be read shares nothing that can be seen: not a pass.
    if !without.is_empty() {
        f.unseen
            .push(format!("the ids of event(s) {}: no attempt carried a delivery id (see --id)", without.join(", ")));
    }
    let with_ids = ledger.events.len() - without.len();
    if with_ids < 2 {
        f.unseen.push("fewer than two events carried a delivery id".into());
    } else {
        f.ok.push(format!("{with_ids} events, {} ids, none shared", owner.len()));
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
    let watch = ctx.timing.tolerance_floor_ms;
    match failed_attempts(ledger, Failure::Redirect).first().and_then(|a| a.failed_at_ms()) {
        Some(at) if hidden(ledger, at, ctx.end_ms) => f.unseen.push(format!("the redirect target ({HIDDEN})")),
        // A client that follows does it at once; a tolerance's wait is enough to see it.
        Some(at) if ctx.end_ms >= at + watch => {
            f.ok.push(format!("the redirect target saw nothing (watched {} ms)", ctx.end_ms - at))
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
        Next::Unseen(why) => {
            f.unseen.push(format!("the attempt after the 429 (Retry-After {retry_after_ms} ms; {why})"))
        }
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
        // A request queued before the 410 was answered may be let in after it.
        let after = ledger.endpoint().filter(|a| a.at_ms > gone_at && !a.queued).count();
        let watched = wait_end_ms(ctx.timing, ctx.plan, Some(Failure::Gone), first).is_some_and(|d| ctx.end_ms > d);
        if after > 0 {
            f.bad.push(format!("{after} request(s) after the 410: the profile disables the endpoint on 410"));
        } else if hidden(ledger, gone_at, ctx.end_ms) {
            f.unseen.push(format!("the quiet after the 410 ({HIDDEN})"));
        } else if watched {
            f.ok.push(format!("nothing after the 410 for {} ms: disabled, as the profile says", ctx.end_ms - gone_at));
        } else {
            f.unseen.push("the quiet after the 410 (the run ended before a late retry would have come)".into());
        }
        return f;
    }
    match next_after(ledger, ctx, Failure::Gone, first) {
        Next::Came { delay_ms, .. } => f.ok.push(format!("retried {delay_ms} ms after the 410, as the profile says")),
        Next::Missed { waited_ms } => {
            f.bad.push(format!("no retry after the 410 in {waited_ms} ms: the profile retries a 410 like any failure"))
        }
        Next::Unseen(why) => f.unseen.push(format!("the attempt after the 410 ({why})")),
    }
    f
}

fn timeout(ledger: &Ledger, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    let declared = ctx.timing.timeout_ms();
    let tolerance = ctx.timing.tolerance_ms(declared);
    let held = ledger.event(Failure::Timeout).and_then(|e| ledger.attempts(e).next());
    if let Some(a) = held.filter(|a| a.queued || hidden(ledger, a.at_ms, a.ended_ms.unwrap_or(ctx.end_ms))) {
        f.unseen.push(format!("the held request (attempt {}: {HIDDEN})", a.attempt));
        return f;
    }
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
            Next::Came { delay_ms, .. } if delay_ms > expected => f.bad.push(format!(
                "delay {n}: {delay_ms} ms, late by {} ms (expected {expected} ms ±{tolerance})",
                delay_ms - expected
            )),
            Next::Came { delay_ms, .. } => f.bad.push(format!(
                "delay {n}: {delay_ms} ms, early by {} ms (expected {expected} ms ±{tolerance})",
                expected - delay_ms
            )),
            Next::Missed { waited_ms } => {
                f.unseen.push(format!("delay {n} (no attempt {} in {waited_ms} ms: see retried)", n + 1))
            }
            Next::Unseen(why) => f.unseen.push(format!("delay {n} ({why})")),
        }
    }
    let unread = ledger.listener.unread_connections;
    if !f.bad.is_empty() && unread > 0 {
        // An attempt that hung up before its request was whole (a client timeout that counts from
        // before the connection opened, say) is invisible here: the delay after it is measured
        // from the attempt before, and looks one step late.
        f.notes.push(format!(
            "{unread} connection(s) closed before a whole request arrived; if one was an attempt, the delays are measured from the attempt before it"
        ));
    }
    let next = ctx.timing.backoff_ms(ctx.plan.schedule_failures + 1);
    f.notes.push(format!(
        "beyond the budget, not covered: delay {} ({next} ms) and later",
        ctx.plan.schedule_failures + 1
    ));
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
                .map(|why| format!("attempt {} of event {}: {why}", a.attempt, event_no(ledger, a)))
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

/// Slack verifies a Request URL (`url_verification`, answered with its challenge) before it sends
/// events there: the first delivery comes after a verification, which verifies with `--secret`.
fn url_verification_first(ledger: &Ledger) -> Findings {
    let mut f = Findings::default();
    let first_delivery = ledger.endpoint().map(|a| a.at_ms).min();
    let first_handshake = ledger.handshakes.first();
    match (first_handshake, first_delivery) {
        (None, None) => f.unseen.push("neither a url_verification nor a delivery arrived".into()),
        (None, Some(d)) => f.bad.push(format!("the first delivery came at {d} ms with no url_verification before it")),
        (Some(h), Some(d)) if h.at_ms > d => {
            f.bad.push(format!("the first delivery came at {d} ms, before the first url_verification ({} ms)", h.at_ms))
        }
        (Some(h), None) => f.unseen.push(format!("a url_verification at {} ms, and no delivery after it", h.at_ms)),
        (Some(h), Some(d)) => {
            f.ok.push(format!(
                "url_verification at {} ms (answered with its challenge), the first delivery at {d} ms",
                h.at_ms
            ));
        }
    }
    if let Some(Some(Err(why))) = first_handshake.map(|h| &h.signature) {
        f.bad.push(format!("the url_verification does not verify: {why}"));
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
            Some(Err(why)) => Some(format!("attempt {} of event {}: {why}", a.attempt, event_no(ledger, a))),
            _ => stale(ctx, a).map(|why| format!("attempt {} of event {}: {why}", a.attempt, event_no(ledger, a))),
        })
        .collect();
    if let Some(first) = bad.first() {
        f.bad.push(format!("{} of {} attempts: {first}", bad.len(), checked.len()));
    } else if !checked.is_empty() {
        f.ok.push(format!(
            "{} attempts, each verified, each timestamp fresh in the sender's time (scale {})",
            checked.len(),
            ctx.timing.time_scale
        ));
    }
    f
}

/// Why an attempt's signed timestamp is stale in the sender's own time: at time scale N, a
/// timestamp S wall seconds old is N × S seconds old to the sender, as it would be to a receiver
/// in production. Judged leniently: the timestamp's second counts as its last instant (senders
/// sign whole seconds), and the tolerance floor is taken off the wall age (the machine's delay).
fn stale(ctx: &Context, a: &Arrival) -> Option<String> {
    let signed_at_s = a.signed_at_s?;
    if a.queued {
        return None;
    }
    let latest_signing_ms = signed_at_s.saturating_add(1).saturating_mul(1000);
    let wall_age_ms =
        a.at_unix_ms.saturating_sub(latest_signing_ms).saturating_sub(ctx.timing.tolerance_floor_ms as i64);
    let scaled_age_s = wall_age_ms.max(0).saturating_mul(i64::from(ctx.timing.time_scale)) / 1000;
    (scaled_age_s > TOLERANCE_S_DEFAULT).then(|| {
        format!(
            "its timestamp {signed_at_s} was {} ms old when it arrived: {scaled_age_s} s in the sender's time at scale {}, past the {TOLERANCE_S_DEFAULT} s a receiver tolerates (a timestamp frozen at the first attempt?)",
            a.at_unix_ms - signed_at_s * 1000,
            ctx.timing.time_scale
        )
    })
}

fn concurrency(ledger: &Ledger, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    let max = ctx.timing.policy.in_flight_per_webhook_max();
    let peak = ledger.in_flight_peak;
    let hold = ctx.timing.success_hold_ms();
    if peak > max {
        f.bad.push(format!("{peak} requests in flight at once; the profile allows {max}"));
    } else if peak > 0 {
        f.ok.push(format!("at most {peak} in flight (the profile allows {max}; each 2xx held {hold} ms)"));
    }
    f
}
