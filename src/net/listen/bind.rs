//! Binding: an [`Endpoint`] becomes a listening socket (TCP, Unix,
//! abstract, inherited fd, systemd activation), reported by its `listening`
//! event and the ready file; a socket that cannot be bound becomes an error
//! with a hint that says what to try instead.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
#[cfg(unix)]
use std::path::Path;

use serde_json::json;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;
#[cfg(unix)]
use tokio::net::UnixListener;

#[cfg(unix)]
use super::files::{bind_unix_with_mode, SocketFile};
#[cfg(unix)]
use super::inherited::{adopt_fd, systemd_fd, Connected};
use super::ready::write_ready_file;
use super::ServerOptions;
use crate::events;
use crate::exit::{self, Error, Exit};
use crate::net::endpoint::Endpoint;
use crate::net::platform;
use crate::net::resolve::lookup;
use crate::net::stream::{family_name, Addr};

/// Windows makes no socket file: there is never one to remove.
#[cfg(windows)]
pub(crate) enum SocketFile {}

/// A bound, listening socket.
pub(crate) enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix {
        listener: UnixListener,
        cleanup: Option<SocketFile>,
    },
    /// An inherited connection (`fd:N` from inetd or systemd `Accept=yes`):
    /// accepted once, then the server stops accepting.
    #[cfg(unix)]
    Connected(Connected),
}

/// A listening socket outside any runtime, so that a `--workers` thread can
/// take it into its own.
pub(crate) enum Detached {
    Tcp(std::net::TcpListener),
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixListener),
}

impl Detached {
    /// Another listening socket for one more accept loop: a new socket on the
    /// same port with SO_REUSEPORT (the kernel spreads connections over the
    /// loops), or, where that does not apply, the same socket shared.
    #[cfg_attr(windows, allow(unused_variables))]
    pub(crate) fn sibling(&self, opts: &ServerOptions) -> io::Result<Detached> {
        match self {
            // Only a socket we bound with SO_REUSEPORT gets siblings of its
            // own; an inherited one (`fd:`) or `--exclusive` is shared.
            #[cfg(unix)]
            Detached::Tcp(l)
                if opts.reuse_port
                    && !opts.exclusive
                    && socket2::SockRef::from(l).reuse_port().unwrap_or(false) =>
            {
                let only_v6 = socket2::SockRef::from(l).only_v6().unwrap_or(false);
                let opts = ServerOptions {
                    ipv6_only: only_v6,
                    ..opts.clone()
                };
                let sock = tcp_socket(l.local_addr()?, &opts)?;
                Ok(Detached::Tcp(sock.into()))
            }
            Detached::Tcp(l) => Ok(Detached::Tcp(l.try_clone()?)),
            #[cfg(unix)]
            Detached::Unix(l) => Ok(Detached::Unix(l.try_clone()?)),
        }
    }

    /// Register with the current runtime.
    pub(crate) fn attach(self) -> io::Result<Listener> {
        Ok(match self {
            Detached::Tcp(l) => Listener::Tcp(TcpListener::from_std(l)?),
            #[cfg(unix)]
            Detached::Unix(l) => Listener::Unix {
                listener: UnixListener::from_std(l)?,
                cleanup: None,
            },
        })
    }
}

impl Listener {
    /// Bind and listen on `ep`, emit `listening` (with `extra` fields, a
    /// JSON object, such as a self-signed certificate's fingerprint), write
    /// the ready file.
    pub(crate) async fn bind_with(
        ep: &Endpoint,
        opts: &ServerOptions,
        extra: serde_json::Value,
    ) -> Result<Listener, Error> {
        let listener = bind_endpoint(ep, opts).await?;
        let local = listener.local_addr();
        if listener.is_connected() {
            // Nothing listens here (the supervisor does): no `listening`.
            write_ready(opts, &local)?;
            return Ok(listener);
        }
        let mut fields = serde_json::Map::new();
        match &local {
            Addr::Inet(a) => {
                fields.insert("address".into(), a.ip().to_string().into());
                fields.insert("port".into(), a.port().into());
                fields.insert("family".into(), family_name(a).into());
            }
            other => {
                fields.insert("path".into(), other.to_string().into());
            }
        }
        if let serde_json::Value::Object(extra) = extra {
            fields.extend(extra);
        }
        events::emit("listening", None, serde_json::Value::Object(fields));
        if matches!(ep, Endpoint::Tcp { port: 0, .. })
            && !events::enabled()
            && opts.ready_file.is_none()
        {
            events::notice(&format!("listening on {local}"));
        }
        write_ready(opts, &local)?;
        Ok(listener)
    }

