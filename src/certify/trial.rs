//! One certification scenario played against the real receiver through the live shell, and
//! graded from its expectations evaluated over the live trace.
//!
//! Grading, in order: the run stopped early → failed; the receiver answered something other
//! than a 2xx, or failed on the wire (timeout, reset, TLS, an answer that is not HTTP), to any
//! attempt → failed, with advice derived from that failure; an expectation about answers failed
//! (attempts, deliveries, their order) → failed, with advice derived from the first failure on
//! the wire; the control delivery acted on more than once → failed; an expectation about acts
//! failed → failed, with the case's own advice; the control act is missing → not verified; a
//! "must not act" expectation failed only by entries without `kind` → not judged (not
//! verified); acts cannot be seen (no effects URL) → not verified; no request answered → not
//! observed (not verified); else passed.

use super::case::CaseInfo;
use super::hint::{Problem, fix};
use super::verdict::Verdict;
use super::wire::WireFailure;
use super::{CertifyError, CertifyOptions, library};
use crate::live::{ActNote, Bindings, EarlierEffects, LiveOptions, Observed, WIRE_NOTES_MAX, WireNote};
use crate::scenario::{Expectation, Failure, Scenario, evaluate};
use crate::trace::{Outcome, Trace, TraceEvent};
use crate::world::RunLimits;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A graded scenario case.
#[derive(Clone, Debug)]
pub(crate) struct Trial {
    pub verdict: Verdict,
    pub detail: String,
    pub fix: String,
    /// Requests sent to the receiver.
    pub requests: usize,
    /// Requests the receiver answered (a status line, even a 500).
    pub answered: usize,
    /// The receiver answered none of the case's requests, and one went unanswered to its
    /// deadline: it is not answering at all (the run stops there).
    pub silent: bool,
    /// The case failed for acts it did not see: per delivery of the case, the acts traced (a
    /// later look at the effects list tells an act that came after the settle window).
    pub short_of_acts: Option<BTreeMap<Uuid, usize>>,
    /// The virtual time the case covers, in seconds: how far the run's event clock moves.
    pub span_s: i64,
}

/// Plays `info`'s scenario (the case at `index` in the run) against `opts.url`, its virtual time
/// zero at unix second `epoch_s` (when the events a provider's body dates happened); its store
/// published to `store_view` after every change (the simulated provider API reads it).
pub(crate) async fn play(
    info: &CaseInfo,
    file: &str,
    index: u64,
    epoch_s: i64,
    store_view: Option<crate::live::StoreView>,
    opts: &CertifyOptions,
) -> Result<Trial, CertifyError> {
    let internal = |why: String| CertifyError::Limit(format!("case {}: {why}", info.name));
    let seed = opts.seed.wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let offset = id_offset(opts.seed, index);
    let scenario = library::load(file).map_err(internal)?;
    let scenario = library::prepare(scenario, seed, opts.limits.timeout_ms, offset)
        .map_err(|e| CertifyError::Limit(format!("timeout_ms: {e}")))?;
    let scenario = library::in_shape(scenario, opts.provider);
    let effects: Vec<String> = opts.effects_url.iter().map(|u| format!("{}={u}", library::RECEIVER)).collect();
    let bindings = Bindings::parse(&[format!("{}={}", library::RECEIVER, opts.url)], &effects)
        .map_err(|e| CertifyError::BadUrl { url: opts.url.clone(), why: format!("{e:?}") })?;
    let live = LiveOptions {
        settle: opts.settle,
        ca_cert_pem: opts.ca_cert_pem.clone(),
        earlier_effects: EarlierEffects::Counted,
        event_id_offset: offset,
        stop_at_first_failure: true,
        signer: opts.signing.as_ref().and_then(|s| s.signer().ok()),
        epoch_s,
        store_view,
        ..LiveOptions::default()
    };
    let world = scenario.world.clone();
    // The live shell drives its own runtime: off this one's threads.
    let (result, observed) =
        tokio::task::spawn_blocking(move || crate::live::run_observed(&world, &bindings, RunLimits::default(), &live))
            .await
            .map_err(|e| internal(format!("the run panicked: {e}")))?;
    let (trace, stopped) = match result {
        Ok(output) => (output.trace, None),
        Err(failure) => (failure.partial.trace, Some(failure.error.to_string())),
    };
    let span_s = i64::try_from(scenario.world.run_for_ms / 1_000).unwrap_or(i64::MAX);
    Ok(Trial { span_s, ..grade(info, &scenario, &trace, &observed, stopped, opts) })
}

/// Entity ids per run and case: apart by a thousand per case, and by seed.
fn id_offset(seed: u64, index: u64) -> u64 {
    (seed % 1_000) * 100_000 + (index + 1) * 1_000
}

