use super::*;
use crate::domain::{Change, Client, EntityKind, EntityRef, EventPath, Invoice, InvoiceState};
use crate::signing::{Signer, Verifier};
use crate::time::SimTime;

/// Invoice 4 of client 1, paid: event 3 at 2023-11-14T22:13:20Z.
fn paid() -> (Store, Event) {
    let mut store = Store::default();
    Change::AddClient(Client { id: 1, name: "Ada".into(), email: "ada@example.com".into() }).apply(&mut store).unwrap();
    let inv = Invoice { id: 4, number: "INV-4".into(), client_id: 1, total_cents: 1250, state: InvoiceState::Unpaid };
    Change::AddInvoice(inv).apply(&mut store).unwrap();
    Change::SetInvoiceState { id: 4, state: InvoiceState::Paid }.apply(&mut store).unwrap();
    let event = Event {
        id: 3,
        path: EventPath::InvoiceUpdateState,
        details: "paid",
        entity: EntityRef { kind: EntityKind::Invoice, id: 4 },
        at: SimTime::ZERO,
    };
    (store, event)
}

const UUID: Uuid = Uuid::from_u128(0x6a0e1d8e_0000_4000_8000_000000001234);
const EVENT_S: i64 = 1_700_000_000;

fn message(p: Provider) -> Message {
    let (store, event) = paid();
    p.render(&Occurrence { uuid: UUID, event: &event, store: &store, event_s: EVENT_S })
}

#[test]
fn the_table_names_every_provider_once_and_reads_back() {
    let names: Vec<&str> = Provider::names().collect();
    assert_eq!(names, ["snapbill", "stripe", "github", "shopify", "slack", "standard-webhooks"]);
    for p in Provider::all() {
        assert_eq!(p.name().parse::<Provider>(), Ok(p));
        assert_eq!(p.to_string(), p.name());
    }
    assert!("paypal".parse::<Provider>().unwrap_err().to_string().contains("standard-webhooks"));
}

#[test]
fn snapbill_is_todays_envelope() {
    let (store, event) = paid();
    let m = message(Provider::Snapbill);
    assert_eq!(m.body, crate::core::render(UUID, &event, &store));
    assert_eq!(m.id, UUID.to_string());
    assert!(m.headers.is_empty());
    assert_eq!(Provider::Snapbill.scheme(), None);
}

#[test]
fn stripe_renders_an_invoice_paid_event() {
    let m = message(Provider::Stripe);
    assert_eq!(m.id, "evt_6a0e1d8e000040008000000000001234");
    assert_eq!(m.body, STRIPE);
    assert!(m.headers.is_empty());
}

#[test]
fn standard_webhooks_renders_type_timestamp_data() {
    let m = message(Provider::StandardWebhooks);
    assert_eq!(m.id, "msg_6a0e1d8e000040008000000000001234");
    assert_eq!(m.body, STANDARD_WEBHOOKS);
}

#[test]
fn github_renders_a_marketplace_purchase_with_its_headers() {
    let m = message(Provider::Github);
    assert_eq!(m.id, UUID.to_string());
    assert_eq!(m.body, GITHUB);
    assert_eq!(m.headers, [("x-github-event", "marketplace_purchase".into()), ("x-github-hook-id", "4242".into())]);
}

#[test]
fn shopify_renders_an_orders_paid_order_with_its_headers() {
    let m = message(Provider::Shopify);
    assert_eq!(m.body, SHOPIFY);
    let value = |name: &str| m.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
    assert_eq!(value("x-shopify-topic"), Some("orders/paid"));
    assert_eq!(value("x-shopify-event-id"), Some(m.id.as_str()));
    assert_eq!(value("x-shopify-triggered-at"), Some("2023-11-14T22:13:20Z"));
    assert_eq!(value("x-shopify-api-version"), Some("2025-07"));
}

#[test]
fn slack_renders_an_event_callback_and_the_handshake() {
    let m = message(Provider::Slack);
    assert_eq!(m.id, "Ev6A0E1D8E000040008000000000001234");
    assert_eq!(m.body, SLACK);
    assert_eq!(
        Provider::Slack.handshake("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P").as_deref(),
        Some(
            r#"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","token":"hooksim-verification-token","type":"url_verification"}"#
        )
    );
    assert_eq!(Provider::Stripe.handshake("x"), None);
    assert_eq!(
        Provider::Slack.retry_headers(2),
        [("x-slack-retry-num", "2".to_string()), ("x-slack-retry-reason", "http_timeout".to_string())]
    );
    assert!(Provider::Stripe.retry_headers(1).is_empty());
}

