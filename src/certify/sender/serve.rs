//! The endpoint on a real socket, and the run: accept, answer by the script, fire triggers, stop
//! when every event is settled or the budget is spent. The only place that reads the wall clock
//! (`Instant` for what arrived when, `SystemTime` for signature timestamps).

use super::due::state;
use super::grade::{Context, grade};
use super::limits::{CONNECTIONS_MAX, REQUESTS_MAX};
use super::observe::{Incoming, Ledger, Outcome};
use super::report::{EndReason, SenderReport};
use super::script::{Answer, Failure, Plan};
use super::trigger::{Sequence, Triggers};
use super::wire::{self, Unread};
use super::{SenderError, SenderOptions};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, TryAcquireError};
use tokio::task::JoinSet;

/// How often the run looks at its events, its triggers and its budget.
const TICK_MS: u64 = 10;

/// An endpoint bound to its address, not yet serving.
pub struct Bound {
    listener: TcpListener,
    url: String,
    opts: SenderOptions,
}

/// Binds the endpoint; an address that cannot be listened on is an error (exit 2).
pub async fn bind(opts: SenderOptions) -> Result<Bound, SenderError> {
    opts.check()?;
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|e| SenderError::Listen { addr: opts.listen.to_string(), why: e.to_string() })?;
    let addr =
        listener.local_addr().map_err(|e| SenderError::Listen { addr: opts.listen.to_string(), why: e.to_string() })?;
    let url = format!("{}/webhook", crate::receiver::base_url(addr));
    Ok(Bound { listener, url, opts })
}

/// What connections share with the run.
struct Shared {
    start: Instant,
    ledger: Mutex<Ledger>,
    reading: super::Reading,
    plan: Plan,
    /// How long a 2xx is held (`Timing::success_hold_ms`).
    success_hold_ms: u64,
    /// How long, after a 2xx, the endpoint watches how the sender closes (`Timing::close_watch_ms`).
    close_watch_ms: u64,
    /// The sender claims to deliver as Slack, which verifies an endpoint (`url_verification`)
    /// before sending it events.
    handshake: bool,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // A panicking connection task cannot leave the ledger half-written: every update is one
        // push or one assignment. Take it back rather than poison the run.
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Bound {
    /// Where senders deliver: `http://host:port/webhook`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Serves until every event is settled, the budget is spent, or [`REQUESTS_MAX`] requests
    /// came; then grades what arrived.
    pub async fn run(self) -> SenderReport {
        let Bound { listener, url, opts } = self;
        let timing = opts.timing();
        let base = url.trim_end_matches("/webhook").to_string();
        let plan = Plan::new(&timing, opts.budget_ms, &base);
        let shared = Arc::new(Shared {
            // Real senders in real time: arrivals are measured from here.
            start: Instant::now(),
            ledger: Mutex::new(Ledger::default()),
            reading: opts.reading(),
            plan,
            success_hold_ms: timing.success_hold_ms(),
            close_watch_ms: timing.close_watch_ms(),
            handshake: opts.envelope == super::Envelope::Provider(crate::provider::Provider::Slack),
        });
        let acceptor = tokio::spawn(accept(listener, Arc::clone(&shared)));
        let mut triggers = opts.trigger.clone().map(|cmd| Triggers::new(cmd, url.clone()));
        shared.ledger().triggered = triggers.is_some();
        let mut sequence = Sequence::default();
        let ended = loop {
            if let Some(ended) = step(&shared, &timing, opts.budget_ms, triggers.as_mut(), &mut sequence) {
                break ended;
            }
            tokio::time::sleep(Duration::from_millis(TICK_MS)).await;
        };
        acceptor.abort();
        let _ = acceptor.await;
        let end_ms = shared.now_ms();
        let mut notes = Vec::new();
        if let Some(mut t) = triggers {
            t.stop();
            notes.append(&mut t.notes);
        }
        let mut ledger = shared.ledger().clone();
        ledger.listener.close(end_ms);
        let ctx = Context {
            timing: &timing,
            plan: &shared.plan,
            signing: opts.verifier.is_some(),
            end_ms,
            handshake: shared.handshake,
        };
        let checks = grade(&ledger, &ctx);
        SenderReport::new(&opts, url, shared.plan.clone(), ended, end_ms, notes, checks, ledger)
    }
}

/// One look at the run: whether it ends (every event settled, the budget spent, the requests cap
/// reached), and which trigger is due.
fn step(
    shared: &Shared,
    timing: &super::Timing,
    budget_ms: u64,
    triggers: Option<&mut Triggers>,
    sequence: &mut Sequence,
) -> Option<EndReason> {
    let now = shared.now_ms();
    if now >= budget_ms {
        return Some(EndReason::Budget);
    }
    let mut ledger = shared.ledger();
    if ledger.arrivals.len() >= REQUESTS_MAX {
        return Some(EndReason::RequestsCap);
    }
    let settled =
        |f: &Failure| ledger.event(*f).is_some_and(|e| state(&ledger, e, timing, &shared.plan, now).settled());
    let (others, gone) = Failure::ALL.split_at(Failure::ALL.len() - 1);
    let others = others.iter().all(settled);
    if others && gone.iter().all(settled) {
        return Some(EndReason::Settled);
    }
    let t = triggers?;
    t.poll();
    let arrived = |n: u32| ledger.events.iter().any(|e| e.trigger == Some(n));
    if let Some(n) = sequence.advance(t, now, arrived, others) {
        // A trigger that failed before its event came: no event will be its.
        ledger.awaited.retain(|m| !t.failed(*m));
        ledger.awaited.push_back(n);
    }
    None
}

/// Accepts connections, at most [`CONNECTIONS_MAX`] at once, each served in its own task. While
/// every slot is held the listener is *saturated*: the ledger notes when, since a sender's
/// connections wait in the kernel's accept queue meanwhile and what arrives late says nothing of
/// the sender.
async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    let mut tasks = JoinSet::new();
    loop {
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(TryAcquireError::Closed) => return,
            Err(TryAcquireError::NoPermits) => {
                shared.ledger().listener.saturation_began(shared.now_ms());
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { return };
                shared.ledger().listener.saturation_ended(shared.now_ms());
                slot
            }
        };
        match listener.accept().await {
            Ok((stream, _)) => {
                let shared = Arc::clone(&shared);
                tasks.spawn(async move {
                    connection(stream, shared).await;
                    drop(slot);
                });
            }
            // Out of file descriptors, most likely: wait rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
        while tasks.try_join_next().is_some() {}
    }
}

