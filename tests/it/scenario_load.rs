//! The loader: every library scenario loads; broken files give `file:line:column: message`;
//! no input whatsoever makes it panic.

use hooksim::scenario::{check_paths, discover, load_bytes, load_file, load_str};
use proptest::prelude::*;

/// A small valid scenario; the broken cases below are edits of it.
const BASE: &str = r#"name = "base"
description = "A valid scenario the broken cases are made from."
seed = 1
run_for = "1d"

[policy]
profile = "snapbill"

[webhooks.shop]
url = "http://shop/webhook"
paths = ["/invoice/*"]
owner = "ops@shop.example"

[receivers.shop]
kind = "dedup"
behaviour = { replies = ["500"], then = "200" }

[[timeline]]
at = "0s"
add_client = { id = 1 }

[[timeline]]
at = "1m"
add_invoice = { id = 4, client = 1 }

[[timeline]]
at = "2m"
invoice_state = { id = 4, state = "paid" }
name = "paid"

[[expect]]
delivered = "shop"
event = "paid"
exactly = 1
"#;

#[test]
fn every_library_scenario_loads() {
    let files = discover(&["scenarios"]);
    assert!(files.len() >= 15, "{} scenarios", files.len());
    for f in &files {
        let s = load_file(f).unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.description.is_empty(), "{} has no description", f.display());
        assert!(s.world.run_for_ms <= 10 * hooksim::time::DAY_MS, "{} runs too long", f.display());
        assert!(!s.expectations.is_empty(), "{} expects nothing", f.display());
    }
    let report = check_paths(&["scenarios"]);
    assert!(report.is_ok(), "{:?}", report.errors);
    assert_eq!(report.loaded.len(), files.len());
}

#[test]
fn the_base_case_is_valid() {
    let s = load_str("base.toml", BASE).unwrap();
    assert_eq!(s.world.timeline.len(), 3);
    assert_eq!(s.events.len(), 3);
    assert_eq!(s.webhook_names, ["shop"]);
}

fn replace(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} is not in the base");
    BASE.replacen(from, to, 1)
}

