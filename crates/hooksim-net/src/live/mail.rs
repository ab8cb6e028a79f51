//! The mail host stays simulated in a live run: warning emails are messages in virtual time,
//! retried after the shared shell's `EMAIL_RETRY_MS`.

use hooksim_core::core::WarningEmail;

/// A warning email on its way.
pub(super) enum Letter {
    /// The dispatcher tries to hand it to the mail host.
    Send(Box<WarningEmail>),
    /// It reaches the mail host.
    Arrive(Box<WarningEmail>),
}