/// One connection, one request: read it, record it, answer it by the script.
async fn connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let request = match wire::read_request(&mut stream).await {
        Ok(request) => request,
        Err(Unread::Refused(status)) => {
            *shared.ledger().listener.refused.entry(status).or_default() += 1;
            return wire::answer(&mut stream, status, &[]).await;
        }
        Err(Unread::Gone) => {
            shared.ledger().listener.unread_connections += 1;
            return;
        }
    };
    // A real sender signs with the real time: its timestamp is judged against the machine's clock.
    let now_unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    if shared.handshake
        && let Some(challenge) = super::observe::url_verification_challenge(&request.body)
    {
        let now_s = now_unix_ms.div_euclid(1000);
        let signature = shared
            .reading
            .verifier
            .as_ref()
            .map(|v| v.verify(&request.headers, &request.body, now_s).map_err(|e| e.to_string()));
        let at_ms = shared.now_ms();
        shared.ledger().handshakes.push(super::observe::Handshake { at_ms, signature });
        return wire::answer_with_body(&mut stream, 200, &[], &challenge).await;
    }
    let incoming = Incoming { path: &request.path, headers: &request.headers, body: &request.body };
    let (index, answer) = shared.ledger().admit(&incoming, &shared.reading, &shared.plan, shared.now_ms(), now_unix_ms);
    let outcome = match answer {
        Answer::Status { status, headers } if (200..300).contains(&status) => {
            return success(stream, shared, index, status, &headers).await;
        }
        Answer::Status { status, headers } => {
            wire::answer(&mut stream, status, &headers).await;
            Outcome::Answered { status }
        }
        Answer::Hold { cap_ms } => {
            if wire::hold(&mut stream, cap_ms).await {
                Outcome::SenderGaveUp
            } else {
                Outcome::HoldCapReached
            }
        }
        Answer::Reset => {
            wire::reset(stream);
            Outcome::Reset
        }
    };
    let now = shared.now_ms();
    shared.ledger().finish(index, outcome, now);
}

/// A 2xx: held a moment so that a burst is seen in flight, then written. A sender that hangs up
/// during the hold gave up first (its timeout, which a scaled run makes short): a failed attempt.
/// One that resets the connection after it with the answer unread may not have seen it either:
/// its next attempt is then a retry, not a resend.
async fn success(mut stream: TcpStream, shared: Arc<Shared>, index: usize, status: u16, headers: &[(String, String)]) {
    if wire::hold(&mut stream, shared.success_hold_ms).await {
        let now = shared.now_ms();
        return shared.ledger().finish(index, Outcome::SenderGaveUp, now);
    }
    wire::answer(&mut stream, status, headers).await;
    let now = shared.now_ms();
    shared.ledger().finish(index, Outcome::Answered { status }, now);
    if !wire::answer_read(&mut stream, shared.close_watch_ms).await {
        shared.ledger().unread(index);
    }
}
