//! One connected stream type for every transport (TCP, Unix, TLS over
//! either), so the bridge, the relay and the servers are written once.
//!
//! TLS wraps the plain stream it was accepted or connected on (boxed: a
//! TLS session is large, and the type is recursive). Shutting a TLS stream
//! down sends close_notify and then shuts the socket's write side, so the
//! half-close table holds over TLS: our FIN is close_notify + FIN, and a
//! peer's close_notify reads as its FIN. A FIN with no close_notify is a
//! truncation and reads as an `UnexpectedEof` error (ECONNRESET, exit 1).

use std::io;
use std::net::SocketAddr;
#[cfg(unix)]
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;
use tokio_rustls::{client, server};

use crate::sys::{self, RawFd};

/// A connected socket.
pub enum Stream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
    /// Our side of a TLS connection we opened (`connect --tls`, `pipe`'s target).
    TlsClient(Box<client::TlsStream<Stream>>),
    /// Our side of a TLS connection we accepted (`listen`/`echo`/`pipe --tls`).
    TlsServer(Box<server::TlsStream<Stream>>),
}

impl Stream {
    /// The kernel socket underneath, for socket options and splice(2).
    pub fn raw_fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => sys::raw_socket(s),
            #[cfg(unix)]
            Stream::Unix(s) => sys::raw_socket(s),
            Stream::TlsClient(s) => s.get_ref().0.raw_fd(),
            Stream::TlsServer(s) => s.get_ref().0.raw_fd(),
        }
    }

    /// Whether bytes on this stream are the bytes on the socket (no TLS),
    /// so they may be moved with splice(2).
    pub fn is_plain(&self) -> bool {
        !matches!(self, Stream::TlsClient(_) | Stream::TlsServer(_))
    }

    /// Wait until the socket may be read or written without blocking (plain
    /// streams only: the servers use it to hold no buffer while idle, and
    /// the relay to drive splice(2)).
    pub async fn ready(&self, interest: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.ready(interest).await.map(drop),
            #[cfg(unix)]
            Stream::Unix(s) => s.ready(interest).await.map(drop),
            Stream::TlsClient(_) | Stream::TlsServer(_) => Err(not_plain()),
        }
    }

    /// [`Stream::ready`] for hand-written futures (echo's splice path).
    pub fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<()>> {
        match (self, interest.is_readable()) {
            (Stream::Tcp(s), true) => s.poll_read_ready(cx),
            (Stream::Tcp(s), false) => s.poll_write_ready(cx),
            #[cfg(unix)]
            (Stream::Unix(s), true) => s.poll_read_ready(cx),
            #[cfg(unix)]
            (Stream::Unix(s), false) => s.poll_write_ready(cx),
            (Stream::TlsClient(_) | Stream::TlsServer(_), _) => Poll::Ready(Err(not_plain())),
        }
    }

    /// Run a non-blocking system call on the socket; `WouldBlock` clears the
    /// readiness that [`Stream::ready`] reported, as tokio's `try_io` does.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        match self {
            Stream::Tcp(s) => s.try_io(interest, f),
            #[cfg(unix)]
            Stream::Unix(s) => s.try_io(interest, f),
            Stream::TlsClient(_) | Stream::TlsServer(_) => Err(not_plain()),
        }
    }

    /// Read without waiting (`WouldBlock` when nothing is there).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.try_read(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.try_read(buf),
            Stream::TlsClient(_) | Stream::TlsServer(_) => Err(not_plain()),
        }
    }

    /// Leave the runtime and become a plain blocking descriptor, to be
    /// handed to a child process (`--exec`).
    #[cfg(unix)]
    pub fn into_blocking_fd(self) -> io::Result<OwnedFd> {
        let fd = self.into_fd()?;
        socket2::SockRef::from(&fd).set_nonblocking(false)?;
        Ok(fd)
    }

    /// Leave the runtime's reactor (still non-blocking), for threads that
    /// wait on the socket with poll(2) themselves: left registered, every
    /// segment that arrives would also wake the runtime's thread for
    /// nothing.
    #[cfg(unix)]
    pub fn into_fd(self) -> io::Result<OwnedFd> {
        Ok(match self {
            Stream::Tcp(s) => s.into_std()?.into(),
            Stream::Unix(s) => s.into_std()?.into(),
            Stream::TlsClient(_) | Stream::TlsServer(_) => return Err(not_plain()),
        })
    }

    pub fn sock_ref(&self) -> socket2::SockRef<'_> {
        match self {
            Stream::Tcp(s) => socket2::SockRef::from(s),
            #[cfg(unix)]
            Stream::Unix(s) => socket2::SockRef::from(s),
            Stream::TlsClient(s) => s.get_ref().0.sock_ref(),
            Stream::TlsServer(s) => s.get_ref().0.sock_ref(),
        }
    }

    /// Local and remote addresses, as Node names them (of the socket, for TLS).
    pub fn addresses(&self) -> Addresses {
        Addresses::of(self.sock_ref())
    }
}

