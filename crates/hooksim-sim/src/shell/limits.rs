//! The shell's limits, the same for both engines. Each says what happens when it is reached.

use hooksim_core::time::{HOUR_MS, MINUTE_MS};

/// Every message takes at least this long, whatever the world says (a latency of 0 is read as
/// this). The network engine needs it: with zero latency turmoil hands a message straight to its
/// destination's inbox, where the driver cannot see it before it skips time. The model floors
/// the same way, so both engines run the same world.
pub const LATENCY_MIN_MS: u64 = 1;

/// A server handles a request one turn after it arrived (the network engine runs each host once
/// per 1 ms tick, and a request that arrives in one tick is read in the next). With the three
/// one-way legs of an exchange (connect, request, answer), this is what one attempt costs on the
/// wire, on both engines: `3 × latency + SERVER_TURN_MS` before its answer is back.
pub const SERVER_TURN_MS: u64 = 1;

/// The dispatcher gives the mail host this long to take a letter; then the try has failed
/// (`email_deferred`, outcome `timeout`).
pub const MAIL_TIMEOUT_MS: u64 = 10_000;

/// Virtual time between the start of one try to send a warning email and the next.
pub const EMAIL_RETRY_MS: u64 = MINUTE_MS;

/// How long an attempt's exchange is kept open after the core timed the attempt out. The core
/// decides at its timeout (a failed attempt, retried); the exchange itself is not torn down at
/// once, so that a request held in the network still reaches its receiver when released and a
/// slow answer still comes back, late (the core ignores it). After this the connection is dropped.
pub const LINGER_MS: u64 = 6 * HOUR_MS;

/// The longest a `delay_attempts` step may hold an attempt at the sender
/// ([`crate::shell::Delays`]): as long as an exchange lingers past its timeout, so a held attempt
/// always still has its exchange when it goes on the wire. A longer delay is bad input
/// (`World::validate`).
pub const ATTEMPT_DELAY_MS_MAX: u64 = LINGER_MS;

/// At most this many exchanges linger at once (past their attempt's timeout, within
/// [`LINGER_MS`]). At the limit the oldest lingering exchange is dropped at once, as if its linger
/// had run out: what it still had held in the network never reaches the receiver, its late answer
/// never comes back. Each open exchange holds a connection (a port); without this bound a world
/// that keeps retrying into a held link for hours runs out of ports.
pub const LINGERING_MAX: usize = 4_096;

/// At most this many attempts in flight at once over all webhooks ([`crate::world::World::in_flight_max`]:
/// for each webhook, the policy's per-webhook limit or the events it subscribes to, whichever is
/// fewer). A world that allows more is bad input (`World::validate`). Each open exchange holds a
/// port of the dispatcher host: with [`LINGERING_MAX`] this stays far below its 64,512 ports.
pub const IN_FLIGHT_MAX: usize = 16_384;

/// A receiver reads a request body of at most this many bytes; a longer one is answered 413
/// ([`crate::shell::refuse_body`]), on both engines and by `hooksim receiver`.
pub use crate::receiver::BODY_BYTES_MAX;

/// A warning letter is a few hundred bytes; more is not a letter (413).
pub const LETTER_BYTES_MAX: usize = 16 * 1024;
