//! The server side: bind an [`Endpoint`](crate::net::endpoint::Endpoint) (TCP, Unix, abstract, inherited fd,
//! systemd activation), report `listening`, and run the accept loop that
//! every server shares (`listen -k`, `echo`, `pipe`).
//!
//! The accept loop follows mini-redis's `server.rs`: `select!` against a
//! shutdown signal, connection tasks in a `JoinSet` so the server can wait
//! for them (first SIGINT/SIGTERM) or end them (second: each connection
//! sees it through its [`Forced`] and still reports its `close` and its
//! bytes, so the final totals are whole), `maxConnections`
//! enforced with a `drop` event, and accept errors such as EMFILE retried
//! with a short backoff instead of ending the server or spinning.
//!
//! Each step has its own file: `bind` (endpoint → socket, the hints of a
//! failed bind), `accept` (the loop, admission, backoff), `shutdown` (the
//! signals), `workers` (one loop or many, and the final `close`);
//! `ready` writes the ready file; `files` and `inherited` hold Unix socket
//! files and `fd:N` sockets (Unix only).

use std::path::PathBuf;
use std::sync::Arc;

use crate::events;
use crate::net::blocklist::Admission;
use crate::net::options::SocketOptions;
use crate::net::stream::{Addr, Addresses};

mod accept;
mod bind;
#[cfg(unix)]
mod files;
#[cfg(unix)]
mod inherited;
mod ready;
mod shutdown;
mod signals;
mod workers;

#[cfg(target_os = "linux")]
pub(crate) use accept::{accept_backoff, register, unregister};
pub(crate) use accept::{Accepted, Totals};
pub(crate) use bind::{Detached, Listener};
#[cfg(unix)]
pub(crate) use inherited::connected_stream;
#[cfg(target_os = "linux")]
pub(crate) use shutdown::forced_close;
pub(crate) use shutdown::{Forced, Shutdown};
pub(crate) use signals::{Signal, Signals};
pub(crate) use workers::serve;
#[cfg(target_os = "linux")]
pub(crate) use workers::{run_workers, Stopped};

/// Node's `server.listen()` options, plus the ready file.
#[derive(Debug, Clone)]
// Some fields are read only by the Unix parts (socket files, SO_REUSEPORT).
#[cfg_attr(windows, allow(dead_code))]
pub(crate) struct ServerOptions {
    pub backlog: i32,
    pub ipv6_only: bool,
    pub exclusive: bool,
    pub readable_all: bool,
    pub writable_all: bool,
    pub max_connections: Option<usize>,
    pub ready_file: Option<PathBuf>,
    /// Share the port with sibling accept loops (`--workers`).
    pub reuse_port: bool,
    /// Accept loops, each on its own thread (`--workers N`).
    pub workers: usize,
    pub family: u8,
    pub socket: SocketOptions,
    /// `--allow`/`--deny` (Node's `BlockList`), checked before any byte moves.
    pub admission: Option<Arc<Admission>>,
    /// Each connection needs one more descriptor of its own (`pipe`'s
    /// target): the accept loop holds one in reserve before it accepts, and
    /// hands it to the connection ([`Accepted::spare`]), so that out of
    /// descriptors a client waits in the backlog instead of being accepted
    /// and then reset for want of a target socket.
    pub spare_descriptor: bool,
}

impl ServerOptions {
    /// Whether the accept loop must look up each connection's addresses:
    /// only events and `--allow`/`--deny` use them (two system calls and some
    /// formatting a connection otherwise).
    pub(crate) fn needs_addresses(&self) -> bool {
        events::enabled() || self.admission.is_some()
    }

    /// Whether a peer may be served; a refused one gets a `drop` event that
    /// names the rule, and is closed by the caller without a byte read.
    pub(crate) fn admit(&self, addrs: &Addresses) -> bool {
        let (Some(rules), Addr::Inet(remote)) = (&self.admission, &addrs.remote) else {
            return true;
        };
        match rules.refuse(remote.ip()) {
            None => true,
            Some(rule) => {
                let mut fields = addrs.fields();
                fields["rule"] = rule.into();
                events::emit("drop", None, fields);
                false
            }
        }
    }
}
