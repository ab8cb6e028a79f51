//! A small world to drive any [`Dispatch`] through: a timeline of inputs, and receivers that
//! answer each attempt after a scripted latency with a scripted outcome (or never). The driver
//! steps like the model engine: at each instant the timeline, then the answers due, then
//! `handle_timeout`. It records every output and the whole trace, so two dispatchers run through
//! it can be compared byte for byte.
#![allow(dead_code)]

use hooksim::core::{Dispatch, Input, Output};
use hooksim::domain::{Change, Client, Invoice, InvoiceState, PathFilter, WebhookConfig, WebhookId};
use hooksim::policy::{Backoff, Policy, PolicySpec, Profile, Schedule};
use hooksim::protocol::{ProcessConfig, ProcessDispatcher};
use hooksim::time::SimTime;
use hooksim::trace::{Outcome, Trace};
use std::collections::BTreeMap;

/// How a receiver answers one attempt: after `latency_ms` with `outcome`, or never (`None`).
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub latency_ms: u64,
    pub outcome: Option<Outcome>,
}

pub fn ok(latency_ms: u64) -> Reply {
    Reply { latency_ms, outcome: Some(Outcome::Status { code: 200 }) }
}

pub fn status(code: u16) -> Reply {
    Reply { latency_ms: 5, outcome: Some(Outcome::Status { code }) }
}

pub fn silent() -> Reply {
    Reply { latency_ms: 0, outcome: None }
}

#[derive(Clone, Debug)]
pub struct Script {
    pub seed: u64,
    pub policy: Policy,
    pub webhooks: Vec<WebhookConfig>,
    /// Sorted by time.
    pub timeline: Vec<(u64, Input)>,
    /// The n-th attempt to webhook `w` is answered with `replies[w][n]` (the last repeats).
    pub replies: Vec<Vec<Reply>>,
    pub run_for_ms: u64,
}

/// What a run shows: every output and step error in order, and the trace.
#[derive(Debug, PartialEq, Eq)]
pub struct Run {
    pub log: Vec<String>,
    pub trace: String,
}

pub fn hook(name: &str, paths: &[&str]) -> WebhookConfig {
    WebhookConfig {
        url: format!("http://{name}/webhook"),
        paths: paths.iter().map(|p| PathFilter(p.to_string())).collect(),
        owner_email: format!("ops@{name}"),
    }
}

pub fn client(id: u64) -> Input {
    Input::Change(Change::AddClient(Client { id, name: format!("client {id}"), email: format!("c{id}@example.com") }))
}

pub fn rename(id: u64, name: &str) -> Input {
    Input::Change(Change::UpdateClient(Client { id, name: name.into(), email: format!("c{id}@example.com") }))
}

pub fn invoice(id: u64, client_id: u64) -> Input {
    let inv = Invoice {
        id,
        number: format!("INV-{id}"),
        client_id,
        total_cents: 100 * id as i64,
        state: InvoiceState::Unpaid,
    };
    Input::Change(Change::AddInvoice(inv))
}

pub fn set_state(id: u64, state: InvoiceState) -> Input {
    Input::Change(Change::SetInvoiceState { id, state })
}

/// A policy that reaches its health rules within minutes: warn after 5 min, disable after 10.
pub fn quick_policy() -> Policy {
    PolicySpec {
        schedule: Schedule { backoff: Backoff::List { delays_ms: vec![10_000, 60_000] }, jitter_percent: 20 },
        warn_after_ms: Some(5 * 60_000),
        disable_after_ms: Some(10 * 60_000),
        attempt_timeout_ms: 30_000,
        attempts_max: None,
        retry_window_ms: None,
        in_flight_per_webhook_max: 2,
        pending_per_webhook_max: 4,
        disable_on_gone: false,
        retry_after_past_backoff_max_ms: None,
    }
    .build()
    .expect("a valid policy")
}

pub fn snapbill() -> Policy {
    Profile::Snapbill.policy()
}

