//! The mail host stays simulated in a live run: warning emails are messages in virtual time,
//! retried as the model engine retries them.
//! // to move onto src/shell once merged (the email retry is one of the shared shell's rules)

use crate::core::WarningEmail;
use crate::time::MINUTE_MS;

/// How long the dispatcher waits before trying again to send an email that could not go out
/// (the model engine's value).
pub(super) const EMAIL_RETRY_MS: u64 = MINUTE_MS;

/// A warning email on its way.
pub(super) enum Letter {
    /// The dispatcher tries to hand it to the mail host.
    Send(Box<WarningEmail>),
    /// It reaches the mail host.
    Arrive(Box<WarningEmail>),
}