/// The fd-level methods have no meaning under TLS (bytes on the socket are
/// not the bytes of the stream); callers check [`Stream::is_plain`] first.
fn not_plain() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, "not a plain socket (TLS)")
}

/// A Unix socket's name: its path, `@NAME` when abstract, or "" when
/// unnamed (a client's end).
#[cfg(unix)]
fn unix_name(a: &socket2::SockAddr) -> Addr {
    match (a.as_pathname(), a.as_abstract_namespace()) {
        (Some(p), _) => Addr::Unix(p.display().to_string()),
        (None, Some(n)) => Addr::Unix(format!("@{}", String::from_utf8_lossy(n))),
        (None, None) if a.is_unix() => Addr::Unix(String::new()),
        (None, None) => Addr::Unknown,
    }
}

/// No Unix sockets on Windows.
#[cfg(windows)]
fn unix_name(_a: &socket2::SockAddr) -> Addr {
    Addr::Unknown
}

/// One end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    Inet(SocketAddr),
    Unix(String),
    Unknown,
}

impl Addr {
    /// `{prefix}Address`, `{prefix}Port`, `{prefix}Family` (Node's names), or
    /// `{prefix}Path` for a Unix socket.
    pub fn fields(&self, prefix: &str, out: &mut serde_json::Map<String, Value>) {
        match self {
            Addr::Inet(a) => {
                out.insert(
                    format!("{prefix}Address"),
                    a.ip().to_canonical().to_string().into(),
                );
                out.insert(format!("{prefix}Port"), a.port().into());
                out.insert(format!("{prefix}Family"), family_name(a).into());
            }
            Addr::Unix(p) => {
                out.insert(format!("{prefix}Path"), p.clone().into());
            }
            Addr::Unknown => {}
        }
    }
}

/// `IPv4` or `IPv6`, as Node's `family` strings.
pub(crate) fn family_name(a: &SocketAddr) -> &'static str {
    if a.ip().to_canonical().is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Addr::Inet(a) => write!(f, "{a}"),
            Addr::Unix(p) => write!(f, "{p}"),
            Addr::Unknown => write!(f, "?"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Addresses {
    pub local: Addr,
    pub remote: Addr,
}

impl Addresses {
    /// Of a socket, whoever owns it (a runtime's stream, or the io_uring
    /// engine's descriptor). A Unix socket is named by its path, `@NAME`
    /// when abstract, or "" when unnamed (a client's end).
    pub fn of(sock: socket2::SockRef<'_>) -> Addresses {
        let addr = |a: io::Result<socket2::SockAddr>| match a {
            Ok(a) => match a.as_socket() {
                Some(inet) => Addr::Inet(inet),
                None => unix_name(&a),
            },
            Err(_) => Addr::Unknown,
        };
        Addresses {
            local: addr(sock.local_addr()),
            remote: addr(sock.peer_addr()),
        }
    }

    /// Addresses not looked up (nobody needed them).
    pub fn unknown() -> Addresses {
        Addresses {
            local: Addr::Unknown,
            remote: Addr::Unknown,
        }
    }

    /// The fields of Node's `connect` and `drop` events.
    pub fn fields(&self) -> Value {
        let mut m = serde_json::Map::new();
        self.local.fields("local", &mut m);
        self.remote.fields("remote", &mut m);
        Value::Object(m)
    }

    /// The fields of a server's `connection` event: the remote side.
    pub fn remote_fields(&self) -> Value {
        let mut m = serde_json::Map::new();
        self.remote.fields("remote", &mut m);
        if m.is_empty() {
            return json!({});
        }
        Value::Object(m)
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Stream::TlsClient(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::TlsServer(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Stream::TlsClient(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::TlsServer(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    /// Vectored writes reach the socket as one writev(2). TLS depends on
    /// it: after a failed handshake tokio-rustls makes a single last write
    /// of everything queued (the compatibility ChangeCipherSpec and the
    /// alert); written one buffer at a time, the alert would be left behind.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::TlsClient(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            Stream::TlsServer(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.is_write_vectored(),
            #[cfg(unix)]
            Stream::Unix(s) => s.is_write_vectored(),
            Stream::TlsClient(s) => s.is_write_vectored(),
            Stream::TlsServer(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
            Stream::TlsClient(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::TlsServer(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Stream::TlsClient(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::TlsServer(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
