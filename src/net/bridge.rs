//! Copying between one connection and a pair of chunk channels (stdin and
//! stdout, or their fan-out with `listen -k`), with Node's half-close rules.
//!
//! The table in SPEC.md is implemented here and only here:
//! - our input ends → FIN (`socket.end()`), keep reading until the peer's FIN;
//! - the peer's FIN (`'end'`) → by default write what is pending, FIN, stop
//!   reading input; with `allowHalfOpen` keep sending input until it ends;
//! - a reset → `error` ECONNRESET, `close` with hadError;
//! - idle for `timeout` → `timeout`, FIN, and the caller exits 4.
//!
//! Both directions are bounded: the socket is read only when the previous
//! chunk has been taken by stdout, and input is read only as fast as the
//! socket takes it.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use std::future::Future;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;

use bytes::{Bytes, BytesMut};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;

use crate::events;
use crate::net::options;
use crate::net::splice::{self, PumpError};
use crate::net::stdio::CHUNK;
use crate::net::stream::Stream;
use crate::net::tls;
use crate::progress;

/// Node's per-socket behaviour that the bridge needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct BridgeOptions {
    pub allow_half_open: bool,
    /// Idle timeout (`setTimeout()`).
    pub timeout: Option<Duration>,
    /// Close with RST instead of FIN.
    pub reset: bool,
}

impl BridgeOptions {
    pub fn from_args(
        socket: &crate::cli::SocketArgs,
        stdio: &crate::cli::StdioArgs,
    ) -> BridgeOptions {
        BridgeOptions {
            allow_half_open: stdio.allow_half_open,
            timeout: socket.timeout,
            reset: stdio.end.reset,
        }
    }
}

/// How a bridged connection ended.
#[derive(Debug)]
pub enum Ending {
    /// Both directions finished as the half-close table says.
    Done,
    /// Idle for longer than the timeout.
    Timeout,
    /// The connection broke (reset, …).
    Error(io::Error),
    /// Our stdout was closed: end quietly.
    StdoutClosed,
}

/// What a finished bridge reports.
#[derive(Debug)]
pub struct Closed {
    pub ending: Ending,
    pub bytes_read: u64,
    pub bytes_written: u64,
}

/// Bytes each way, as Node's `bytesRead` and `bytesWritten`.
#[derive(Debug, Default)]
pub struct Counters {
    pub read: AtomicU64,
    pub written: AtomicU64,
    /// Milliseconds since the bridge started, at the last byte either way.
    last_active_ms: AtomicU64,
}

impl Counters {
    /// Count bytes received, here and in the process's progress meter.
    fn add_read(&self, n: usize) {
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        progress::meter()
            .received
            .fetch_add(n as u64, Ordering::Relaxed);
    }

    fn add_written(&self, n: usize) {
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        progress::meter()
            .sent
            .fetch_add(n as u64, Ordering::Relaxed);
    }
}

enum DownEnd {
    Eof,
    StdoutClosed,
}

/// Where a bridged connection's bytes come from and go to.
pub enum Io {
    /// Chunks through channels: stdin/stdout threads, `listen -k`'s fan-out,
    /// `--send` text. `input: None` is `--recv-only` (never half-close);
    /// `output: None` is `--send-only` (received bytes are discarded).
    Channels {
        input: Option<mpsc::Receiver<Bytes>>,
        output: Option<mpsc::Sender<Bytes>>,
    },
    /// The process's own stdin and stdout, on two threads: splice(2) for
    /// plain sockets, rustls on blocking threads for TLS (see
    /// [`stdio_threads_apply`]).
    Stdio {
        read_stdin: bool,
        write_stdout: bool,
    },
}

/// Whether the zero-copy path may carry this stream: Linux, no TLS, and not
/// switched off with `WIRECAT_NO_SPLICE` (which the tests use to cover both).
pub fn splice_applies(stream: &Stream) -> bool {
    cfg!(target_os = "linux")
        && stream.is_plain()
        && std::env::var_os("WIRECAT_NO_SPLICE").is_none()
}

/// Whether stdin/stdout may be bridged on two threads ([`Io::Stdio`]):
/// splice(2) for plain sockets, rustls on blocking threads for TLS. The
/// same `WIRECAT_NO_SPLICE` switches both off.
pub fn stdio_threads_apply(stream: &Stream) -> bool {
    splice_applies(stream)
        || (cfg!(target_os = "linux")
            && !stream.is_plain()
            && std::env::var_os("WIRECAT_NO_SPLICE").is_none())
}

