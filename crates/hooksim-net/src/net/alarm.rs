//! Timers on the world's clock, for the hosts' software.
//!
//! Hosts never use tokio timers: a tokio timer runs on turmoil's clock, which only moves one tick
//! at a time, so a 30 s attempt timeout would cost 30,000 ticks. An alarm instead is a deadline in
//! world time that the driver fires. The driver knows every pending alarm, so while hosts only
//! wait (on alarms, on messages held or sent to a crashed host) it jumps the world's clock to the
//! next alarm instead of ticking towards it.

use hooksim_core::time::{SimTime, TimeQueue};
use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use tokio::sync::oneshot;

#[derive(Default)]
struct Inner {
    /// The world's clock as hosts see it during a tick: the instant the tick ends.
    now_ms: u64,
    /// Pending alarms by deadline, then by creation (a fixed firing order).
    pending: TimeQueue<oneshot::Sender<()>>,
}

#[derive(Clone, Default)]
pub(crate) struct Alarms(Rc<RefCell<Inner>>);

impl Alarms {
    pub(crate) fn now_ms(&self) -> u64 {
        self.0.borrow().now_ms
    }

    pub(crate) fn set_now(&self, now_ms: u64) {
        self.0.borrow_mut().now_ms = now_ms;
    }

    /// Completes once the driver fires it, at the tick that ends at `at_ms` (at once if that has
    /// passed). Dropping the future cancels the alarm.
    pub(crate) fn until(&self, at_ms: u64) -> impl Future<Output = ()> + 'static + use<> {
        let rx = {
            let mut inner = self.0.borrow_mut();
            let (tx, rx) = oneshot::channel();
            if at_ms > inner.now_ms {
                inner.pending.push(SimTime::from_millis(at_ms), tx);
            } else {
                let _ = tx.send(());
            }
            rx
        };
        async move {
            // An error means the registry is gone with the run: there is nothing left to wait for.
            let _ = rx.await;
        }
    }

    /// Fires every alarm due at or before `at_ms`; true if any was still awaited.
    pub(crate) fn fire_due(&self, at_ms: u64) -> bool {
        let mut inner = self.0.borrow_mut();
        let mut fired = false;
        while let Some((_, tx)) = inner.pending.pop_due(SimTime::from_millis(at_ms)) {
            fired |= tx.send(()).is_ok();
        }
        fired
    }

    /// The earliest deadline still awaited by some task (cancelled alarms are dropped here).
    pub(crate) fn next_at(&self) -> Option<u64> {
        let mut inner = self.0.borrow_mut();
        while let Some((at, tx)) = inner.pending.peek() {
            if !tx.is_closed() {
                return Some(at.as_millis());
            }
            inner.pending.pop();
        }
        None
    }
}

/// `work`'s output, or `None` if `deadline` completes first. `work` is polled first, so an answer
/// that arrives in the same tick as the deadline wins (deterministically; no `select!`).
pub(crate) async fn within<T>(deadline: impl Future<Output = ()>, work: impl Future<Output = T>) -> Option<T> {
    let mut work = pin!(work);
    let mut deadline = pin!(deadline);
    poll_fn(|cx| {
        if let Poll::Ready(out) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarms_fire_in_deadline_order_and_cancelled_ones_are_skipped() {
        let alarms = Alarms::default();
        let late = alarms.until(50);
        let early = alarms.until(10);
        assert_eq!(alarms.next_at(), Some(10));
        drop(early);
        assert_eq!(alarms.next_at(), Some(50));
        assert!(!alarms.fire_due(49));
        assert!(alarms.fire_due(50));
        assert_eq!(alarms.next_at(), None);
        drop(late);
    }
}
