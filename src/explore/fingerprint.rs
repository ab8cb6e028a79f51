//! A seed's trace hash, cheap enough to take on every seed: XXH3-128 over a compact binary form
//! of the entries (integers little-endian, uuids as 16 bytes, strings with their length), where
//! each attempt's body counts by its own XXH3-128. A body is hashed once per delivery for as
//! long as the delivery resends the same bytes (the usual retry), instead of being escaped into
//! JSON and hashed again on every attempt, which made the trace's JSON-lines hash
//! ([`crate::trace::Trace::sha256`]) most of a seed's cost.
//!
//! Why not SHA-256: this hash only tells equal traces from different ones (a rerun of the same
//! seed, shards of one search); nobody forges a trace to collide with another. SHA-256 over the
//! compact form was still about a seventh of a seed; XXH3 does the same job at a fraction of it,
//! and 128 bits keep accidental collisions out of reach over any number of seeds.
//!
//! Equal traces, equal hashes; it is not the `trace_sha256` of a `hooksim run` report.

use crate::trace::{Outcome, Trace, TraceEvent};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;
use xxhash_rust::xxh3::xxh3_128;

/// Hex XXH3-128 of `trace`'s compact form (32 hex digits).
pub fn trace_hash(trace: &Trace) -> String {
    // The compact form is written out whole and hashed in one call: XXH3 over one buffer is
    // several times faster than fed a few bytes at a time (about 50 KB for a 10-day world).
    let mut h = Hasher { bytes: Vec::with_capacity(trace.len() * 48), bodies: BTreeMap::new() };
    for e in trace.entries() {
        h.u64(e.at.as_millis());
        h.event(&e.event);
    }
    hex::encode(xxh3_128(&h.bytes).to_be_bytes())
}

struct Hasher {
    /// The compact form so far.
    bytes: Vec<u8>,
    /// Each delivery's latest body and its digest.
    bodies: BTreeMap<Uuid, (Arc<str>, [u8; 16])>,
}

