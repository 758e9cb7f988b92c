//! Accepting: the accept loop every server shares, admission (`--allow`,
//! `--deny`, `maxConnections`, each refusal with its `drop` event), the
//! server's counters, and the backoff that keeps accept errors such as
//! EMFILE from ending the server or spinning.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::task::JoinSet;

use super::{Forced, Listener, ServerOptions, Shutdown};
use crate::events;
use crate::exit::{self, Error, Exit};
use crate::net::options::SocketOptions;
use crate::net::stream::{Addresses, Stream};

impl Listener {
    /// Whether no connection will ever be accepted again (an inherited
    /// connection already handed out).
    fn exhausted(&self) -> bool {
        #[cfg(unix)]
        return matches!(self, Listener::Connected(c) if c.taken());
        #[cfg(not(unix))]
        false
    }

    /// Accept one connection, with the socket options applied.
    pub(crate) async fn accept(&self, opts: &SocketOptions) -> io::Result<Stream> {
        match self {
            Listener::Tcp(l) => {
                let (s, _) = l.accept().await?;
                opts.apply(socket2::SockRef::from(&s))?;
                Ok(Stream::Tcp(s))
            }
            #[cfg(unix)]
            Listener::Unix { listener, .. } => Ok(Stream::Unix(listener.accept().await?.0)),
            #[cfg(unix)]
            Listener::Connected(c) => match c.take(opts)? {
                Some(s) => Ok(s),
                None => std::future::pending().await,
            },
        }
    }

    pub(crate) async fn accept_admitted(&self, opts: &ServerOptions) -> Result<Stream, Error> {
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

/// One accepted connection, as handed to a server's handler.
pub(crate) struct Accepted {
    pub id: u64,
    pub stream: Stream,
    /// Looked up only when events or admission rules need them, else
    /// unknown: see `Accepted::addresses` (`--exec`, on Unix).
    #[cfg_attr(windows, allow(dead_code))]
    pub addrs: Addresses,
    /// The second signal: a handler that races its work against it ends
    /// the connection with its `close` and counts (else the server stops
    /// waiting for it after `FORCED_WAIT` and its task is dropped).
    pub forced: Forced,
    /// The descriptor held for this connection's own second socket, when
    /// the server asked for one ([`ServerOptions::spare_descriptor`]).
    pub spare: Option<socket2::Socket>,
}

impl Accepted {
    /// The connection's addresses, looked up now if the accept loop did not.
    #[cfg(unix)]
    pub(crate) fn addresses(&self) -> Addresses {
        match self.addrs.remote {
            crate::net::stream::Addr::Unknown => self.stream.addresses(),
            _ => self.addrs.clone(),
        }
    }
}

/// Counters shared by every accept loop of a server; the totals are what
/// the final `close` event reports.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub connections: AtomicU64,
    pub bytes_read: AtomicU64,
    pub bytes_written: AtomicU64,
    /// Connections open now, across workers (for `maxConnections`).
    pub open: AtomicUsize,
}

impl Totals {
    /// Add one finished connection's bytes.
    pub(crate) fn add_bytes(&self, read: u64, written: u64) {
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

/// The loop itself: returns the connection tasks still running.
pub(super) async fn accept_loop<H, Fut>(
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
    let mut spare = None;
    loop {
        while tasks.try_join_next().is_some() {}
        if listener.exhausted() {
            break;
        }
        // Out of descriptors, wait as for EMFILE from accept(2) itself:
        // the client stays queued rather than accepted without a target.
        if opts.spare_descriptor && spare.is_none() {
            match reserve_descriptor() {
                Ok(s) => spare = Some(s),
                Err(e) => {
                    tokio::select! {
                        _ = accept_failed(&e, &mut backoff) => {}
                        _ = shutdown.reached(1) => break,
                    }
                    continue;
                }
            }
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
            spare: spare.take(),
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
#[cfg(target_os = "linux")]
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

fn accept_error_event(e: &io::Error) {
    events::error(None, e, json!({"syscall": "accept"}));
}

/// The inherited connection was refused by `--allow`/`--deny`.
fn refused(s: &Stream) -> Error {
    let what = format!("connection from {}", s.addresses().remote);
    Error::new(Exit::Failure, what, "refused by --allow/--deny")
}

/// One descriptor held in reserve: an unbound Unix datagram socket (no
/// path, no file system, nothing to clean up).
fn reserve_descriptor() -> io::Result<socket2::Socket> {
    socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::DGRAM, None)
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
        use crate::sys::errno::{EAGAIN, EMFILE, ENOBUFS, ENOMEM};
        #[cfg_attr(windows, allow(unused_mut))]
        let mut codes = vec![EMFILE, ENOBUFS, ENOMEM, EAGAIN];
        #[cfg(unix)]
        codes.push(crate::sys::errno::ENFILE);
        for n in codes {
            let mut backoff = Duration::from_millis(10);
            let waits: Vec<_> = (0..9)
                .map(|_| accept_backoff(&errno(n), &mut backoff).unwrap().as_millis())
                .collect();
            assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000], "{n}");
        }
    }

    #[test]
    fn other_accept_errors_retry_at_once() {
        use crate::sys::errno::{ECONNABORTED, EPERM};
        #[cfg_attr(windows, allow(unused_mut))]
        let mut codes = vec![ECONNABORTED, EPERM];
        #[cfg(unix)]
        codes.push(crate::sys::errno::EPROTO);
        for n in codes {
            let mut backoff = Duration::from_millis(10);
            assert_eq!(accept_backoff(&errno(n), &mut backoff), None, "{n}");
        }
    }
}
