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

use bytes::{Bytes, BytesMut};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use crate::events;
use crate::exit;
use crate::net::options;
use crate::net::stdio::CHUNK;
use crate::net::stream::Stream;

/// Node's per-socket behaviour that the bridge needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct BridgeOptions {
    pub allow_half_open: bool,
    /// Idle timeout (`setTimeout()`).
    pub timeout: Option<Duration>,
    /// Close with RST instead of FIN.
    pub reset: bool,
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

enum DownEnd {
    Eof,
    StdoutClosed,
}

/// Bridge `stream` to `input` (None: `--recv-only`) and `output` (None:
/// `--send-only`, received bytes are discarded). Emits `end`, `timeout`,
/// `error` and `close` for connection `conn`.
pub async fn bridge(
    stream: Stream,
    conn: Option<u64>,
    input: Option<mpsc::Receiver<Bytes>>,
    output: Option<mpsc::Sender<Bytes>>,
    opts: BridgeOptions,
) -> Closed {
    let started = Instant::now();
    let counters = Arc::new(Counters::default());
    if opts.reset {
        // SO_LINGER 0 now: no FIN is ever sent, and the final close is a RST.
        let _ = options::arm_reset(stream.sock_ref());
    }
    let (mut rd, wr) = tokio::io::split(stream);
    let stop_input = Arc::new(Notify::new());
    let recv_only = input.is_none();

    let up = send_input(
        wr,
        input,
        stop_input.clone(),
        counters.clone(),
        started,
        opts.reset,
    );
    let down = async {
        let mut buf = BytesMut::with_capacity(CHUNK);
        loop {
            buf.reserve(CHUNK);
            let n = rd.read_buf(&mut buf).await?;
            if n == 0 {
                return Ok(DownEnd::Eof);
            }
            touch(&counters, started);
            counters.read.fetch_add(n as u64, Ordering::Relaxed);
            let chunk = buf.split().freeze();
            if let Some(tx) = &output {
                if tx.send(chunk).await.is_err() {
                    return Ok(DownEnd::StdoutClosed);
                }
            }
        }
    };
    tokio::pin!(up, down);

    let (mut up_done, mut down_done) = (false, false);
    let ending = loop {
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
                            break Ending::Done;
                        }
                    }
                    Ok(DownEnd::StdoutClosed) => break Ending::StdoutClosed,
                    Err(e) => break Ending::Error(e),
                }
            }
            r = &mut up, if !up_done => {
                up_done = true;
                match r {
                    Ok(()) if down_done || opts.reset => break Ending::Done,
                    Ok(()) => {}
                    Err(e) => break Ending::Error(e),
                }
            }
            _ = idle(opts.timeout, &counters, started) => {
                events::emit("timeout", conn, json!({}));
                // End our side: the input task finishes its write, then FINs.
                stop_input.notify_one();
                if !up_done {
                    let _ = tokio::time::timeout(Duration::from_secs(1), &mut up).await;
                }
                break Ending::Timeout;
            }
        }
    };
    report_close(conn, &ending, &counters, started);
    Closed {
        ending,
        bytes_read: counters.read.load(Ordering::Relaxed),
        bytes_written: counters.written.load(Ordering::Relaxed),
    }
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
                        counters.written.fetch_add(b.len() as u64, Ordering::Relaxed);
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
            json!({"code": exit::error_code(e), "message": exit::describe(e)}),
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
