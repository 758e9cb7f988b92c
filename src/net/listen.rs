//! The server side: bind an [`Endpoint`] (TCP, Unix, abstract, inherited fd,
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

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::events;
use crate::exit::{self, Error, Exit};
use crate::net::blocklist::Admission;
use crate::net::connect::named_pipe_unsupported;
use crate::net::endpoint::Endpoint;
use crate::net::options::SocketOptions;
use crate::net::resolve::lookup;
use crate::net::stream::{family_name, Addr, Addresses, Stream};

mod files;
mod inherited;

pub use files::SocketFile;
use files::{bind_unix_with_mode, write_ready_file};
use inherited::{adopt_fd, systemd_fd};
pub use inherited::{connected_stream, Connected};

/// Node's `server.listen()` options, plus the ready file.
#[derive(Debug, Clone)]
pub struct ServerOptions {
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
    pub fn admit(&self, addrs: &Addresses) -> bool {
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

/// A bound, listening socket.
pub enum Listener {
    Tcp(TcpListener),
    Unix {
        listener: UnixListener,
        cleanup: Option<SocketFile>,
    },
    /// An inherited connection (`fd:N` from inetd or systemd `Accept=yes`):
    /// accepted once, then the server stops accepting.
    Connected(Connected),
}

/// A listening socket outside any runtime, so that a `--workers` thread can
/// take it into its own.
pub enum Detached {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener),
}

impl Detached {
    /// Another listening socket for one more accept loop: a new socket on the
    /// same port with SO_REUSEPORT (the kernel spreads connections over the
    /// loops), or, where that does not apply, the same socket shared.
    pub fn sibling(&self, opts: &ServerOptions) -> io::Result<Detached> {
        match self {
            // Only a socket we bound with SO_REUSEPORT gets siblings of its
            // own; an inherited one (`fd:`) or `--exclusive` is shared.
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
            Detached::Unix(l) => Ok(Detached::Unix(l.try_clone()?)),
        }
    }

    /// Register with the current runtime.
    pub fn attach(self) -> io::Result<Listener> {
        Ok(match self {
            Detached::Tcp(l) => Listener::Tcp(TcpListener::from_std(l)?),
            Detached::Unix(l) => Listener::Unix {
                listener: UnixListener::from_std(l)?,
                cleanup: None,
            },
        })
    }
}

impl Listener {
    /// Bind and listen on `ep`, emit `listening`, write the ready file.
    pub async fn bind(ep: &Endpoint, opts: &ServerOptions) -> Result<Listener, Error> {
        Listener::bind_with(ep, opts, json!({})).await
    }

    /// As [`Listener::bind`], with `extra` fields (a JSON object) in the
    /// `listening` event, such as a self-signed certificate's fingerprint.
    pub async fn bind_with(
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
    pub fn detach(self) -> io::Result<(Detached, Option<SocketFile>)> {
        Ok(match self {
            Listener::Tcp(l) => (Detached::Tcp(l.into_std()?), None),
            Listener::Unix { listener, cleanup } => (Detached::Unix(listener.into_std()?), cleanup),
            Listener::Connected(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an inherited connection has no accept loop to share",
                ))
            }
        })
    }

    pub fn local_addr(&self) -> Addr {
        match self {
            Listener::Tcp(l) => l.local_addr().map(Addr::Inet).unwrap_or(Addr::Unknown),
            Listener::Unix { listener, .. } => listener
                .local_addr()
                .map(|a| {
                    let std = std::os::unix::net::SocketAddr::from(a);
                    unix_addr_name(&std)
                })
                .unwrap_or(Addr::Unknown),
            Listener::Connected(c) => c.local_addr(),
        }
    }

    /// Whether this is an inherited connection rather than a listening
    /// socket: it is served as the only connection, on one accept loop.
    pub fn is_connected(&self) -> bool {
        matches!(self, Listener::Connected(_))
    }

    /// Whether no connection will ever be accepted again (an inherited
    /// connection already handed out).
    fn exhausted(&self) -> bool {
        matches!(self, Listener::Connected(c) if c.taken())
    }

