//! Delivery policy: when to retry, when to warn and disable, and the limits on the dispatcher.
//!
//! A [`Policy`] is always valid: the only way to get one is [`PolicySpec::build`], which refuses
//! bad values with a [`PolicyError`] that names the field.

mod profiles;
mod schedule;
mod spec;

pub use profiles::{Profile, UnknownProfile};
pub use schedule::{Backoff, Schedule};
pub use spec::{GONE_STATUS, Policy, PolicyError, PolicySpec, SLOW_DOWN_STATUSES};