#[test]
fn broken_files_say_where_and_what() {
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("unknown top-level key", replace("seed = 1", "sed = 1"), "3:1", "unknown field `sed`"),
        ("unknown key in a webhook", replace("owner = ", "ownr = "), "12:1", "unknown field `ownr`"),
        ("unknown key in a step", replace("name = \"paid\"", "nmae = \"paid\""), "29:1", "unknown field `nmae`"),
        ("wrong type", replace("seed = 1", "seed = \"one\""), "3:8", "invalid type"),
        ("negative seed", replace("seed = 1", "seed = -1"), "3:8", "invalid value"),
        ("bad duration", replace("run_for = \"1d\"", "run_for = \"1 fortnight\""), "4:11", "bad duration"),
        ("negative duration", replace("at = \"1m\"", "at = \"-1m\""), "23:6", "negative"),
        ("bare number duration", replace("run_for = \"1d\"", "run_for = 86400"), "4:11", "string with a unit"),
        ("unknown profile", replace("\"snapbill\"", "\"snapbil\""), "7:11", "unknown policy profile"),
        (
            "impossible policy",
            replace("profile = \"snapbill\"", "profile = \"snapbill\"\nwarn_after = \"7d\"\ndisable_after = \"1d\""),
            "9:17",
            "`disable_after` (1d) must be later than `warn_after` (7d)",
        ),
        (
            "warn after disable from the profile",
            replace("profile = \"snapbill\"", "profile = \"snapbill\"\nwarn_after = \"9d\""),
            "8:14",
            "must be later than `warn_after`",
        ),
        (
            "zero timeout",
            replace("profile = \"snapbill\"", "profile = \"snapbill\"\nattempt_timeout = \"0s\""),
            "8:19",
            "`attempt_timeout` must be greater than zero",
        ),
        ("url to no receiver", replace("http://shop/webhook", "http://shoop/webhook"), "10:7", "not a receiver"),
        (
            "path filter matching nothing",
            replace("\"/invoice/*\"", "\"/invoices/*\""),
            "11:10",
            "matches no event path",
        ),
        ("unknown receiver kind", replace("kind = \"dedup\"", "kind = \"careful\""), "15:8", "unknown receiver kind"),
        ("bad reply", replace("[\"500\"]", "[\"five hundred\"]"), "16:26", "unknown reply"),
        ("unknown invoice", replace("invoice_state = { id = 4", "invoice_state = { id = 5"), "28:24", "no invoice 5"),
        (
            "unknown client",
            replace("add_invoice = { id = 4, client = 1 }", "add_invoice = { id = 4, client = 2 }"),
            "24:34",
            "no client 2",
        ),
        ("times out of order", replace("at = \"2m\"", "at = \"30s\""), "27:6", "steps must be in time order"),
        ("step after the end", replace("at = \"2m\"", "at = \"2d\""), "27:6", "after the run ends"),
        (
            "two actions in a step",
            replace("add_client = { id = 1 }", "add_client = { id = 1 }\nenable = \"shop\""),
            "21:10",
            "more than one action",
        ),
        (
            "unknown webhook in a step",
            replace(
                "add_client = { id = 1 }",
                "add_client = { id = 1 }\n\n[[timeline]]\nat = \"0s\"\nenable = \"shoop\"",
            ),
            "24:10",
            "unknown webhook \"shoop\"",
        ),
        (
            "unknown receiver in a step",
            replace(
                "add_client = { id = 1 }",
                "add_client = { id = 1 }\n\n[[timeline]]\nat = \"0s\"\nreceiver = \"shoop\"\nbehave = \"200\"",
            ),
            "24:12",
            "unknown receiver \"shoop\"",
        ),
        (
            "unknown host",
            replace("add_client = { id = 1 }", "add_client = { id = 1 }\n\n[[timeline]]\nat = \"0s\"\ncrash = \"db\""),
            "24:9",
            "unknown host \"db\"",
        ),
        (
            "unknown webhook in an expectation",
            replace("delivered = \"shop\"", "delivered = \"shoop\""),
            "32:13",
            "unknown webhook",
        ),
        (
            "unknown event name",
            replace("event = \"paid\"", "event = \"payed\""),
            "33:9",
            "no change step is named \"payed\"",
        ),
        ("event number out of range", replace("event = \"paid\"", "event = 9"), "33:9", "no event 9"),
        (
            "qualifier that does not apply",
            replace("exactly = 1", "exactly = 1\nto = \"x@y\""),
            "35:6",
            "`to` does not apply to `delivered`",
        ),
        (
            "an event twice in an order",
            replace(
                "delivered = \"shop\"\nevent = \"paid\"\nexactly = 1",
                "delivered_in_order = [\"paid\", 3]\nwebhook = \"shop\"",
            ),
            "32:31",
            "listed twice",
        ),
        ("conflicting counts", replace("exactly = 1", "exactly = 1\nat_least = 2"), "35:12", "already fixes the count"),
        ("not TOML", "name = ".to_string(), "1:8", ""),
        (
            "a step that is not a table",
            "name = \"x\"\ndescription = \"d\"\nrun_for = \"1d\"\ntimeline = [\"x\"]\n".to_string(),
            "4:13",
            "expected a [[timeline]] step",
        ),
        ("replies not a list", replace("replies = [\"500\"]", "replies = \"500\""), "16:25", "expected an array"),
        (
            "a client that is not a table",
            replace("add_client = { id = 1 }", "add_client = 1"),
            "20:14",
            "expected a table { id, name, email }",
        ),
        ("missing required key", replace("run_for = \"1d\"\n", ""), "1:1", "missing field `run_for`"),
    ];
    let mut wrong = Vec::new();
    for (what, text, at, message) in &cases {
        match load_str("broken.toml", text) {
            Ok(_) => wrong.push(format!("{what}: loaded, expected an error at {at}")),
            Err(errors) => {
                let first = errors.first().unwrap().to_string();
                if std::env::var("SHOW").is_ok() {
                    println!("{first}");
                }
                let expected_prefix = format!("broken.toml:{at}: ");
                if !first.starts_with(&expected_prefix) || !first.contains(message) {
                    wrong.push(format!("{what}: got {first:?}, expected {expected_prefix}…{message}…"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn check_reports_every_error_of_a_file() {
    let text = replace("http://shop/webhook", "http://shoop/webhook").replace("event = \"paid\"", "event = \"payed\"");
    let errors = load_str("two.toml", &text).unwrap_err();
    assert_eq!(errors.0.len(), 2, "{errors}");
    assert!(errors.0[0].line < errors.0[1].line, "sorted by position");
}

#[test]
fn an_invalid_change_keeps_the_numbers_of_the_events_after_it() {
    let text = replace("add_invoice = { id = 4, client = 1 }", "add_invoice = { id = 4, client = 2 }");
    let errors = load_str("n.toml", &text.replace("event = \"paid\"", "event = 3")).unwrap_err();
    assert_eq!(errors.0.len(), 1, "one root error, no cascade: {errors}");
    assert!(errors.0[0].message.contains("no client 2"), "{errors}");
}

#[test]
fn bytes_that_are_not_text_are_an_error() {
    let e = load_bytes("bin.toml", b"name = \"x\"\n\xff\xfe").unwrap_err();
    assert_eq!(e.first().unwrap().to_string(), "bin.toml:2:1: the file is not UTF-8 text");
}

#[test]
fn a_missing_path_is_an_error_not_a_panic() {
    let report = check_paths(&["no/such/dir/x.toml"]);
    assert!(!report.is_ok());
    assert!(report.errors[0].to_string().starts_with("no/such/dir/x.toml:1:1: cannot read"));
    assert!(!check_paths(&[] as &[&str]).is_ok(), "checking nothing must not pass");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = load_bytes("fuzz.toml", &bytes);
    }

    /// Edits of a valid file (a byte replaced, a span cut, a span duplicated) reach deeper into
    /// the loader than random bytes do.
    #[test]
    fn mutated_valid_files_never_panic(
        at in 0usize..BASE.len(),
        len in 0usize..40,
        byte in any::<u8>(),
        kind in 0u8..4,
    ) {
        let mut b = BASE.as_bytes().to_vec();
        let end = (at + len).min(b.len());
        match kind {
            0 => b[at] = byte,
            1 => { b.drain(at..end); }
            2 => { let piece: Vec<u8> = b[at..end].to_vec(); b.splice(at..at, piece); }
            _ => b.insert(at, byte),
        }
        let _ = load_bytes("mutant.toml", &b);
    }

    /// Whatever a duration-like string is, parsing it is an answer, not a panic.
    #[test]
    fn durations_never_panic(s in "[0-9a-z .:-]{0,24}") {
        let text = replace("run_for = \"1d\"", &format!("run_for = {s:?}"));
        let _ = load_str("d.toml", &text);
    }
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    for deep in [
        format!("{BASE}body = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
        format!("{BASE}body = {}1{}\n", "{a = ".repeat(100_000), "}".repeat(100_000)),
        format!("{BASE}{} = 1\n", vec!["body"; 100_000].join(".")),
    ] {
        assert!(load_str("deep.toml", &deep).is_err());
    }
}

#[test]
fn discover_lists_toml_files_under_folders_sorted() {
    let dir = std::env::temp_dir().join(format!("hooksim-discover-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for f in ["b.toml", "a.toml", "notes.md", "sub/c.toml"] {
        std::fs::write(dir.join(f), "").unwrap();
    }
    let single = dir.join("notes.md");
    let found = discover(&[dir.clone(), single.clone()]);
    assert_eq!(found, vec![dir.join("a.toml"), dir.join("b.toml"), single, dir.join("sub/c.toml")]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// One step of a generated timeline, as TOML lines (without `at`). Mostly valid references
/// (client 1 and invoice 1 exist from the start), with a few bad ones mixed in.
fn step_strategy() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        4 => Just("dispatcher"),
        2 => Just("mail"),
        4 => Just("shop"),
        2 => Just("crm"),
        1 => Just("nowhere"),
    ];
    prop_oneof![
        1 => (2u64..40).prop_map(|i| format!("add_client = {{ id = {i} }}")),
        1 => (1u64..3).prop_map(|i| format!("update_client = {{ id = {i}, name = \"N{i}\" }}")),
        1 => (2u64..40, 1u64..3).prop_map(|(i, c)| format!("add_invoice = {{ id = {i}, client = {c} }}")),
        3 => (1u64..3, prop_oneof![Just("paid"), Just("cancelled"), Just("draft")])
            .prop_map(|(i, s)| format!("invoice_state = {{ id = {i}, state = \"{s}\" }}")),
        1 => prop_oneof![4 => Just("shop"), 2 => Just("crm"), 1 => Just("gone")].prop_map(|w| format!("enable = \"{w}\"")),
        2 => (
            prop_oneof![4 => Just("shop"), 2 => Just("crm"), 1 => Just("gone")],
            prop_oneof![Just("500"), Just("200"), Just("act then drop"), Just("act then 503"), Just("drop"), Just("200 after 40s")]
        )
            .prop_map(|(r, b)| format!("receiver = \"{r}\"\nbehave = \"{b}\"")),
        1 => (host.clone(), host.clone(), any::<bool>())
            .prop_map(|(a, b, o)| format!("partition = [\"{a}\", \"{b}\"]\none_way = {o}")),
        1 => (host.clone(), host.clone()).prop_map(|(a, b)| format!("repair = [\"{a}\", \"{b}\"]")),
        1 => (host.clone(), host.clone()).prop_map(|(a, b)| format!("hold = [\"{a}\", \"{b}\"]")),
        1 => (host.clone(), host.clone()).prop_map(|(a, b)| format!("release = [\"{a}\", \"{b}\"]")),
        1 => host.clone().prop_map(|h| format!("crash = \"{h}\"")),
        1 => host.prop_map(|h| format!("restart = \"{h}\"")),
        1 => (
            prop_oneof![4 => Just("shop"), 2 => Just("crm"), 1 => Just("gone")],
            0u32..4,
            prop_oneof![Just("0s"), Just("5s"), Just("3m"), Just("6h"), Just("7h")]
        )
            .prop_map(|(r, c, b)| format!("delay_attempts = {{ receiver = \"{r}\", count = {c}, by = \"{b}\" }}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// What the loader accepts, the engine runs: a generated timeline either fails to load with
    /// positioned errors, or runs on the model engine without a step being refused (the loader's
    /// reference checks are at least as strict as the dispatcher's).
    #[test]
    fn what_loads_runs(steps in proptest::collection::vec((0u64..15, step_strategy()), 0..12)) {
        let mut text = String::from(
            "name = \"gen\"\ndescription = \"generated\"\nrun_for = \"3h\"\n\
             [webhooks.shop]\nurl = \"http://shop/webhook\"\n[webhooks.crm]\nurl = \"http://crm/webhook\"\npaths = [\"/client/*\"]\n\
             [receivers.shop]\n[receivers.crm]\nkind = \"naive\"\n\
             [[timeline]]\nat = \"0s\"\nadd_client = { id = 1 }\n[[timeline]]\nat = \"0s\"\nadd_invoice = { id = 1, client = 1 }\n",
        );
        let mut t = 0;
        for (gap, step) in &steps {
            t += gap;
            text.push_str(&format!("[[timeline]]\nat = \"{t}m\"\n{step}\n"));
        }
        match load_str("gen.toml", &text) {
            Err(errors) => {
                for e in &errors.0 {
                    prop_assert!(e.line >= 1 && e.column >= 1 && !e.message.is_empty());
                }
            }
            Ok(s) => {
                let out = hooksim::model::run(&s.world);
                prop_assert!(out.is_ok(), "{:?}\n{text}", out.err());
                let _ = hooksim::scenario::evaluate(&s, &out.unwrap().trace);
            }
        }
    }
}

/// The TOML blocks of `scenarios/README.md`, in order.
fn readme_blocks() -> Vec<String> {
    let text = std::fs::read_to_string("scenarios/README.md").unwrap();
    text.split("```toml\n").skip(1).map(|b| b.split("```").next().unwrap_or_default().to_string()).collect()
}

#[test]
fn the_readme_examples_are_valid() {
    let blocks = readme_blocks();
    load_str("README example", &blocks[0]).unwrap_or_else(|e| panic!("{e}"));
    let policy = blocks.iter().find(|b| b.starts_with("[policy]")).expect("a [policy] example");
    let with_policy = BASE.replace("[policy]\nprofile = \"snapbill\"\n", policy);
    load_str("README policy example", &with_policy).unwrap_or_else(|e| panic!("{e}"));
    let expect = blocks.iter().find(|b| b.starts_with("[[expect]]")).expect("an [[expect]] example");
    load_str("README expect example", &format!("{BASE}\n{expect}")).unwrap_or_else(|e| panic!("{e}"));
    for b in blocks.iter().filter(|b| b.starts_with("behaviour = ")) {
        let text = BASE.replace("behaviour = { replies = [\"500\"], then = \"200\" }\n", b);
        load_str("README behaviour example", &text).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Lines and first words of every error of `text`, in the order reported.
fn every_error(text: &str) -> Vec<(usize, String)> {
    let errors = load_str("all.toml", text).expect_err("the file is broken");
    errors.0.iter().map(|e| (e.line, e.message.clone())).collect()
}

#[test]
fn a_type_error_hides_nothing_after_it() {
    // A bad `event = 0` first; then a misspelt key and an unknown invoice further down.
    let text = format!(
        "{}\n[[timeline]]\nat = \"3m\"\nadd_invoice = {{ id = 5, clinet = 1 }}\n\n[[timeline]]\nat = \"4m\"\ninvoice_state = {{ id = 9, state = \"paid\" }}\n",
        replace("event = \"paid\"", "event = 0")
    );
    let errors = every_error(&text);
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(errors[0].0 == 33 && errors[0].1.contains("event number 0 is out of range"), "{errors:?}");
    // The table (missing `client`) starts before its misspelt key.
    assert!(errors[1].1.contains("missing field `client`"), "{errors:?}");
    assert!(errors[2].1.contains("unknown field `clinet`"), "{errors:?}");
    assert!(errors[3].1.contains("no invoice 9"), "{errors:?}");
    let lines: Vec<usize> = errors.iter().map(|e| e.0).collect();
    assert!(lines.is_sorted(), "in file order: {errors:?}");
}

#[test]
fn every_bad_reply_is_reported() {
    let text = replace("replies = [\"500\"]", "replies = [\"five hundred\", \"2000\", \"act then\"]");
    let errors = every_error(&text);
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors.iter().all(|(line, m)| *line == 16 && m.contains("unknown reply")), "{errors:?}");
    let columns: Vec<usize> = load_str("r.toml", &text).unwrap_err().0.iter().map(|e| e.column).collect();
    assert_eq!(columns, [26, 42, 50]);
}

#[test]
fn every_policy_error_is_reported() {
    let text = replace(
        "profile = \"snapbill\"",
        "profile = \"snapbill\"\njitter_percent = 101\nretries = [\"1m\", \"0s\"]\nattempt_timeout = \"0s\"",
    );
    let errors = every_error(&text);
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].1.contains("`jitter_percent` must be at most 100"), "{errors:?}");
    assert!(errors[1].1.contains("`retries[1]` must be greater than zero"), "{errors:?}");
    assert!(errors[2].1.contains("`attempt_timeout` must be greater than zero"), "{errors:?}");
    // Type errors too: one per key, each where it is written.
    let text = replace("profile = \"snapbill\"", "profile = 7\njitter_percent = \"x\"\npending_max = -1");
    let errors = every_error(&text);
    assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), [7, 8, 9], "{errors:?}");
}

#[test]
fn only_a_syntax_error_stops_the_file() {
    let text = format!("{}\nwhat = = 1\n", replace("event = \"paid\"", "event = 0"));
    let errors = every_error(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, 36, "{errors:?}");
}

#[test]
fn the_readme_documents_every_subject_and_qualifier() {
    use hooksim::scenario::{Qualifier, Subject};
    use strum::IntoEnumIterator;
    let readme = std::fs::read_to_string("scenarios/README.md").unwrap();
    let keys = Subject::iter().map(Subject::key).chain(Qualifier::iter().map(Qualifier::key));
    let missing: Vec<&str> = keys.filter(|k| !readme.contains(&format!("`{k}"))).collect();
    assert!(missing.is_empty(), "scenarios/README.md does not mention {missing:?}");
    // The message of an entry with no subject lists them all, from the same enum.
    let e = load_str("none.toml", &replace("delivered = \"shop\"\n", "")).unwrap_err();
    assert!(e.0[0].message.contains(&Subject::all_keys()), "{e}");
}

/// An expectation that names something that cannot happen would pass with `exactly = 0`
/// whatever the run does: it is an error instead, at the qualifier, saying what exists.
#[test]
fn checks_that_cannot_fail_are_errors() {
    let expect = |lines: &str| format!("{BASE}\n[[expect]]\n{lines}\nexactly = 0\n");
    let cases = [
        (
            "acted = \"shop\"\naction = \"fulfill invoice 4\"",
            "38:10",
            "the reference receivers do \"cancel invoice <id>\", \"create client <id>\", \"fulfil invoice <id>\"",
        ),
        ("acted = \"shop\"\naction = \"fulfil invoice 44\"", "38:10", "the timeline has no invoice 44"),
        ("acted = \"shop\"\nevent = 1\naction = \"fulfil invoice 4\"", "39:10", "that event is about client 1"),
        ("warned = \"shop\"\nto = \"ops@shoop.example\"", "38:6", "go to its owner \"ops@shop.example\""),
        (
            "delivered = \"shop\"\nbody.invoice.sate = \"paid\"",
            "38:14",
            "fields of `body.invoice`: client_id, id, number, state, total_cents",
        ),
        (
            "delivered = \"shop\"\nevent = \"paid\"\nbody.client.id = 1",
            "39:13",
            "not a field of the body of /invoice/update/state events",
        ),
        ("delivered = \"shop\"\nbody.invoice.id = \"4\"", "38:14", "is a number in the envelope"),
        ("attempts = \"shop\"\nbody = { \"invoice.state.x\" = 1 }", "38:10", "is a value, not a table of fields"),
    ];
    let mut wrong = Vec::new();
    for (lines, at, message) in cases {
        match load_str("vacuous.toml", &expect(lines)) {
            Ok(_) => wrong.push(format!("{lines:?}: loaded")),
            Err(e) => {
                let first = e.first().unwrap().to_string();
                if !first.starts_with(&format!("vacuous.toml:{at}: ")) || !first.contains(message) {
                    wrong.push(format!("{lines:?}: got {first:?}, expected {at} …{message}…"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    // What can happen still loads.
    for ok in [
        "acted = \"shop\"\naction = \"fulfil invoice 4\"",
        "warned = \"shop\"\nto = \"ops@shop.example\"",
        "delivered = \"shop\"\nbody.invoice.state = \"paid\"\nbody.details = \"paid\"",
    ] {
        load_str("ok.toml", &expect(ok)).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
    }
}

/// Webhook URLs are read by the `url` crate: IPv6 literals, ports, schemes and spellings each get
/// their own reason.
#[test]
fn webhook_urls_say_what_is_wrong_with_them() {
    for (url, message) in [
        ("http://[::1]/webhook", "it names an IP address"),
        ("http://[::1]:80/webhook", "it names an IP address"),
        ("http://127.0.0.1/webhook", "it names an IP address"),
        ("http://shop:8080/webhook", "port 8080 is not 80"),
        ("https://shop/webhook", "the scheme is \"https\""),
        ("http://ops@shop/webhook", "a user name or password"),
        ("http://shop/webhook?x=1", "the path is not /webhook"),
        ("http://shop/hook", "the path is not /webhook"),
        ("shop/webhook", "relative URL without a base"),
    ] {
        let e = load_str("u.toml", &replace("http://shop/webhook", url)).expect_err(url);
        let first = e.first().unwrap().to_string();
        assert!(first.starts_with("u.toml:10:7: ") && first.contains(message), "{url}: {first}");
    }
    load_str("u.toml", &replace("http://shop/webhook", "http://shop:80/webhook")).unwrap();
    // Host names are case-insensitive: the engines route by the host as the url crate reads it.
    load_str("u.toml", &replace("http://shop/webhook", "http://SHOP/webhook")).unwrap();
}

/// A file with `n` timeline steps (clients added one a second) and an expectation per 100th.
fn long_file(n: usize) -> String {
    let mut text = String::from(
        "name = \"long\"\ndescription = \"many steps\"\nrun_for = \"30d\"\n[webhooks.shop]\nurl = \"http://shop/webhook\"\n[receivers.shop]\n",
    );
    for i in 1..=n {
        text.push_str(&format!("[[timeline]]\nat = \"{i}s\"\nadd_client = {{ id = {i} }}\nname = \"c{i}\"\n"));
    }
    for i in (1..=n).step_by(100) {
        text.push_str(&format!("[[expect]]\ndelivered = \"shop\"\nevent = \"c{i}\"\n"));
    }
    text
}

/// Checking is linear in the file: a long timeline loads, and one with an error in every step
/// reports the first errors and says how many more there are.
#[test]
fn long_timelines_load_and_report() {
    let n = 20_000;
    let s = load_str("long.toml", &long_file(n)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.events.len(), n);
    let broken = long_file(n).replace("add_client = { id = ", "add_client = { id = -");
    let errors = load_str("long.toml", &broken).unwrap_err();
    let max = hooksim::scenario::ERRORS_PER_FILE_MAX;
    assert_eq!(errors.0.len(), max + 1, "the first errors, then how many more");
    assert!(errors.0[max].message.starts_with(&format!("{} more error(s)", n - max)), "{}", errors.0[max]);
    assert!(errors.0.windows(2).all(|w| w[0].line <= w[1].line));
}

/// What made the loader abort or run for seconds: a very long dotted key in `body` (stack
/// overflow) and a deeply nested `body` (seconds and gigabytes per run). Both are refused with
/// the limit they break.
#[test]
fn body_keys_and_depth_are_bounded() {
    let expect = |body: &str| format!("{BASE}\n[[expect]]\ndelivered = \"shop\"\n{body}\n");
    let long_key = format!("body = {{ \"{}\" = 1 }}", vec!["invoice"; 15_000].join("."));
    let deep = format!("{} = 1", vec!["body"; 20].join("."));
    let deeper_than_toml = format!("{} = 1", vec!["body"; 3_000].join("."));
    let deep_quoted = format!("body = {{ \"{}\" = 1 }}", vec!["a"; 30].join("."));
    for (text, message) in [
        (expect(&long_key), "at most 64 bytes long"),
        (expect(&deep), "nests deeper than 8 fields"),
        (expect(&deep_quoted), "nests deeper than 8 fields"),
        (expect(&deeper_than_toml), "more than 80 levels deep"),
    ] {
        let e = load_str("big.toml", &text).expect_err(message);
        assert!(e.0[0].message.contains(message), "{e}");
    }
    assert_eq!(hooksim::scenario::BODY_DEPTH_MAX, 8);
    assert_eq!(hooksim::scenario::KEY_BYTES_MAX, 64);
}

/// The library files, read once.
fn library() -> &'static [(String, Vec<u8>)] {
    static FILES: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        discover(&["scenarios"]).into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())).collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Mutants of the library files (what the fuzzer starts from): each loads, or gives errors
    /// at real positions of the file; none panics.
    #[test]
    fn mutated_library_files_load_or_say_where(
        file in any::<proptest::sample::Index>(),
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), 0usize..64, any::<u8>(), 0u8..5), 1..4),
    ) {
        let (name, original) = &library()[file.index(library().len())];
        let mut b = original.clone();
        for (at, len, byte, kind) in edits {
            if b.is_empty() {
                break;
            }
            let at = at.index(b.len());
            let end = (at + len).min(b.len());
            match kind {
                0 => b[at] = byte,
                1 => { b.drain(at..end); }
                2 => { let piece: Vec<u8> = b[at..end].to_vec(); b.splice(at..at, piece); }
                3 => b.insert(at, byte),
                // A line of another library file, where keys of other tables end up.
                _ => {
                    let other = &library()[usize::from(byte) % library().len()].1;
                    let line: Vec<u8> = other.split(|c| *c == b'\n').nth(len).unwrap_or_default().to_vec();
                    b.splice(at..at, line.into_iter().chain([b'\n']));
                }
            }
        }
        if let Err(errors) = load_bytes(name, &b) {
            let lines = b.split(|c| *c == b'\n').count();
            prop_assert!(!errors.0.is_empty());
            for e in &errors.0 {
                prop_assert!(e.line >= 1 && e.line <= lines && e.column >= 1 && !e.message.is_empty(), "{e}");
                let prefix = format!("{name}:{}:{}: ", e.line, e.column);
                prop_assert!(e.to_string().starts_with(&prefix), "{}", e);
            }
        }
    }
}

/// Many webhooks, each referred to by a step and an expectation: lookups, not scans.
#[test]
fn many_webhooks_load() {
    let n = 5_000;
    let mut text =
        // One attempt in flight per webhook: 5,000 in all stays within what the engines simulate.
        String::from("name = \"wide\"\ndescription = \"many webhooks\"\nrun_for = \"1d\"\n[policy]\nin_flight_max = 1\n[receivers.shop]\n");
    for i in 0..n {
        text.push_str(&format!("[webhooks.w{i}]\nurl = \"http://shop/webhook\"\n"));
    }
    for i in 0..n {
        text.push_str(&format!("[[timeline]]\nat = \"1s\"\nenable = \"w{i}\"\n"));
    }
    for i in 0..n {
        text.push_str(&format!("[[expect]]\nnot_disabled = \"w{i}\"\n"));
    }
    let s = load_str("wide.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.webhook_names.len(), n);
    assert_eq!(s.expectations.len(), n);
}
