//! The live shell: the same sans-IO core, with the scenario's receivers bound to real endpoints
//! (any language) over the real network.
//!
//! - [`Bindings`] (`binding.rs`): `--receiver NAME=URL`, `--effects NAME=URL`, and what a world
//!   must not ask of a real endpoint ([`Bindings::check`]: scripted replies, crashing it,
//!   verifying with the file's secret, a receiver that gets deliveries without being bound).
//! - `driver.rs`: the loop. The timeline, the core and the mail host run in virtual time; each
//!   attempt to a bound receiver is a real POST (`attempt.rs`) on a new connection.
//! - `clock.rs`: virtual time jumps while nothing is in flight and runs at wall speed while a
//!   request is: the attempt timeout is real, a 10-day story takes seconds.
//!   At [`Pace::RealTime`] (`hooksim dispatch`) it never jumps: the timeline plays in wall time
//!   divided by the scale, and attempt timeouts and `Retry-After` are converted by it.
//! - `links.rs`: partitions, holds, latency at the harness's edge (a partition refuses without
//!   sending, a hold sends on release, latency delays in virtual time); `mail.rs`: the
//!   simulated mail host.
//! - `ledger.rs`: the effects contract read after each answer, turned into `receiver_acted` and
//!   `receiver_skipped` trace entries.
//!
//! The trace is the simulated engines' trace (same entries, same reports); it is not
//! deterministic (real time, a real receiver), and this module is the only shell allowed the
//! wall clock for that (see ARCHITECTURE.md).

mod attempt;
mod binding;
mod clock;
mod driver;
mod ledger;
mod links;
mod mail;
mod options;
mod settle;

pub use attempt::{ANSWER_BYTES_MAX, EFFECTS_BYTES_MAX};
pub use binding::{BindError, Binding, Bindings};
pub use clock::Pace;
pub use options::{ActNote, EarlierEffects, LiveOptions, Observed, StoreView, WIRE_NOTES_MAX, WireNote};
pub use settle::{EFFECTS_QUIET_MS, EFFECTS_TIMEOUT_MS, Settle};

use hooksim_sim::world::{EngineError, EngineFailure, RunLimits, RunOutput, World};

/// Requests on the real network at once; more wait in line, oldest first (a hold released
/// after hours may let thousands go).
pub const FLIGHTS_MAX: usize = 256;
/// Runs `world` with its receivers bound to real endpoints, to the world's end; on an error, the
/// trace up to it. Builds its own tokio runtime: call it from outside one.
pub fn run_with(world: &World, bindings: &Bindings, limits: RunLimits) -> Result<RunOutput, EngineFailure> {
    run_observed(world, bindings, limits, &LiveOptions::default()).0
}

/// [`run_with`] at `pace`: [`Pace::RealTime`] plays the timeline in wall time divided by its
/// scale (`hooksim dispatch`).
pub fn run_paced(
    world: &World,
    bindings: &Bindings,
    limits: RunLimits,
    pace: Pace,
) -> Result<RunOutput, EngineFailure> {
    run_observed(world, bindings, limits, &LiveOptions { pace, ..LiveOptions::default() }).0
}

/// [`run_with`] with `options`; also what went wrong on the wire, attempt by attempt, in words
/// (what a trace outcome cannot say: a TLS error, a redirect's target), and what the receiver
/// wrote for each act.
pub fn run_observed(
    world: &World,
    bindings: &Bindings,
    limits: RunLimits,
    options: &LiveOptions,
) -> (Result<RunOutput, EngineFailure>, Observed) {
    let problems = bindings.check(world);
    if !problems.is_empty() {
        let all = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        let error = EngineError::Simulation(format!("the world cannot run against real receivers: {all}"));
        return (Err(error.into()), Observed::default());
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let error = EngineError::Simulation(format!("cannot start the network runtime: {e}"));
            return (Err(error.into()), Observed::default());
        }
    };
    let couriers = match attempt::Couriers::new(options.ca_cert_pem.as_deref(), options.settle.read_timeout_ms) {
        Ok(c) => c,
        Err(e) => {
            let error = EngineError::Simulation(format!("cannot build the HTTP client: {e}"));
            return (Err(error.into()), Observed::default());
        }
    };
    let mut driver = driver::Driver::new(world, bindings, limits, couriers, options.clone());
    let result = runtime.block_on(driver.run());
    let output = RunOutput { sim_elapsed_ms: driver.now.as_millis(), trace: std::mem::take(&mut driver.trace) };
    let observed = Observed { notes: std::mem::take(&mut driver.notes), acts: std::mem::take(&mut driver.acts) };
    match result {
        Ok(()) => (Ok(output), observed),
        Err(error) => (Err(EngineFailure { error, partial: output }), observed),
    }
}

/// Connects once to every bound receiver and reads every given effects URL once: a receiver
/// nothing listens at, or an effects list that cannot be read, is bad input before the run (a
/// typo must not turn a run into a week of refused connections, or acts into "not verified").
pub fn probe(bindings: &Bindings) -> Vec<BindError> {
    probe_with(bindings, &LiveOptions::default())
}

/// [`probe`] as a run with `options` would connect: trusting their certificate authorities (a
/// `--ca-cert` that is no PEM certificate is bad input too).
pub fn probe_with(bindings: &Bindings, options: &LiveOptions) -> Vec<BindError> {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return Vec::new();
    };
    let couriers = match attempt::Couriers::new(options.ca_cert_pem.as_deref(), options.settle.read_timeout_ms) {
        Ok(c) => c,
        Err(e) => return vec![BindError::CaCert { why: e.to_string() }],
    };
    runtime.block_on(async {
        let mut errors = Vec::new();
        for (name, binding) in bindings.iter() {
            if let Err(why) = reachable(&binding.url).await {
                errors.push(BindError::Unreachable { name: name.to_string(), url: binding.url.to_string(), why });
            }
            if let Some(url) = &binding.effects
                && let Err(why) = couriers.read_effects(url).await
            {
                errors.push(BindError::EffectsUnreadable { name: name.to_string(), why });
            }
        }
        errors
    })
}

/// A TCP connect to the URL's host and port, within [`EFFECTS_TIMEOUT_MS`].
async fn reachable(url: &reqwest::Url) -> Result<(), String> {
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let deadline = std::time::Duration::from_millis(EFFECTS_TIMEOUT_MS);
    match tokio::time::timeout(deadline, tokio::net::TcpStream::connect((host.as_str(), port))).await {
        Ok(Ok(_)) => Ok(()),
        // Accepted, then reset: a receiver is there (its attempts will say the rest).
        Ok(Err(e)) if crate::http::accepted_then_dropped(&e) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no connection within {EFFECTS_TIMEOUT_MS} ms")),
    }
}