type UpFuture<'a> = Pin<Box<dyn Future<Output = io::Result<()>> + Send + 'a>>;
type DownFuture<'a> = Pin<Box<dyn Future<Output = io::Result<DownEnd>> + Send + 'a>>;

/// Bridge `stream` to `io` with the half-close rules. Emits `end`,
/// `timeout`, `error` and `close` for connection `conn`.
pub async fn bridge(stream: Stream, conn: Option<u64>, io: Io, opts: BridgeOptions) -> Closed {
    let started = Instant::now();
    let counters = Arc::new(Counters::default());
    if opts.reset {
        // SO_LINGER 0 now: no FIN is ever sent, and the final close is a RST.
        let _ = options::arm_reset(stream.sock_ref());
    }
    let stop_input = Arc::new(Notify::new());
    let (recv_only, up, down): (bool, UpFuture<'_>, DownFuture<'_>) = match io {
        Io::Channels { input, output } => {
            let (rd, wr) = tokio::io::split(stream);
            (
                input.is_none(),
                Box::pin(send_input(
                    wr,
                    input,
                    stop_input.clone(),
                    counters.clone(),
                    started,
                    opts.reset,
                )),
                Box::pin(receive_output(rd, output, counters.clone(), started)),
            )
        }
        Io::Stdio {
            read_stdin,
            write_stdout,
        } => {
            let (up, down) = match stdio_threads(
                stream,
                read_stdin,
                write_stdout,
                &stop_input,
                &counters,
                started,
                opts,
            ) {
                Ok(pair) => pair,
                Err(e) => {
                    let ending = Ending::Error(e);
                    report_close(conn, &ending, &counters, started);
                    return closed(ending, &counters);
                }
            };
            (!read_stdin, up, down)
        }
    };
    let ending = drive(
        up,
        down,
        conn,
        recv_only,
        &stop_input,
        &counters,
        started,
        opts,
    )
    .await;
    report_close(conn, &ending, &counters, started);
    closed(ending, &counters)
}

fn closed(ending: Ending, c: &Counters) -> Closed {
    Closed {
        ending,
        bytes_read: c.read.load(Ordering::Relaxed),
        bytes_written: c.written.load(Ordering::Relaxed),
    }
}

/// The half-close table, over whichever pair of directions.
#[allow(clippy::too_many_arguments)]
async fn drive(
    mut up: UpFuture<'_>,
    mut down: DownFuture<'_>,
    conn: Option<u64>,
    recv_only: bool,
    stop_input: &Notify,
    counters: &Counters,
    started: Instant,
    opts: BridgeOptions,
) -> Ending {
    let (mut up_done, mut down_done) = (false, false);
    loop {
        tokio::select! {
            r = &mut down, if !down_done => {
                down_done = true;
                match r {
                    Ok(DownEnd::Eof) => {
                        events::emit("end", conn, json!({}));
                        if !opts.allow_half_open || recv_only {
                            stop_input.notify_one();
                        }
                        if up_done {
                            return Ending::Done;
                        }
                    }
                    Ok(DownEnd::StdoutClosed) => return Ending::StdoutClosed,
                    Err(e) => return Ending::Error(e),
                }
            }
            r = &mut up, if !up_done => {
                up_done = true;
                match r {
                    Ok(()) if down_done || opts.reset => return Ending::Done,
                    Ok(()) => {}
                    Err(e) => return Ending::Error(e),
                }
            }
            _ = idle(opts.timeout, counters, started) => {
                events::emit("timeout", conn, json!({}));
                // End our side: the input side finishes its write, then FINs.
                stop_input.notify_one();
                if !up_done {
                    let _ = tokio::time::timeout(Duration::from_secs(1), &mut up).await;
                }
                return Ending::Timeout;
            }
        }
    }
}

/// Socket → output chunks, until the peer's FIN.
async fn receive_output<R: tokio::io::AsyncRead + Unpin>(
    mut rd: R,
    output: Option<mpsc::Sender<Bytes>>,
    counters: Arc<Counters>,
    started: Instant,
) -> io::Result<DownEnd> {
    let mut buf = BytesMut::with_capacity(CHUNK);
    loop {
        buf.reserve(CHUNK);
        let n = rd.read_buf(&mut buf).await?;
        if n == 0 {
            return Ok(DownEnd::Eof);
        }
        // TLS hands over one record (≤ 16 KiB) per read: take whatever else
        // is ready now, up to a chunk, so the stdout thread gets fewer and
        // larger writes. A zero timeout polls the read exactly once.
        let mut end = None;
        while buf.len() < CHUNK && end.is_none() {
            match tokio::time::timeout(Duration::ZERO, rd.read_buf(&mut buf)).await {
                Ok(Ok(0)) => end = Some(Ok(DownEnd::Eof)),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => end = Some(Err(e)),
                Err(_) => break,
            }
        }
        touch(&counters, started);
        counters.add_read(buf.len());
        let chunk = buf.split().freeze();
        if let Some(tx) = &output {
            if tx.send(chunk).await.is_err() {
                return Ok(DownEnd::StdoutClosed);
            }
        }
        if let Some(end) = end {
            return end;
        }
    }
}

