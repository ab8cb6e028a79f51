//! Every bound the endpoint puts on a sender under test, so a hostile or runaway sender cannot
//! hang or exhaust the run. Each says, where it is enforced, what happens at the limit.

use crate::time::HOUR_MS;

/// Bytes of one request body. Past it the request is answered 413 before the body is read, and
/// is not graded (the sender sees a failed attempt).
pub const BODY_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Bytes of one request head. Past it the request is answered 431.
pub const HEADER_BYTES_MAX: usize = 64 * 1024;
/// A request head not whole in this long: the connection is closed without an answer.
pub const HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// A body not whole in this long: answered 408.
pub const BODY_READ_TIMEOUT_MS: u64 = 30_000;
/// Connections open at once. At the cap no more are accepted: they wait in the kernel's accept
/// queue until one closes (held requests count).
pub const CONNECTIONS_MAX: usize = 64;
/// Requests in one run. At the cap the run ends, and the report says so.
pub const REQUESTS_MAX: usize = 10_000;
/// The longest `--budget`.
pub const BUDGET_MS_MAX: u64 = 24 * HOUR_MS;
/// The largest `--time-scale`.
pub const TIME_SCALE_MAX: u32 = 100_000;