    /// Accept one connection, with the socket options applied.
    pub async fn accept(&self, opts: &SocketOptions) -> io::Result<Stream> {
        match self {
            Listener::Tcp(l) => {
                let (s, _) = l.accept().await?;
                opts.apply(socket2::SockRef::from(&s))?;
                Ok(Stream::Tcp(s))
            }
            Listener::Unix { listener, .. } => Ok(Stream::Unix(listener.accept().await?.0)),
            Listener::Connected(c) => match c.take(opts)? {
                Some(s) => Ok(s),
                None => std::future::pending().await,
            },
        }
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

fn unix_addr_name(a: &std::os::unix::net::SocketAddr) -> Addr {
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
                            Some(libc::EAFNOSUPPORT | libc::EADDRNOTAVAIL)
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
        Endpoint::Unix(path) => bind_unix(path, opts).map_err(|e| unix_failed(ep, path, e)),
        Endpoint::Abstract(name) => bind_abstract(name, opts).map_err(fail),
        Endpoint::NamedPipe(_) => Err(named_pipe_unsupported(ep)),
        Endpoint::Fd(fd) => adopt_fd(*fd, opts).map_err(fail),
        Endpoint::Systemd => {
            let fd = systemd_fd()
                .map_err(|why| Error::new(Exit::Listen, "cannot listen on fd:systemd", why))?;
            adopt_fd(fd, opts).map_err(fail)
        }
    }
}

fn bind_tcp(addr: SocketAddr, opts: &ServerOptions) -> io::Result<Listener> {
    let sock = tcp_socket(addr, opts)?;
    Ok(Listener::Tcp(TcpListener::from_std(sock.into())?))
}

fn tcp_socket(addr: SocketAddr, opts: &ServerOptions) -> io::Result<Socket> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    if opts.reuse_port && !opts.exclusive {
        sock.set_reuse_port(true)?;
    }
    if addr.is_ipv6() {
        sock.set_only_v6(opts.ipv6_only)?;
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(opts.backlog)?;
    Ok(sock)
}

fn bind_unix(path: &Path, opts: &ServerOptions) -> io::Result<Listener> {
    let listener = bind_unix_with_mode(path, opts)?;
    // Made first: a failure below removes the file again.
    let cleanup = SocketFile::bound(path);
    if opts.backlog != 128 {
        // std binds with a fixed backlog; ask again for the one requested.
        socket2::SockRef::from(&listener).listen(opts.backlog)?;
    }
    listener.set_nonblocking(true)?;
    Ok(Listener::Unix {
        listener: UnixListener::from_std(listener)?,
        cleanup,
    })
}

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
    let code = exit::error_code(e);
    events::emit(
        "error",
        None,
        json!({"code": code, "message": exit::describe(e)}),
    );
    let err = Error::io(Exit::Listen, format!("cannot listen on {ep}"), e);
    match code {
        "EADDRINUSE" => err.hint(
            "another process is using that address; pick another port, or 0 for any free one",
        ),
        "EACCES" => err.hint("ports below 1024 need privileges; try a port above 1024"),
        "EBADF" | "ENOTSOCK" => err.hint("fd:N must be an inherited, bound stream socket"),
        _ => err,
    }
}

/// A Unix socket that cannot be bound: tell a live server from a stale file.
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

/// The server's lifecycle signal: 0 running, 1 stop accepting and drain,
/// 2 end every connection now.
#[derive(Clone)]
pub struct Shutdown {
    rx: watch::Receiver<u8>,
    interrupted: Arc<std::sync::atomic::AtomicBool>,
}

