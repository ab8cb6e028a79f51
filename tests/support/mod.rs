//! Helpers shared by test binaries, included with `mod support;` (as `tests/protocol_support`
//! is): headless Chromium (`browser.rs`), receivers served on loopback (`loopback.rs`), a
//! trace's decisions with timing taken out (`decisions.rs`), and a private certificate authority
//! for https receivers (`private_ca.rs`), a child process waited for with a wall-clock bound
//! (`process.rs`), and a scratch folder per test (`scratch.rs`). Each binary uses part of them.
#![allow(dead_code)]

pub mod browser;
pub mod decisions;
pub mod loopback;
pub mod private_ca;
pub mod process;
pub mod scratch;
