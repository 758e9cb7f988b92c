//! `wirecat pipe` — not implemented yet (see the issues).

use crate::cli::PipeArgs;
use crate::exit::{Error, Exit};

pub fn run(_args: PipeArgs) -> Result<Exit, Error> {
    Err(Error::usage("pipe", "not implemented yet"))
}