impl Shutdown {
    /// First SIGINT/SIGTERM drains, a second one ends everything; SIGHUP
    /// counts as SIGTERM ([`Hangup`]). Call it before binding, so no signal
    /// can come between the ready file and it.
    pub fn on_signals() -> Shutdown {
        use tokio::signal::unix::{signal, SignalKind};
        let (tx, rx) = watch::channel(0u8);
        let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = interrupted.clone();
        // Registered now, not in the task: a signal that arrives before the
        // task first runs (right after the ready file appears, say) must
        // still find our handler instead of the default, which kills.
        let handlers = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        );
        let mut hup = Hangup::register();
        tokio::spawn(async move {
            let (Ok(mut int), Ok(mut term)) = handlers else {
                return;
            };
            for level in 1..=2u8 {
                let interrupt = tokio::select! {
                    _ = int.recv() => true,
                    _ = term.recv() => false,
                    _ = hup.recv() => false,
                };
                if interrupt {
                    flag.store(true, Ordering::Relaxed);
                }
                if level == 1 {
                    announce_draining(interrupt);
                }
                let _ = tx.send(level);
            }
        });
        Shutdown { rx, interrupted }
    }

    pub(crate) async fn reached(&mut self, level: u8) {
        let _ = self.rx.wait_for(|l| *l >= level).await;
    }

    /// The second signal, as one connection waits for it.
    pub fn forced(&self) -> Forced {
        Forced(self.rx.clone())
    }

    /// The exit code once the server has stopped.
    pub fn exit(&self) -> Exit {
        if self.interrupted.load(Ordering::Relaxed) {
            Exit::Interrupted
        } else {
            Exit::Success
        }
    }
}

/// The second SIGINT/SIGTERM, as a connection sees it: the server stops
/// waiting for it. A connection that watches for it ends at once and keeps
/// its books: its `error` ([`forced_close`]) and `close` with the bytes it
/// moved, which the server's final totals include.
#[derive(Clone)]
pub struct Forced(watch::Receiver<u8>);

impl Forced {
    /// Resolves at the second signal, with the error the connection ends
    /// with; never if the signals cannot come.
    pub async fn wait(mut self) -> io::Error {
        // `changed()` rather than `wait_for`: every open echo connection
        // holds this future, and it is the smaller of the two.
        while *self.0.borrow_and_update() < 2 {
            if self.0.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        forced_close()
    }

    /// `work`, unless the second signal comes first: then connection
    /// `conn`'s `error` event, and `None`. For what comes before a
    /// connection's bytes move (a TLS handshake, reaching `pipe`'s target),
    /// so the server need not wait for it.
    pub async fn unless<T>(self, conn: Option<u64>, work: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            r = work => Some(r),
            e = self.wait() => {
                let fields = json!({"code": exit::error_code(&e), "message": exit::describe(&e)});
                events::emit("error", conn, fields);
                None
            }
        }
    }
}

/// Why a connection ended at the second signal: `ECONNABORTED` (the
/// system's name for a connection ended on our side, as
/// `socket.destroy(err)` would be told), with a message that says it was
/// the server's forced shutdown.
#[derive(Debug)]
struct ForcedClose;

impl std::fmt::Display for ForcedClose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ended by the server's forced shutdown (a second SIGINT/SIGTERM)")
    }
}

impl std::error::Error for ForcedClose {}

/// The error a connection ended by the second signal reports.
pub fn forced_close() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, ForcedClose)
}

/// SIGHUP (the terminal closed), taken as SIGTERM: a server drains and
/// removes its Unix socket file instead of dying by the default action.
/// Unless SIGHUP was ignored when we started (`nohup wirecat …`): then it
/// stays ignored, as the user asked.
pub(crate) struct Hangup(Option<tokio::signal::unix::Signal>);

impl Hangup {
    /// Install the handler now (call it on a runtime).
    pub(crate) fn register() -> Hangup {
        use tokio::signal::unix::{signal, SignalKind};
        Hangup(
            (!hangup_ignored())
                .then(|| signal(SignalKind::hangup()).ok())
                .flatten(),
        )
    }

