//! The timeline page without a browser: self-contained, escaped, bounded, deterministic.

use hooksim::domain::WebhookId;
use hooksim::time::SimTime;
use hooksim::timeline::{TimelineOptions, render};
use hooksim::trace::{Outcome, Trace, TraceEvent};
use uuid::Uuid;

fn attempts(n: u64, body: &str) -> Trace {
    let mut t = Trace::default();
    let delivery = Uuid::from_u128(1);
    let webhook = WebhookId(0);
    t.push(SimTime::ZERO, TraceEvent::DeliveryQueued { delivery, webhook, event: 1 });
    for attempt in 1..=n {
        let at = SimTime::from_millis(attempt * 1000);
        let body = body.into();
        let number = attempt as u32;
        t.push(at, TraceEvent::AttemptStarted { attempt, delivery, webhook, event: 1, number, body });
        let outcome = Outcome::Status { code: 500 };
        t.push(at.plus_ms(5), TraceEvent::AttemptFinished { attempt, delivery, webhook, event: 1, outcome });
    }
    t
}

#[test]
fn the_page_needs_no_network_and_is_the_same_every_time() {
    let trace = attempts(3, "{}");
    let page = render(&trace, &TimelineOptions::new("three"));
    assert_eq!(page, render(&trace, &TimelineOptions::new("three")));
    // The SVG namespace is a name, not a fetch.
    let page = page.replace("http://www.w3.org/2000/svg", "");
    for remote in ["http://", "https://", "//fonts", "@import", "src=\""] {
        assert!(!page.contains(remote), "the page refers to {remote}");
    }
}

#[test]
fn an_untrusted_body_or_title_never_becomes_markup() {
    let evil = r#"{"x":"</script><img src=x onerror=alert(1)><!--"}"#;
    let page = render(&attempts(1, evil), &TimelineOptions::new("<i>title</i>"));
    assert_eq!(page.matches("</script>").count(), 2, "only the page's two scripts end");
    assert!(!page.contains("<img") && !page.contains("<i>title"));
    assert!(page.contains("&lt;i&gt;title"));
}

#[test]
fn a_huge_trace_is_cut_at_the_limit_and_the_page_says_so() {
    let trace = attempts(50, "{}");
    let mut options = TimelineOptions::new("big");
    options.attempts_max = 10;
    let page = render(&trace, &options);
    let data = &page[page.find("id=\"trace-data\">").unwrap()..];
    assert_eq!(data.matches("\"n\":").count(), 10, "ten attempts drawn");
    assert!(data.contains("\"cut\":{"), "the data says it was cut");
    assert!(data.contains("\"attempts\":50"), "and out of how many");

    options.attempts_max = 1_000;
    options.body_bytes_max = 4;
    let page = render(&attempts(1, "{\"long\":\"body\"}"), &options);
    assert!(page.contains("\"body_cut\":true"));
}
