//! `wirecat listen` — in progress.

use crate::cli::ListenArgs;
use crate::exit::{Error, Exit};

pub fn run(_args: ListenArgs) -> Result<Exit, Error> {
    Err(Error::usage("listen", "not implemented yet"))
}
