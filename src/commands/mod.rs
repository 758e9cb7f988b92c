//! One module per command; each exposes `run(args) -> Result<Exit, Error>`.

pub mod connect;
pub mod echo;
pub mod generate;
pub mod isip;
pub mod listen;
pub mod pipe;
