//! Grading: a case's answers and the effects list give its verdict and the detail behind it.

use super::effects::{EffectRecord, Effects, is_fulfilment};
use super::script::{Acts, Sent};
use serde::Serialize;

/// Passed, failed, not verified (a case about side effects without a readable effects list, or
/// with nothing observed), or not run (the run stopped before it: the receiver answered
/// nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// What the case checks was seen, and held.
    Passed,
    /// It was seen, and broken.
    Failed,
    /// It could not be seen (no effects list, or nothing observed): never a pass.
    NotVerified,
    /// The run stopped before it (the receiver answered nothing).
    NotRun,
}

/// A failed answer decides at once; then wrong effects fail; then missing effects leave the
/// case not verified. Only entries that count as the work a `paid` delivery calls for are
/// counted ([`is_fulfilment`]: `kind` `fulfil` or none); other work beside it is allowed.
/// Nothing answered passes nothing.
pub fn grade(sent: &Sent, effects: &Effects) -> (Verdict, String) {
    if !sent.failures.is_empty() {
        return (Verdict::Failed, sent.failures.join("; "));
    }
    if sent.answered == 0 {
        return (Verdict::NotVerified, "not observed: no request of this case was answered".into());
    }
    let mut wrong = Vec::new();
    let mut unseen = false;
    let mut seen = Vec::new();
    for e in &sent.expects {
        let acted =
            effects.for_uuid(e.uuid).map(|all| all.into_iter().filter(|r| is_fulfilment(r)).collect::<Vec<_>>());
        match acted {
            Some(records) if records.len() == e.acts.count() => {
                let times = if e.acts == Acts::Never { "not acted on" } else { "acted on once" };
                seen.push(format!("{} {times}", e.what));
            }
            Some(records) => wrong.push(format!(
                "{} was acted on {} time(s), expected {}{}",
                e.what,
                records.len(),
                if e.acts == Acts::Never { "never" } else { "once" },
                actions(&records)
            )),
            None => unseen |= e.essential,
        }
    }
    if !wrong.is_empty() {
        // The answers too: a refusal (401) after the act was done is still an act, and the reader
        // must see both to know which to fix.
        let mut detail = wrong.join("; ");
        if !sent.notes.is_empty() {
            detail.push_str(&format!("; answered: {}", sent.notes.join("; ")));
        }
        return (Verdict::Failed, detail);
    }
    if let (true, Effects::Unavailable(why)) = (unseen, effects) {
        return (Verdict::NotVerified, format!("answers were 2xx, but effects are unknown: {why}"));
    }
    let mut detail = sent.notes.clone();
    detail.extend(seen);
    (Verdict::Passed, detail.join("; "))
}

/// Some delivery was acted on fewer times than expected (a late act may explain it).
pub fn short_of_acts(sent: &Sent, effects: &Effects) -> bool {
    sent.expects.iter().any(|e| {
        effects
            .for_uuid(e.uuid)
            .is_some_and(|all| all.into_iter().filter(|r| is_fulfilment(r)).count() < e.acts.count())
    })
}

/// Entries per delivery of the case (every kind), as read.
pub fn acts_per_delivery(sent: &Sent, effects: &Effects) -> std::collections::BTreeMap<uuid::Uuid, usize> {
    sent.expects.iter().map(|e| (e.uuid, effects.for_uuid(e.uuid).map_or(0, |r| r.len()))).collect()
}

