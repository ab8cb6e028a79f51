//! Negative controls: every property catches a defective trace. Most defects are made by hand
//! from a real model-engine trace of a library scenario (one entry dropped, duplicated, moved
//! or rewritten); some come straight from the model engine on a world built here (a naive
//! receiver held to dedup, a run cut short, a sparse retry schedule).

use hooksim::domain::WebhookId;
use hooksim::policy::{Policy, PolicySpec};
use hooksim::properties::{Fate, Pending, PropertyContext, check, fates};
use hooksim::scenario::load_file;
use hooksim::time::{DAY_MS, SimTime};
use hooksim::trace::{Outcome, RefusedReason, Trace, TraceEntry, TraceEvent};
use hooksim::world::World;
use uuid::Uuid;

fn world(name: &str) -> World {
    load_file(format!("scenarios/{name}.toml")).unwrap().world
}

/// The scenario's model-engine trace, its entries, and the full context of its world.
fn run(name: &str) -> (Vec<TraceEntry>, PropertyContext) {
    let w = world(name);
    let out = hooksim::model::run(&w).unwrap();
    let ctx = PropertyContext::from_world(&w);
    assert!(check(&out.trace, &ctx).is_empty(), "{name} must keep every property before it is broken");
    (out.trace.entries().to_vec(), ctx)
}

fn rebuild(entries: Vec<TraceEntry>) -> Trace {
    let mut t = Trace::default();
    t.extend(entries);
    t
}

fn signatures(entries: &[TraceEntry], ctx: &PropertyContext) -> Vec<&'static str> {
    check(&rebuild(entries.to_vec()), ctx).iter().map(|v| v.signature()).collect()
}

#[track_caller]
fn caught(entries: &[TraceEntry], ctx: &PropertyContext, signature: &str) {
    let trace = rebuild(entries.to_vec());
    let found = check(&trace, ctx);
    let v = found.iter().find(|v| v.signature() == signature);
    let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
    let v = v.unwrap_or_else(|| panic!("expected {signature}, found:\n{}", shown.join("\n")));
    assert!(!v.entries.is_empty() && v.entries.iter().all(|&i| i < trace.len()), "{v}");
}

fn find(entries: &[TraceEntry], pred: impl Fn(&TraceEvent) -> bool) -> usize {
    entries.iter().position(|e| pred(&e.event)).expect("the trace has such an entry")
}

fn rfind(entries: &[TraceEntry], pred: impl Fn(&TraceEvent) -> bool) -> usize {
    entries.iter().rposition(|e| pred(&e.event)).expect("the trace has such an entry")
}

/// `entries[i]`, again, at the end of the trace.
fn repeat_at_end(entries: &mut Vec<TraceEntry>, i: usize) {
    let last = entries.last().unwrap().at;
    entries.push(TraceEntry { at: last, event: entries[i].event.clone() });
}

fn policy_with(policy: &Policy, edit: impl FnOnce(&mut PolicySpec)) -> Policy {
    let mut spec = policy.spec().clone();
    edit(&mut spec);
    spec.build().unwrap()
}

// ---- nothing is lost ----

#[test]
fn a_delivery_whose_success_is_not_recorded_is_lost() {
    let (mut e, ctx) = run("retry-through-5xx");
    e.remove(find(&e, |ev| matches!(ev, TraceEvent::Delivered { .. })));
    caught(&e, &ctx, "delivery-lost");
}

#[test]
fn a_failed_attempt_with_no_retry_scheduled_is_lost() {
    let (mut e, ctx) = run("retry-through-5xx");
    e.truncate(find(&e, |ev| matches!(ev, TraceEvent::RetryScheduled { .. })));
    caught(&e, &ctx, "delivery-lost");
}

#[test]
fn a_parked_delivery_forgotten_at_the_enable_is_caught() {
    let (mut e, ctx) = run("disabled-then-reenabled");
    e.truncate(find(&e, |ev| matches!(ev, TraceEvent::WebhookEnabled { .. })) + 1);
    caught(&e, &ctx, "parked-never-resumed");
}

