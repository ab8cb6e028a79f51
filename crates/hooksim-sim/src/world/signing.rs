//! Signatures in a world, as data: how the sender signs its attempts (a scheme and its keys over
//! virtual time, a rotation included) and which receivers verify them, with what secrets. What a
//! signature is, and checking one, is [`crate::shell::signing`]'s (pure, shared by the engines).

use hooksim_core::signing::{Scheme, Signer, Verifier};
use hooksim_core::time::SimTime;
use std::collections::BTreeMap;

/// A world's signatures. The default signs nothing and verifies nothing (SnapBill's reading: its
/// documentation describes no signature).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signing {
    /// How every attempt is signed; `None`: attempts carry no signature.
    pub sender: Option<SenderKeys>,
    /// The receivers that verify, by host.
    pub receivers: BTreeMap<String, ReceiverKeys>,
}

/// The sender's keys over time. At each instant an attempt is signed with every key in use then,
/// newest first: during a rotation's overlap both the new and the old key sign (Standard Webhooks
/// and Stripe send one signature per key, and a receiver accepts the request if one matches).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderKeys {
    /// The scheme every attempt is signed with.
    pub scheme: Scheme,
    /// In the order given; the first has no start.
    pub keys: Vec<KeySpan>,
}

/// One secret and when the sender signs with it: from `from` (inclusive) until `until`
/// (exclusive; `None`: to the end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySpan {
    /// The secret, as the scheme writes it (e.g. `whsec_...`).
    pub secret: String,
    /// When the sender starts signing with it.
    pub from: SimTime,
    /// When it stops (exclusive); `None`: to the end.
    pub until: Option<SimTime>,
}

impl KeySpan {
    fn in_use_at(&self, at: SimTime) -> bool {
        self.from <= at && self.until.is_none_or(|until| at < until)
    }
}

impl SenderKeys {
    /// The secrets that sign an attempt started at `at`, newest first.
    pub fn secrets_at(&self, at: SimTime) -> Vec<&str> {
        self.keys.iter().rev().filter(|k| k.in_use_at(at)).map(|k| k.secret.as_str()).collect()
    }
}

/// A verifying receiver: its scheme, the secrets it holds (several during its own rotation), and
/// how far a signed timestamp may be from its (virtual) clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiverKeys {
    /// The scheme it verifies.
    pub scheme: Scheme,
    /// The secrets it accepts (several during its rotation).
    pub secrets: Vec<String>,
    /// How far a signed timestamp may be from its virtual now, in seconds.
    pub tolerance_s: i64,
}

impl Signing {
    /// Every reason the signatures cannot be used (a secret its scheme cannot read, no key at
    /// some instant), as `(field, message)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(sender) = &self.sender {
            for key in &sender.keys {
                if let Err(e) = Signer::new(sender.scheme, &[key.secret.as_str()]) {
                    out.push(("signing.secret", format!("a {} secret: {e}", sender.scheme)));
                }
            }
            if sender.keys.is_empty() {
                out.push(("signing.secret", "no secret to sign with".to_string()));
            }
        }
        for (host, r) in &self.receivers {
            let secrets: Vec<&str> = r.secrets.iter().map(String::as_str).collect();
            if let Err(e) = Verifier::new(r.scheme, &secrets) {
                out.push(("receivers.secret", format!("receiver {host:?}: a {} secret: {e}", r.scheme)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn during_an_overlap_both_keys_sign_newest_first() {
        let t = SimTime::from_millis;
        let keys = SenderKeys {
            scheme: Scheme::StandardWebhooks,
            keys: vec![
                KeySpan { secret: "old".into(), from: t(0), until: Some(t(20)) },
                KeySpan { secret: "new".into(), from: t(10), until: None },
            ],
        };
        assert_eq!(keys.secrets_at(t(9)), ["old"]);
        assert_eq!(keys.secrets_at(t(10)), ["new", "old"]);
        assert_eq!(keys.secrets_at(t(20)), ["new"]);
    }
}
