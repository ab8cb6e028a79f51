//! Warning emails: the dispatcher's durable outbox, and the mail host's record of what it took.
//!
//! Each letter gets an idempotency key when the core decides to send it (keys count up from 1
//! in the core's output order, the same on every engine). A try that fails is tried again
//! [`EMAIL_RETRY_MS`] after it started; a try whose answer is lost looks failed to the sender, so
//! the mail host may see one letter many times: it records each key once, as mail APIs with
//! idempotency keys do, and the owner gets one warning.

use super::limits::EMAIL_RETRY_MS;
use hooksim_core::core::WarningEmail;
use hooksim_core::time::SimTime;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The idempotency key of one warning email.
pub type MailKey = u64;

/// One try to hand a letter to the mail host: its key and the try's number (a late report of an
/// earlier try is ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MailTry {
    /// The letter's idempotency key.
    pub key: MailKey,
    /// Which try of that letter, from 1.
    pub number: u32,
}

struct Letter {
    /// Shared with each try's message: a try costs no copy of the letter.
    email: Arc<WarningEmail>,
    due: SimTime,
    /// When the try in flight started; `None` when no try is in flight.
    trying_since: Option<SimTime>,
    tries: u32,
}

/// Letters the core decided to send, kept until the mail host took them (durable, like the
/// core's own state: a crash of the dispatcher loses only the tries in flight).
#[derive(Default)]
pub struct Outbox {
    /// By key, ascending (keys count up and letters are added in key order). A vector, not a
    /// map: an outbox holds a letter or two, and it is read at every instant of a run while a
    /// letter waits (for days, if the mail host is down), where a map's walk cost a twentieth of
    /// a 10-day run.
    letters: Vec<(MailKey, Letter)>,
    next_key: MailKey,
}

impl Outbox {
    /// A new letter, due at once.
    pub fn add(&mut self, email: WarningEmail, now: SimTime) -> MailKey {
        self.next_key += 1;
        let email = Arc::new(email);
        self.letters.push((self.next_key, Letter { email, due: now, trying_since: None, tries: 0 }));
        self.next_key
    }

    /// The oldest letter due at `now` with no try in flight, marked as being tried; `None` when
    /// no letter is due. Called until `None`, it takes every letter due, oldest first (one at a
    /// time: asked at every instant, it allocates nothing).
    pub fn take_due(&mut self, now: SimTime) -> Option<(MailTry, Arc<WarningEmail>)> {
        let (key, letter) =
            self.letters.iter_mut().find(|(_, letter)| letter.trying_since.is_none() && letter.due <= now)?;
        letter.trying_since = Some(now);
        letter.tries += 1;
        Some((MailTry { key: *key, number: letter.tries }, Arc::clone(&letter.email)))
    }

    /// A try ended. A letter taken is gone; after a failed try the letter is due again a retry
    /// interval after the try started. Returns the webhook's email and when it is tried next,
    /// for a failed try; `None` for a success or a report of a try no longer in flight.
    pub fn tried(&mut self, attempt: MailTry, taken: bool, now: SimTime) -> Option<(&WarningEmail, SimTime)> {
        let index = self.index(attempt.key)?;
        let letter = &self.letters[index].1;
        if letter.tries != attempt.number || letter.trying_since.is_none() {
            return None;
        }
        if taken {
            self.letters.remove(index);
            return None;
        }
        let letter = &mut self.letters[index].1;
        let started = letter.trying_since.take().unwrap_or(now);
        letter.due = started.plus_ms(EMAIL_RETRY_MS).max(now);
        Some((&letter.email, letter.due))
    }

    /// True while this try is still in flight (not reported, not lost in a crash).
    pub fn is_trying(&self, attempt: MailTry) -> bool {
        self.index(attempt.key).is_some_and(|i| {
            let letter = &self.letters[i].1;
            letter.tries == attempt.number && letter.trying_since.is_some()
        })
    }

    fn index(&self, key: MailKey) -> Option<usize> {
        self.letters.binary_search_by_key(&key, |(k, _)| *k).ok()
    }

    /// The sending process died: its tries in flight will never report.
    pub fn crashed(&mut self) {
        for (_, letter) in self.letters.iter_mut() {
            letter.trying_since = None;
        }
    }

    /// The sending process started again: it reads its outbox and every letter is due at once.
    pub fn restarted(&mut self, now: SimTime) {
        for (_, letter) in self.letters.iter_mut() {
            letter.trying_since = None;
            letter.due = letter.due.min(now);
        }
    }

    /// The earliest instant a letter with no try in flight is due.
    pub fn next_due(&self) -> Option<SimTime> {
        if self.letters.is_empty() {
            return None; // the common case, asked at every instant of a run
        }
        self.letters.iter().filter(|(_, l)| l.trying_since.is_none()).map(|(_, l)| l.due).min()
    }
}

/// The mail host's durable record of the keys it took. A letter seen again (its sender never
/// heard the first answer) is answered as taken and not delivered twice.
#[derive(Clone, Debug, Default)]
pub struct MailRecord {
    taken: BTreeSet<MailKey>,
}

impl MailRecord {
    /// True the first time a key is seen: deliver it to the owner.
    pub fn take(&mut self, key: MailKey) -> bool {
        self.taken.insert(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hooksim_core::domain::WebhookId;

    fn email() -> WarningEmail {
        WarningEmail { to: "o@x".into(), webhook: WebhookId(0), url: "http://a/".into(), failing_since: SimTime::ZERO }
    }

    fn ms(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    #[test]
    fn a_failed_try_is_due_again_a_minute_after_it_started() {
        let mut outbox = Outbox::default();
        outbox.add(email(), ms(5));
        let (taken, _) = outbox.take_due(ms(5)).unwrap();
        assert!(outbox.take_due(ms(6)).is_none());
        assert_eq!(outbox.next_due(), None);
        let next = outbox.tried(taken, false, ms(10_005)).map(|(_, at)| at);
        assert_eq!(next, Some(ms(60_005)));
        assert_eq!(outbox.next_due(), Some(ms(60_005)));
        let (taken, _) = outbox.take_due(ms(60_005)).unwrap();
        assert_eq!(taken, MailTry { key: 1, number: 2 });
        assert!(outbox.tried(taken, true, ms(60_010)).is_none());
        assert_eq!(outbox.next_due(), None);
    }

    #[test]
    fn a_restart_sends_every_letter_at_once_and_old_tries_report_nothing() {
        let mut outbox = Outbox::default();
        outbox.add(email(), ms(0));
        let first = outbox.take_due(ms(0)).unwrap().0;
        outbox.crashed();
        assert_eq!(outbox.next_due(), Some(ms(0)));
        outbox.restarted(ms(500_000));
        let second = outbox.take_due(ms(500_000)).unwrap().0;
        assert!(outbox.tried(first, true, ms(500_001)).is_none());
        assert!(outbox.is_trying(second));
    }

    #[test]
    fn the_mail_host_takes_each_key_once() {
        let mut record = MailRecord::default();
        assert!(record.take(1));
        assert!(!record.take(1));
        assert!(record.take(2));
    }
}