/// The splice(2) path: one thread per direction, each with its own
/// descriptor for the socket. Stopping input cannot interrupt a thread
/// blocked on stdin; it does not need to: the FIN is sent from here and the
/// process ends without waiting for that thread.
#[allow(clippy::too_many_arguments)]
fn stdio_threads(
    stream: Stream,
    read_stdin: bool,
    write_stdout: bool,
    stop_input: &Arc<Notify>,
    counters: &Arc<Counters>,
    started: Instant,
    opts: BridgeOptions,
) -> io::Result<(UpFuture<'static>, DownFuture<'static>)> {
    if !stream.is_plain() {
        return tls_threads(
            stream,
            read_stdin,
            write_stdout,
            stop_input,
            counters,
            started,
            opts,
        );
    }
    // Out of tokio's reactor: the threads wait on the socket themselves.
    let owner = stream.into_fd()?;
    let fd = owner.as_raw_fd();
    let stopped = Arc::new(AtomicBool::new(false));
    let up_rx = if read_stdin {
        let sock = splice::dup(fd)?;
        let (tx, rx) = oneshot::channel();
        let (c, stopped) = (counters.clone(), stopped.clone());
        std::thread::Builder::new()
            .name("splice-in".into())
            .spawn(move || {
                let r = splice::pump(0, sock.as_raw_fd(), &stopped, |n| {
                    touch(&c, started);
                    c.add_written(n);
                });
                let r = match r {
                    // A read error on stdin ends input the same way EOF does.
                    Ok(()) | Err(PumpError::Read(_)) => {
                        if !opts.reset && !stopped.load(Ordering::Relaxed) {
                            shutdown_write(sock.as_raw_fd());
                        }
                        Ok(())
                    }
                    Err(PumpError::Write(e)) => Err(e),
                };
                let _ = tx.send(r);
            })?;
        Some(rx)
    } else {
        None
    };
    let up = input_thread_done(up_rx, stop_input.clone(), async move {
        stopped.store(true, Ordering::Relaxed);
        if !opts.reset {
            shutdown_write(fd);
        }
        Ok(())
    });

    let sock = splice::dup(fd)?;
    let sink = if write_stdout {
        None
    } else {
        Some(std::fs::OpenOptions::new().write(true).open("/dev/null")?)
    };
    let (tx, rx) = oneshot::channel();
    let c = counters.clone();
    std::thread::Builder::new()
        .name("splice-out".into())
        .spawn(move || {
            let dst = sink.as_ref().map_or(1, |f| f.as_raw_fd());
            let never = AtomicBool::new(false);
            let r = splice::pump(sock.as_raw_fd(), dst, &never, |n| {
                touch(&c, started);
                c.add_read(n);
            });
            let r = match r {
                Ok(()) => Ok(DownEnd::Eof),
                Err(PumpError::Write(e)) if e.raw_os_error() == Some(libc::EPIPE) => {
                    Ok(DownEnd::StdoutClosed)
                }
                Err(PumpError::Write(e) | PumpError::Read(e)) => Err(e),
            };
            let _ = tx.send(r);
        })?;
    // The socket stays open until the bridge is done with it.
    let down: DownFuture<'static> = Box::pin(async move {
        let r = rx.await.unwrap_or(Ok(DownEnd::Eof));
        drop(owner);
        r
    });
    Ok((up, down))
}

