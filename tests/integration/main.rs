//! The integration tests: one binary with a module per area, as ripgrep's
//! `tests/tests.rs` does, so the helpers in [`common`] are compiled once and
//! an unused one is a warning (no `allow(dead_code)`), and the suite links
//! once instead of once per file. Run one area with
//! `cargo test --test integration echo::`.
//!
//! The tests share one process: none may change process-wide state that
//! another test's child would inherit (environment, working directory,
//! umask, signal dispositions other than [`common::sighup_default`], file
//! descriptors without close-on-exec); a child gets its changes in its own
//! `Command` or `pre_exec`.
//!
//! They run on Unix (Linux): a Windows build is tested from Linux, with
//! `wirecat.exe` under wine (`.ci/windows`), so this binary is empty there.

#![cfg(unix)]

mod common;

mod blocklist_servers;
mod broker;
mod connect_listen;
mod echo;
mod ending;
mod generated;
mod hostile;
mod interop;
mod isip;
mod isip_node;
mod outcomes;
mod pipe;
mod proxy;
mod scripting;
mod sockopts;
mod tls;
mod tls_config;
mod tls_servers;