/// ` (fulfil invoice 9, fulfil invoice 9)` when the receiver named its actions.
fn actions(records: &[&EffectRecord]) -> String {
    let named: Vec<&str> = records.iter().filter_map(|r| r.action.as_deref()).collect();
    if named.is_empty() { String::new() } else { format!(" ({})", named.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certify::script::Expect;
    use uuid::Uuid;

    fn sent(acts: Acts, essential: bool) -> Sent {
        let expect = Expect { uuid: Uuid::from_u128(1), acts, what: "it".into(), essential };
        Sent { notes: vec!["200".into()], expects: vec![expect], answered: 1, ..Sent::default() }
    }

    fn read(uuids: &[u128]) -> Effects {
        let record = |u: &u128| EffectRecord {
            uuid: Uuid::from_u128(*u),
            event: None,
            action: Some("fulfil".into()),
            kind: None,
        };
        Effects::Read(uuids.iter().map(record).collect())
    }

    #[test]
    fn a_failed_answer_fails_whatever_the_effects_say() {
        let mut s = sent(Acts::Once, true);
        s.failures.push("500".into());
        assert_eq!(grade(&s, &read(&[1])), (Verdict::Failed, "500".into()));
        assert_eq!(grade(&s, &Effects::Unavailable("none".into())).0, Verdict::Failed);
    }

    #[test]
    fn effects_are_counted_by_uuid_and_other_deliveries_do_not_count() {
        assert_eq!(grade(&sent(Acts::Once, true), &read(&[1, 2])).0, Verdict::Passed);
        let (verdict, detail) = grade(&sent(Acts::Once, true), &read(&[1, 1, 2]));
        assert_eq!(verdict, Verdict::Failed);
        assert!(detail.contains("acted on 2 time(s), expected once (fulfil, fulfil); answered: 200"), "{detail}");
        assert_eq!(grade(&sent(Acts::Never, true), &read(&[2])).0, Verdict::Passed);
        assert_eq!(grade(&sent(Acts::Never, true), &read(&[1])).0, Verdict::Failed);
        assert_eq!(grade(&sent(Acts::Once, true), &read(&[])).0, Verdict::Failed);
    }

    #[test]
    fn an_act_refused_afterwards_fails_and_shows_the_refusal() {
        // Acted, then answered 401 (verified after acting): the act counts, and the detail shows
        // the 401 so the reader fixes the order, not the check.
        let mut s = sent(Acts::Never, true);
        s.notes = vec!["delivery signed an hour ago: 401".into()];
        let (verdict, detail) = grade(&s, &read(&[1]));
        assert_eq!(verdict, Verdict::Failed);
        assert!(detail.ends_with("expected never (fulfil); answered: delivery signed an hour ago: 401"), "{detail}");
    }

    #[test]
    fn without_effects_essential_expectations_are_not_verified_and_others_pass_on_answers() {
        let none = Effects::Unavailable("no --effects-url given".into());
        let (verdict, detail) = grade(&sent(Acts::Once, true), &none);
        assert_eq!(verdict, Verdict::NotVerified);
        assert!(detail.ends_with("no --effects-url given"), "{detail}");
        assert_eq!(grade(&sent(Acts::Once, false), &none).0, Verdict::Passed);
    }

    mod nothing_unobserved_passes {
        use super::*;
        use crate::certify::effects::ActKind;
        use proptest::prelude::*;

        fn kind() -> impl Strategy<Value = Option<ActKind>> {
            prop_oneof![
                Just(None),
                Just(Some(ActKind::Fulfil)),
                Just(Some(ActKind::Cancel)),
                Just(Some(ActKind::Other))
            ]
        }

        prop_compose! {
            fn sent()(
                answered in 0usize..3,
                timed_out in 0usize..2,
                failed in any::<bool>(),
                expects in prop::collection::vec((0u128..4, any::<bool>(), any::<bool>()), 0..4),
            ) -> Sent {
                let expects = expects
                    .into_iter()
                    .map(|(u, once, essential)| Expect {
                        uuid: Uuid::from_u128(u),
                        acts: if once { Acts::Once } else { Acts::Never },
                        what: "it".into(),
                        essential,
                    })
                    .collect();
                let failures = if failed { vec!["500".into()] } else { vec![] };
                Sent { failures, expects, answered, timed_out, ..Sent::default() }
            }
        }

        fn effects() -> impl Strategy<Value = Effects> {
            let record = (0u128..4, kind()).prop_map(|(u, kind)| EffectRecord {
                uuid: Uuid::from_u128(u),
                event: None,
                action: Some("words are never read".into()),
                kind,
            });
            prop_oneof![
                Just(Effects::Unavailable("no --effects-url given".into())),
                prop::collection::vec(record, 0..6).prop_map(Effects::Read),
            ]
        }

        proptest! {
            /// A hand-sent case passes only on answers it saw, every answer right, and every
            /// essential act count judged on a list it read, and matching.
            #[test]
            fn passed_means_observed_and_judged(s in sent(), e in effects()) {
                let (verdict, _) = grade(&s, &e);
                if verdict == Verdict::Passed {
                    prop_assert!(s.answered > 0);
                    prop_assert!(s.failures.is_empty());
                    for x in s.expects.iter().filter(|x| x.essential) {
                        let seen = e.for_uuid(x.uuid);
                        prop_assert!(seen.is_some(), "an essential act count judged on no list");
                        let acted = seen.unwrap_or_default().into_iter().filter(|r| is_fulfilment(r)).count();
                        prop_assert_eq!(acted, x.acts.count());
                    }
                }
            }
        }
    }
}
