//! The one shell truth: everything both engines need around the core, written once, pure (no
//! tokio, no turmoil), and called by each engine. What a shell decides here cannot drift between
//! the model engine and the network engine.
//!
//! - [`links`]: the scripted state of the network: partitions, holds, crashed hosts, latency,
//!   and what happens to a message sent across it ([`Path`]).
//! - [`replies`]: a receiver's place in its reply sequence, and what it does with each answer
//!   (act or not, answer with what).
//! - [`mail`]: warning emails kept until the mail host took them: retries, their timing, and the
//!   idempotency key the mail host records once.
//! - [`delays`]: attempts held at the sender before they go on the wire (`delay_attempts`):
//!   which are held, for how long, and when each goes.
//! - [`lingering`]: exchanges kept open after the core timed their attempt out, bounded.
//! - [`signing`]: the headers that sign an attempt when it leaves, and a verifying receiver's
//!   check of them, both in virtual time.
//! - [`limits`]: the shell's named limits, each with its unit last.

pub mod delays;
pub mod limits;
pub mod lingering;
pub mod links;
pub mod mail;
pub mod replies;
pub mod signing;

pub use delays::Delays;
pub use lingering::Lingering;
pub use links::{Links, Path};
pub use mail::{MailRecord, Outbox};
pub use replies::{Conduct, Play, Respond, play, refuse_body};
