//! The two-thread bridges between one socket and this process's own stdin
//! and stdout: splice(2) for plain sockets, rustls on blocking threads for
//! TLS. Each direction runs on its own thread, out of tokio's reactor.
//!
//! Ending input from the bridge (the peer's FIN, a timeout) sets a [`Stop`]
//! that wakes the input thread wherever it waits (on stdin, on a full
//! socket), and the bridge waits for that thread before it reports: so
//! `bytesWritten` counts every byte the socket took, and the thread says
//! whether it held bytes that never went out (Node's `writeAfterFIN`).

use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, Notify};

use super::{received, sent, BridgeOptions, DownFuture, InputEnd, UpFuture};
use crate::net::activity::{Activity, DownEnd};
use crate::net::options;
use crate::net::splice::{self, PumpError, Pumped};
use crate::net::stdio;
use crate::net::stream::Stream;
use crate::net::tls;
use crate::sys::{self, Stop};

/// What both thread bridges need: where to count, and how to end.
pub(super) struct Ctx {
    pub read_stdin: bool,
    pub write_stdout: bool,
    pub stop_input: Arc<Notify>,
    pub activity: Arc<Activity>,
    pub opts: BridgeOptions,
}

/// How long a stopped input thread may take to let go of the socket: it is
/// woken at once, so this only bounds a thread stuck in a write the kernel
/// does not finish (its bytes then count as unsent).
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Bridge a plain or TLS `stream` on two threads (see the module comment).
pub(super) fn start(
    stream: Stream,
    ctx: Ctx,
) -> io::Result<(UpFuture<'static>, DownFuture<'static>)> {
    if stream.is_plain() {
        splice_threads(stream, ctx)
    } else {
        tls_threads(stream, ctx)
    }
}

/// The splice(2) path: each thread has its own descriptor for the socket.
fn splice_threads(
    stream: Stream,
    ctx: Ctx,
) -> io::Result<(UpFuture<'static>, DownFuture<'static>)> {
    let owner = stream.into_fd()?;
    let fd = owner.as_raw_fd();
    let stop = Arc::new(Stop::new()?);
    let Ctx { activity, opts, .. } = ctx;
    let up_rx = if ctx.read_stdin {
        let sock = sys::dup(fd)?;
        let (tx, rx) = oneshot::channel();
        let (a, stop) = (activity.clone(), stop.clone());
        std::thread::Builder::new()
            .name("splice-in".into())
            .spawn(move || {
                let r = splice::pump(0, sock.as_raw_fd(), Some(&stop), |n| sent(&a, n));
                let _ = tx.send(input_ended(r, &stop, &a, sock.as_raw_fd(), opts.reset));
            })?;
        Some(rx)
    } else {
        None
    };
    let a = activity.clone();
    let wake = move || {
        stop.set();
        if !opts.reset {
            shutdown_write(fd, &a);
        }
    };
    let up = input_thread_done(up_rx, ctx.stop_input, wake, |_| async {});

    let sock = sys::dup(fd)?;
    let sink = if ctx.write_stdout {
        None
    } else {
        Some(std::fs::OpenOptions::new().write(true).open("/dev/null")?)
    };
    let (tx, rx) = oneshot::channel();
    let a = activity;
    std::thread::Builder::new()
        .name("splice-out".into())
        .spawn(move || {
            let dst = sink.as_ref().map_or(1, |f| f.as_raw_fd());
            let r = splice::pump(sock.as_raw_fd(), dst, None, |n| received(&a, n));
            let r = match r {
                Ok(_) => super::eof_or_reset(sock.as_raw_fd(), &a),
                Err(PumpError::Write(e)) if e.raw_os_error() == Some(libc::EPIPE) => {
                    Ok(DownEnd::StdoutClosed)
                }
                Err(PumpError::Write(e) | PumpError::Read(e)) => Err(e),
            };
            let _ = tx.send(r);
        })?;
    // The socket stays open until the bridge is done with it.
    let down: DownFuture<'static> = Box::pin(async move {
        let r = rx.await.unwrap_or_else(|_| Err(vanished()));
        drop(owner);
        r
    });
    Ok((up, down))
}

/// What the splice input thread reports once its pump is over.
fn input_ended(
    r: Result<Pumped, PumpError>,
    stop: &Stop,
    a: &Activity,
    sock: RawFd,
    reset: bool,
) -> io::Result<InputEnd> {
    match r {
        // A read error on stdin ends input the same way EOF does.
        Ok(Pumped::Eof) | Err(PumpError::Read(_)) if !stop.is_set() => {
            if reset {
                options::drain_before_reset(sock)?;
            } else {
                shutdown_write(sock, a);
            }
            Ok(InputEnd::Finished)
        }
        Ok(Pumped::Stopped { held }) => {
            let unsent = held > 0 || stdio::stdin_unsent(&mut || false);
            if reset && !unsent {
                // Ended cleanly (the peer's FIN, a timeout): what went out
                // still reaches the peer before the RST.
                options::drain_before_reset(sock)?;
            }
            Ok(InputEnd::Stopped { unsent })
        }
        // Stopped while a write was under way (our own FIN broke it).
        Ok(Pumped::Eof) | Err(PumpError::Read(_)) => Ok(InputEnd::Stopped {
            unsent: stdio::stdin_unsent(&mut || false),
        }),
        Err(PumpError::Write(_)) if stop.is_set() => Ok(InputEnd::Stopped { unsent: true }),
        Err(PumpError::Write(e)) => {
            Err(sys::write_error(sock, e, a.fin_sent.load(Ordering::SeqCst)))
        }
    }
}

