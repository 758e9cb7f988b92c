//! `wirecat pipe LISTEN TARGET`: a relay (port forwarder). Every accepted
//! connection gets its own connection to TARGET, made with the core's
//! connect path (Happy Eyeballs, `--resolve`, socket options), and the two
//! are relayed both ways by [`crate::net::relay`], FIN for FIN.
//!
//! TLS may be terminated on the LISTEN side (`--tls` and the server flags,
//! or tls:// LISTEN), originated on the TARGET side (tls:// TARGET or the
//! `--target-*` flags), or both. The client's handshake comes first, in the
//! connection's task, so a client that fails it never costs a connection
//! to the target; then the target is reached and secured. Events of a
//! handshake carry `side` (`client` or `target`).
//!
//! A target that cannot be reached or secured costs only that client: it
//! is closed after an `error` event (without `-v`/`--json`, a line on
//! stderr naming the connection, the target and Node's code, rate-limited
//! by [`events::connection_error`]) and the server keeps serving.
//!
//! A TARGET that is LISTEN itself (`pipe 8080 localhost:8080`, the same
//! socket path) is refused before binding, as a usage error: every
//! connection would be relayed back into the relay until descriptors ran
//! out, which is what socat and ncat do with it.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::cli::PipeArgs;
use crate::commands::{block_on_with, options};
use crate::events;
use crate::exit::{Error, Exit};
use crate::net::connect::{connect, connect_fields, ConnectOptions};
use crate::net::endpoint::Endpoint;
use crate::net::listen::{serve, Accepted, Listener, ServerOptions, Shutdown, Totals};
use crate::net::relay::{relay, RelayOptions};
use crate::net::stream::Stream;
use crate::net::tls::{self, ClientTls, ServerSetup};
use crate::progress;

/// How each accepted connection reaches its target.
struct Target {
    endpoint: Endpoint,
    connect: ConnectOptions,
    /// Set when TLS is originated towards the target.
    tls: Option<ClientTls>,
}

pub(crate) fn run(args: PipeArgs) -> Result<Exit, Error> {
    events::init(args.events.verbose, args.events.json);
    let listen = Endpoint::for_listen(&args.listen)?;
    let endpoint = Endpoint::for_target(&args.target)?;
    options::check_server(&listen, &args.server)?;
    options::check_family(&listen, &args.socket)?;
    options::check_family(&endpoint, &args.socket)?;
    if targets_itself(&listen, &endpoint, args.server.ipv6_only) {
        return Err(Error::usage(
            format!("pipe {} {}", args.listen, args.target),
            "TARGET is the address pipe listens on: every connection would be relayed back into the relay",
        )
        .hint("give the address of the service to forward to"));
    }
    let server_tls = tls::server_tls(&options::server_tls(&args.tls), &listen)?;
    let target_tls = options::target_tls(&args.target_tls, args.tls.common.handshake_timeout);
    let target = Arc::new(Target {
        tls: ClientTls::new(&target_tls, &endpoint)?,
        connect: options::connect(&args.client, &args.socket),
        endpoint,
    });
    // Each client needs a second descriptor, for its target (Windows has
    // no descriptor limit to run into, nor the Unix socket held for it).
    let sopts = ServerOptions {
        spare_descriptor: cfg!(unix),
        ..options::server(&args.server, &args.socket)
    };
    let ropts = options::relay(&args.socket);
    let progress_wanted = options::progress(&args.events);
    block_on_with(async move {
        let extra = tls::listening_fields(server_tls.as_deref());
        let shutdown = Shutdown::on_signals();
        let listener = Listener::bind_with(&listen, &sopts, extra).await?;
        let _progress = progress_wanted.then(progress::server);
        let totals = Arc::new(Totals::default());
        let all = totals.clone();
        let handler = move |acc: Accepted| {
            let (target, server_tls, totals) = (target.clone(), server_tls.clone(), all.clone());
            async move { pipe_connection(acc, server_tls.as_deref(), &target, ropts, &totals).await }
        };
        serve(listener, &sopts, shutdown, args.once, totals, handler).await
    })
}