    /// Leave this runtime; the socket file (if any) is handed back so the
    /// caller decides when it is removed.
    pub(crate) fn detach(self) -> io::Result<(Detached, Option<SocketFile>)> {
        Ok(match self {
            Listener::Tcp(l) => (Detached::Tcp(l.into_std()?), None),
            #[cfg(unix)]
            Listener::Unix { listener, cleanup } => (Detached::Unix(listener.into_std()?), cleanup),
            #[cfg(unix)]
            Listener::Connected(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an inherited connection has no accept loop to share",
                ))
            }
        })
    }

    pub(crate) fn local_addr(&self) -> Addr {
        match self {
            Listener::Tcp(l) => l.local_addr().map(Addr::Inet).unwrap_or(Addr::Unknown),
            #[cfg(unix)]
            Listener::Unix { listener, .. } => listener
                .local_addr()
                .map(|a| {
                    let std = std::os::unix::net::SocketAddr::from(a);
                    unix_addr_name(&std)
                })
                .unwrap_or(Addr::Unknown),
            #[cfg(unix)]
            Listener::Connected(c) => c.local_addr(),
        }
    }

    /// Whether this is an inherited connection rather than a listening
    /// socket: it is served as the only connection, on one accept loop.
    pub(crate) fn is_connected(&self) -> bool {
        #[cfg(unix)]
        return matches!(self, Listener::Connected(_));
        #[cfg(not(unix))]
        false
    }
}

/// `--ready-file`: the address, once the server is ready to serve.
fn write_ready(opts: &ServerOptions, local: &Addr) -> Result<(), Error> {
    let Some(path) = &opts.ready_file else {
        return Ok(());
    };
    write_ready_file(path, &local.to_string()).map_err(|e| {
        Error::io(
            Exit::Usage,
            format!("cannot write --ready-file {}", path.display()),
            &e,
        )
    })
}

#[cfg(unix)]
fn unix_addr_name(a: &std::os::unix::net::SocketAddr) -> Addr {
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;
    if let Some(p) = a.as_pathname() {
        Addr::Unix(p.display().to_string())
    } else if let Some(n) = a.as_abstract_name() {
        Addr::Unix(format!("unix:@{}", String::from_utf8_lossy(n)))
    } else {
        Addr::Unknown
    }
}

async fn bind_endpoint(ep: &Endpoint, opts: &ServerOptions) -> Result<Listener, Error> {
    let fail = |e: io::Error| listen_failed(ep, &e);
    match ep {
        Endpoint::Tcp {
            host: None, port, ..
        } => {
            let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), *port);
            let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), *port);
            match opts.family {
                4 => bind_tcp(v4, opts).map_err(fail),
                6 => bind_tcp(v6, opts).map_err(fail),
                // Dual-stack `::` where IPv6 exists, else 0.0.0.0, as Node does.
                _ => match bind_tcp(v6, opts) {
                    Err(e)
                        if matches!(
                            e.raw_os_error(),
                            Some(
                                crate::sys::errno::EAFNOSUPPORT | crate::sys::errno::EADDRNOTAVAIL
                            )
                        ) =>
                    {
                        bind_tcp(v4, opts).map_err(fail)
                    }
                    r => r.map_err(fail),
                },
            }
        }
        Endpoint::Tcp {
            host: Some(host),
            port,
            ..
        } => {
            let addrs = lookup(host, *port, opts.family, &[]).await?;
            bind_tcp(addrs[0], opts).map_err(fail)
        }
        #[cfg(unix)]
        Endpoint::Unix(path) => bind_unix(path, opts).map_err(|e| unix_failed(ep, path, e)),
        #[cfg(target_os = "linux")]
        Endpoint::Abstract(name) => bind_abstract(name, opts).map_err(fail),
        #[cfg(unix)]
        Endpoint::Fd(fd) => adopt_fd(*fd, opts).map_err(fail),
        #[cfg(unix)]
        Endpoint::Systemd => {
            let fd = systemd_fd()
                .map_err(|why| Error::new(Exit::Listen, "cannot listen on fd:systemd", why))?;
            adopt_fd(fd, opts).map_err(fail)
        }
        other => Err(platform::unsupported(other)),
    }
}

