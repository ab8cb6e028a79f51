//! Warning emails the core decided to send, kept until the mail host took them (durable, like
//! the core's own state). A try that fails is tried again [`RETRY_MS`] after it started.

use crate::core::WarningEmail;
use crate::time::SimTime;
use std::collections::BTreeMap;

/// Virtual time between two tries of one email.
pub(crate) const RETRY_MS: u64 = 60_000;

struct Letter {
    email: WarningEmail,
    due: SimTime,
    /// When the try in flight started; `None` when no try is in flight.
    trying_since: Option<SimTime>,
}

#[derive(Default)]
pub(crate) struct Outbox {
    letters: BTreeMap<u64, Letter>,
    next_id: u64,
}

impl Outbox {
    pub(crate) fn add(&mut self, email: WarningEmail, now: SimTime) {
        self.next_id += 1;
        let letter = Letter { email, due: now, trying_since: None };
        self.letters.insert(self.next_id, letter);
    }

    /// Letters due at `now` with no try in flight, marked as being tried, oldest first.
    pub(crate) fn take_due(&mut self, now: SimTime) -> Vec<(u64, WarningEmail)> {
        let mut due = Vec::new();
        for (id, letter) in &mut self.letters {
            if letter.trying_since.is_none() && letter.due <= now {
                letter.trying_since = Some(now);
                due.push((*id, letter.email.clone()));
            }
        }
        due
    }

    /// A try ended: a letter taken is gone, another is due again a retry interval after its try
    /// started. Returns the webhook and when it is tried next, for a failed try.
    pub(crate) fn tried(&mut self, id: u64, taken: bool, now: SimTime) -> Option<SimTime> {
        if taken {
            self.letters.remove(&id);
            return None;
        }
        let letter = self.letters.get_mut(&id)?;
        let started = letter.trying_since.take().unwrap_or(now);
        letter.due = started.plus_ms(RETRY_MS).max(now);
        Some(letter.due)
    }

    pub(crate) fn webhook_of(&self, id: u64) -> Option<&WarningEmail> {
        self.letters.get(&id).map(|l| &l.email)
    }

    /// The sending process died: its tries are lost, and every letter is due at `now`
    /// (called at restart).
    pub(crate) fn resume(&mut self, now: SimTime) {
        for letter in self.letters.values_mut() {
            letter.trying_since = None;
            letter.due = letter.due.min(now);
        }
    }

    /// The sending process died: tries in flight will never report.
    pub(crate) fn forget_tries(&mut self) {
        for letter in self.letters.values_mut() {
            if let Some(started) = letter.trying_since.take() {
                letter.due = started.plus_ms(RETRY_MS);
            }
        }
    }

    pub(crate) fn next_due(&self) -> Option<SimTime> {
        self.letters.values().filter(|l| l.trying_since.is_none()).map(|l| l.due).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WebhookId;

    fn email() -> WarningEmail {
        WarningEmail { to: "o@x".into(), webhook: WebhookId(0), url: "http://a/".into(), failing_since: SimTime::ZERO }
    }

    #[test]
    fn a_failed_try_is_due_again_a_minute_after_it_started() {
        let mut outbox = Outbox::default();
        outbox.add(email(), SimTime::from_millis(5));
        let taken = outbox.take_due(SimTime::from_millis(5));
        assert_eq!(taken.len(), 1);
        assert!(outbox.take_due(SimTime::from_millis(6)).is_empty());
        assert_eq!(outbox.next_due(), None);
        let next = outbox.tried(taken[0].0, false, SimTime::from_millis(10_005));
        assert_eq!(next, Some(SimTime::from_millis(60_005)));
        assert_eq!(outbox.next_due(), Some(SimTime::from_millis(60_005)));
        let taken = outbox.take_due(SimTime::from_millis(60_005));
        assert_eq!(outbox.tried(taken[0].0, true, SimTime::from_millis(60_010)), None);
        assert_eq!(outbox.next_due(), None);
    }
}
