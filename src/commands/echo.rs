//! `wirecat echo` — not implemented yet (see the issues).

use crate::cli::EchoArgs;
use crate::exit::{Error, Exit};

pub fn run(_args: EchoArgs) -> Result<Exit, Error> {
    Err(Error::usage("echo", "not implemented yet"))
}
