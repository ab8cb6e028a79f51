//! The network engine: the same dispatcher core as the model engine, its attempts sent as real
//! HTTP requests (hyper) to real axum receivers over turmoil's simulated TCP, with latency,
//! partitions, holds and crashes, under a virtual clock that skips idle time.
//!
//! ## Hosts
//! - `dispatcher` (`dispatcher_host.rs`): performs the core's outputs: one POST per attempt on a
//!   new connection, and warning emails to `mail`. The core times attempts out itself; the host
//!   keeps an exchange open a while longer so held requests and slow answers still land, late
//!   (`LINGER_MS`, at most `LINGERING_MAX` at once).
//! - `mail` (`mail_host.rs`): takes warning emails over HTTP.
//! - the receivers (`receiver_host.rs`), named by the host part of their webhook URLs: up to 256
//!   share a pool host, each on its own port; one that a step names by host has its own
//!   (`hosting.rs`: turmoil's cost grows with the cube of its hosts).
//!
//! ## One shell truth
//! What happens to a message (a cut link refuses a connect at once, a hold keeps it, a crashed
//! receiver's connects wait for its restart), which reply a receiver plays and what it means,
//! warning emails and their retries, and which exchanges still linger are the shared shell's
//! ([`hooksim_sim::shell`]), as in the model engine; the driver decides with it before anything reaches
//! turmoil. `tests/it/engine_parity.rs` holds the two engines to one story.
//!
//! ## Time
//! turmoil ticks a fixed 1 ms and cannot skip idle time. One simulation (`stage.rs`) hosts the
//! whole run but is stepped only while something moves; when nothing can happen before the next
//! deadline (a timeline step, a core timer, an email retry, a host's alarm, `alarm.rs`) the world's clock
//! jumps there and turmoil's does not move. Hosts time things with alarms on the world's clock,
//! never with turmoil's timers, so a 30 s timeout or an hour-long hold costs no ticks.
//!
//! ## Durability
//! What must survive a crash lives outside the hosts, as a database would: the core (deliveries,
//! webhook state), the email outbox, each receiver's book and script, the link state. A crash
//! kills a host's tasks and in-flight connections; a restart serves again from that state.
//!
//! ## Determinism
//! A pinned epoch, turmoil seeded from the world's seed, ids from the core's seeded RNG, no
//! `tokio::select!` (its branch order is random without `--cfg tokio_unstable`; races are polled
//! in a fixed order instead), no `Date` header, no real clock, ordered collections only.

mod acts;
mod alarm;
mod dispatcher_host;
mod driver;
mod flight;
mod hosting;
mod http;
mod journal;
mod mail_host;
mod receiver_host;
mod stage;

pub use acts::{ROUTER_POLLS_MAX, RouterApp};
pub use driver::BUSY_TICKS_MAX;
pub use hooksim_sim::shell::limits::IN_FLIGHT_MAX;
pub use stage::{EPOCH_UNIX_SECS, UNFINISHED_CONNECTS_MAX};

use hooksim_core::core::{Dispatch, Dispatcher};
use hooksim_sim::world::{EngineFailure, RunLimits, RunOutput, World};

/// Runs `world` to `world.end()` over the simulated network.
pub fn run(world: &World) -> Result<RunOutput, EngineFailure> {
    run_with(world, RunLimits::default())
}

/// [`run`] within `limits`.
pub fn run_with(world: &World, limits: RunLimits) -> Result<RunOutput, EngineFailure> {
    run_dispatched(world, limits, reference_core(world))
}

/// Receivers whose logic is the caller's own axum [`Router`](axum::Router), by host: each stands
/// in for the world's receiver of that host (whose kind is then unused), behind the same scripted
/// behaviour, signature check and network faults. What it acted on is read through the effects
/// contract (`GET /effects`, as certification reads a real receiver) after each delivery it
/// handled, and recorded in the trace as the reference receivers' acts are.
pub type Apps = std::collections::BTreeMap<String, axum::Router>;

/// [`run_with`] with some receivers played by the caller's own routers ([`Apps`]).
pub fn run_with_apps(world: &World, limits: RunLimits, apps: &Apps) -> Result<RunOutput, EngineFailure> {
    driver::Driver::new(world, limits, reference_core(world), apps)?.run().map(|(out, _)| out)
}

/// [`run_with_apps`] with a dispatcher the caller built in place of the reference core.
pub fn run_dispatched_with_apps<D: Dispatch>(
    world: &World,
    limits: RunLimits,
    core: D,
    apps: &Apps,
) -> Result<RunOutput, EngineFailure> {
    driver::Driver::new(world, limits, core, apps)?.run().map(|(out, _)| out)
}

/// [`run_with`] with a dispatcher the caller built (for a process, `crate::protocol::ProcessDispatcher`
/// spawned with the world's policy, webhooks and seed) in place of the reference core. Generic, so
/// the in-process core pays nothing for the choice.
pub fn run_dispatched<D: Dispatch>(world: &World, limits: RunLimits, core: D) -> Result<RunOutput, EngineFailure> {
    driver::Driver::new(world, limits, core, &Apps::new())?.run().map(|(out, _)| out)
}

fn reference_core(world: &World) -> Dispatcher {
    world.reference_core(hooksim_sim::shell::signing::EPOCH_S)
}

/// [`run`], and how many 1 ms ticks turmoil simulated (quiet time skipped costs none): the
/// deterministic measure of how well idle time is skipped. On an error, the trace up to it.
pub fn run_counting_ticks(world: &World) -> Result<(RunOutput, u64), EngineFailure> {
    driver::Driver::new(world, RunLimits::default(), reference_core(world), &Apps::new())?.run()
}

/// One POST on a new connection, as the dispatcher host sends it; for benchmarks that compare
/// the engine with a bare turmoil HTTP loop. Must run inside a turmoil host.
pub use http::post;

/// Serves `router` on port 80 of the current turmoil host with the engine's server code (hyper,
/// no `Date` header), without the engine's behaviour wrapper. Must run inside a turmoil host.
pub async fn serve_router(router: axum::Router) -> turmoil::Result {
    http::serve(http::PORT, move |request| {
        let mut router = router.clone();
        async move {
            match tower_service::Service::call(&mut router, request).await {
                Ok(response) => Ok(response),
                Err(never) => match never {},
            }
        }
    })
    .await
}
