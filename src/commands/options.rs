//! Where flags become core options, and the only place: each command's
//! parsed arguments go in, the plain values the core (`net/`) is built on
//! come out, as ripgrep's `hiargs.rs` does. The core never sees a flag;
//! the rules that tie flags together (a TLS flag turns TLS on, `-4` is
//! `--family 4`) and the environment switches the tests use
//! (`WIRECAT_NO_SPLICE`, `WIRECAT_NO_URING`) are applied here, once.

mod tls;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{ClientArgs, EventArgs, Family, ServerArgs, SocketArgs, StdioArgs};
use crate::exit::Error;
use crate::net::blocklist::{Admission, BlockList, RuleArg};
use crate::net::bridge::BridgeOptions;
use crate::net::connect::ConnectOptions;
use crate::net::endpoint::Endpoint;
use crate::net::listen::ServerOptions;
use crate::net::options::SocketOptions;
use crate::net::platform;
use crate::net::relay::RelayOptions;

pub(crate) use tls::{client_tls, server_tls, target_tls};

/// The shortest wait between Happy Eyeballs attempts: below it the next
/// attempt would start before the first SYN had a chance.
const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(10);

/// Node's `family`: 0 (any), 4 or 6, from `-4`, `-6` or `--family`.
pub(crate) fn family(socket: &SocketArgs) -> u8 {
    let family = if socket.ipv4 {
        Family::V4
    } else if socket.ipv6 {
        Family::V6
    } else {
        socket.family.unwrap_or(Family::Any)
    };
    match family {
        Family::Any => 0,
        Family::V4 => 4,
        Family::V6 => 6,
    }
}

/// The IP literal an endpoint names, if it names one (a zone after `%`
/// is not part of the address).
fn ip_literal(ep: &Endpoint) -> Option<IpAddr> {
    let Endpoint::Tcp {
        host: Some(host), ..
    } = ep
    else {
        return None;
    };
    host.split('%').next()?.parse().ok()
}

/// A family flag the address literal contradicts (`-4 '[::1]:1'`, `-6
/// 127.0.0.1:80`) is a usage error: no lookup can find the other family
/// in a literal, so trying would only fail later as a resolution error.
pub(crate) fn check_family(ep: &Endpoint, socket: &SocketArgs) -> Result<(), Error> {
    let (Some(ip), wanted) = (ip_literal(ep), family(socket)) else {
        return Ok(());
    };
    let (is, flag) = match (ip, wanted) {
        (IpAddr::V6(_), 4) => ("an IPv6", "-4 (--family 4)"),
        (IpAddr::V4(_), 6) => ("an IPv4", "-6 (--family 6)"),
        _ => return Ok(()),
    };
    Err(Error::usage(
        format!("{flag} with {ep}"),
        format!("{ip} is {is} address; drop the flag or give an address of that family"),
    ))
}

/// Server flags the address makes meaningless are usage errors rather than
/// silently ignored: `--ipv6-only` needs an IPv6 socket (a port alone or an
/// IPv6 address), `--readable-all`/`--writable-all` a Unix socket file we
/// create (a path).
pub(crate) fn check_server(ep: &Endpoint, server: &ServerArgs) -> Result<(), Error> {
    // On Windows there is no socket file whose mode they could set: the
    // platform's refusal comes first, whatever the address.
    if cfg!(windows) && (server.readable_all || server.writable_all) {
        let why = "a Unix socket file's mode";
        return Err(platform::flag_refused("--readable-all/--writable-all", why));
    }
    let tcp_not_v4 =
        matches!(ep, Endpoint::Tcp { .. }) && !ip_literal(ep).is_some_and(|ip| ip.is_ipv4());
    if server.ipv6_only && !tcp_not_v4 {
        return Err(Error::usage(
            format!("--ipv6-only with {ep}"),
            "ipv6Only is for an IPv6 TCP socket: a port alone ([::]) or an IPv6 address",
        ));
    }
    if (server.readable_all || server.writable_all) && !matches!(ep, Endpoint::Unix(_)) {
        let flag = match server.readable_all {
            true => "--readable-all",
            false => "--writable-all",
        };
        return Err(Error::usage(
            format!("{flag} with {ep}"),
            "it sets the mode of a Unix socket file, and this address is not a socket path",
        ));
    }
    Ok(())
}

/// `keepAlive` and `noDelay`, for every socket a command opens.
pub(crate) fn socket(socket: &SocketArgs) -> SocketOptions {
    SocketOptions {
        keep_alive: socket.keepalive,
        no_delay: socket.nodelay,
    }
}

