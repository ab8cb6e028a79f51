//! [`Dispatch`]: what an engine needs of a dispatcher, so that the reference core and a
//! dispatcher in another process (`crate::protocol::ProcessDispatcher`) run in the same worlds.
//!
//! It is the sans-IO shape of [`Dispatcher`]: inputs with the virtual `now`, outputs polled, the
//! next deadline polled, the dispatcher's part of the trace drained. An implementation may fail
//! where the core cannot (a process that misbehaves), so every step returns a `Result`.

use super::{Dispatcher, Input, InputError, Output};
use crate::time::SimTime;
use crate::trace::Trace;

/// What an engine needs of a dispatcher: the core's `handle`/`poll_output`/`poll_timeout` shape,
/// implemented by [`Dispatcher`] and by a dispatcher process. Its trace is what the engines record.
pub trait Dispatch {
    /// Why a step failed: [`InputError`] for the core (an impossible input, a world bug); for a
    /// process also a protocol violation.
    type Error: std::error::Error + Send + Sync + 'static;

    /// One input at virtual time `now` (a `now` earlier than one already seen counts as that one).
    fn handle(&mut self, now: SimTime, input: Input) -> Result<(), Self::Error>;

    /// Fires what is due at or before `now` (attempt timeouts, retry timers).
    fn handle_timeout(&mut self, now: SimTime) -> Result<(), Self::Error>;

    /// The next instant at which [`Dispatch::handle_timeout`] has work, if any.
    fn poll_timeout(&self) -> Option<SimTime>;

    /// The next thing the shell must do (send an attempt, send an email), in order.
    fn poll_output(&mut self) -> Option<Output>;

    /// Moves the dispatcher's trace entries recorded since the last call to the end of `trace`.
    fn drain_trace_into(&mut self, trace: &mut Trace);
}

impl Dispatch for Dispatcher {
    type Error = InputError;

    fn handle(&mut self, now: SimTime, input: Input) -> Result<(), InputError> {
        Dispatcher::handle(self, now, input)
    }

    fn handle_timeout(&mut self, now: SimTime) -> Result<(), InputError> {
        Dispatcher::handle_timeout(self, now);
        Ok(())
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        Dispatcher::poll_timeout(self)
    }

    fn poll_output(&mut self) -> Option<Output> {
        Dispatcher::poll_output(self)
    }

    fn drain_trace_into(&mut self, trace: &mut Trace) {
        Dispatcher::drain_trace_into(self, trace)
    }
}

/// A dispatcher lent to an engine: the caller keeps it, to read what it left behind after the run
/// (a process's stderr).
impl<D: Dispatch + ?Sized> Dispatch for &mut D {
    type Error = D::Error;

    fn handle(&mut self, now: SimTime, input: Input) -> Result<(), D::Error> {
        (**self).handle(now, input)
    }

    fn handle_timeout(&mut self, now: SimTime) -> Result<(), D::Error> {
        (**self).handle_timeout(now)
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        (**self).poll_timeout()
    }

    fn poll_output(&mut self) -> Option<Output> {
        (**self).poll_output()
    }

    fn drain_trace_into(&mut self, trace: &mut Trace) {
        (**self).drain_trace_into(trace)
    }
}
