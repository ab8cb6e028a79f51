//! What an `[[expect]]` entry can check (its subject) and the qualifiers each subject takes. One
//! enum drives reading (the keys), validation (which qualifiers apply), the help in error
//! messages, and evaluation (see [`super::Expectation`]); a new subject is a compile error in
//! every `match` until it is handled everywhere.

use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

/// The subject keys of an `[[expect]]` entry, as written in the file (`never_delivered`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, EnumString, IntoStaticStr, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Subject {
    /// `delivered = "<webhook>"`: successful deliveries (ended by a 2xx).
    Delivered,
    /// `never_delivered = "<webhook>"`: no successful delivery.
    NeverDelivered,
    /// `attempts = "<webhook>"`: attempts started.
    Attempts,
    /// `warned = "<webhook>"`: warning emails sent about the webhook.
    Warned,
    /// `not_warned = "<webhook>"`: no warning.
    NotWarned,
    /// `emailed = "<webhook>"`: warning emails that reached the `mail` host.
    Emailed,
    /// `disabled = "<webhook>"`: the webhook was disabled.
    Disabled,
    /// `not_disabled = "<webhook>"`: it was not.
    NotDisabled,
    /// `no_attempt_after_disable = "<webhook>"`: no attempt between a disable and the next enable.
    NoAttemptAfterDisable,
    /// `abandoned = "<webhook>"`: deliveries given up at a policy limit.
    Abandoned,
    /// `acted = "<receiver>"`: the receiver's side effects.
    Acted,
    /// `skipped = "<receiver>"`: deliveries the receiver saw and chose not to act on.
    Skipped,
    /// `rejected = "<receiver>"`: requests a verifying receiver refused for their signature.
    Rejected,
    /// `delivered_in_order = [...]`: the first successful deliveries of these events came in this
    /// order.
    DeliveredInOrder,
}

/// What the subject key's value names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Webhook,
    Receiver,
    /// A list of events (`delivered_in_order`), with the webhook in `webhook`.
    Events,
}

/// The keys that narrow what a subject counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, EnumString, IntoStaticStr, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Qualifier {
    /// `webhook`: the webhook, for `delivered_in_order`.
    Webhook,
    /// `event`: only this event (a step name or the change's number).
    Event,
    /// `body`: only attempts whose body contains these fields.
    Body,
    /// `outcome`: only attempts that ended so (`success`, `failure`, `timeout`, ...).
    Outcome,
    /// `to`: only warnings to this address.
    To,
    /// `action`: only this side effect.
    Action,
    /// `exactly = N`.
    Exactly,
    /// `at_least = N`.
    AtLeast,
    /// `at_most = N`.
    AtMost,
    /// `after`: only entries at or after this virtual time.
    After,
    /// `before`: only entries at or before this virtual time.
    Before,
}

use Qualifier as Q;

/// `exactly`, `at_least`, `at_most`: how many.
const COUNT: [Qualifier; 3] = [Q::Exactly, Q::AtLeast, Q::AtMost];
/// `after`, `before`: when.
const WINDOW: [Qualifier; 2] = [Q::After, Q::Before];

impl Qualifier {
    /// The key as written in a file, e.g. `at_least`.
    pub fn key(self) -> &'static str {
        self.into()
    }
}

impl Subject {
    /// The key as written in a file, e.g. `never_delivered`.
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// What the subject's value names: a webhook, a receiver, or a list of events.
    pub(crate) fn target(self) -> Target {
        match self {
            Self::Delivered
            | Self::NeverDelivered
            | Self::Attempts
            | Self::Warned
            | Self::NotWarned
            | Self::Emailed
            | Self::Disabled
            | Self::NotDisabled
            | Self::NoAttemptAfterDisable
            | Self::Abandoned => Target::Webhook,
            Self::Acted | Self::Skipped | Self::Rejected => Target::Receiver,
            Self::DeliveredInOrder => Target::Events,
        }
    }