/// `hooksim dispatcher --stdio`, keeping `transcript_lines` lines of the exchange.
pub fn reference_process(script: &Script, transcript_lines: usize) -> ProcessDispatcher {
    let mut config =
        ProcessConfig::new(vec![env!("CARGO_BIN_EXE_hooksim").into(), "dispatcher".into(), "--stdio".into()]);
    config.transcript_lines_max = transcript_lines;
    ProcessDispatcher::spawn(config, &script.policy, script.webhooks.clone(), script.seed)
        .expect("the reference serves")
}

pub fn process(command: Vec<String>, script: &Script) -> ProcessDispatcher {
    let config = ProcessConfig::new(command);
    match ProcessDispatcher::spawn(config, &script.policy, script.webhooks.clone(), script.seed) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    }
}

/// Runs `script` through `d`. A dispatcher error ends the run, logged as its last line.
pub fn drive<D: Dispatch>(d: &mut D, script: &Script) -> Run {
    let mut log = Vec::new();
    let mut trace = Trace::default();
    // (due, sequence) -> (attempt, outcome, incarnation)
    let mut answers: BTreeMap<(SimTime, u64), (u64, Outcome, u32)> = BTreeMap::new();
    let mut sent = vec![0usize; script.webhooks.len()];
    let (mut seq, mut incarnation, mut down) = (0u64, 0u32, false);
    let mut next_step = 0;
    let end = SimTime::from_millis(script.run_for_ms);
    let result = (|| -> Result<(), String> {
        loop {
            let step_at = script.timeline.get(next_step).map(|(at, _)| SimTime::from_millis(*at));
            let answer_at = answers.keys().next().map(|(at, _)| *at);
            let Some(now) = [step_at, answer_at, d.poll_timeout()].into_iter().flatten().min().filter(|t| *t <= end)
            else {
                return Ok(());
            };
            while let Some((_, input)) =
                script.timeline.get(next_step).filter(|(at, _)| SimTime::from_millis(*at) <= now)
            {
                next_step += 1;
                match input {
                    Input::Crash => {
                        down = true;
                        incarnation += 1;
                    }
                    Input::Restart => down = false,
                    _ => {}
                }
                if let Err(e) = d.handle(now, input.clone()) {
                    log.push(format!("{now}: error: {e}"));
                }
                drain(d, &mut trace, &mut log, now, script, &mut sent, &mut answers, &mut seq, incarnation);
            }
            while let Some(entry) = answers.first_entry().filter(|e| e.key().0 <= now) {
                let (attempt, outcome, inc) = entry.remove();
                if inc == incarnation && !down {
                    d.handle(now, Input::Answer { attempt, outcome }).map_err(|e| e.to_string())?;
                    drain(d, &mut trace, &mut log, now, script, &mut sent, &mut answers, &mut seq, incarnation);
                }
            }
            d.handle_timeout(now).map_err(|e| e.to_string())?;
            drain(d, &mut trace, &mut log, now, script, &mut sent, &mut answers, &mut seq, incarnation);
        }
    })();
    if let Err(e) = result {
        log.push(format!("dispatcher failed: {e}"));
    }
    Run { log, trace: trace.to_json_lines() }
}

#[allow(clippy::too_many_arguments)]
fn drain<D: Dispatch>(
    d: &mut D,
    trace: &mut Trace,
    log: &mut Vec<String>,
    now: SimTime,
    script: &Script,
    sent: &mut [usize],
    answers: &mut BTreeMap<(SimTime, u64), (u64, Outcome, u32)>,
    seq: &mut u64,
    incarnation: u32,
) {
    d.drain_trace_into(trace);
    while let Some(output) = d.poll_output() {
        log.push(format!("{now}: {output:?}"));
        if let Output::Send(request) = output {
            let w = request.webhook.0 as usize;
            let replies = &script.replies[w];
            let reply = replies[sent[w].min(replies.len() - 1)];
            sent[w] += 1;
            if let Some(outcome) = reply.outcome {
                *seq += 1;
                answers.insert((now.plus_ms(reply.latency_ms), *seq), (request.attempt, outcome, incarnation));
            }
        }
    }
}

/// The webhook ids of a script, for building timelines.
pub fn webhook(i: u32) -> WebhookId {
    WebhookId(i)
}
