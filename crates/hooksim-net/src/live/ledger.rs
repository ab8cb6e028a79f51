//! What a bound receiver has been seen to do: its effects list (the effects contract, read with
//! [`crate::effects::fetch`]) turned into trace entries, each act once.
//!
//! The list names deliveries by `uuid`; entries already there when the run starts (an earlier
//! run against the same receiver) are counted as seen and never traced.

use crate::effects::EffectRecord;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Default)]
pub(super) struct Ledger {
    /// Entries of the list already turned into trace entries (or there before the run), by uuid.
    seen: BTreeMap<Uuid, usize>,
}

impl Ledger {
    /// Everything in `records` counts as seen: the run starts after it.
    pub(super) fn after(records: &[EffectRecord]) -> Ledger {
        let mut ledger = Ledger::default();
        for r in records {
            *ledger.seen.entry(r.uuid).or_default() += 1;
        }
        ledger
    }

    /// The entries for `uuid` not seen before, in list order; they count as seen from now on.
    /// Entries for other uuids wait for their own delivery's answer (two concurrent attempts
    /// each get their own acts).
    pub(super) fn new_acts(&mut self, records: &[EffectRecord], uuid: Uuid) -> Vec<EffectRecord> {
        let mine: Vec<&EffectRecord> = records.iter().filter(|r| r.uuid == uuid).collect();
        let seen = self.seen.entry(uuid).or_default();
        let fresh = mine[(*seen).min(mine.len())..].iter().map(|r| (*r).clone()).collect();
        *seen = (*seen).max(mine.len());
        fresh
    }

    /// Every entry not seen before whose uuid `known` admits (a delivery of this run), in list
    /// order: what a receiver did after its answer (working from a queue), read at the end.
    pub(super) fn all_new(&mut self, records: &[EffectRecord], known: impl Fn(Uuid) -> bool) -> Vec<EffectRecord> {
        let mut counted: BTreeMap<Uuid, usize> = BTreeMap::new();
        let mut fresh = Vec::new();
        for r in records.iter().filter(|r| known(r.uuid)) {
            let n = counted.entry(r.uuid).or_default();
            *n += 1;
            let seen = self.seen.entry(r.uuid).or_default();
            if *n > *seen {
                *seen = *n;
                fresh.push(r.clone());
            }
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u128, action: &str) -> EffectRecord {
        EffectRecord { uuid: Uuid::from_u128(n), event: None, action: Some(action.to_string()), kind: None }
    }

    #[test]
    fn each_act_is_traced_once_and_earlier_runs_never() {
        let old = vec![record(1, "old")];
        let mut ledger = Ledger::after(&old);
        let mut list = old.clone();
        list.push(record(2, "fulfil"));
        list.push(record(1, "again"));
        assert_eq!(ledger.new_acts(&list, Uuid::from_u128(2)), [record(2, "fulfil")]);
        assert_eq!(ledger.new_acts(&list, Uuid::from_u128(2)), []);
        assert_eq!(ledger.new_acts(&list, Uuid::from_u128(1)), [record(1, "again")]);
        list.push(record(3, "late"));
        let known = |u: Uuid| u != Uuid::from_u128(9);
        assert_eq!(ledger.all_new(&list, known), [record(3, "late")]);
        assert!(ledger.all_new(&list, known).is_empty());
    }
}
