//! The shared socket core: every command opens, accepts, configures and
//! copies sockets through these modules, one concern a file.

pub(crate) mod activity;
pub mod blocklist;
pub(crate) mod bridge;
pub(crate) mod broker;
pub(crate) mod connect;
pub(crate) mod endpoint;
#[cfg(unix)]
pub(crate) mod exec;
pub(crate) mod ip;
pub(crate) mod listen;
pub(crate) mod options;
pub(crate) mod platform;
pub mod proxy;
pub(crate) mod relay;
pub(crate) mod resolve;
#[cfg(target_os = "linux")]
pub(crate) mod splice;
pub(crate) mod stdio;
pub(crate) mod stream;
pub mod tls;