fn bind_tcp(addr: SocketAddr, opts: &ServerOptions) -> io::Result<Listener> {
    let sock = tcp_socket(addr, opts)?;
    Ok(Listener::Tcp(TcpListener::from_std(sock.into())?))
}

fn tcp_socket(addr: SocketAddr, opts: &ServerOptions) -> io::Result<Socket> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    reuse(&sock, opts)?;
    if addr.is_ipv6() {
        sock.set_only_v6(opts.ipv6_only)?;
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(opts.backlog)?;
    Ok(sock)
}

/// SO_REUSEADDR (always, as Node sets it: a restarted server is not kept
/// off its port by connections in TIME_WAIT) and, for `--workers`,
/// SO_REUSEPORT.
#[cfg(unix)]
fn reuse(sock: &Socket, opts: &ServerOptions) -> io::Result<()> {
    sock.set_reuse_address(true)?;
    if opts.reuse_port && !opts.exclusive {
        sock.set_reuse_port(true)?;
    }
    Ok(())
}

/// Nothing on Windows: there SO_REUSEADDR lets another program bind the
/// same port and take its connections (libuv does not set it either), and
/// TIME_WAIT never keeps a listener off its port. `--workers` loops share
/// the one socket.
#[cfg(windows)]
fn reuse(_sock: &Socket, _opts: &ServerOptions) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn bind_unix(path: &Path, opts: &ServerOptions) -> io::Result<Listener> {
    let listener = bind_unix_with_mode(path, opts)?;
    // Made first: a failure below removes the file again.
    let cleanup = SocketFile::bound(path);
    // std binds with its own backlog (SOMAXCONN): ask again for ours.
    socket2::SockRef::from(&listener).listen(opts.backlog)?;
    listener.set_nonblocking(true)?;
    Ok(Listener::Unix {
        listener: UnixListener::from_std(listener)?,
        cleanup,
    })
}

#[cfg(target_os = "linux")]
fn bind_abstract(name: &str, opts: &ServerOptions) -> io::Result<Listener> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    let listener = std::os::unix::net::UnixListener::bind_addr(&addr)?;
    listener.set_nonblocking(true)?;
    socket2::SockRef::from(&listener).listen(opts.backlog)?;
    Ok(Listener::Unix {
        listener: UnixListener::from_std(listener)?,
        cleanup: None,
    })
}

fn listen_failed(ep: &Endpoint, e: &io::Error) -> Error {
    events::error(None, e, json!({}));
    let err = Error::io(Exit::Listen, format!("cannot listen on {ep}"), e);
    match exit::error_code(e) {
        "EADDRINUSE" => err.hint(
            "another process is using that address; pick another port, or 0 for any free one",
        ),
        "EACCES" => err.hint("ports below 1024 need privileges; try a port above 1024"),
        "EBADF" | "ENOTSOCK" => err.hint("fd:N must be an inherited, bound stream socket"),
        _ => err,
    }
}

/// A Unix socket that cannot be bound: tell a live server from a stale file.
#[cfg(unix)]
fn unix_failed(ep: &Endpoint, path: &Path, e: io::Error) -> Error {
    if e.kind() != io::ErrorKind::AddrInUse {
        return listen_failed(ep, &e);
    }
    let live = std::os::unix::net::UnixStream::connect(path).is_ok();
    let err = listen_failed(ep, &e);
    if live {
        err.hint("a server is listening on that socket")
    } else {
        err.hint(format!(
            "the socket file is stale (nobody listens on it); remove it: rm {}",
            path.display()
        ))
    }
}
