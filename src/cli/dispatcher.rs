//! `hooksim dispatcher --stdio`: the reference core served over the dispatcher protocol on
//! stdin and stdout (see `docs/protocol.md`). The harness runs it with `--dispatcher`; anyone can
//! run it by hand to see what a conforming dispatcher says.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use hooksim::protocol::serve::serve;

#[derive(clap::Args, Debug)]
pub struct DispatcherArgs {
    /// Speak the protocol on stdin and stdout (the only transport so far).
    #[arg(long, required = true)]
    pub stdio: bool,
}

pub fn run(_args: DispatcherArgs) -> u8 {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    match serve(stdin, stdout) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("hooksim dispatcher: {e}");
            EXIT_BAD_INPUT
        }
    }
}