/// Which expectations a failure is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Answers,
    Acts,
    Control,
}

fn grade(
    info: &CaseInfo,
    scenario: &Scenario,
    trace: &Trace,
    observed: &Observed,
    stopped: Option<String>,
    opts: &CertifyOptions,
) -> Trial {
    let notes = &observed.notes;
    let all = attempts(trace);
    let answered = all.iter().filter(|(_, _, o)| matches!(o, Outcome::Status { .. })).count();
    let heard = answered > 0 || notes.iter().any(|n| n.failure != WireFailure::Timeout);
    let silent = !heard && notes.iter().any(|n| n.failure == WireFailure::Timeout);
    let summary = summary(trace, notes);
    let trial = |verdict, detail: String, fix: String| Trial {
        verdict,
        detail,
        fix,
        requests: all.len(),
        answered,
        silent,
        short_of_acts: None,
        span_s: 0,
    };
    let problem = first_problem(trace, notes, opts.limits.timeout_ms);
    let answer_fix = |p: &Option<Problem>| fix(p.as_ref().unwrap_or(&Problem::Acts), info.fix, false);
    if let Some(why) = stopped {
        return trial(Verdict::Failed, format!("the run stopped: {why}; {summary}"), answer_fix(&problem));
    }
    // A certification scenario scripts no failure of the receiver's own: any answer other than
    // a 2xx, on time or late, and any failure on the wire it caused (a reset, an answer that is
    // not HTTP), fails the case, whatever the acts were.
    if problem.is_some() {
        let detail = if silent { format!("{}; {summary}", silence(opts.limits.timeout_ms)) } else { summary };
        return trial(Verdict::Failed, detail, answer_fix(&problem));
    }
    let control = library::control_event(scenario);
    let with_effects = opts.effects_url.is_some();
    let mut checked = scenario.clone();
    checked.expectations.retain(|e| with_effects || kind(&e.value, control) == Kind::Answers);
    let failures = evaluate(&checked, trace);
    let kinds: Vec<(Kind, &Expectation, &Failure)> = failures
        .iter()
        .filter_map(|f| {
            let e = checked.expectations.iter().find(|e| e.line == f.line && e.column == f.column)?;
            Some((kind(&e.value, control), &e.value, f))
        })
        .collect();
    let of = |k: Kind| kinds.iter().filter(|(x, ..)| *x == k).collect::<Vec<_>>();
    let said_all = |fs: &[&(Kind, &Expectation, &Failure)]| fs.iter().map(|(_, _, f)| said(f)).collect::<Vec<_>>();
    if let answers @ [_, ..] = of(Kind::Answers).as_slice() {
        let detail = format!("{summary}; {}", said_all(answers).join("; "));
        return trial(Verdict::Failed, detail, answer_fix(&problem));
    }
    let short = kinds.iter().any(|(k, e, _)| *k != Kind::Answers && short_of(e, trace));
    let with_short = |mut t: Trial| {
        t.short_of_acts = short.then(|| acts_per_delivery(trace));
        t
    };
    // The control delivery acted on more than once is a wrong act like any other, not a
    // missing precondition.
    let (controls, wrong_controls): (Vec<_>, Vec<_>) =
        of(Kind::Control).into_iter().partition(|(_, e, _)| acts_matching(e, trace) == 0);
    let (unjudged, judged): (Vec<_>, Vec<_>) =
        of(Kind::Acts).into_iter().partition(|(_, e, _)| only_untyped_acts(e, trace, &observed.acts));
    if !wrong_controls.is_empty() {
        let detail = format!(
            "the control delivery (a plain `paid` invoice, delivered once) was acted on more than once: {}; {summary}{}",
            said_all(&wrong_controls).join("; "),
            acted_summary(trace, &observed.acts)
        );
        let fix = "act once per delivery: claim its uuid before acting, and record other work done for it with \
                   `\"kind\": \"other\"`"
            .to_string();
        return with_short(trial(Verdict::Failed, detail, fix));
    }
    if !judged.is_empty() {
        let detail = format!("{}; {summary}{}", said_all(&judged).join("; "), acted_summary(trace, &observed.acts));
        return with_short(trial(Verdict::Failed, detail, info.fix.to_string()));
    }
    if let controls @ [_, ..] = controls.as_slice() {
        let detail = format!(
            "the receiver did not act on the control delivery, a plain `paid` invoice ({}): without that act, the \
             rest of this case shows nothing",
            said_all(controls).join("; ")
        );
        let fix = "record an entry in the effects list for each delivery you act on (a `paid` invoice is \
                   fulfilled), before answering or from your queue"
            .to_string();
        return with_short(trial(Verdict::NotVerified, detail, fix));
    }
    if let unjudged @ [_, ..] = unjudged.as_slice() {
        let words = untyped_words(unjudged, &observed.acts);
        let detail = format!(
            "not judged: effects carry no kind. The receiver recorded {words} under a delivery that must not be \
             fulfilled; without `kind` an entry cannot be told from a fulfilment (its words are never read); \
             {summary}"
        );
        let fix = "give every entry of the effects list a `kind` (`fulfil`, `cancel`, `create` or `other`): other \
                   work under a stale delivery is `\"kind\": \"other\"`"
            .to_string();
        return trial(Verdict::NotVerified, detail, fix);
    }
    if !with_effects && scenario.expectations.iter().any(|e| kind(&e.value, control) != Kind::Answers) {
        let detail = format!("{summary}; answers were right, but effects are unknown: no --effects-url given");
        return trial(Verdict::NotVerified, detail, super::report::NOT_VERIFIED_FIX.to_string());
    }
    if answered == 0 {
        // Nothing observed passes nothing (a world whose deliveries were all refused at the
        // harness's edge would otherwise pass on no evidence).
        let detail = format!("not observed: the receiver answered no request of this case; {summary}");
        return trial(Verdict::NotVerified, detail, String::new());
    }
    trial(Verdict::Passed, format!("{summary}{}", acted_summary(trace, &observed.acts)), String::new())
}

