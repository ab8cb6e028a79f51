//! The integration tests, in one binary: one module per topic (the file names are the module
//! names, so `cargo test --test it certify_sender::` runs one topic), helpers shared in
//! `support/`. One binary links once, where one per file linked 57 times, and its tests share one
//! pool of test threads instead of running binary after binary. `tests/tidy.rs` stays a binary of
//! its own: it reads the sources, needs nothing here, and `cargo test --test tidy` is the quick
//! check the developers' guide names.
//!
//! The tests run on twelve threads (`.cargo/config.toml` sets `RUST_TEST_THREADS`; a value in the
//! environment wins). Most of their time is waiting (settle windows, attempt timeouts, senders'
//! budgets), so twelve threads on two cores finish in about a third of the time. The load must not
//! hide a defect a negative control is there to catch: under it a 1 ms check-then-act race can
//! pass `concurrent-redelivery-once`, so that control races for 10 ms (the 1 ms claim is measured
//! on a quiet machine, in docs/certify.md).

mod support;

mod certify;
mod certify_defects;
mod certify_handshakes;
mod certify_java;
mod certify_libraries;
mod certify_library;
mod certify_providers;
mod certify_readme;
mod certify_receivers;
mod certify_sender;
mod certify_sender_grades;
mod certify_sender_wire;
mod certify_signatures;
mod cli_bad_input;
mod core_props;
mod delay_attempts;
mod dispatch_certify;
mod engine_dispatch;
mod engine_parity;
mod engine_stops;
mod explore_dispatcher;
mod explore_html;
mod explore_shards;
mod explore_shrink;
mod live_cli;
mod live_delay;
mod live_run;
mod model_worlds;
mod net_parity;
mod net_worlds;
mod properties_controls;
mod properties_library;
mod properties_random_worlds;
mod protocol_examples;
mod protocol_examples_library;
mod protocol_library;
mod protocol_misbehaviour;
mod protocol_parity;
mod protocol_process_limits;
mod protocol_schema;
mod protocol_serve;
mod protocol_spec;
mod receiver_cli;
mod receiver_limits;
mod receiver_page;
mod receiver_reference;
mod run_cli;
mod run_dispatcher_cli;
mod scenario_library;
mod scenario_load;
mod signing_cli;
mod signing_ed25519;
mod signing_known_answers;
mod signing_props;
mod signing_receiver;
mod signing_worlds;
mod skip_list;
mod snapshots;
mod timeline_browser;
mod timeline_page;
mod trace_format;
