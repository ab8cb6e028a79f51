//! One certification scenario played against the real receiver through the live shell, and
//! graded from its expectations evaluated over the live trace.
//!
//! Grading, in order: the run stopped early → failed; the receiver answered something other
//! than a 2xx, or failed on the wire (timeout, reset, TLS), to any attempt → failed, with advice
//! derived from that failure; an expectation about answers failed
//! (attempts, deliveries, their order) → failed, with advice derived from the first failure on
//! the wire; an expectation about acts failed → failed, with the case's own advice; the control
//! act is missing → not verified; acts cannot be seen (no effects URL) → not verified; else
//! passed.

use super::case::CaseInfo;
use super::hint::{Problem, fix};
use super::verdict::Verdict;
use super::{CertifyError, CertifyOptions, library};
use crate::live::{Bindings, EarlierEffects, LiveOptions, WireNote};
use crate::scenario::{Expectation, Failure, Scenario, evaluate};
use crate::trace::{Outcome, Trace, TraceEvent};
use crate::world::RunLimits;
use std::collections::BTreeMap;

/// A graded scenario case.
#[derive(Clone, Debug)]
pub struct Trial {
    pub verdict: Verdict,
    pub detail: String,
    pub fix: String,
    /// Requests sent to the receiver.
    pub requests: usize,
}

/// Plays `info`'s scenario (the case at `index` in the run) against `opts.url`.
pub async fn play(info: &CaseInfo, file: &str, index: u64, opts: &CertifyOptions) -> Result<Trial, CertifyError> {
    let internal = |why: String| CertifyError::Limit(format!("case {}: {why}", info.name));
    let seed = opts.seed.wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let offset = id_offset(opts.seed, index);
    let scenario = library::load(file).map_err(internal)?;
    let scenario = library::prepare(scenario, seed, opts.limits.timeout_ms, offset)
        .map_err(|e| CertifyError::Limit(format!("timeout_ms: {e}")))?;
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
        ..LiveOptions::default()
    };
    let world = scenario.world.clone();
    // The live shell drives its own runtime: off this one's threads.
    let (result, notes) =
        tokio::task::spawn_blocking(move || crate::live::run_observed(&world, &bindings, RunLimits::default(), &live))
            .await
            .map_err(|e| internal(format!("the run panicked: {e}")))?;
    let (trace, stopped) = match result {
        Ok(output) => (output.trace, None),
        Err(failure) => (failure.partial.trace, Some(failure.error.to_string())),
    };
    Ok(grade(info, &scenario, &trace, &notes, stopped, opts))
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
    notes: &[WireNote],
    stopped: Option<String>,
    opts: &CertifyOptions,
) -> Trial {
    let requests = attempts(trace).len();
    let summary = summary(trace, notes);
    let trial = |verdict, detail: String, fix: String| Trial { verdict, detail, fix, requests };
    let problem = first_problem(trace, notes, opts.limits.timeout_ms);
    let answer_fix = |p: &Option<Problem>| fix(p.as_ref().unwrap_or(&Problem::Acts), info.fix, false);
    if let Some(why) = stopped {
        return trial(Verdict::Failed, format!("the run stopped: {why}; {summary}"), answer_fix(&problem));
    }
    // A certification scenario scripts no failure of the receiver's own: any answer other than
    // a 2xx, on time or late, and any failure on the wire it caused, fails the case.
    if problem.is_some() {
        return trial(Verdict::Failed, summary, answer_fix(&problem));
    }
    let control = library::control_event(scenario);
    let with_effects = opts.effects_url.is_some();
    let mut checked = scenario.clone();
    checked.expectations.retain(|e| with_effects || kind(&e.value, control) == Kind::Answers);
    let failures = evaluate(&checked, trace);
    let kinds: Vec<(Kind, &Failure)> = failures
        .iter()
        .map(|f| {
            let e = checked.expectations.iter().find(|e| e.line == f.line && e.column == f.column);
            (e.map_or(Kind::Answers, |e| kind(&e.value, control)), f)
        })
        .collect();
    let of = |k: Kind| kinds.iter().filter(|(x, _)| *x == k).map(|(_, f)| said(f)).collect::<Vec<_>>();
    if let answers @ [_, ..] = of(Kind::Answers).as_slice() {
        return trial(Verdict::Failed, format!("{summary}; {}", answers.join("; ")), answer_fix(&problem));
    }
    if let acts @ [_, ..] = of(Kind::Acts).as_slice() {
        return trial(Verdict::Failed, format!("{}; {summary}", acts.join("; ")), info.fix.to_string());
    }
    if let controls @ [_, ..] = of(Kind::Control).as_slice() {
        let detail = format!(
            "the receiver did not act on the control delivery, a plain `paid` invoice ({}): without that act, the \
             rest of this case shows nothing",
            controls.join("; ")
        );
        let fix = "record an entry in the effects list for each delivery you act on (a `paid` invoice is \
                   fulfilled), before answering or from your queue"
            .to_string();
        return trial(Verdict::NotVerified, detail, fix);
    }
    if !with_effects && scenario.expectations.iter().any(|e| kind(&e.value, control) != Kind::Answers) {
        let detail = format!("{summary}; answers were right, but effects are unknown: no --effects-url given");
        return trial(Verdict::NotVerified, detail, super::report::NOT_VERIFIED_FIX.to_string());
    }
    trial(Verdict::Passed, format!("{summary}{}", acted_summary(trace)), String::new())
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
    for (_, _, o) in &all {
        let w = outcome_word(*o);
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
/// set up leave no note, and are the scenario's doing).
fn first_problem(trace: &Trace, notes: &[WireNote], timeout_ms: u64) -> Option<Problem> {
    let by_attempt: BTreeMap<u64, &str> = notes.iter().map(|n| (n.attempt, n.what.as_str())).collect();
    let traced = attempts(trace).into_iter().find_map(|(attempt, _, outcome)| match outcome {
        Outcome::Status { code } if !(200..300).contains(&code) => Some(Problem::from_status(code)),
        Outcome::Status { .. } => None,
        _ => by_attempt.get(&attempt).and_then(|note| Problem::from_note(note, timeout_ms)),
    });
    // A flight cut at its deadline as the run ended may have no outcome in the trace yet.
    traced.or_else(|| notes.iter().find_map(|n| Problem::from_note(&n.what, timeout_ms)))
}

/// `; acted: fulfil invoice 1000401 ×1` (what the receiver was seen to do), or nothing.
fn acted_summary(trace: &Trace) -> String {
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
    format!("; acted: {}", parts.join(", "))
}
