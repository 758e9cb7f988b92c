//! `wirecat isip` — not implemented yet (see issue 3).

use crate::cli::IsipArgs;
use crate::exit::{Error, Exit};

pub fn run(_args: &IsipArgs) -> Result<Exit, Error> {
    Err(Error::usage("isip", "not implemented yet"))
}
