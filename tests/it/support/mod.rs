//! Helpers shared by the test modules: headless Chromium (`browser.rs`), receivers served on
//! loopback (`loopback.rs`), a trace's decisions with timing taken out (`decisions.rs`), the Java examples compiled once (`java.rs`), a private
//! certificate authority for https receivers (`private_ca.rs`), a child process waited for with a
//! wall-clock bound (`process.rs`), a scratch folder per test (`scratch.rs`), a small world to
//! drive any dispatcher through (`protocol.rs`), and a skipped test said out loud (`skip.rs`).
#![allow(dead_code)]

pub mod browser;
pub mod decisions;
pub mod java;
pub mod loopback;
pub mod private_ca;
pub mod process;
pub mod protocol;
pub mod scratch;
pub mod skip;