    /// The next SIGHUP; never, if it is ignored.
    pub(crate) async fn recv(&mut self) {
        match &mut self.0 {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
}

/// Whether SIGHUP was ignored (`SIG_IGN`) when the process started.
fn hangup_ignored() -> bool {
    // SAFETY: a zeroed sigaction is a valid out-parameter; with a null new
    // action, sigaction(2) only reads the current one into it.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: as above; `old` is a live local.
    let r = unsafe { libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut old) };
    r == 0 && old.sa_sigaction == libc::SIG_IGN
}

/// The first signal with connections open: say that the server waits for
/// them and how to stop waiting, so a server that does not exit at once
/// is not mistaken for a hung one. Written whether or not stderr is a
/// terminal (one line; a log is where a SIGTERM from a service manager
/// is read about), but not in `--json` mode, where each connection's
/// `close` tells the story.
fn announce_draining(interrupt: bool) {
    let open = crate::progress::meter().open.load(Ordering::Relaxed);
    if open == 0 || events::mode() == events::Mode::Json {
        return;
    }
    let plural = if open == 1 { "" } else { "s" };
    let again = if interrupt {
        "^C again"
    } else {
        "a second SIGTERM"
    };
    events::notice(&format!(
        "draining {open} open connection{plural}; {again} ends them now"
    ));
}

/// One accepted connection, as handed to a server's handler.
pub struct Accepted {
    pub id: u64,
    pub stream: Stream,
    /// Looked up only when events or admission rules need them, else
    /// unknown: see [`Accepted::addresses`].
    pub addrs: Addresses,
    /// The second signal: a handler that races its work against it ends
    /// the connection with its `close` and counts (else the server stops
    /// waiting for it after [`FORCED_WAIT`] and its task is dropped).
    pub forced: Forced,
}

impl Accepted {
    /// The connection's addresses, looked up now if the accept loop did not.
    pub fn addresses(&self) -> Addresses {
        match self.addrs.remote {
            Addr::Unknown => self.stream.addresses(),
            _ => self.addrs.clone(),
        }
    }
}

/// Counters shared by every accept loop of a server; the totals are what
/// the final `close` event reports.
#[derive(Debug, Default)]
pub struct Totals {
    pub connections: AtomicU64,
    pub bytes_read: AtomicU64,
    pub bytes_written: AtomicU64,
    /// Connections open now, across workers (for `maxConnections`).
    pub open: AtomicUsize,
}

impl Totals {
    /// Add one finished connection's bytes.
    pub fn add_bytes(&self, read: u64, written: u64) {
        self.bytes_read.fetch_add(read, Ordering::Relaxed);
        self.bytes_written.fetch_add(written, Ordering::Relaxed);
    }
}

/// Decrements the open count when a connection task ends or is aborted.
struct OpenGuard(Arc<Totals>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accept until shutdown (or after one connection with `once`), running
/// `handler` for each connection on its own task; then wait for the open
/// connections (or end them on a second signal), emit `close`, and return.
/// Unless `once`, the loops run on threads of their own, each with a
/// single-threaded runtime ([`serve_workers`]).
pub async fn serve<H, Fut>(
    listener: Listener,
    opts: &ServerOptions,
    mut shutdown: Shutdown,
    once: bool,
    totals: Arc<Totals>,
    handler: H,
) -> Result<Exit, Error>
where
    H: Fn(Accepted) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    // An inherited connection is the one connection: served, then the end.
    let once = once || listener.is_connected();
    if !once {
        return serve_workers(listener, opts, shutdown, totals, handler).await;
    }
    let tasks = accept_loop(&listener, opts, &mut shutdown, once, &totals, &handler).await;
    drop(listener);
    drain(tasks, &mut shutdown).await;
    Ok(finish(&totals, &shutdown))
}

/// `--workers N`: N accept loops, each on a thread with its own runtime and
/// its own listening socket (SO_REUSEPORT), as EdgerOS's multi-task server;
/// without SO_REUSEPORT the loops share one socket. A connection lives on
/// the runtime that accepted it: no work stealing or wakeups across threads
/// (a multi-threaded runtime spent a fifth of its time in futex calls under
/// connection churn).
async fn serve_workers<H, Fut>(
    listener: Listener,
    opts: &ServerOptions,
    shutdown: Shutdown,
    totals: Arc<Totals>,
    handler: H,
) -> Result<Exit, Error>
where
    H: Fn(Accepted) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (o, mut sd, t) = (opts.clone(), shutdown.clone(), totals.clone());
    let run = move |sock: Detached, stopped: Stopped| {
        memory_to_spare()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let listener = sock.attach()?;
            let tasks = accept_loop(&listener, &o, &mut sd, false, &t, &handler).await;
            drop(listener);
            let _ = stopped.send(());
            drain(tasks, &mut sd).await;
            Ok::<(), io::Error>(())
        })
    };
    run_workers(listener, opts, &shutdown, &totals, run).await
}

