use hooksim::scenario::*;

#[test]
fn dbg_one() {
    for (f, from, to) in [
        (
            "scenarios/lost-answers-dedup.toml",
            "exactly = 3\n\n[[expect]]\nattempts = \"shop\"\nevent = \"paid\"\noutcome = \"reset\"",
            "exactly = 2\n\n[[expect]]\nattempts = \"shop\"\nevent = \"paid\"\noutcome = \"reset\"",
        ),
        ("scenarios/week-of-failure-disables.toml", "before = \"8d 1h\"", "before = \"8d\""),
        ("scenarios/out-of-order.toml", "[\"cancelled\", \"paid\"]", "[\"paid\", \"cancelled\"]"),
        (
            "scenarios/paid-carries-cancelled-invoice.toml",
            "body.invoice.state = \"cancelled\"",
            "body.invoice.state = \"paid\"",
        ),
    ] {
        let text = std::fs::read_to_string(f).unwrap().replacen(from, to, 1);
        let s = load_str(f, &text).unwrap();
        let out = hooksim::model::run(&s.world).unwrap();
        for x in evaluate(&s, &out.trace) {
            println!("{x}\n");
        }
    }
}
