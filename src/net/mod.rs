//! The shared socket core: every command opens, accepts, configures and
//! copies sockets through these modules, one concern a file.

pub mod blocklist;
pub mod endpoint;
pub mod ip;
pub mod resolve;
