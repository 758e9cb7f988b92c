//! The shared socket core: every command opens, accepts, configures and
//! copies sockets through these modules, one concern a file.

pub mod activity;
pub mod blocklist;
pub mod bridge;
pub mod connect;
pub mod endpoint;
pub mod exec;
pub mod ip;
pub mod listen;
pub mod options;
pub mod relay;
pub mod resolve;
pub mod splice;
pub mod stdio;
pub mod stream;
pub mod tls;