/// Whether connecting to `target` reaches the listener of `listen`. Only
/// what is certain without a lookup: the same socket path or abstract
/// name, or the same port on an address the listener accepts on (a bare
/// port and `localhost` connect to loopback; a listener with no host or an
/// unspecified one accepts on every local address, IPv4 too unless
/// `--ipv6-only`). Other host names are not resolved here.
fn targets_itself(listen: &Endpoint, target: &Endpoint, ipv6_only: bool) -> bool {
    match (listen, target) {
        (Endpoint::Unix(a), Endpoint::Unix(b)) => std::path::absolute(a)
            .ok()
            .is_some_and(|a| std::path::absolute(b).ok() == Some(a)),
        (Endpoint::Abstract(a), Endpoint::Abstract(b)) => a == b,
        (
            Endpoint::Tcp {
                host: lh, port: lp, ..
            },
            Endpoint::Tcp {
                host: th, port: tp, ..
            },
        ) if lp == tp && *lp != 0 => {
            let Some(to) = host_kind(th.as_deref().or(Some("localhost"))) else {
                return false;
            };
            match host_kind(lh.as_deref()) {
                // No host: every address (`::` dual-stack, or 0.0.0.0).
                None if lh.is_none() => to.local(!ipv6_only, true),
                None => false,
                Some(Host::Loopback) => to.loopback(),
                Some(Host::Ip(l)) if l.is_unspecified() => {
                    to.local(l.is_ipv4() || !ipv6_only, l.is_ipv6())
                }
                Some(Host::Ip(l)) => match to {
                    Host::Ip(t) => {
                        t == l
                            || (t.is_unspecified() && l.is_loopback() && t.is_ipv4() == l.is_ipv4())
                    }
                    Host::Loopback => l.is_loopback(),
                },
            }
        }
        _ => false,
    }
}

/// A host as far as it is known without a lookup.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Host {
    Ip(IpAddr),
    /// `localhost`: some loopback address.
    Loopback,
}

impl Host {
    fn loopback(self) -> bool {
        match self {
            Host::Ip(ip) => ip.is_loopback(),
            Host::Loopback => true,
        }
    }

    /// Reaches a listener on every local address of the families allowed.
    fn local(self, v4: bool, v6: bool) -> bool {
        match self {
            Host::Ip(ip) => {
                (ip.is_loopback() || ip.is_unspecified()) && if ip.is_ipv4() { v4 } else { v6 }
            }
            Host::Loopback => v4 || v6,
        }
    }
}

/// An address (IPv4-mapped IPv6 as IPv4) or `localhost`; `None` for any
/// other name.
fn host_kind(host: Option<&str>) -> Option<Host> {
    let host = host?;
    if host.eq_ignore_ascii_case("localhost") {
        return Some(Host::Loopback);
    }
    let ip: IpAddr = host.split('%').next()?.parse().ok()?;
    Some(Host::Ip(ip.to_canonical()))
}

/// Secure the accepted client (if asked), connect it to the target, secure
/// that (if asked), and relay until both end.
async fn pipe_connection(
    acc: Accepted,
    server_tls: Option<&ServerSetup>,
    target: &Target,
    ropts: RelayOptions,
    totals: &Totals,
) {
    let conn = Some(acc.id);
    let forced = acc.forced;
    let spare = acc.spare;
    let secured = tls::secure_accepted(server_tls, acc.stream, conn, Some("client"), &forced);
    // On failure the error event is out; dropping the socket closes it.
    let Some(client) = secured.await else {
        return closed_early(conn);
    };
    // The descriptor held for the target is freed just before the target
    // socket is made, which takes it. Without a target, `client` is
    // dropped: the client sees its connection close.
    drop(spare);
    let Some(peer) = forced
        .clone()
        .unless(conn, reach(target, acc.id))
        .await
        .flatten()
    else {
        return closed_early(conn);
    };
    let relayed = relay(client, peer, conn, ropts, forced.wait()).await;
    totals.add_bytes(relayed.bytes_read, relayed.bytes_written);
}

/// The longest a connection waits for a descriptor for its target.
const DESCRIPTOR_WAIT: Duration = Duration::from_secs(2);