/// The TLS counterpart of [`stdio_threads`]: the rustls connection leaves
/// the async stream and is shared by two blocking threads (see
/// [`tls::threads`]). Ending input from here (the peer's FIN, a timeout)
/// sends close_notify and FIN as soon as the input thread is between writes.
#[allow(clippy::too_many_arguments)]
fn tls_threads(
    stream: Stream,
    read_stdin: bool,
    write_stdout: bool,
    stop_input: &Arc<Notify>,
    counters: &Arc<Counters>,
    started: Instant,
    opts: BridgeOptions,
) -> io::Result<(UpFuture<'static>, DownFuture<'static>)> {
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
    // Out of tokio's reactor: the threads wait on the socket themselves.
    let shared = Arc::new(tls::threads::Shared::new(conn, inner.into_fd()?));
    let up_rx = if read_stdin {
        let (tx, rx) = oneshot::channel();
        let (c, s) = (counters.clone(), shared.clone());
        std::thread::Builder::new()
            .name("tls-in".into())
            .spawn(move || {
                let r = s.up(0, opts.reset, |n| {
                    touch(&c, started);
                    c.add_written(n);
                });
                let _ = tx.send(r);
            })?;
        Some(rx)
    } else {
        None
    };
    let s = shared.clone();
    let up = input_thread_done(up_rx, stop_input.clone(), async move {
        tokio::task::spawn_blocking(move || s.end(opts.reset))
            .await
            .unwrap_or(Ok(()))
    });

    let (tx, rx) = oneshot::channel();
    let c = counters.clone();
    std::thread::Builder::new()
        .name("tls-out".into())
        .spawn(move || {
            let r = shared.down(write_stdout.then_some(1), |n| {
                touch(&c, started);
                c.add_read(n);
            });
            let _ = tx.send(r.map(|end| match end {
                tls::threads::DownEnd::Eof => DownEnd::Eof,
                tls::threads::DownEnd::StdoutClosed => DownEnd::StdoutClosed,
            }));
        })?;
    let down: DownFuture<'static> = Box::pin(async move { rx.await.unwrap_or(Ok(DownEnd::Eof)) });
    Ok((up, down))
}

/// The up side of a two-thread bridge: what the input thread reports (with
/// no input thread, `--recv-only`, nothing), unless input is stopped from
/// here first (the peer's FIN, a timeout): then whatever `on_stop` does to
/// end our side.
fn input_thread_done(
    input: Option<oneshot::Receiver<io::Result<()>>>,
    stop: Arc<Notify>,
    on_stop: impl Future<Output = io::Result<()>> + Send + 'static,
) -> UpFuture<'static> {
    Box::pin(async move {
        let done = async {
            match input {
                Some(rx) => rx.await.unwrap_or(Ok(())),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = done => r,
            _ = stop.notified() => on_stop.await,
        }
    })
}

fn shutdown_write(fd: std::os::fd::RawFd) {
    unsafe { libc::shutdown(fd, libc::SHUT_WR) };
}

/// Input → socket; FIN when input ends or when told to stop.
async fn send_input<W: tokio::io::AsyncWrite + Unpin>(
    mut wr: W,
    input: Option<mpsc::Receiver<Bytes>>,
    stop: Arc<Notify>,
    counters: Arc<Counters>,
    started: Instant,
    reset: bool,
) -> io::Result<()> {
    match input {
        Some(mut rx) => loop {
            tokio::select! {
                biased;
                _ = stop.notified() => break,
                chunk = rx.recv() => match chunk {
                    Some(b) => {
                        wr.write_all(&b).await?;
                        touch(&counters, started);
                        counters.add_written(b.len());
                    }
                    None => break,
                },
            }
        },
        // --recv-only: never half-close; end only when the peer ends.
        None => stop.notified().await,
    }
    if reset {
        return Ok(());
    }
    match wr.shutdown().await {
        // The peer may already be gone after its own FIN; that is not a failure.
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        r => r,
    }
}

pub(crate) fn touch(c: &Counters, started: Instant) {
    c.last_active_ms
        .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
}

/// Resolves once nothing has moved either way for `timeout` (never without one).
pub(crate) async fn idle(timeout: Option<Duration>, c: &Counters, started: Instant) {
    let Some(timeout) = timeout else {
        return std::future::pending().await;
    };
    loop {
        let last = started + Duration::from_millis(c.last_active_ms.load(Ordering::Relaxed));
        let deadline = last + timeout;
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// The `error` (if any) and `close` events of a finished connection.
pub(crate) fn report_close(conn: Option<u64>, ending: &Ending, c: &Counters, started: Instant) {
    if let Ending::Error(e) = ending {
        events::emit(
            "error",
            conn,
            // TLS's codes where it has them (truncation, alerts), else the system's.
            json!({"code": tls::tls_error_code(e), "message": tls::tls_error_message(e)}),
        );
    }
    events::emit(
        "close",
        conn,
        json!({
            "hadError": matches!(ending, Ending::Error(_)),
            "bytesRead": c.read.load(Ordering::Relaxed),
            "bytesWritten": c.written.load(Ordering::Relaxed),
            "durationMs": started.elapsed().as_millis() as u64,
        }),
    );
}
