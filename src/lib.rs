//! wirecat: a command-line networking tool with the semantics of Node's `net`.
//!
//! The binary is a thin shell around [`run`]; everything lives in the library
//! so integration tests and the generator share the clap definitions.

#![warn(unreachable_pub)]

pub mod cli;
pub mod commands;
pub mod events;
pub mod exit;
#[doc(hidden)]
pub mod fuzzing;
pub mod net;
pub(crate) mod progress;
pub mod sys;

use cli::{Cli, Command};
use exit::{Error, Exit};

/// Run one parsed command line to its exit code.
pub fn run(cli: Cli) -> Result<Exit, Error> {
    match cli.command {
        Command::Connect(args) => commands::connect::run(args),
        Command::Listen(args) => commands::listen::run(args),
        Command::Echo(args) => commands::echo::run(args),
        Command::Pipe(args) => commands::pipe::run(*args),
        Command::Isip(args) => commands::isip::run(&args),
        Command::Generate(args) => commands::generate::run(&args),
    }
}