#[test]
fn an_attempt_that_never_finishes_before_the_end_is_caught() {
    let (mut e, ctx) = run("retry-through-5xx");
    let started = find(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    e.truncate(started + 1);
    caught(&e, &ctx, "attempt-never-finished");
}

#[test]
fn an_event_neither_queued_nor_refused_is_caught() {
    let (mut e, ctx) = run("retry-through-5xx");
    e.remove(find(&e, |ev| matches!(ev, TraceEvent::DeliveryQueued { .. })));
    caught(&e, &ctx, "event-not-routed");
}

#[test]
fn an_event_routed_twice_or_against_the_filters_is_caught() {
    let (mut e, ctx) = run("path-filters");
    let refused = find(&e, |ev| matches!(ev, TraceEvent::DeliveryQueued { .. }));
    let TraceEvent::DeliveryQueued { webhook, event, .. } = e[refused].event.clone() else { unreachable!() };
    let again = TraceEvent::DeliveryRefused { webhook, event, reason: RefusedReason::QueueFull };
    e.insert(refused + 1, TraceEntry { at: e[refused].at, event: again });
    caught(&e, &ctx, "event-routed-twice");

    let (mut e, ctx) = run("path-filters");
    let webhooks = ctx.webhooks.as_ref().unwrap();
    let i =
        find(&e, |ev| matches!(ev, TraceEvent::EventRecorded { path, .. } if webhooks.iter().any(|w| !w.wants(*path))));
    let TraceEvent::EventRecorded { event, path, .. } = e[i].event.clone() else { unreachable!() };
    let unwanted = WebhookId(webhooks.iter().position(|w| !w.wants(path)).unwrap() as u32);
    let stray = TraceEvent::DeliveryQueued { delivery: Uuid::from_u128(7), webhook: unwanted, event };
    e.insert(i + 1, TraceEntry { at: e[i].at, event: stray });
    caught(&e, &ctx, "routed-against-filter");
}

#[test]
fn refusals_must_name_a_limit_that_was_reached() {
    let (mut e, ctx) = run("disabled-then-reenabled");
    let i = find(&e, |ev| matches!(ev, TraceEvent::DeliveryRefused { .. }));
    if let TraceEvent::DeliveryRefused { reason, .. } = &mut e[i].event {
        *reason = RefusedReason::QueueFull;
    }
    caught(&e, &ctx, "refused-below-limit");

    let (mut e, ctx) = run("retry-through-5xx");
    let i = find(&e, |ev| matches!(ev, TraceEvent::DeliveryQueued { .. }));
    let TraceEvent::DeliveryQueued { webhook, event, .. } = e[i].event.clone() else { unreachable!() };
    e[i].event = TraceEvent::DeliveryRefused { webhook, event, reason: RefusedReason::WebhookDisabled };
    caught(&e, &ctx, "refused-while-enabled");
}

#[test]
fn queueing_for_a_disabled_webhook_or_past_the_limit_is_caught() {
    let (mut e, ctx) = run("disabled-then-reenabled");
    let i = find(&e, |ev| matches!(ev, TraceEvent::DeliveryRefused { .. }));
    let TraceEvent::DeliveryRefused { webhook, event, .. } = e[i].event.clone() else { unreachable!() };
    e[i].event = TraceEvent::DeliveryQueued { delivery: Uuid::from_u128(9), webhook, event };
    caught(&e, &ctx, "queued-while-disabled");

    // Two invoices pending at once on one webhook, judged against a limit of one.
    let (e, mut ctx) = run("out-of-order");
    ctx.policy = policy_with(&ctx.policy, |s| s.pending_per_webhook_max = 1);
    caught(&e, &ctx, "queued-past-limit");
}

#[test]
fn delivering_twice_or_attempting_after_the_end_is_caught() {
    let (mut e, ctx) = run("retry-through-5xx");
    let i = find(&e, |ev| matches!(ev, TraceEvent::Delivered { .. }));
    repeat_at_end(&mut e, i);
    caught(&e, &ctx, "delivered-twice");

    let (mut e, ctx) = run("retry-through-5xx");
    let i = rfind(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    repeat_at_end(&mut e, i);
    caught(&e, &ctx, "attempt-after-delivery-ended");
}

#[test]
fn delivered_needs_a_2xx() {
    let (mut e, ctx) = run("retry-through-5xx");
    let delivered = find(&e, |ev| matches!(ev, TraceEvent::Delivered { .. }));
    let answer = rfind(&e[..delivered], |ev| matches!(ev, TraceEvent::AttemptFinished { .. }));
    if let TraceEvent::AttemptFinished { outcome, .. } = &mut e[answer].event {
        *outcome = hooksim::trace::Outcome::Status { code: 503 };
    }
    caught(&e, &ctx, "delivered-without-2xx");
}

#[test]
fn giving_up_needs_a_limit_of_the_policy_reached() {
    let (e, mut ctx) = run("stripe-profile-gives-up");
    assert!(fates(&rebuild(e.clone()), &ctx).iter().any(|(_, f)| matches!(f, Fate::Abandoned(_))));
    ctx.policy = hooksim::policy::Profile::Snapbill.policy();
    caught(&e, &ctx, "abandoned-without-limit");

    let (mut e, ctx) = run("stripe-profile-gives-up");
    let i = find(&e, |ev| matches!(ev, TraceEvent::DeliveryAbandoned { .. }));
    if let TraceEvent::DeliveryAbandoned { attempts, reason, .. } = &mut e[i].event {
        *attempts = 1;
        *reason = hooksim::trace::AbandonReason::AttemptsExhausted;
    }
    let ctx = PropertyContext { policy: policy_with(&ctx.policy, |s| s.attempts_max = Some(5)), ..ctx };
    caught(&e, &ctx, "abandoned-early");
}

/// "Still pending at the end" is allowed only while something lasts to the end: the same world
/// cut short mid-retry passes with the delivery pending, and the same trace judged as if the run
/// had gone on for days (its retry was due, nothing happened) is a lost delivery.
#[test]
fn pending_at_the_end_is_allowed_only_when_the_run_ended_first() {
    let mut w = world("retry-through-5xx");
    let full = hooksim::model::run(&w).unwrap();
    let first_retry = full
        .trace
        .entries()
        .iter()
        .find_map(|e| match e.event {
            TraceEvent::RetryScheduled { at, .. } => Some(at),
            _ => None,
        })
        .unwrap();
    w.run_for_ms = first_retry.as_millis() - 1;
    let cut = hooksim::model::run(&w).unwrap();
    let ctx = PropertyContext::from_world(&w);
    assert_eq!(check(&cut.trace, &ctx), vec![]);
    let f = fates(&cut.trace, &ctx);
    assert!(f.iter().any(|(_, f)| *f == Fate::Pending(Pending::RetryDue(first_retry))), "{f:?}");

    let later = PropertyContext { end: SimTime::from_millis(3 * DAY_MS), ..ctx };
    caught(cut.trace.entries(), &later, "delivery-lost");
}

// ---- the dedup receiver acts at most once per uuid ----

#[test]
fn a_dedup_receiver_acting_twice_is_caught() {
    let (mut e, ctx) = run("lost-answers-dedup");
    let i = find(&e, |ev| matches!(ev, TraceEvent::ReceiverActed { receiver, .. } if receiver == "shop"));
    repeat_at_end(&mut e, i);
    caught(&e, &ctx, "dedup-acted-twice");
}

/// From the model engine: the naive receiver acts on every duplicate. It is not held to dedup
/// (its kind says so), but the same trace judged as if it were a dedup receiver fails.
#[test]
fn a_naive_receiver_held_to_dedup_is_caught() {
    let (e, mut ctx) = run("lost-answers-dedup");
    assert!(ctx.dedup_receivers.contains("shop") && !ctx.dedup_receivers.contains("legacy"));
    ctx.dedup_receivers.insert("legacy".into());
    caught(&e, &ctx, "dedup-acted-twice");
}

// ---- a uuid names one delivery ----

#[test]
fn a_uuid_minted_twice_is_caught() {
    let (mut e, ctx) = run("lost-answers-dedup");
    let first = find(&e, |ev| matches!(ev, TraceEvent::DeliveryQueued { .. }));
    let TraceEvent::DeliveryQueued { delivery, .. } = e[first].event.clone() else { unreachable!() };
    let second = rfind(&e, |ev| matches!(ev, TraceEvent::DeliveryQueued { .. }));
    if let TraceEvent::DeliveryQueued { delivery: d, .. } = &mut e[second].event {
        *d = delivery;
    }
    caught(&e, &ctx, "uuid-reused");
}

#[test]
fn an_attempt_under_another_uuid_or_identity_is_caught() {
    let (mut e, ctx) = run("retry-through-5xx");
    let i = rfind(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    let TraceEvent::AttemptStarted { body, delivery, .. } = &mut e[i].event else { unreachable!() };
    *body = body.replace(&delivery.to_string(), &Uuid::from_u128(1).to_string()).into();
    caught(&e, &ctx, "body-uuid-mismatch");

    let (mut e, ctx) = run("retry-through-5xx");
    let i = rfind(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    if let TraceEvent::AttemptStarted { delivery, .. } = &mut e[i].event {
        *delivery = Uuid::from_u128(2);
    }
    caught(&e, &ctx, "attempt-of-unknown-delivery");

    let (mut e, ctx) = run("retry-through-5xx");
    let i = rfind(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    if let TraceEvent::AttemptStarted { webhook, .. } = &mut e[i].event {
        *webhook = WebhookId(7);
    }
    caught(&e, &ctx, "attempt-identity-mismatch");
}

/// A retry under a new uuid: the last attempt (and everything after it) moved to a fresh uuid,
/// queued just before it, as the harness records a delivery first seen at a send. The identity
/// property catches it; the old delivery is not reported lost (its retries went on), and the
/// event is not reported routed twice.
#[test]
fn a_uuid_that_changes_on_a_retry_is_caught_as_identity_only() {
    let (mut e, ctx) = run("retry-through-5xx");
    let i = rfind(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    let TraceEvent::AttemptStarted { delivery: old, webhook, event, .. } = e[i].event.clone() else { unreachable!() };
    let new = Uuid::from_u128(0x5eed);
    for entry in &mut e[i..] {
        match &mut entry.event {
            TraceEvent::AttemptStarted { delivery, body, number, .. } if *delivery == old => {
                *body = body.replace(&old.to_string(), &new.to_string()).into();
                *delivery = new;
                *number = 1;
            }
            TraceEvent::AttemptFinished { delivery, .. } | TraceEvent::Delivered { delivery, .. }
                if *delivery == old =>
            {
                *delivery = new
            }
            _ => {}
        }
    }
    let queued = TraceEntry { at: e[i].at, event: TraceEvent::DeliveryQueued { delivery: new, webhook, event } };
    e.insert(i, queued);
    caught(&e, &ctx, "uuid-changed-on-retry");
    let found = check(&rebuild(e.clone()), &ctx);
    let v = found.iter().find(|v| v.signature() == "uuid-changed-on-retry").unwrap();
    assert!(v.detail.contains(&old.to_string()) && v.detail.contains(&new.to_string()), "{v}");
    assert_eq!(signatures(&e, &ctx), ["uuid-changed-on-retry"], "only identity is blamed");
}

// ---- a webhook failing past the thresholds is warned, then disabled ----

/// A dispatcher that never disables: the disable dropped, and the webhook's retries go on.
#[test]
fn a_webhook_never_disabled_past_the_thresholds_is_caught() {
    let (mut e, ctx) = run("week-of-failure-disables");
    let disabled = find(&e, |ev| matches!(ev, TraceEvent::WebhookDisabled { .. }));
    e.remove(disabled);
    let attempt = rfind(&e[..disabled], |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    let at = e.last().unwrap().at;
    e.push(TraceEntry { at, event: e[attempt].event.clone() });
    caught(&e, &ctx, "not-disabled-past-threshold");
}

/// A dispatcher that never warns: the warning dropped; the next attempt after the failure that
/// made it due is caught.
#[test]
fn a_webhook_never_warned_past_the_threshold_is_caught() {
    let (mut e, ctx) = run("recovers-after-warning");
    e.remove(find(&e, |ev| matches!(ev, TraceEvent::WarningSent { .. })));
    caught(&e, &ctx, "not-warned-past-threshold");
}

// ---- a dispatcher that reports no decisions is judged by what it sends ----

/// The trace without the facts only a dispatcher reports (retries, refusals, disables, give-ups,
/// recoveries, enables, restarts, late answers): what a fact-less dispatcher's run holds.
fn without_decisions(entries: &[TraceEntry]) -> Vec<TraceEntry> {
    let decision = |ev: &TraceEvent| {
        matches!(
            ev,
            TraceEvent::RetryScheduled { .. }
                | TraceEvent::DeliveryRefused { .. }
                | TraceEvent::WebhookDisabled { .. }
                | TraceEvent::DeliveryAbandoned { .. }
                | TraceEvent::WebhookRecovered { .. }
                | TraceEvent::WebhookEnabled { .. }
                | TraceEvent::DispatcherRestarted
                | TraceEvent::LateAnswerIgnored { .. }
        )
    };
    entries.iter().filter(|e| !decision(&e.event)).cloned().collect()
}

#[test]
fn a_trace_without_decisions_keeps_every_property_when_the_policy_explains_its_silences() {
    for name in [
        "retry-through-5xx",
        "week-of-failure-disables",
        "disabled-then-reenabled",
        "stripe-profile-gives-up",
        "dispatcher-crash",
        "pending-limit-refuses",
        "gone-disables-svix",
    ] {
        let (e, ctx) = run(name);
        let found = check(&rebuild(without_decisions(&e)), &ctx);
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert!(found.is_empty(), "{name}:\n{}", shown.join("\n"));
    }
}

/// The negative control: without decisions, a failed delivery never sent again, long before the
/// end and with nothing in the policy to explain it, is lost.
#[test]
fn a_trace_without_decisions_that_stops_retrying_is_caught() {
    let (e, ctx) = run("retry-through-5xx");
    let mut e = without_decisions(&e);
    e.truncate(find(&e, |ev| matches!(ev, TraceEvent::AttemptFinished { .. })) + 1);
    caught(&e, &ctx, "delivery-lost");
}

// ---- no attempt while disabled; warn before disable ----

#[test]
fn an_attempt_while_disabled_is_caught() {
    let (mut e, ctx) = run("disabled-then-reenabled");
    let disabled = find(&e, |ev| matches!(ev, TraceEvent::WebhookDisabled { .. }));
    let attempt = rfind(&e[..disabled], |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    let copy = TraceEntry { at: e[disabled].at, event: e[attempt].event.clone() };
    e.insert(disabled + 1, copy);
    caught(&e, &ctx, "attempt-while-disabled");
}

#[test]
fn a_disable_with_no_warning_or_within_the_grace_is_caught() {
    let (mut e, ctx) = run("disabled-then-reenabled");
    e.remove(find(&e, |ev| matches!(ev, TraceEvent::WarningSent { .. })));
    caught(&e, &ctx, "disable-without-warning");

    // The warning moved to just before the disable.
    let (mut e, ctx) = run("disabled-then-reenabled");
    let warning = e.remove(find(&e, |ev| matches!(ev, TraceEvent::WarningSent { .. })));
    let disabled = find(&e, |ev| matches!(ev, TraceEvent::WebhookDisabled { .. }));
    e.insert(disabled, TraceEntry { at: e[disabled].at, event: warning.event });
    caught(&e, &ctx, "disable-before-grace");

    let (mut e, ctx) = run("disabled-then-reenabled");
    let i = find(&e, |ev| matches!(ev, TraceEvent::WarningSent { .. }));
    e.insert(i + 1, e[i].clone());
    caught(&e, &ctx, "warned-twice-in-streak");
}

#[test]
fn a_disable_for_gone_is_judged_by_the_profile_and_the_last_answer() {
    // svix unsubscribes on a 410: its disable at once, with no warning, keeps every property.
    let (e, ctx) = run("gone-disables-svix");
    assert!(check(&rebuild(e.clone()), &ctx).is_empty());
    // The same trace under a profile that never disables on a 410 breaks the rule.
    let snapbill = PropertyContext { policy: policy_with(&ctx.policy, |s| s.disable_on_gone = false), ..ctx.clone() };
    caught(&e, &snapbill, "disable-without-warning");
    // A disable that says `gone` after a 500, not a 410.
    let (mut e, ctx) = run("gone-disables-svix");
    let finished = find(&e, |ev| matches!(ev, TraceEvent::AttemptFinished { .. }));
    if let TraceEvent::AttemptFinished { outcome, .. } = &mut e[finished].event {
        *outcome = Outcome::Status { code: 500 };
    }
    caught(&e, &ctx, "disable-without-warning");
}

#[test]
fn warning_or_disabling_before_the_thresholds_is_caught() {
    let (e, ctx) = run("disabled-then-reenabled");
    let late = |s: &mut PolicySpec| {
        s.warn_after_ms = s.warn_after_ms.map(|w| w + DAY_MS);
        s.disable_after_ms = s.disable_after_ms.map(|d| d + DAY_MS);
    };
    let strict = PropertyContext { policy: policy_with(&ctx.policy, late), ..ctx.clone() };
    caught(&e, &strict, "warn-before-threshold");
    let strict = PropertyContext {
        policy: policy_with(&ctx.policy, |s| s.disable_after_ms = s.disable_after_ms.map(|d| d + DAY_MS)),
        ..ctx
    };
    caught(&e, &strict, "disable-before-threshold");
}

// ---- the body is the store at send time ----

/// The paid event's later attempts carry the cancelled invoice; replaying the first attempt's
/// body (the invoice as it was, paid) on the last attempt is stale, by the store replay and by
/// what the trace alone implies.
#[test]
fn a_stale_body_is_caught_with_and_without_the_store_history() {
    let (mut e, ctx) = run("paid-carries-cancelled-invoice");
    let first = find(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    let last = rfind(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    let TraceEvent::AttemptStarted { body: old, .. } = e[first].event.clone() else { unreachable!() };
    let TraceEvent::AttemptStarted { body, .. } = &mut e[last].event else { unreachable!() };
    assert_ne!(*body, old, "the invoice changed between the attempts");
    *body = old;
    caught(&e, &ctx, "body-stale");
    let implied = PropertyContext { changes: None, ..ctx };
    caught(&e, &implied, "body-stale");
}

/// A provider that sends a snapshot: the paid event's last attempt re-rendered at send time (the
/// invoice voided since, as SnapBill would send it) is not Stripe's snapshot of the event.
#[test]
fn a_providers_attempt_rendered_at_send_time_is_caught() {
    let (mut e, ctx) = run("providers/stripe-paid-snapshot-after-cancel");
    let last = rfind(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { event: 3, .. }));
    let TraceEvent::AttemptStarted { body, .. } = &mut e[last].event else { unreachable!() };
    assert!(body.contains(r#""status":"paid""#), "{body}");
    *body = body.replace(r#""status":"paid""#, r#""status":"void""#).into();
    caught(&e, &ctx, "body-stale");
}

/// Without the history, a client rendered two ways between two changes is caught too.
#[test]
fn two_bodies_disagreeing_between_changes_are_caught_from_the_trace_alone() {
    let (mut e, ctx) = run("retry-through-5xx");
    let ctx = PropertyContext { changes: None, ..ctx };
    let last = rfind(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    let TraceEvent::AttemptStarted { body, .. } = &mut e[last].event else { unreachable!() };
    let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
    let entity = v["body"].as_object_mut().unwrap().values_mut().find(|x| x.is_object()).unwrap();
    entity["extra"] = serde_json::json!("changed");
    *body = v.to_string().into();
    caught(&e, &ctx, "body-stale");
}

#[test]
fn a_body_for_another_event_or_not_json_is_caught() {
    let (mut e, ctx) = run("retry-through-5xx");
    let i = rfind(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    let TraceEvent::AttemptStarted { body, event, .. } = &mut e[i].event else { unreachable!() };
    *body = body.replace(&format!("\"id\":{event},"), &format!("\"id\":{},", *event + 40)).into();
    caught(&e, &ctx, "body-wrong-event");

    let (mut e, ctx) = run("retry-through-5xx");
    let i = rfind(&e, |ev| matches!(ev, TraceEvent::AttemptStarted { .. }));
    let TraceEvent::AttemptStarted { body, .. } = &mut e[i].event else { unreachable!() };
    *body = "{\"uuid\": <html>".into();
    assert!(signatures(&e, &ctx).contains(&"body-unreadable"));
}

#[test]
fn a_history_that_does_not_match_the_trace_is_reported() {
    let (e, mut ctx) = run("paid-carries-cancelled-invoice");
    ctx.changes.as_mut().unwrap().remove(1);
    caught(&e, &ctx, "trace-disagrees-with-history");
}

/// From the model engine: the dispatcher is down from day 6 to day 8½ while the shop fails
/// throughout, so on restart the streak is past both thresholds at once. The rule wants the
/// grace (`disable_after - warn_after`) between the warning and the disable; whatever the core
/// does here, the property's verdict must agree with the times in the trace.
#[test]
fn a_warning_and_disable_at_one_restart_are_judged_by_the_grace() {
    use hooksim::world::{Action, Host, Step};
    let mut w = world("week-of-failure-disables");
    w.run_for_ms = 12 * DAY_MS;
    let at = |ms: u64| SimTime::from_millis(ms);
    w.timeline.push(Step { at: at(6 * DAY_MS), action: Action::Crash(Host::Dispatcher) });
    w.timeline.push(Step { at: at(8 * DAY_MS + DAY_MS / 2), action: Action::Restart(Host::Dispatcher) });
    w.timeline.sort_by_key(|s| s.at);
    let out = hooksim::model::run(&w).unwrap();
    let ctx = PropertyContext::from_world(&w);
    let time_of = |pred: fn(&TraceEvent) -> bool| out.trace.entries().iter().find(|e| pred(&e.event)).map(|e| e.at);
    let warned = time_of(|e| matches!(e, TraceEvent::WarningSent { .. })).unwrap();
    let disabled = time_of(|e| matches!(e, TraceEvent::WebhookDisabled { .. }));
    let grace_ms = ctx.policy.disable_after_ms().unwrap() - ctx.policy.warn_after_ms().unwrap();
    let too_soon = disabled.is_some_and(|d| d.ms_since(warned) < grace_ms);
    let reported = check(&out.trace, &ctx).iter().any(|v| v.signature() == "disable-before-grace");
    println!("warned at {warned}, disabled at {disabled:?}: within the grace: {too_soon}");
    assert_eq!(reported, too_soon);
}
