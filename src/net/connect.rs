//! The client side: reach an [`Endpoint`] and return a connected [`Stream`].
//!
//! TCP follows Node 20's `autoSelectFamily` (Happy Eyeballs, RFC 8305):
//! addresses are interleaved by family and a new attempt starts every
//! `attempt_timeout` while earlier ones keep racing; the first to connect
//! wins. Each attempt is reported with Node's `connectionAttempt*` events.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

use crate::events;
use crate::exit::{self, Error, Exit};
use crate::net::blocklist::BlockList;
use crate::net::endpoint::Endpoint;
use crate::net::options::SocketOptions;
use crate::net::platform;
use crate::net::proxy::{self, Proxy};
use crate::net::resolve::{lookup, Resolve};
use crate::net::stream::{family_name, Addresses, Stream};

/// How to connect (Node's `net.connect` options).
#[derive(Debug, Clone)]
pub(crate) struct ConnectOptions {
    pub family: u8,
    pub local_address: Option<IpAddr>,
    pub local_port: Option<u16>,
    pub resolve: Vec<Resolve>,
    pub auto_select_family: bool,
    pub auto_select_family_attempt_timeout: Duration,
    pub connect_timeout: Option<Duration>,
    pub socket: SocketOptions,
    /// Outbound `--deny`: resolved addresses inside these rules are skipped.
    pub deny: Option<Arc<BlockList>>,
    /// Reach TCP targets through this proxy (`--proxy`).
    pub proxy: Option<Arc<Proxy>>,
}

/// Connect to `ep`, bounded by `--connect-timeout`.
pub(crate) async fn connect(ep: &Endpoint, opts: &ConnectOptions) -> Result<Stream, Error> {
    let attempt = connect_unbounded(ep, opts);
    let Some(limit) = opts.connect_timeout else {
        return attempt.await;
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(r) => r,
        Err(_) => {
            let e = io::Error::from_raw_os_error(crate::sys::errno::ETIMEDOUT);
            Err(failed(
                ep,
                &e,
                Some(format!("no answer within {} ms", limit.as_millis())),
            ))
        }
    }
}

async fn connect_unbounded(ep: &Endpoint, opts: &ConnectOptions) -> Result<Stream, Error> {
    match (&opts.proxy, ep) {
        (Some(proxy), Endpoint::Tcp { host, port, .. }) => {
            let host = host.as_deref().unwrap_or("localhost");
            return through_proxy(ep, proxy, host, *port, opts).await;
        }
        (Some(_), _) => {
            return Err(Error::usage(
                format!("cannot reach {ep} through --proxy"),
                "a proxy tunnels TCP only; the target is a local socket",
            ))
        }
        (None, _) => {}
    }
    match ep {
        Endpoint::Tcp { host, port, .. } => {
            let host = host.as_deref().unwrap_or("localhost");
            let addrs = lookup(host, *port, opts.family, &opts.resolve).await?;
            let addrs = without_denied(ep, addrs, opts.deny.as_deref())?;
            let tcp = connect_tcp(&addrs, opts)
                .await
                .map_err(|e| failed(ep, &e, None))?;
            Ok(Stream::Tcp(tcp))
        }
        #[cfg(unix)]
        Endpoint::Unix(path) => tokio::net::UnixStream::connect(path)
            .await
            .map(Stream::Unix)
            .map_err(|e| failed(ep, &e, None)),
        #[cfg(target_os = "linux")]
        Endpoint::Abstract(name) => connect_abstract(name).map_err(|e| failed(ep, &e, None)),
        #[cfg(unix)]
        Endpoint::Fd(_) | Endpoint::Systemd => Err(Error::usage(
            format!("cannot connect to {ep}"),
            "fd: endpoints are for listening",
        )),
        other => Err(platform::unsupported(other)),
    }
}

/// `--proxy`: a connection to the proxy (`proxyConnect`), then its
/// handshake for a tunnel to `host:port`. `-4`/`-6` choose the target's
/// address where it is resolved here; the proxy is reached by any family.
async fn through_proxy(
    ep: &Endpoint,
    proxy: &Proxy,
    host: &str,
    port: u16,
    opts: &ConnectOptions,
) -> Result<Stream, Error> {
    let target = match proxy::resolves_here(proxy.kind, host) {
        true => {
            let addrs = lookup(host, port, opts.family, &opts.resolve).await?;
            let addrs = without_denied(ep, addrs, opts.deny.as_deref())?;
            proxy::Target::Addr(addrs[0])
        }
        false => proxy::Target::Name(host, port),
    };
    let to_proxy = format!("cannot connect to proxy {proxy}");
    let addrs = lookup(&proxy.host, proxy.port, 0, &opts.resolve).await?;
    let addrs = without_denied(ep, addrs, opts.deny.as_deref())?;
    let mut tcp = connect_tcp(&addrs, opts)
        .await
        .map_err(|e| failed_to(to_proxy, &e, None))?;
    if events::enabled() {
        let mut f = Addresses::of(socket2::SockRef::from(&tcp)).fields();
        f["proxy"] = proxy.to_string().into();
        events::emit("proxyConnect", None, f);
    }
    match proxy::tunnel(&mut tcp, proxy, &target).await {
        Ok(()) => Ok(Stream::Tcp(tcp)),
        Err(r) => {
            let e = io::Error::from_raw_os_error(r.errno);
            let what = format!("cannot connect to {ep} through {proxy}");
            Err(failed_to(what, &e, Some(r.message)))
        }
    }
}

