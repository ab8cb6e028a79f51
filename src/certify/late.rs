//! Acts that land after the effects settle window. A case that failed for acts it did not see
//! may be a receiver acting from a queue later than `--effects-quiet-ms`: at the run's end the
//! list is watched once more ([`super::effects::fetch_changed`]), and a case whose deliveries
//! were acted on after all fails for that, naming the window and the flags, rather than with
//! the case's own advice (dedup, stale payloads) for acts that were only late.

use super::effects::Effects;
use super::report::CaseResult;
use super::verdict::Verdict;
use crate::live::Settle;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Marks, among the cases `short` (index in the run, acts counted per delivery when graded),
/// those whose deliveries have more entries in `later` than were counted.
pub fn mark(
    played: &mut [Option<CaseResult>],
    short: &[(usize, BTreeMap<Uuid, usize>)],
    later: &Effects,
    settle: Settle,
) {
    for (index, counted) in short {
        let late = counted.iter().filter(|(u, n)| later.for_uuid(**u).is_some_and(|r| r.len() > **n)).count();
        let Some(Some(case)) = played.get_mut(*index) else { continue };
        if late == 0 || !matches!(case.verdict, Verdict::Failed | Verdict::NotVerified) {
            continue;
        }
        case.verdict = Verdict::Failed;
        case.detail = format!(
            "acted after the effects settle window: {late} delivery(ies) of this case were acted on only after the \
             effects list had been quiet for {} ms (--effects-quiet-ms; read for at most {} ms, \
             --effects-wait-max-ms); graded on what was seen in the window: {}",
            settle.quiet_ms, settle.max_ms, case.detail
        );
        case.fix = advice(settle);
    }
}

/// What to do about acts later than the window.
pub fn advice(settle: Settle) -> String {
    format!(
        "record each act within {} ms of answering its delivery (certification reads the effects list until it \
         has not changed for that long), or give a slower queue a longer window: --effects-quiet-ms N (and \
         --effects-wait-max-ms above it)",
        settle.quiet_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certify::CaseId;
    use crate::certify::effects::EffectRecord;

    fn record(n: u128) -> EffectRecord {
        EffectRecord { uuid: Uuid::from_u128(n), event: None, action: None, kind: None }
    }

    #[test]
    fn a_case_short_of_acts_that_came_later_fails_for_the_window_and_others_keep_their_verdict() {
        let info = CaseId::Redelivery.info();
        let failed = || Some(CaseResult::with_fix(info, Verdict::Failed, "acted 0 times".into(), "dedup".into()));
        let mut played = vec![failed(), failed()];
        let short =
            vec![(0, BTreeMap::from([(Uuid::from_u128(1), 0)])), (1, BTreeMap::from([(Uuid::from_u128(2), 0)]))];
        mark(&mut played, &short, &Effects::Read(vec![record(1)]), Settle::default());
        let late = played[0].as_ref().unwrap();
        assert_eq!(late.verdict, Verdict::Failed);
        assert!(late.detail.starts_with("acted after the effects settle window"), "{}", late.detail);
        assert!(late.fix.contains("--effects-quiet-ms"), "{}", late.fix);
        assert_eq!(played[1].as_ref().unwrap().fix, "dedup");
    }
}