/// Address space a new accept loop's runtime needs, with room to spare.
const LOOP_MEMORY: usize = 1 << 20;

/// Whether [`LOOP_MEMORY`] can be had now: ENOMEM if not. Building a
/// runtime that runs out of memory halfway aborts the process (Rust's
/// allocation failure), so under a tight `ulimit -v` the loop fails with
/// its errno before it starts instead.
fn memory_to_spare() -> io::Result<()> {
    let mut probe = Vec::<u8>::new();
    let r = probe.try_reserve_exact(LOOP_MEMORY);
    // Observed, so the allocation is not optimised away.
    std::hint::black_box(&probe);
    r.map_err(|_| io::Error::from_raw_os_error(libc::ENOMEM))
}

/// Told by an accept loop once it has closed its listening socket.
pub(crate) type Stopped = tokio::sync::oneshot::Sender<()>;

/// Run `opts.workers` accept loops, `run(socket, stopped)` each on a thread
/// of its own (the tokio loop above, or echo's io_uring engine), then emit
/// `close`. The Unix socket file is removed once every loop has closed its
/// listening socket; open connections may still be finishing then.
///
/// A loop that cannot start (no thread: EAGAIN under a memory or thread
/// limit; no runtime or ring: ENOMEM, EMFILE) is an `error` event with its
/// errno, and its socket is closed (the kernel stops giving it
/// connections); if none starts, the server fails with exit 5 instead of
/// sitting on a socket nobody accepts from.
pub(crate) async fn run_workers<R>(
    listener: Listener,
    opts: &ServerOptions,
    shutdown: &Shutdown,
    totals: &Totals,
    run: R,
) -> Result<Exit, Error>
where
    R: FnOnce(Detached, Stopped) -> io::Result<()> + Clone + Send + 'static,
{
    let (first, socket_file) = listener.detach().map_err(|e| worker_failed(&e))?;
    let mut detached = Vec::with_capacity(opts.workers);
    for _ in 1..opts.workers {
        detached.push(first.sibling(opts).map_err(|e| worker_failed(&e))?);
    }
    detached.push(first);
    let mut threads = Vec::new();
    let mut failure = None;
    for (i, sock) in detached.into_iter().enumerate() {
        let run = run.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<io::Result<()>>();
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || {
                let _ = tx.send(run(sock, stopped_tx));
            });
        match spawned {
            Ok(_) => threads.push((stopped_rx, rx)),
            Err(e) => failure = Some(worker_error(e)),
        }
    }
    // The socket file goes once nobody accepts on it; open connections may
    // still be finishing.
    for (stopped, _) in &mut threads {
        let _ = stopped.await;
    }
    drop(socket_file);
    let mut served = false;
    for (_, done) in threads {
        match done.await {
            Ok(Ok(())) => served = true,
            Ok(Err(e)) => failure = Some(worker_error(e)),
            Err(_) => {}
        }
    }
    let exit = finish(totals, shutdown);
    match failure {
        Some(e) if !served => Err(worker_failed(&e)),
        _ => Ok(exit),
    }
}

/// An accept loop that could not start: its `error` event.
fn worker_error(e: io::Error) -> io::Error {
    events::emit(
        "error",
        None,
        json!({"code": exit::error_code(&e), "message": exit::describe(&e)}),
    );
    e
}

