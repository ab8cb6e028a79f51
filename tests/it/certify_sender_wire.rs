//! The endpoint of `hooksim certify sender` on loopback, spoken to by hand: a chunked body is
//! read like any other, `Expect: 100-continue` is honoured, a body over the limit is answered 413
//! before it is read, and the run
//! ends at its budget with what arrived.

use hooksim::certify::sender::limits::BODY_BYTES_MAX;
use hooksim::certify::sender::{EndReason, SenderOptions, bind};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const ENVELOPE: &str = r#"{"uuid":"u-1","body":{"id":7,"path":"/invoice/create","details":null,"invoice":{"id":7}}}"#;

async fn exchange(addr: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn chunked_bodies_are_read_oversized_ones_refused_and_the_budget_ends_the_run() {
    let mut opts = SenderOptions::new("127.0.0.1:0".parse().unwrap());
    opts.budget_ms = 1_500;
    let bound = bind(opts).await.unwrap();
    let addr = bound.url().trim_start_matches("http://").trim_end_matches("/webhook").to_string();
    let run = tokio::spawn(bound.run());

    let (a, b) = ENVELOPE.split_at(20);
    let chunked = format!(
        "POST /webhook HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    let answer = exchange(&addr, chunked.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 500 "), "the first event's first attempt gets its 500: {answer:?}");

    let oversized = format!("POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n", BODY_BYTES_MAX + 1);
    let answer = exchange(&addr, oversized.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer:?}");

    // A curl-style sender announces its body and waits for 100 Continue before sending it.
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: {}\r\n\r\n",
        ENVELOPE.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).await.unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(ENVELOPE.as_bytes()).await.unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    // A 1.5 s budget plans one 500 for the first event: its second attempt gets the 2xx.
    assert!(answer.starts_with("HTTP/1.1 200 "), "the same event's second attempt: {answer:?}");

    let report = run.await.unwrap();
    assert_eq!(report.ended, EndReason::Budget);
    let arrivals = &report.evidence.arrivals;
    assert_eq!(arrivals.len(), 2, "the refused body is not an attempt");
    assert_eq!(arrivals[0].id.as_deref(), Ok("u-1"));
    assert_eq!(arrivals[0].envelope, Ok(()));
    assert_eq!(report.check("retried").unwrap().verdict, hooksim::certify::sender::Verdict::NotObserved);
}