/// The reason a run stops at a receiver that answers nothing, first in its detail.
pub(crate) fn silence(timeout_ms: u64) -> String {
    format!("the receiver answered nothing in {}", duration_words(timeout_ms))
}

/// `30 s`, `1500 ms`.
fn duration_words(ms: u64) -> String {
    if ms.is_multiple_of(1_000) { format!("{} s", ms / 1_000) } else { format!("{ms} ms") }
}

/// Acts the trace shows that an `acted` expectation counts (its receiver, event, action).
fn acts_matching(e: &Expectation, trace: &Trace) -> usize {
    let Expectation::Acted { event, action, .. } = e else { return 0 };
    trace
        .entries()
        .iter()
        .filter(|x| match &x.event {
            TraceEvent::ReceiverActed { event: ev, action: a, .. } => {
                event.is_none_or(|want| want == *ev) && action.as_ref().is_none_or(|want| want == a)
            }
            _ => false,
        })
        .count()
}

/// The expectation wanted more acts than the trace shows (a late act may explain it).
fn short_of(e: &Expectation, trace: &Trace) -> bool {
    match e {
        Expectation::Acted { count, .. } => (acts_matching(e, trace) as u64) < count.min,
        _ => false,
    }
}

/// An expectation that the delivery not be acted on (`exactly 0`), failed only by entries that
/// carry no `kind`: whether they were the forbidden act cannot be told without reading words.
fn only_untyped_acts(e: &Expectation, trace: &Trace, acts: &[ActNote]) -> bool {
    let Expectation::Acted { event: Some(event), count, .. } = e else { return false };
    let mine: Vec<&ActNote> = acts.iter().filter(|a| a.event == *event).collect();
    count.max == Some(0) && acts_matching(e, trace) > 0 && !mine.is_empty() && mine.iter().all(|a| a.kind.is_none())
}

/// `"mark invoice 7 cancelled (no fulfilment)"` (the receiver's own words, quoted).
fn untyped_words(failures: &[&(Kind, &Expectation, &Failure)], acts: &[ActNote]) -> String {
    let events: Vec<u64> = failures
        .iter()
        .filter_map(|(_, e, _)| match e {
            Expectation::Acted { event, .. } => *event,
            _ => None,
        })
        .collect();
    let words: Vec<String> = acts
        .iter()
        .filter(|a| events.contains(&a.event) && a.kind.is_none())
        .map(|a| format!("{:?}", a.said.as_deref().unwrap_or("")))
        .collect();
    if words.is_empty() { "an entry".into() } else { words.join(", ") }
}

/// Acts traced per delivery of the run (every delivery, none acted on included).
fn acts_per_delivery(trace: &Trace) -> BTreeMap<Uuid, usize> {
    let mut out: BTreeMap<Uuid, usize> = BTreeMap::new();
    for e in trace.entries() {
        match &e.event {
            TraceEvent::DeliveryQueued { delivery, .. } => {
                out.entry(*delivery).or_default();
            }
            TraceEvent::ReceiverActed { delivery, .. } => *out.entry(*delivery).or_default() += 1,
            _ => {}
        }
    }
    out
}

fn kind(e: &Expectation, control: Option<u64>) -> Kind {
    match e {
        Expectation::Acted { event, .. } | Expectation::Skipped { event, .. } => {
            if event.is_some() && *event == control { Kind::Control } else { Kind::Acts }
        }
        _ => Kind::Answers,
    }
}