/// [`connect`] to the target, waiting (10 ms, doubling up to 200 ms, for
/// at most [`DESCRIPTOR_WAIT`]) while the process is out of descriptors:
/// the accept loop holds one in reserve for each connection, but the
/// target's socket is made in a task of its own, and an accept that runs
/// first can take the descriptor just freed for it.
async fn connect_out_of_descriptors(target: &Target) -> Result<Stream, Error> {
    let started = tokio::time::Instant::now();
    let mut wait = Duration::from_millis(10);
    loop {
        match connect(&target.endpoint, &target.connect).await {
            Err(e)
                if matches!(e.code, Some("EMFILE" | "ENFILE"))
                    && started.elapsed() + wait < DESCRIPTOR_WAIT =>
            {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_millis(200));
            }
            r => return r,
        }
    }
}

/// Connect to the target and, with TLS to it, handshake; `None` (after an
/// `error` event with `side: "target"`, or without events a rate-limited
/// line on stderr) when either fails.
async fn reach(target: &Target, id: u64) -> Option<Stream> {
    let conn = Some(id);
    let peer = match connect_out_of_descriptors(target).await {
        Ok(peer) => peer,
        Err(e) => {
            target_unreachable(id, &e);
            events::connection_error(
                "pipe",
                id,
                &format!("target {}: {}", target.endpoint, e.why),
            );
            return None;
        }
    };
    events::emit(
        "connect",
        conn,
        connect_fields(&peer, &target.endpoint, &target.connect),
    );
    match &target.tls {
        None => Some(peer),
        Some(tls) => match tls.secure_side(peer, conn, Some("target")).await {
            Ok(secured) => Some(secured),
            Err(e) => {
                let why = tls::tls_error_line(&e);
                let what = format!("target {}: TLS handshake failed: {why}", target.endpoint);
                events::connection_error("pipe", id, &what);
                None
            }
        },
    }
}

/// The `error` event for a target that could not be reached, naming it
/// and why.
fn target_unreachable(id: u64, e: &Error) {
    let extra = json!({"side": "target", "message": e.to_string()});
    events::error(Some(id), e, extra);
}

/// The `close` of a connection that never reached the relay.
fn closed_early(conn: Option<u64>) {
    events::emit(
        "close",
        conn,
        json!({"hadError": true, "bytesRead": 0, "bytesWritten": 0, "durationMs": 0}),
    );
}

#[cfg(test)]
mod tests {
    use super::targets_itself;
    use crate::net::endpoint::Endpoint;

    fn loops(listen: &str, target: &str) -> bool {
        let l = Endpoint::for_listen(listen).unwrap();
        let t = Endpoint::for_connect(target, None).unwrap();
        targets_itself(&l, &t, false)
    }

    #[test]
    fn a_target_that_is_the_listener_is_recognised() {
        for (listen, target) in [
            ("8080", "8080"),
            ("8080", "localhost:8080"),
            ("8080", "127.0.0.1:8080"),
            ("8080", "127.0.0.2:8080"),
            ("8080", "[::1]:8080"),
            ("8080", "0.0.0.0:8080"),
            ("0.0.0.0:8080", "127.0.0.1:8080"),
            ("127.0.0.1:8080", "localhost:8080"),
            ("127.0.0.1:8080", "tls://127.0.0.1:8080"),
            ("[::]:8080", "[::ffff:127.0.0.1]:8080"),
            ("[::1]:8080", "[::1]:8080"),
            ("localhost:8080", "127.0.0.1:8080"),
            ("/tmp/x.sock", "/tmp/x.sock"),
            ("unix:@relay", "unix:@relay"),
        ] {
            assert!(loops(listen, target), "{listen} -> {target}");
        }
    }

    #[test]
    fn other_targets_are_not_refused() {
        for (listen, target) in [
            ("8080", "8081"),
            ("127.0.0.1:8080", "127.0.0.2:8080"),
            ("0.0.0.0:8080", "[::1]:8080"),
            ("[::1]:8080", "127.0.0.1:8080"),
            ("8080", "example.com:8080"),
            ("/tmp/x.sock", "/tmp/y.sock"),
            ("unix:@relay", "unix:@other"),
            ("8080", "/tmp/8080"),
        ] {
            assert!(!loops(listen, target), "{listen} -> {target}");
        }
        let l = Endpoint::for_listen("[::]:8080").unwrap();
        let t = Endpoint::for_connect("127.0.0.1:8080", None).unwrap();
        assert!(!targets_itself(&l, &t, true), "--ipv6-only takes no IPv4");
        assert!(targets_itself(&l, &t, false));
    }
}
