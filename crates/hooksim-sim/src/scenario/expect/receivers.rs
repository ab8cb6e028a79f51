//! Expectations about what a receiver did with deliveries: acted on them, skipped them, or
//! rejected them for their signature.

use super::index::{Index, Verdict, count_in, of_event, plural, select};
use super::{Count, Window};
use hooksim_core::trace::TraceEvent;

pub(super) fn acted(
    ix: &Index<'_>,
    receiver: &String,
    event: &Option<u64>,
    action: &Option<String>,
    count: &Count,
    window: &Window,
) -> Verdict {
    let n = count_in(ix, window, |e| {
        matches!(&e.event, TraceEvent::ReceiverActed { receiver: r, event: ev, action: a, .. }
                if r == receiver
                    && event.is_none_or(|x| x == *ev)
                    && action.as_ref().is_none_or(|x| x == a))
    });
    if count.admits(n) {
        return None;
    }
    Some((
        format!(
            "receiver {receiver} to act {count} {}{}{}{window}",
            count.noun("time", "times"),
            of_event(&ix.names, *event).replacen(" of ", " on ", 1),
            action.as_ref().map_or(String::new(), |a| format!(" with {a:?}"))
        ),
        format!("it acted {}", plural(n, "such time", "such times")),
        select(ix, |e| receiver_line(&e.event, receiver, *event)),
    ))
}

pub(super) fn skipped(
    ix: &Index<'_>,
    receiver: &String,
    event: &Option<u64>,
    count: &Count,
    window: &Window,
) -> Verdict {
    let n = count_in(ix, window, |e| {
        matches!(&e.event, TraceEvent::ReceiverSkipped { receiver: r, event: ev, .. }
                if r == receiver && event.is_none_or(|x| x == *ev))
    });
    if count.admits(n) {
        return None;
    }
    Some((
        format!(
            "receiver {receiver} to skip {count} {}{}{window}",
            count.noun("delivery", "deliveries"),
            of_event(&ix.names, *event)
        ),
        format!("it skipped {}", plural(n, "such delivery", "such deliveries")),
        select(ix, |e| receiver_line(&e.event, receiver, *event)),
    ))
}

pub(super) fn rejected(
    ix: &Index<'_>,
    receiver: &String,
    event: &Option<u64>,
    count: &Count,
    window: &Window,
) -> Verdict {
    let n = count_in(ix, window, |e| {
        matches!(&e.event, TraceEvent::ReceiverRejected { receiver: r, event: ev, .. }
                if r == receiver && event.is_none_or(|x| *ev == Some(x)))
    });
    if count.admits(n) {
        return None;
    }
    Some((
        format!(
            "receiver {receiver} to reject {count} {}{} for its signature{window}",
            count.noun("request", "requests"),
            of_event(&ix.names, *event)
        ),
        format!("it rejected {}", plural(n, "such request", "such requests")),
        select(ix, |e| receiver_line(&e.event, receiver, *event)),
    ))
}

pub(super) fn receiver_line(e: &TraceEvent, receiver: &str, event: Option<u64>) -> bool {
    match e {
        TraceEvent::ReceiverActed { receiver: r, event: ev, .. }
        | TraceEvent::ReceiverSkipped { receiver: r, event: ev, .. } => r == receiver && event.is_none_or(|x| x == *ev),
        TraceEvent::ReceiverRejected { receiver: r, event: ev, .. } => {
            r == receiver && event.is_none_or(|x| *ev == Some(x))
        }
        _ => false,
    }
}