/// The `connect` event's fields for `stream` to `ep`: through a proxy the
/// remote side is the target as asked for (the proxy does not say which
/// address it reached), with the proxy beside it.
pub(crate) fn connect_fields(
    stream: &Stream,
    ep: &Endpoint,
    opts: &ConnectOptions,
) -> serde_json::Value {
    let mut f = stream.addresses().fields();
    if let (Some(proxy), Endpoint::Tcp { host, port, .. }) = (&opts.proxy, ep) {
        let host = host.as_deref().unwrap_or("localhost");
        f["remoteAddress"] = host.into();
        f["remotePort"] = (*port).into();
        match host.parse::<IpAddr>() {
            Ok(ip) => f["remoteFamily"] = (if ip.is_ipv4() { "IPv4" } else { "IPv6" }).into(),
            Err(_) => {
                if let Some(m) = f.as_object_mut() {
                    m.remove("remoteFamily");
                }
            }
        }
        f["proxy"] = proxy.to_string().into();
    }
    f
}

/// Drop the addresses `--deny` covers; refuse when none is left (Node's
/// `blockList` option of `net.connect`, error ERR_IP_BLOCKED).
fn without_denied(
    ep: &Endpoint,
    mut addrs: Vec<SocketAddr>,
    deny: Option<&BlockList>,
) -> Result<Vec<SocketAddr>, Error> {
    let Some(deny) = deny else {
        return Ok(addrs);
    };
    let mut blocked = None;
    addrs.retain(|a| match deny.check(a.ip()) {
        Some(rule) => {
            blocked.get_or_insert_with(|| format!("{} is inside --deny {rule}", a.ip()));
            false
        }
        None => true,
    });
    match (addrs.is_empty(), blocked) {
        (true, Some(why)) => {
            let why = format!("ERR_IP_BLOCKED ({why})");
            let mut err = Error::new(Exit::Failure, format!("cannot connect to {ep}"), why)
                .code("ERR_IP_BLOCKED");
            events::error(None, &err, json!({}));
            events::emit("close", None, unopened_close());
            err.reported = events::mode() == events::Mode::Json;
            Err(err)
        }
        _ => Ok(addrs),
    }
}

#[cfg(target_os = "linux")]
fn connect_abstract(name: &str) -> io::Result<Stream> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    let s = std::os::unix::net::UnixStream::connect_addr(&addr)?;
    s.set_nonblocking(true)?;
    Ok(Stream::Unix(tokio::net::UnixStream::from_std(s)?))
}

/// The error of a failed connection: `error` event, then the exit code.
fn failed(ep: &Endpoint, e: &io::Error, why: Option<String>) -> Error {
    failed_to(format!("cannot connect to {ep}"), e, why)
}

/// [`failed`], saying what failed in its own words.
fn failed_to(what: String, e: &io::Error, why: Option<String>) -> Error {
    let code = exit::error_code(e);
    let why = why.map_or_else(|| exit::describe(e), |w| format!("{code} ({w})"));
    let mut err = Error::new(exit::connect_exit(e), what, why).code(code);
    if events::enabled() {
        events::error(None, &err, json!({}));
        events::emit("close", None, unopened_close());
    }
    if code == "ECONNREFUSED" {
        err = err.hint("is a server listening there? `wirecat connect --wait SECS` waits for one");
    }
    err.reported = events::mode() == events::Mode::Json;
    err
}

/// The `close` of a connection that never opened (Node: `error`, then
/// `close` with hadError).
pub(crate) fn unopened_close() -> serde_json::Value {
    json!({"hadError": true, "bytesRead": 0, "bytesWritten": 0, "durationMs": 0})
}