#[test]
fn every_provider_signs_its_message_so_its_scheme_verifies() {
    for p in Provider::all().filter(|p| p.scheme().is_some()) {
        let scheme = p.scheme().unwrap();
        let secret = match scheme {
            Scheme::StandardWebhooks => "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            _ => "hooksim-provider-secret",
        };
        let m = message(p);
        let mut headers: Vec<(&str, String)> = m.headers.clone();
        headers.extend(Signer::new(scheme, &[secret]).unwrap().sign(&m.id, EVENT_S + 5, m.body.as_bytes()));
        let verifier = Verifier::new(scheme, &[secret]).unwrap();
        assert_eq!(verifier.verify(&headers[..], m.body.as_bytes(), EVENT_S + 10), Ok(()), "{p}");
        assert!(verifier.verify(&headers[..], &m.body.as_bytes()[1..], EVENT_S + 10).is_err(), "{p}");
        let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
        let id_header = match p {
            Provider::Github => Some("x-github-delivery"),
            Provider::StandardWebhooks => Some("webhook-id"),
            Provider::Shopify => Some("x-shopify-event-id"),
            _ => None,
        };
        if let Some(h) = id_header {
            assert_eq!(headers.iter().find(|(n, _)| *n == h).map(|(_, v)| v.as_str()), Some(m.id.as_str()), "{p}");
        }
        assert!(names.iter().all(|n| n.chars().all(|c| !c.is_ascii_uppercase())), "{p}: lower case");
    }
}

#[test]
fn every_dedup_id_reads_back_as_its_delivery() {
    for p in Provider::all() {
        assert_eq!(delivery_uuid(&p.dedup_id(UUID)), Some(UUID), "{p}");
    }
    assert_eq!(delivery_uuid("evt_1"), None);
    assert_eq!(delivery_uuid(""), None);
    assert_eq!(delivery_uuid("ü".repeat(40).as_str()), None);
}

#[test]
fn the_facts_hold_together() {
    for p in Provider::all() {
        let f = p.facts();
        assert!(f.timeout_ms > 0 && f.redelivery_window_ms > 0, "{p}");
        if let (Some(delays), Some(max)) = (f.retry_delays_ms, f.retries_max) {
            assert_eq!(delays.len() as u32, max, "{p}");
        }
        assert_eq!(f.rendered == Rendered::AtSend, p == Provider::Snapbill, "{p}");
        assert!(f.retry_keeps_id, "{p}");
    }
}

/// A pack's published delivery facts and the retry profile it implies say the same thing, where
/// the provider publishes it exactly: the same timeout, attempts, and delays (a published "at
/// once" is the profile's 1 s, `policy::profiles::slack`). The two are written apart (a fact with
/// its source, a policy hooksim runs); this keeps them one truth.
#[test]
fn each_packs_profile_follows_its_published_facts() {
    use crate::policy::Backoff;
    for p in Provider::all() {
        let (f, spec) = (p.facts(), p.facts().profile.spec());
        assert_eq!(f.timeout_ms, spec.attempt_timeout_ms, "{p}: timeout");
        if let Some(retries) = f.retries_max {
            assert_eq!(spec.attempts_max, Some(retries + 1), "{p}: attempts");
        }
        if let Some(delays) = f.retry_delays_ms.filter(|d| !d.is_empty()) {
            let Backoff::List { delays_ms } = &spec.schedule.backoff else { panic!("{p}: a list of delays") };
            let published: Vec<u64> = delays.iter().map(|&d| d.max(1_000)).collect();
            assert_eq!(&published, delays_ms, "{p}: delays");
        }
    }
}

const STRIPE: &str = r#"{"api_version":"2024-06-20","created":1700000000,"data":{"object":{"currency":"usd","customer":"cus_1","id":"in_4","number":"INV-4","object":"invoice","status":"paid","total":1250}},"id":"evt_6a0e1d8e000040008000000000001234","livemode":false,"object":"event","pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"invoice.paid"}"#;
const STANDARD_WEBHOOKS: &str = r#"{"data":{"client_id":1,"id":4,"number":"INV-4","state":"paid","total_cents":1250},"timestamp":"2023-11-14T22:13:20Z","type":"invoice.paid"}"#;
const GITHUB: &str = r#"{"action":"purchased","effective_date":"2023-11-14T22:13:20Z","marketplace_purchase":{"account":{"id":1,"login":"client-1","type":"Organization"},"billing_cycle":"monthly","free_trial_ends_on":null,"next_billing_date":null,"on_free_trial":false,"plan":{"bullets":[],"id":4,"monthly_price_in_cents":1250,"name":"INV-4","price_model":"FLAT_RATE","unit_name":null},"unit_count":1},"sender":{"id":1,"login":"client-1","type":"Organization"}}"#;
const SHOPIFY: &str = r##"{"cancelled_at":null,"currency":"USD","customer":{"id":1},"financial_status":"paid","id":4,"name":"#INV-4","total_price":"12.50","updated_at":"2023-11-14T22:13:20Z"}"##;
const SLACK: &str = r#"{"api_app_id":"A0HOOKSIM","event":{"channel":"C0BILLING","event_ts":"1700000000.000100","metadata":{"event_payload":{"client_id":1,"id":4,"number":"INV-4","state":"paid","total_cents":1250},"event_type":"invoice_paid"},"text":"Invoice INV-4 paid","ts":"1700000000.000100","type":"message","user":"U0SNAPBILL"},"event_id":"Ev6A0E1D8E000040008000000000001234","event_time":1700000000,"team_id":"T0HOOKSIM","token":"hooksim-verification-token","type":"event_callback"}"#;