    /// The qualifiers this subject takes; any other is an error.
    pub fn qualifiers(self) -> &'static [Qualifier] {
        use Q::{AtLeast, AtMost, Exactly};
        const DELIVERED: &[Qualifier] = &[Q::Event, Q::Body, Exactly, AtLeast, AtMost, Q::After, Q::Before];
        const ATTEMPTS: &[Qualifier] = &[Q::Event, Q::Body, Q::Outcome, Exactly, AtLeast, AtMost, Q::After, Q::Before];
        const NEVER_DELIVERED: &[Qualifier] = &[Q::Event, Q::Body, Q::After, Q::Before];
        const MAIL: &[Qualifier] = &[Q::To, Exactly, AtLeast, AtMost, Q::After, Q::Before];
        const DISABLED: &[Qualifier] = &[Exactly, AtLeast, AtMost, Q::After, Q::Before];
        const OF_EVENT: &[Qualifier] = &[Q::Event, Exactly, AtLeast, AtMost, Q::After, Q::Before];
        const ACTED: &[Qualifier] = &[Q::Event, Q::Action, Exactly, AtLeast, AtMost, Q::After, Q::Before];
        match self {
            Self::Delivered => DELIVERED,
            Self::Attempts => ATTEMPTS,
            Self::NeverDelivered => NEVER_DELIVERED,
            Self::Warned | Self::Emailed => MAIL,
            Self::Disabled => DISABLED,
            Self::Abandoned | Self::Skipped | Self::Rejected => OF_EVENT,
            Self::Acted => ACTED,
            Self::NotWarned | Self::NotDisabled => &WINDOW,
            Self::DeliveredInOrder => &[Q::Webhook],
            Self::NoAttemptAfterDisable => &[],
        }
    }

    /// Whether the subject accepts this qualifier.
    pub(crate) fn takes(self, q: Qualifier) -> bool {
        self.qualifiers().contains(&q)
    }

    /// Subjects that say something never happens: their count is always "none".
    pub fn expects_none(self) -> bool {
        match self {
            Self::NeverDelivered | Self::NotWarned | Self::NotDisabled => true,
            Self::Delivered
            | Self::Attempts
            | Self::Warned
            | Self::Emailed
            | Self::Disabled
            | Self::NoAttemptAfterDisable
            | Self::Abandoned
            | Self::Acted
            | Self::Skipped
            | Self::Rejected
            | Self::DeliveredInOrder => false,
        }
    }

    /// The qualifiers it takes, for messages: `event, body, exactly/at_least/at_most, after/before`.
    pub fn takes_text(self) -> String {
        let qs = self.qualifiers();
        let mut parts: Vec<String> = Vec::new();
        for q in qs {
            let part = if COUNT.contains(q) {
                COUNT.map(Qualifier::key).join("/")
            } else if WINDOW.contains(q) {
                WINDOW.map(Qualifier::key).join("/")
            } else {
                q.key().to_string()
            };
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        if parts.is_empty() { "nothing else".to_string() } else { parts.join(", ") }
    }

    /// Every subject key, for the message of an entry that has none.
    pub fn all_keys() -> String {
        Subject::iter().map(Subject::key).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_and_every_subject_takes_what_it_counts_with() {
        for s in Subject::iter() {
            assert_eq!(s.key().parse::<Subject>(), Ok(s));
            let counts = s.takes(Q::Exactly);
            assert_eq!(counts, s.takes(Q::AtLeast), "{s:?}");
            assert_eq!(counts, s.takes(Q::AtMost), "{s:?}");
            assert!(!(counts && s.expects_none()), "{s:?} cannot both count and expect none");
            assert_eq!(s.target() == Target::Events, s.takes(Q::Webhook), "{s:?}");
        }
        assert_eq!(Subject::Delivered.takes_text(), "event, body, exactly/at_least/at_most, after/before");
        assert_eq!(Subject::NoAttemptAfterDisable.takes_text(), "nothing else");
    }
}