/// Happy Eyeballs over resolved addresses; the last error if all fail.
async fn connect_tcp(addrs: &[SocketAddr], opts: &ConnectOptions) -> io::Result<TcpStream> {
    let order = if opts.auto_select_family {
        interleave(addrs)
    } else {
        addrs.to_vec()
    };
    let mut pending = order.into_iter();
    let mut racing = JoinSet::new();
    let mut last_err = io::Error::from_raw_os_error(crate::sys::errno::ECONNREFUSED);
    let step = opts.auto_select_family_attempt_timeout;
    loop {
        if racing.is_empty() {
            match pending.next() {
                Some(addr) => start_attempt(&mut racing, addr, opts),
                None => return Err(last_err),
            }
        }
        let next_wave = async {
            if opts.auto_select_family && pending.len() > 0 {
                tokio::time::sleep(step).await
            } else {
                std::future::pending::<()>().await
            }
        };
        tokio::select! {
            done = racing.join_next() => match done {
                Some(Ok((_, Ok(stream)))) => return Ok(stream),
                Some(Ok((addr, Err(e)))) => {
                    emit_attempt("connectionAttemptFailed", addr, Some(&e));
                    last_err = e;
                    if let Some(addr) = pending.next() {
                        start_attempt(&mut racing, addr, opts);
                    }
                }
                Some(Err(join)) => last_err = io::Error::other(join.to_string()),
                None => {}
            },
            _ = next_wave => {
                if let Some(addr) = pending.next() {
                    emit_attempt("connectionAttemptTimeout", addr, None);
                    start_attempt(&mut racing, addr, opts);
                }
            }
        }
    }
}

fn start_attempt(
    set: &mut JoinSet<(SocketAddr, io::Result<TcpStream>)>,
    addr: SocketAddr,
    opts: &ConnectOptions,
) {
    emit_attempt("connectionAttempt", addr, None);
    let opts = opts.clone();
    set.spawn(async move { (addr, attempt(addr, &opts).await) });
}

async fn attempt(addr: SocketAddr, opts: &ConnectOptions) -> io::Result<TcpStream> {
    let sock = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if opts.local_address.is_some() || opts.local_port.is_some() {
        let ip = opts.local_address.unwrap_or(match addr {
            SocketAddr::V4(_) => IpAddr::from([0u8; 4]),
            SocketAddr::V6(_) => IpAddr::from([0u16; 8]),
        });
        if opts.local_port.is_some() {
            sock.set_reuseaddr(true)?;
        }
        sock.bind(SocketAddr::new(ip, opts.local_port.unwrap_or(0)))?;
    }
    opts.socket.apply(socket2::SockRef::from(&sock))?;
    sock.connect(addr).await
}

fn emit_attempt(event: &str, addr: SocketAddr, err: Option<&io::Error>) {
    if !events::enabled() {
        return;
    }
    let mut f = json!({
        "ip": addr.ip().to_string(),
        "port": addr.port(),
        "family": if family_name(&addr) == "IPv4" { 4 } else { 6 },
    });
    if let Some(e) = err {
        f["code"] = exit::error_code(e).into();
        f["message"] = exit::describe(e).into();
    }
    events::emit(event, None, f);
}

/// RFC 8305 §4: alternate families, starting with the first address's.
fn interleave(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else {
        return Vec::new();
    };
    let (mut a, mut b): (Vec<SocketAddr>, Vec<SocketAddr>) =
        addrs.iter().partition(|x| x.is_ipv6() == first.is_ipv6());
    a.reverse();
    b.reverse();
    let mut out = Vec::with_capacity(addrs.len());
    while !a.is_empty() || !b.is_empty() {
        out.extend(a.pop());
        out.extend(b.pop());
    }
    out
}

/// `--wait`: connect, retrying until `wait` has passed while the name does
/// not resolve (a compose service that appears late) or the target
/// refuses. At the deadline a refusal is a timeout (exit 4); a name that
/// still does not resolve stays a resolution failure (exit 6).
pub(crate) async fn connect_with_wait(
    ep: &Endpoint,
    opts: &ConnectOptions,
    wait: Duration,
) -> Result<Stream, Error> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let e = match connect(ep, opts).await {
            Ok(s) => return Ok(s),
            Err(e) => e,
        };
        let now = tokio::time::Instant::now();
        match e.exit {
            Exit::Failure | Exit::Resolve if now < deadline => {
                tokio::time::sleep((deadline - now).min(Duration::from_millis(100))).await;
            }
            Exit::Failure => {
                return Err(Error::new(
                    Exit::Timeout,
                    format!("{ep} did not accept within {:.1} s", wait.as_secs_f64()),
                    e.why,
                ))
            }
            Exit::Resolve => {
                return Err(e.hint(format!(
                    "still not resolving after --wait {:.1} s",
                    wait.as_secs_f64()
                )))
            }
            _ => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_alternates_families() {
        let v: Vec<SocketAddr> = ["[::1]:1", "[::2]:1", "1.1.1.1:1", "2.2.2.2:1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let out: Vec<String> = interleave(&v).iter().map(|a| a.to_string()).collect();
        assert_eq!(out, ["[::1]:1", "1.1.1.1:1", "[::2]:1", "2.2.2.2:1"]);
    }
}