/// No accept loop could start: the server's one error (exit 5).
fn worker_failed(e: &io::Error) -> Error {
    let mut err = Error::io(Exit::Listen, "cannot start the accept loop", e)
        .hint("out of memory, threads or descriptors? see ulimit -v, -u, -n");
    err.reported = events::mode() == events::Mode::Json;
    err
}

/// The loop itself: returns the connection tasks still running.
async fn accept_loop<H, Fut>(
    listener: &Listener,
    opts: &ServerOptions,
    shutdown: &mut Shutdown,
    once: bool,
    totals: &Arc<Totals>,
    handler: &H,
) -> JoinSet<()>
where
    H: Fn(Accepted) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut tasks = JoinSet::new();
    let mut backoff = Duration::from_millis(10);
    loop {
        while tasks.try_join_next().is_some() {}
        if listener.exhausted() {
            break;
        }
        let accepted = tokio::select! {
            r = listener.accept(&opts.socket) => r,
            _ = shutdown.reached(1) => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let stream = match accepted {
            Ok(s) => {
                backoff = Duration::from_millis(10);
                s
            }
            Err(e) => {
                accept_failed(&e, &mut backoff).await;
                continue;
            }
        };
        let addrs = if opts.needs_addresses() {
            stream.addresses()
        } else {
            Addresses::unknown()
        };
        let Some(id) = register(opts, totals, &addrs) else {
            continue;
        };
        let meter = crate::progress::meter();
        let guard = OpenGuard(totals.clone());
        let forced = shutdown.forced();
        let conn = handler(Accepted {
            id,
            stream,
            addrs,
            forced,
        });
        tasks.spawn(async move {
            conn.await;
            meter.open.fetch_sub(1, Ordering::Relaxed);
            drop(guard);
        });
        if once {
            break;
        }
    }
    tasks
}

/// Admit a new connection, or not (`--allow`/`--deny`, `maxConnections`,
/// each with its `drop` event); if so, count it as open, give it its id and
/// emit `connection`. The caller closes a refused one at once, and calls
/// [`unregister`] when an admitted one ends.
pub(crate) fn register(opts: &ServerOptions, totals: &Totals, addrs: &Addresses) -> Option<u64> {
    if !opts.admit(addrs) || over_limit(opts, totals, addrs) {
        return None;
    }
    totals.open.fetch_add(1, Ordering::Relaxed);
    let id = totals.connections.fetch_add(1, Ordering::Relaxed) + 1;
    if events::enabled() {
        events::emit("connection", Some(id), addrs.remote_fields());
    }
    let meter = crate::progress::meter();
    meter.total.fetch_add(1, Ordering::Relaxed);
    meter.open.fetch_add(1, Ordering::Relaxed);
    Some(id)
}

/// A registered connection has ended: no longer open, here and on the
/// progress line.
pub(crate) fn unregister(totals: &Totals) {
    totals.open.fetch_sub(1, Ordering::Relaxed);
    crate::progress::meter()
        .open
        .fetch_sub(1, Ordering::Relaxed);
}

/// `maxConnections`, counted across workers: over it, a `drop` event and
/// the connection is closed at once (by dropping it).
fn over_limit(opts: &ServerOptions, totals: &Totals, addrs: &Addresses) -> bool {
    let full = opts
        .max_connections
        .is_some_and(|max| totals.open.load(Ordering::Relaxed) >= max);
    if full {
        events::emit("drop", None, addrs.fields());
    }
    full
}

/// How long the second signal lets connections write their books (their
/// `close` events, their bytes into the totals) before the server drops
/// those that do not watch for it (a connection handed to `--exec`).
const FORCED_WAIT: Duration = Duration::from_millis(500);

/// Wait for the open connections; a second signal ends them at once: each
/// sees it through its [`Forced`] and reports its own end.
async fn drain(mut tasks: JoinSet<()>, shutdown: &mut Shutdown) {
    let finished = {
        let all = async { while tasks.join_next().await.is_some() {} };
        tokio::pin!(all);
        tokio::select! {
            _ = &mut all => true,
            _ = shutdown.reached(2) => tokio::time::timeout(FORCED_WAIT, &mut all).await.is_ok(),
        }
    };
    if !finished {
        tasks.abort_all();
    }
}

