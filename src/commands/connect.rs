//! `wirecat connect` — in progress.

use crate::cli::ConnectArgs;
use crate::exit::{Error, Exit};

pub fn run(_args: ConnectArgs) -> Result<Exit, Error> {
    Err(Error::usage("connect", "not implemented yet"))
}