/// Every pack's delivery reads back as its provider's receiver reads it: the dedup id (and the
/// uuid it ends in), the event's time, and what the event says; SnapBill's is not a provider's.
#[test]
fn every_providers_delivery_reads_back() {
    for p in Provider::all().filter(|p| *p != Provider::Snapbill) {
        let mut m = message(p);
        if let Some(name) = p.id_header() {
            m.headers.push((name, m.id.clone()));
        }
        let r = p.read(&m.headers[..], m.body.as_bytes()).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!((r.id.as_str(), r.uuid), (m.id.as_str(), Some(UUID)), "{p}");
        assert_eq!(r.event_s, EVENT_S, "{p}");
        let paid = About::InvoiceState { invoice: 4, to: "paid".into(), state: "paid".into() };
        assert_eq!(r.about, paid, "{p}");
        assert!(p.read(&m.headers[..], b"not json").is_err(), "{p}");
        assert!(
            p.read(&[("x", "y")][..], m.body.as_bytes()).is_err() || p == Provider::Stripe || p == Provider::Slack,
            "{p}"
        );
    }
    let none: &[(&str, String)] = &[];
    assert!(Provider::Snapbill.read(none, b"{}").is_err());
}

/// The API reads the invoice as the store has it now, in each provider's own object, and
/// answers 404 for an unknown id or path, 405 for another method.
#[test]
fn the_api_serves_the_invoice_as_it_is_now_in_the_providers_shape() {
    let (mut store, _) = paid();
    let state = |p: Provider, store: &Store| {
        let answer = p.api_get("GET", &p.invoice_path(4).unwrap(), store, EVENT_S);
        assert_eq!(answer.status, 200, "{p}: {}", answer.body);
        let v: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        match p {
            Provider::Stripe => v["status"].as_str().unwrap().to_string(),
            Provider::Github => v.as_array().unwrap().len().to_string(),
            Provider::Shopify => v["order"]["financial_status"].as_str().unwrap().to_string(),
            _ => v["invoice"]["state"].as_str().unwrap().to_string(),
        }
    };
    let with_api: Vec<Provider> = Provider::all().filter(|p| p.has_api()).collect();
    assert_eq!(with_api, [Provider::Stripe, Provider::Github, Provider::Shopify, Provider::Slack]);
    let paid_now: Vec<String> = with_api.iter().map(|p| state(*p, &store)).collect();
    assert_eq!(paid_now, ["paid", "1", "paid", "paid"]);
    Change::SetInvoiceState { id: 4, state: InvoiceState::Cancelled }.apply(&mut store).unwrap();
    let cancelled_now: Vec<String> = with_api.iter().map(|p| state(*p, &store)).collect();
    assert_eq!(cancelled_now, ["void", "0", "voided", "cancelled"]);
    for p in with_api {
        let unknown = p.invoice_path(5).unwrap();
        assert_eq!(p.api_get("GET", &unknown, &store, EVENT_S).status, 404, "{p}");
        assert_eq!(p.api_get("GET", "/v1/nothing", &store, EVENT_S).status, 404, "{p}");
        assert_eq!(p.api_get("POST", &p.invoice_path(4).unwrap(), &store, EVENT_S).status, 405, "{p}");
        let long = format!("{}{}", p.invoice_path(4).unwrap(), "9".repeat(API_TARGET_BYTES_MAX));
        assert_eq!(p.api_get("GET", &long, &store, EVENT_S).status, 414, "{p}");
    }
    assert_eq!(Provider::Stripe.api_get("GET", "/v1/invoices/in_+4", &store, EVENT_S).status, 404);
    assert_eq!(Provider::StandardWebhooks.api_get("GET", "/invoices/4", &store, EVENT_S).status, 404);
}