/// A failure in one line: what was expected and what the trace shows.
fn said(f: &Failure) -> String {
    format!("expected {}, but the trace shows {}", f.expected, f.found)
}

/// `(attempt, event, outcome)` of every finished attempt, in order.
fn attempts(trace: &Trace) -> Vec<(u64, u64, Outcome)> {
    trace
        .entries()
        .iter()
        .filter_map(|e| match &e.event {
            TraceEvent::AttemptFinished { attempt, event, outcome, .. } => Some((*attempt, *event, *outcome)),
            TraceEvent::LateAnswerIgnored { attempt, outcome } => Some((*attempt, 0, *outcome)),
            _ => None,
        })
        .collect()
}

fn outcome_word(o: Outcome) -> String {
    match o {
        Outcome::Status { code } => code.to_string(),
        Outcome::Timeout => "timeout".into(),
        Outcome::Refused => "refused".into(),
        Outcome::Reset => "reset".into(),
    }
}

/// `4 attempt(s): 3 × 200, 1 × reset` (how many were sent, and how each ended), then the wire notes (the first three).
fn summary(trace: &Trace, notes: &[WireNote]) -> String {
    let all = attempts(trace);
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (attempt, _, o) in &all {
        // A failure on the wire with no note is the case's own network (a held answer, a receiver
        // the case took down), not the receiver: say so, or a passing case reads as a slow one.
        // Once the notes are full a missing note proves nothing, and nothing is marked.
        let staged = notes.len() < WIRE_NOTES_MAX
            && !matches!(o, Outcome::Status { .. })
            && !notes.iter().any(|n| n.attempt == *attempt);
        let w = if staged { format!("{} (the case's network)", outcome_word(*o)) } else { outcome_word(*o) };
        match counts.iter_mut().find(|(x, _)| *x == w) {
            Some((_, n)) => *n += 1,
            None => counts.push((w, 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(w, n)| format!("{n} × {w}")).collect();
    let mut out =
        format!("{} attempt(s): {}", all.len(), if parts.is_empty() { "none".into() } else { parts.join(", ") });
    let mut said: Vec<&str> = Vec::new();
    for n in notes {
        if said.len() < 3 && !said.contains(&n.what.as_str()) {
            said.push(&n.what);
            out.push_str(&format!("; {}", n.what));
        }
    }
    out
}

/// The first failure on the wire that the receiver caused (partitions and holds the scenario
/// set up leave no note, and are the scenario's doing): every note is one, whatever its kind, so
/// an answer that is not HTTP fails the case as a reset does.
fn first_problem(trace: &Trace, notes: &[WireNote], timeout_ms: u64) -> Option<Problem> {
    let from_note = |n: &WireNote| Problem::from_wire(n.failure, &n.what, timeout_ms);
    let by_attempt: BTreeMap<u64, &WireNote> = notes.iter().map(|n| (n.attempt, n)).collect();
    let traced = attempts(trace).into_iter().find_map(|(attempt, _, outcome)| match outcome {
        Outcome::Status { code } if !(200..300).contains(&code) => Some(Problem::from_status(code)),
        Outcome::Status { .. } => None,
        _ => by_attempt.get(&attempt).and_then(|n| from_note(n)),
    });
    // A flight cut at its deadline as the run ended may have no outcome in the trace yet.
    traced.or_else(|| notes.iter().find_map(from_note))
}

/// The receiver's own words quoted in a case's detail; more are counted, not quoted.
const QUOTED_ENTRIES_MAX: usize = 3;

/// `; acted: fulfil invoice 1000401 ×1 ("shipped it")` (what the receiver was seen to do, and
/// its own words), or nothing.
fn acted_summary(trace: &Trace, notes: &[ActNote]) -> String {
    let mut acts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in trace.entries() {
        if let TraceEvent::ReceiverActed { action, .. } = &e.event {
            *acts.entry(action.as_str()).or_default() += 1;
        }
    }
    if acts.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = acts.iter().map(|(a, n)| format!("{a} ×{n}")).collect();
    let mut words: Vec<&str> = notes.iter().filter_map(|n| n.said.as_deref()).collect();
    words.dedup();
    let mut quoted: Vec<String> = words.iter().take(QUOTED_ENTRIES_MAX).map(|w| format!("{w:?}")).collect();
    if words.len() > QUOTED_ENTRIES_MAX {
        quoted.push(format!("and {} more", words.len() - QUOTED_ENTRIES_MAX));
    }
    let said = if quoted.is_empty() { String::new() } else { format!(" (its entries: {})", quoted.join(", ")) };
    format!("; acted: {}{said}", parts.join(", "))
}