/// How a client connects (`pipe`'s target; `connect` adds its `--deny`).
pub(crate) fn connect(client: &ClientArgs, socket: &SocketArgs) -> ConnectOptions {
    ConnectOptions {
        family: family(socket),
        local_address: client.local_address,
        local_port: client.local_port,
        resolve: client.resolve.clone(),
        auto_select_family: !client.no_auto_select_family,
        auto_select_family_attempt_timeout: client.attempt_timeout.max(MIN_ATTEMPT_TIMEOUT),
        connect_timeout: client.connect_timeout,
        socket: self::socket(socket),
        deny: None,
        proxy: proxy(client),
    }
}

/// `--proxy`, with `--proxy-user`'s credentials in place of the URL's.
fn proxy(client: &ClientArgs) -> Option<Arc<crate::net::proxy::Proxy>> {
    let mut proxy = client.proxy.clone()?;
    if let Some(cred) = &client.proxy_user {
        let (user, pass) = cred.split_once(':').unwrap_or((cred, ""));
        proxy.auth = Some((user.to_string(), pass.to_string()));
    }
    Some(Arc::new(proxy))
}

/// `connect`'s options: [`connect`]'s, with the outbound `--deny` rules
/// (resolved addresses inside them are never tried).
pub(crate) fn connect_with_deny(
    client: &ClientArgs,
    socket: &SocketArgs,
    deny: &[RuleArg],
) -> ConnectOptions {
    let mut opts = connect(client, socket);
    if !deny.is_empty() {
        let rules = deny.iter().flat_map(|r| r.0.iter().cloned()).collect();
        opts.deny = Some(Arc::new(BlockList::new(rules)));
    }
    opts
}

/// How a server listens and admits (`listen`, `echo`, `pipe`); the
/// flags the address or the platform rule out were refused by
/// [`check_server`] first.
pub(crate) fn server(server: &ServerArgs, socket: &SocketArgs) -> ServerOptions {
    ServerOptions {
        backlog: server.backlog,
        ipv6_only: server.ipv6_only,
        exclusive: server.exclusive,
        readable_all: server.readable_all,
        writable_all: server.writable_all,
        max_connections: server.max_connections,
        ready_file: server.ready_file.clone(),
        reuse_port: server.workers.is_some_and(|n| n > 1),
        workers: server.workers.map_or(1, usize::from),
        family: family(socket),
        socket: self::socket(socket),
        admission: Admission::from_rules(&server.allow, &server.deny).map(Arc::new),
        spare_descriptor: false,
    }
}

/// How one connection meets stdin and stdout (`connect`, `listen`).
pub(crate) fn bridge(socket: &SocketArgs, stdio: &StdioArgs) -> BridgeOptions {
    BridgeOptions {
        allow_half_open: stdio.allow_half_open,
        timeout: socket.timeout,
        reset: stdio.end.reset,
        // The held-back FIN is the chunk path's (the threads send theirs).
        splice: splice_allowed() && !stdio.no_shutdown,
        linger: stdio.linger,
        no_shutdown: stdio.no_shutdown,
    }
}

/// How `pipe` relays each connection.
pub(crate) fn relay(socket: &SocketArgs) -> RelayOptions {
    RelayOptions {
        timeout: socket.timeout,
    }
}

/// Whether a progress line is drawn (`--progress[=WHEN]`, given where
/// stderr goes).
pub(crate) fn progress(events: &EventArgs) -> bool {
    events.progress.is_some_and(|when| when.wanted())
}

/// `WIRECAT_NO_SPLICE` unset: stdin and stdout may be bridged on two
/// threads (splice(2), or rustls threads for TLS). The tests set it to
/// cover the chunk path too.
fn splice_allowed() -> bool {
    std::env::var_os("WIRECAT_NO_SPLICE").is_none()
}

/// `WIRECAT_NO_URING` unset: a plain echo server may run on io_uring. The
/// tests set it to cover the tokio engine too.
#[cfg(target_os = "linux")]
pub(crate) fn uring_allowed() -> bool {
    std::env::var_os("WIRECAT_NO_URING").is_none()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn socket_of(words: &[&str]) -> SocketArgs {
        let line = [&["wirecat", "connect", "example.com:80"], words].concat();
        match Cli::try_parse_from(line).expect("parses").command {
            Command::Connect(args) => args.socket,
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn family_comes_from_the_short_flags_or_the_long_one() {
        assert_eq!(family(&socket_of(&[])), 0);
        assert_eq!(family(&socket_of(&["-4"])), 4);
        assert_eq!(family(&socket_of(&["-6"])), 6);
        assert_eq!(family(&socket_of(&["--family", "6"])), 6);
        assert_eq!(family(&socket_of(&["--family", "0"])), 0);
        let line = ["wirecat", "connect", "example.com:80", "--family", "5"];
        assert!(Cli::try_parse_from(line).is_err());
    }
}