impl Hasher {
    fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    fn tag(&mut self, t: u8) {
        self.bytes.extend_from_slice(&[t]);
    }

    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes.extend_from_slice(s.as_bytes());
    }

    fn uuid(&mut self, u: &Uuid) {
        self.bytes.extend_from_slice(u.as_bytes());
    }

    fn outcome(&mut self, o: Outcome) {
        match o {
            Outcome::Status { code } => {
                self.tag(0);
                self.u64(u64::from(code));
            }
            Outcome::Timeout => self.tag(1),
            Outcome::Refused => self.tag(2),
            Outcome::Reset => self.tag(3),
        }
    }

    fn body(&mut self, delivery: &Uuid, body: &Arc<str>) {
        let digest = match self.bodies.get(delivery) {
            Some((last, digest)) if Arc::ptr_eq(last, body) || **last == **body => *digest,
            _ => {
                let digest = xxh3_128(body.as_bytes()).to_le_bytes();
                self.bodies.insert(*delivery, (Arc::clone(body), digest));
                digest
            }
        };
        self.bytes.extend_from_slice(&digest);
    }

    /// Every field of every kind: a kind added to the enum fails to compile here until it is
    /// hashed.
    fn event(&mut self, e: &TraceEvent) {
        use TraceEvent::*;
        match e {
            EventRecorded { event, path, details, entity } => {
                self.tag(0);
                self.u64(*event);
                self.str(path.as_str());
                self.str(details);
                self.str(entity.kind.as_str());
                self.u64(entity.id);
            }
            DeliveryQueued { delivery, webhook, event } => {
                self.tag(1);
                self.uuid(delivery);
                self.u64(u64::from(webhook.0));
                self.u64(*event);
            }
            DeliveryRefused { webhook, event, reason } => {
                self.tag(2);
                self.u64(u64::from(webhook.0));
                self.u64(*event);
                self.str(reason.into());
            }
            AttemptStarted { attempt, delivery, webhook, event, number, body } => {
                self.tag(3);
                self.u64(*attempt);
                self.uuid(delivery);
                self.u64(u64::from(webhook.0));
                self.u64(*event);
                self.u64(u64::from(*number));
                self.body(delivery, body);
            }
            AttemptFinished { attempt, delivery, webhook, event, outcome } => {
                self.tag(4);
                self.u64(*attempt);
                self.uuid(delivery);
                self.u64(u64::from(webhook.0));
                self.u64(*event);
                self.outcome(*outcome);
            }
            LateAnswerIgnored { attempt, outcome } => {
                self.tag(5);
                self.u64(*attempt);
                self.outcome(*outcome);
            }
            AttemptLost { attempt, delivery, webhook } => {
                self.tag(6);
                self.u64(*attempt);
                self.uuid(delivery);
                self.u64(u64::from(webhook.0));
            }
            RetryScheduled { delivery, webhook, at, failures } => {
                self.tag(7);
                self.uuid(delivery);
                self.u64(u64::from(webhook.0));
                self.u64(at.as_millis());
                self.u64(u64::from(*failures));
            }
            Delivered { delivery, webhook, event, attempts } => {
                self.tag(8);
                self.uuid(delivery);
                self.u64(u64::from(webhook.0));
                self.u64(*event);
                self.u64(u64::from(*attempts));
            }
            DeliveryAbandoned { delivery, webhook, event, attempts, reason } => {
                self.tag(9);
                self.uuid(delivery);
                self.u64(u64::from(webhook.0));
                self.u64(*event);
                self.u64(u64::from(*attempts));
                self.str(reason.into());
            }
            WarningSent { webhook, to, failing_since } => {
                self.tag(10);
                self.u64(u64::from(webhook.0));
                self.str(to);
                self.u64(failing_since.as_millis());
            }
            WebhookDisabled { webhook, failing_since, reason } => {
                self.tag(11);
                self.u64(u64::from(webhook.0));
                self.u64(failing_since.as_millis());
                self.tag(*reason as u8);
            }
            WebhookRecovered { webhook } => {
                self.tag(12);
                self.u64(u64::from(webhook.0));
            }
            WebhookEnabled { webhook } => {
                self.tag(13);
                self.u64(u64::from(webhook.0));
            }
            DispatcherRestarted => self.tag(14),
            WorldChanged { change } => {
                self.tag(15);
                // Its wording, which is one-to-one with the typed change and kept the
                // fingerprints of earlier runs.
                self.str(&change.to_string());
            }
            ReceiverActed { receiver, delivery, event, action } => {
                self.tag(16);
                self.str(receiver);
                self.uuid(delivery);
                self.u64(*event);
                self.str(action);
            }
            ReceiverSkipped { receiver, delivery, event, why } => {
                self.tag(17);
                self.str(receiver);
                self.uuid(delivery);
                self.u64(*event);
                self.str(why);
            }
            EmailReceived { to, webhook } => {
                self.tag(18);
                self.str(to);
                self.u64(u64::from(webhook.0));
            }
            EmailDeferred { webhook, outcome, retry_at } => {
                self.tag(19);
                self.u64(u64::from(webhook.0));
                self.outcome(*outcome);
                self.u64(retry_at.as_millis());
            }
            ReceiverRejected { receiver, delivery, event, why } => {
                self.tag(20);
                self.str(receiver);
                // Absent (an unreadable body) and present hash differently.
                match delivery {
                    Some(d) => {
                        self.tag(1);
                        self.uuid(d);
                    }
                    None => self.tag(0),
                }
                self.u64(event.unwrap_or(u64::MAX));
                self.str(why);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::nemesis::{Rates, world};

    #[test]
    fn equal_traces_hash_equal_and_any_change_shows() {
        for seed in 0..20 {
            let w = world(seed, None, &Rates::default());
            let a = crate::model::run(&w).unwrap().trace;
            let b = crate::model::run(&w).unwrap().trace;
            assert_eq!(trace_hash(&a), trace_hash(&b));
            // Any entry left out, or the last one later, changes the hash.
            let base = trace_hash(&a);
            let rebuilt = |entries: Vec<crate::trace::TraceEntry>| {
                let mut c = Trace::with_entries_max(usize::MAX);
                c.extend(entries);
                trace_hash(&c)
            };
            for i in (0..a.len()).step_by(7) {
                let mut entries = a.entries().to_vec();
                entries.remove(i);
                assert_ne!(rebuilt(entries), base, "seed {seed}, entry {i}");
            }
            let mut entries = a.entries().to_vec();
            if let Some(last) = entries.last_mut() {
                last.at = crate::time::SimTime::from_millis(last.at.as_millis() + 1);
                assert_ne!(rebuilt(entries), base, "seed {seed}, the last entry later");
            }
        }
    }

    #[test]
    fn a_body_changed_on_a_retry_changes_the_hash() {
        let w = crate::world::sample::failing_world(1, 0);
        let a = crate::model::run(&w).unwrap().trace;
        let mut entries: Vec<_> = a.entries().to_vec();
        let last = entries.iter().rposition(|e| matches!(e.event, TraceEvent::AttemptStarted { .. })).unwrap();
        if let TraceEvent::AttemptStarted { body, .. } = &mut entries[last].event {
            *body = Arc::from(body.replace("Ada", "Eve"));
        }
        let mut b = Trace::with_entries_max(usize::MAX);
        b.extend(entries);
        assert_ne!(trace_hash(&a), trace_hash(&b));
    }
}