/// The TLS counterpart of [`splice_threads`]: the rustls connection leaves
/// the async stream and is shared by two blocking threads (see
/// [`tls::threads`]). Ending input from here sends close_notify and FIN as
/// soon as the input thread is between writes.
fn tls_threads(stream: Stream, ctx: Ctx) -> io::Result<(UpFuture<'static>, DownFuture<'static>)> {
    let (inner, conn): (Stream, rustls::Connection) = match stream {
        Stream::TlsClient(s) => {
            let (io, conn) = s.into_inner();
            (io, conn.into())
        }
        Stream::TlsServer(s) => {
            let (io, conn) = s.into_inner();
            (io, conn.into())
        }
        Stream::Tcp(_) | Stream::Unix(_) => {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not TLS"))
        }
    };
    let Ctx { activity, opts, .. } = ctx;
    let reset = opts.reset;
    // Out of tokio's reactor: the threads wait on the socket themselves.
    let shared = Arc::new(tls::threads::Shared::new(conn, inner.into_fd()?));
    let stop = Arc::new(Stop::new()?);
    let up_rx = if ctx.read_stdin {
        let (tx, rx) = oneshot::channel();
        let (a, s, stop) = (activity.clone(), shared.clone(), stop.clone());
        std::thread::Builder::new()
            .name("tls-in".into())
            .spawn(move || {
                let r = s.up(0, reset, &stop, |n| sent(&a, n));
                let _ = tx.send(r.map(|end| match end {
                    tls::threads::UpEnd::Eof => InputEnd::Finished,
                    tls::threads::UpEnd::Stopped { held } => InputEnd::Stopped {
                        unsent: held || stdio::stdin_unsent(&mut || false),
                    },
                }));
            })?;
        Some(rx)
    } else {
        None
    };
    let s = shared.clone();
    // A connection that failed (bytes unsent) only gets its FIN: its peer
    // no longer reads, and close_notify could wait for room forever.
    let finish = move |unsent: bool| async move {
        let _ = tokio::task::spawn_blocking(move || s.end(reset, !unsent)).await;
    };
    let up = input_thread_done(up_rx, ctx.stop_input, move || stop.set(), finish);

    let (tx, rx) = oneshot::channel();
    let write_stdout = ctx.write_stdout;
    std::thread::Builder::new()
        .name("tls-out".into())
        .spawn(move || {
            let _ = tx.send(shared.down(write_stdout.then_some(1), |n| received(&activity, n)));
        })?;
    let down: DownFuture<'static> =
        Box::pin(async move { rx.await.unwrap_or_else(|_| Err(vanished())) });
    Ok((up, down))
}

/// The up side of a two-thread bridge: what the input thread reports (with
/// no input thread, `--recv-only`, nothing until stopped). When input is
/// stopped from here first (the peer's FIN, a timeout), `wake` stops the
/// thread, its own report (bounded by [`STOP_GRACE`]) says whether it held
/// bytes that never went out, and `finish(unsent)` ends our side.
fn input_thread_done<W, F, Fut>(
    input: Option<oneshot::Receiver<io::Result<InputEnd>>>,
    stop: Arc<Notify>,
    wake: W,
    finish: F,
) -> UpFuture<'static>
where
    W: FnOnce() + Send + 'static,
    F: FnOnce(bool) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Box::pin(async move {
        let Some(mut rx) = input else {
            stop.notified().await;
            wake();
            finish(false).await;
            return Ok(InputEnd::Stopped { unsent: false });
        };
        tokio::select! {
            r = &mut rx => return r.unwrap_or_else(|_| Err(vanished())),
            _ = stop.notified() => {}
        }
        wake();
        let r = match tokio::time::timeout(STOP_GRACE, rx).await {
            Ok(Ok(Ok(InputEnd::Finished))) => Ok(InputEnd::Stopped { unsent: false }),
            Ok(Ok(r)) => r,
            // No report: what it held is unknown, so it counts as unsent.
            Ok(Err(_)) => Ok(InputEnd::Stopped { unsent: true }),
            Err(_) => Ok(InputEnd::Stopped { unsent: true }),
        };
        let unsent = matches!(r, Ok(InputEnd::Stopped { unsent: true }) | Err(_));
        finish(unsent).await;
        r
    })
}

/// A copy thread that ended without its report (it panicked): never taken
/// for a clean end, since what it moved is unknown.
fn vanished() -> io::Error {
    io::Error::other("a copy thread ended without reporting how")
}

/// Our FIN on a descriptor of the socket, marked first so that a 0-byte
/// read after it is not taken for a reset.
fn shutdown_write(fd: RawFd, a: &Activity) {
    a.fin_sent.store(true, Ordering::SeqCst);
    sys::shutdown_write(fd);
}
