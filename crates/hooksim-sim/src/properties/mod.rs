//! Properties that hold in every world, whatever a scenario expects, checked over a finished
//! [`Trace`]: nothing is lost, the dedup receiver acts once per uuid, a uuid names one delivery,
//! no attempt while disabled, a warning at least the grace before every disable, a webhook
//! failing past the thresholds warned and then disabled, the per-webhook limits kept, and every
//! body is the store as it was when its attempt started.
//!
//! One call: [`check`]. Each [`Violation`] carries a stable [`Violation::signature`] (to group
//! failures across seeds) and the trace entries that show it. The checks read the trace through
//! pattern matches over [`hooksim_core::trace::TraceEvent`] only, and the little a trace does not say
//! (the policy, the run's end, the routing, which receivers deduplicate, the changes made) comes
//! from a [`PropertyContext`], usually [`PropertyContext::from_world`].

mod body;
mod context;
mod dedup;
mod fate;
mod health;
mod identity;
mod limits;
mod routing;
mod violation;

pub use context::PropertyContext;
pub use fate::{Fate, Pending, fates};
pub use violation::{Breach, Property, Violation};

use hooksim_core::trace::Trace;

/// Every violation of every property, in trace order within each property.
///
/// ```
/// use hooksim_sim::properties::{PropertyContext, check};
/// use hooksim_sim::{model, world::sample};
/// let world = sample::failing_world(2, 3);
/// let out = model::run(&world).unwrap();
/// let violations = check(&out.trace, &PropertyContext::new(world.policy.clone(), world.end()));
/// assert!(violations.is_empty(), "{violations:?}");
/// ```
pub fn check(trace: &Trace, ctx: &PropertyContext) -> Vec<Violation> {
    let mut out = Vec::new();
    out.extend(routing::check(trace, ctx));
    out.extend(fate::check(trace, ctx));
    out.extend(dedup::check(trace, ctx));
    out.extend(identity::check(trace, ctx));
    out.extend(health::check_disabled(trace));
    out.extend(health::check_warnings(trace, ctx));
    out.extend(health::check_thresholds(trace, ctx));
    out.extend(body::check(trace, ctx));
    out.extend(limits::check(trace, ctx));
    out
}
