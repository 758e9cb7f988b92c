//! Inherited sockets: `fd:N` and `fd:systemd`.
//!
//! A supervisor hands over either a listening socket (systemd
//! `Accept=no`, a parent that bound it: Node's `listen({fd})`) or one
//! connection it accepted itself (inetd, systemd `Accept=yes`,
//! `systemd-socket-activate -a`). A socket that is not listening
//! (`SO_ACCEPTCONN` 0) but has a peer (`getpeername` succeeds) is the
//! latter: it becomes a [`Connected`] listener that yields that one
//! connection and then no other, so every server (`listen`, `listen -k`,
//! `echo`, `pipe`) serves it as its only connection and exits. A socket
//! that is only bound is put into listening, as before.
//!
//! `connect fd:N` takes only the connected kind ([`connected_stream`]).

use std::io;
use std::os::fd::{IntoRawFd, RawFd};
use std::sync::Mutex;

use socket2::{Domain, Socket, Type};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

use super::{Listener, ServerOptions};
use crate::exit::{Error, Exit};
use crate::net::endpoint::Endpoint;
use crate::net::options::SocketOptions;
use crate::net::stream::{Addr, Stream};

/// One connection accepted by someone else: the accept loop's only one.
pub(crate) struct Connected {
    stream: Mutex<Option<Stream>>,
    local: Addr,
}

impl Connected {
    /// The connection, the first time; `None` once it has been taken.
    pub(super) fn take(&self, opts: &SocketOptions) -> io::Result<Option<Stream>> {
        let stream = self.stream.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(Stream::Tcp(s)) = &stream {
            opts.apply(socket2::SockRef::from(s))?;
        }
        Ok(stream)
    }

    /// Whether the one connection has been handed out.
    pub(super) fn taken(&self) -> bool {
        self.stream
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    pub(super) fn local_addr(&self) -> Addr {
        self.local.clone()
    }
}

/// What an inherited descriptor turned out to be.
enum Inherited {
    Listening(Socket),
    Connected(Socket),
}

/// Take ownership of `fd` if it is an open stream socket, and tell a
/// connected one from one to listen on.
fn inherit(fd: RawFd) -> io::Result<Inherited> {
    let sock = Socket::from(crate::sys::inherit(fd)?);
    let kind = sock.r#type();
    if !matches!(kind, Ok(Type::STREAM)) {
        // Not ours to close: it is not a stream socket.
        let _ = sock.into_raw_fd();
        return Err(kind
            .err()
            .unwrap_or_else(|| io::Error::from_raw_os_error(libc::ENOTSOCK)));
    }
    sock.set_nonblocking(true)?;
    sock.set_cloexec(true)?;
    if !sock.is_listener()? && sock.peer_addr().is_ok() {
        return Ok(Inherited::Connected(sock));
    }
    Ok(Inherited::Listening(sock))
}

/// `fd:N` on a server: a listening socket (listened on here if the parent
/// only bound it), or the one connection of a [`Connected`] listener.
pub(super) fn adopt_fd(fd: RawFd, opts: &ServerOptions) -> io::Result<Listener> {
    let sock = match inherit(fd)? {
        Inherited::Connected(sock) => {
            let stream = into_stream(sock)?;
            let local = stream.addresses().local;
            return Ok(Listener::Connected(Connected {
                stream: Mutex::new(Some(stream)),
                local,
            }));
        }
        Inherited::Listening(sock) => sock,
    };
    if !sock.is_listener()? {
        sock.listen(opts.backlog)?;
    }
    if sock.domain()? == Domain::UNIX {
        let std: std::os::unix::net::UnixListener = sock.into();
        Ok(Listener::Unix {
            listener: UnixListener::from_std(std)?,
            cleanup: None,
        })
    } else {
        Ok(Listener::Tcp(TcpListener::from_std(sock.into())?))
    }
}

/// A connected socket as a [`Stream`] of this runtime.
fn into_stream(sock: Socket) -> io::Result<Stream> {
    Ok(if sock.domain()? == Domain::UNIX {
        Stream::Unix(UnixStream::from_std(sock.into())?)
    } else {
        Stream::Tcp(TcpStream::from_std(sock.into())?)
    })
}

/// `connect fd:N` / `connect fd:systemd`: the inherited connection, with
/// the socket options applied; a listening (or unconnected) socket is a
/// usage error that says where it belongs.
pub(crate) fn connected_stream(ep: &Endpoint, opts: &SocketOptions) -> Result<Stream, Error> {
    let fd = match ep {
        Endpoint::Fd(fd) => *fd,
        Endpoint::Systemd => {
            systemd_fd().map_err(|why| Error::usage(format!("connect {ep}"), why))?
        }
        _ => {
            return Err(Error::usage(
                format!("connect {ep}"),
                "not an inherited socket",
            ))
        }
    };
    let fail = |e: &io::Error| Error::io(Exit::Usage, format!("connect {ep}"), e);
    match inherit(fd).map_err(|e| fail(&e))? {
        Inherited::Connected(sock) => {
            if sock.domain().ok() != Some(Domain::UNIX) {
                opts.apply(socket2::SockRef::from(&sock))
                    .map_err(|e| fail(&e))?;
            }
            into_stream(sock).map_err(|e| fail(&e))
        }
        Inherited::Listening(sock) => {
            // Leave the descriptor as it was found: it is not a connection.
            let _ = sock.into_raw_fd();
            Err(Error::usage(
                format!("connect {ep}"),
                "not a connected socket (it is listening, or only bound)",
            )
            .hint(format!("to accept connections on it: wirecat listen {ep}")))
        }
    }
}

/// The systemd socket-activation protocol: LISTEN_PID is us, LISTEN_FDS ≥ 1,
/// the first socket is fd 3. The variables are removed once read, so a
/// child (`--exec`) does not take them for its own.
pub(super) fn systemd_fd() -> Result<RawFd, String> {
    let pid = std::env::var("LISTEN_PID")
        .map_err(|_| "LISTEN_PID is not set (not started by systemd?)".to_string())?;
    if pid.trim() != std::process::id().to_string() {
        return Err("LISTEN_PID names another process".into());
    }
    let fds: u32 = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or("LISTEN_FDS is not a number")?;
    if fds == 0 {
        return Err("LISTEN_FDS is 0: no socket was passed".into());
    }
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
    std::env::remove_var("LISTEN_FDNAMES");
    Ok(3)
}
