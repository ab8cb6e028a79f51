use hooksim::scenario::*;

#[test]
fn dbg_one() {
    match load_file("scenarios/retry-through-5xx.toml") {
        Ok(s) => println!("{:#?}", s.expectations),
        Err(e) => panic!("{e}"),
    }
}