/// The server's `close` event with its totals, and the exit code.
pub(crate) fn finish(totals: &Totals, shutdown: &Shutdown) -> Exit {
    events::flush_connection_errors();
    events::emit(
        "close",
        None,
        json!({
            "connections": totals.connections.load(Ordering::Relaxed),
            "bytesRead": totals.bytes_read.load(Ordering::Relaxed),
            "bytesWritten": totals.bytes_written.load(Ordering::Relaxed),
        }),
    );
    shutdown.exit()
}

pub(crate) fn accept_error_event(e: &io::Error) {
    events::emit(
        "error",
        None,
        json!({"code": exit::error_code(e), "message": exit::describe(e), "syscall": "accept"}),
    );
}

impl Listener {
    /// The first admitted connection (`listen` without `-k`): refused peers
    /// get their `drop` event and accept errors the same backoff as the
    /// server loop, so running out of descriptors never spins.
    /// An inherited connection that is refused (or whose socket options
    /// cannot be set) is the end: exit 1.
    pub async fn accept_admitted(&self, opts: &ServerOptions) -> Result<Stream, Error> {
        let mut backoff = Duration::from_millis(10);
        loop {
            match self.accept(&opts.socket).await {
                Ok(s) if opts.admit(&s.addresses()) => return Ok(s),
                Ok(s) if self.is_connected() => return Err(refused(&s)),
                Ok(_) => {}
                Err(e) if self.exhausted() => {
                    return Err(Error::io(Exit::Failure, "inherited connection", &e))
                }
                Err(e) => accept_failed(&e, &mut backoff).await,
            }
        }
    }
}

/// The inherited connection was refused by `--allow`/`--deny`.
fn refused(s: &Stream) -> Error {
    let what = format!("connection from {}", s.addresses().remote);
    Error::new(Exit::Failure, what, "refused by --allow/--deny")
}

/// Accept errors never end the server. Running out of descriptors or memory
/// (EMFILE, ENFILE, ENOBUFS, ENOMEM; EAGAIN, which the kernel also gives
/// for memory it cannot get now) waits a little, doubling up to a second,
/// so the loop does not spin while connections close; others retry at once.
async fn accept_failed(e: &io::Error, backoff: &mut Duration) {
    if let Some(wait) = accept_backoff(e, backoff) {
        tokio::time::sleep(wait).await;
    }
}

/// [`accept_failed`]'s policy without the waiting (for loops that wait
/// their own way): the `error` event, and how long to wait, if at all.
pub(crate) fn accept_backoff(e: &io::Error, backoff: &mut Duration) -> Option<Duration> {
    accept_error_event(e);
    if !matches!(
        exit::error_code(e),
        "EMFILE" | "ENFILE" | "ENOBUFS" | "ENOMEM" | "EAGAIN"
    ) {
        return None;
    }
    let wait = *backoff;
    *backoff = (*backoff * 2).min(Duration::from_secs(1));
    Some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno(n: i32) -> io::Error {
        io::Error::from_raw_os_error(n)
    }

    #[test]
    fn accept_errors_of_exhaustion_back_off_doubling_to_a_second() {
        for n in [
            libc::EMFILE,
            libc::ENFILE,
            libc::ENOBUFS,
            libc::ENOMEM,
            libc::EAGAIN,
        ] {
            let mut backoff = Duration::from_millis(10);
            let waits: Vec<_> = (0..9)
                .map(|_| accept_backoff(&errno(n), &mut backoff).unwrap().as_millis())
                .collect();
            assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000], "{n}");
        }
    }

    #[test]
    fn other_accept_errors_retry_at_once() {
        for n in [libc::ECONNABORTED, libc::EPROTO, libc::EPERM] {
            let mut backoff = Duration::from_millis(10);
            assert_eq!(accept_backoff(&errno(n), &mut backoff), None, "{n}");
        }
    }
}
