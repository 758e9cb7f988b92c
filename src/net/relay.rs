//! Relaying one accepted connection to its target, both ways (`a.pipe(b);
//! b.pipe(a)`), for `wirecat pipe`.
//!
//! Each direction reads from one socket and writes to the other; a FIN read
//! on one side becomes a FIN (shutdown of the write side) on the other, and
//! the pair closes when both directions have ended. An error on one side
//! resets the other (SO_LINGER 0), and both closes are reported.
//!
//! Between plain sockets on Linux the bytes never enter user space: each
//! direction owns a pipe and moves data socket → pipe → socket with
//! splice(2) (the pipe and the call are [`crate::net::splice`]'s). Every
//! call is non-blocking and driven by tokio's readiness
//! (`ready` + `try_io`), so a relayed connection costs no thread. Where a pipe
//! cannot be had, the same loop copies through one large buffer per
//! direction. Either way at most one pipe or buffer of bytes is in flight per
//! direction: a slow reader slows the writer.
//!
//! When either socket speaks TLS the bytes must pass through rustls, so
//! both directions run [`copy`], the one generic loop for TLS streams
//! (`echo --tls` uses it too): one bounded buffer per direction, each chunk
//! flushed before the next read, and the source's end (FIN, or
//! close_notify under TLS) passed on as a shutdown, which under TLS is
//! close_notify then FIN.
//!
//! `--timeout` ends, it does not destroy (Node's `socket.end()` on both
//! sockets): after the `timeout` event each direction finishes passing on
//! what it holds, then ends its destination (FIN; close_notify first under
//! TLS), so both peers get a FIN. Both write sides are then shut, so what
//! the peers still send cannot be passed on: it is read, counted in that
//! side's `bytesRead` and discarded (the other side's `bytesWritten` does
//! not include it), until each peer's FIN or until the pair is silent for
//! another `timeout`. The `close` events are then clean (`hadError`
//! false); a reset during that grace is still an error.
//!
//! A server's second signal ends a relayed pair at once: an `error`
//! (ECONNABORTED, [`crate::net::listen::forced_close`]) and both `close`
//! events with the bytes that moved.

use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::events;
use crate::net::bridge::{idle, touch, Counters, Ending};
use crate::net::options;
use crate::net::splice::{make_pipe, splice_with, sys, PumpError, SPLICE_LEN};
use crate::net::stream::Stream;
use crate::net::tls;

/// The fallback buffer's size. Through a pipe, each splice(2) asks for as
/// much as the pipe holds ([`SPLICE_LEN`], 1 MiB where allowed): fewer
/// calls and wakeups per byte than 256 KiB moves.
const BUFFER_SIZE: usize = 256 * 1024;

/// Node's per-socket options that apply to a relayed pair.
#[derive(Debug, Clone, Copy, Default)]
pub struct RelayOptions {
    /// Idle timeout for the pair (`setTimeout()`): nothing moved either way.
    pub timeout: Option<Duration>,
}

/// What a finished relay reports, from the client's point of view.
#[derive(Debug)]
pub struct Relayed {
    pub ending: Ending,
    /// Bytes read from the client (written to the target, but for those
    /// that came after a timeout had ended the pair).
    pub bytes_read: u64,
    /// Bytes written to the client.
    pub bytes_written: u64,
    /// The target's side: bytes read from it and written to it.
    target_read: u64,
    target_written: u64,
}

/// Bytes each direction read and did not pass on (they came after a
/// timeout had ended the pair).
#[derive(Debug, Default)]
struct Dropped {
    up: AtomicU64,
    down: AtomicU64,
}

/// Which socket of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Target,
}

impl Side {
    /// The progress line counts what clients send as received and what
    /// goes back to them as sent, as for the other servers.
    fn progress(self, n: usize) {
        match self {
            Side::Client => crate::progress::server_received(n),
            Side::Target => crate::progress::server_sent(n),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Target => "target",
        }
    }

    fn other(self) -> Side {
        match self {
            Side::Client => Side::Target,
            Side::Target => Side::Client,
        }
    }
}

/// A direction that failed, and on which socket.
struct Failed {
    side: Side,
    error: io::Error,
}

/// Relay `client` and `target` until both directions end, an error breaks
/// them, or they are idle for longer than the timeout. Emits `error`,
/// `timeout` and one `close` per side for connection `conn`.
pub async fn relay(
    mut client: Stream,
    mut target: Stream,
    conn: Option<u64>,
    opts: RelayOptions,
    forced: impl Future<Output = io::Error>,
) -> Relayed {
    let started = Instant::now();
    let counters = Counters::default();
    let dropped = Dropped::default();
    let (end_tx, end_rx) = watch::channel(false);
    let pair = Pair {
        counters: &counters,
        started,
        timeout: opts.timeout,
        end: &end_tx,
        conn,
    };
    let work = async {
        if client.is_plain() && target.is_plain() {
            relay_plain(&client, &target, &pair, &dropped, &end_rx).await
        } else {
            relay_tls(&mut client, &mut target, &pair, &dropped, &end_rx).await
        }
    };
    let outcome = tokio::select! {
        outcome = work => outcome,
        e = forced => Outcome::Forced(e),
    };
    let ending = match outcome {
        Outcome::Done => Ending::Done,
        Outcome::Failed(f) => fail(f, &client, &target, conn),
        Outcome::Timeout => Ending::Timeout,
        Outcome::Forced(e) => {
            events::error(conn, &e, json!({}));
            Ending::Error(e)
        }
    };
    let (read, written) = (&counters.read, &counters.written);
    let (read, written) = (
        read.load(Ordering::Relaxed),
        written.load(Ordering::Relaxed),
    );
    let relayed = Relayed {
        ending,
        bytes_read: read,
        bytes_written: written - dropped.down.load(Ordering::Relaxed),
        target_read: written,
        target_written: read - dropped.up.load(Ordering::Relaxed),
    };
    if events::enabled() {
        report_closes(conn, &relayed, started);
    }
    relayed
}

/// What both directions of a pair share.
struct Pair<'a> {
    counters: &'a Counters,
    started: Instant,
    timeout: Option<Duration>,
    /// Set at the timeout: each direction ends its destination.
    end: &'a watch::Sender<bool>,
    conn: Option<u64>,
}

/// Both directions between plain sockets.
async fn relay_plain(
    client: &Stream,
    target: &Stream,
    pair: &Pair<'_>,
    dropped: &Dropped,
    end: &watch::Receiver<bool>,
) -> Outcome {
    let (counters, started) = (pair.counters, pair.started);
    let (client_fin, target_fin) = (AtomicBool::new(false), AtomicBool::new(false));
    let up = one_way(
        Way {
            src: client,
            dst: target,
            src_side: Side::Client,
            src_fin: &client_fin,
            dst_fin: &target_fin,
            moved: &counters.read,
            dropped: &dropped.up,
            end: end.clone(),
        },
        counters,
        started,
    );
    let down = one_way(
        Way {
            src: target,
            dst: client,
            src_side: Side::Target,
            src_fin: &target_fin,
            dst_fin: &client_fin,
            moved: &counters.written,
            dropped: &dropped.down,
            end: end.clone(),
        },
        counters,
        started,
    );
    both_ways(up, down, pair).await
}

/// Both directions when either socket speaks TLS.
async fn relay_tls(
    client: &mut Stream,
    target: &mut Stream,
    pair: &Pair<'_>,
    dropped: &Dropped,
    end: &watch::Receiver<bool>,
) -> Outcome {
    let (counters, started) = (pair.counters, pair.started);
    let (mut client_rd, mut client_wr) = tokio::io::split(client);
    let (mut target_rd, mut target_wr) = tokio::io::split(target);
    let up = copy_sides(
        Sides {
            src: &mut client_rd,
            dst: &mut target_wr,
            src_side: Side::Client,
            moved: &counters.read,
            dropped: &dropped.up,
            end: end.clone(),
        },
        counters,
        started,
    );
    let down = copy_sides(
        Sides {
            src: &mut target_rd,
            dst: &mut client_wr,
            src_side: Side::Target,
            moved: &counters.written,
            dropped: &dropped.down,
            end: end.clone(),
        },
        counters,
        started,
    );
    both_ways(up, down, pair).await
}

/// Resolves once the pair is to end (the timeout); never otherwise.
async fn ended(mut end: watch::Receiver<bool>) {
    if end.wait_for(|e| *e).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// How the two directions of a pair ended together.
enum Outcome {
    Done,
    Failed(Failed),
    /// Timed out: ended in the grace, or silent through it.
    Timeout,
    /// The server's second signal.
    Forced(io::Error),
}

/// Run both directions until both end or one fails. Once nothing has
/// moved for the timeout: the `timeout` event, and both directions are
/// told to end their destinations; silent for another timeout after that,
/// the pair is given up.
async fn both_ways(
    up: impl Future<Output = Result<(), Failed>>,
    down: impl Future<Output = Result<(), Failed>>,
    pair: &Pair<'_>,
) -> Outcome {
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    let mut timed_out = false;
    loop {
        tokio::select! {
            r = &mut up, if !up_done => match r {
                Ok(()) => up_done = true,
                Err(f) => return Outcome::Failed(f),
            },
            r = &mut down, if !down_done => match r {
                Ok(()) => down_done = true,
                Err(f) => return Outcome::Failed(f),
            },
            _ = idle(pair.timeout, pair.counters, pair.started) => {
                if timed_out {
                    return Outcome::Timeout;
                }
                timed_out = true;
                events::emit("timeout", pair.conn, json!({}));
                touch(pair.counters, pair.started);
                let _ = pair.end.send(true);
            }
        }
        if up_done && down_done {
            return if timed_out {
                Outcome::Timeout
            } else {
                Outcome::Done
            };
        }
    }
}

/// Report the failure (a target's also as a line without `-v`, see
/// [`events::connection_error`]) and arm a reset on the other socket, so
/// that dropping the pair tells the other peer the stream broke (rather
/// than ended).
fn fail(f: Failed, client: &Stream, target: &Stream, conn: Option<u64>) -> Ending {
    events::error(conn, &f.error, json!({"side": f.side.name()}));
    if let (Side::Target, Some(id)) = (f.side, conn) {
        // The target broke the pair: the server's failure to tell about.
        let what = format!("target: {}", tls::tls_error_line(&f.error));
        events::connection_error("pipe", id, &what);
    }
    let other = if f.side == Side::Client {
        target
    } else {
        client
    };
    let _ = options::arm_reset(other.sock_ref());
    Ending::Error(f.error)
}

/// One `close` per side, each with its own bytes read and written.
fn report_closes(conn: Option<u64>, r: &Relayed, started: Instant) {
    let had_error = matches!(r.ending, Ending::Error(_));
    let duration = started.elapsed().as_millis() as u64;
    for (side, read, written) in [
        (Side::Target, r.target_read, r.target_written),
        (Side::Client, r.bytes_read, r.bytes_written),
    ] {
        events::emit(
            "close",
            conn,
            json!({
                "side": side.name(),
                "hadError": had_error,
                "bytesRead": read,
                "bytesWritten": written,
                "durationMs": duration,
            }),
        );
    }
}

/// One direction of a plain pair.
struct Way<'a> {
    src: &'a Stream,
    dst: &'a Stream,
    src_side: Side,
    /// We have ended `src`'s write side (the other direction passed its FIN on).
    src_fin: &'a AtomicBool,
    /// Set when this direction passes the FIN on to `dst`.
    dst_fin: &'a AtomicBool,
    /// The byte count this direction adds to (bytes read from `src`).
    moved: &'a AtomicU64,
    /// Of those, the ones read after the timeout and not passed on.
    dropped: &'a AtomicU64,
    /// Set at the timeout.
    end: watch::Receiver<bool>,
}

/// Copy `src` → `dst` until `src`'s FIN, then pass the FIN on. A 0-byte
/// read that was a reset (the other direction's write took the error) is
/// a failure of `src`, so `dst` is reset too rather than sent a FIN.
async fn one_way(w: Way<'_>, c: &Counters, started: Instant) -> Result<(), Failed> {
    let (src, dst, src_side) = (w.src, w.dst, w.src_side);
    let dst_side = src_side.other();
    let read_failed = |error| Failed {
        side: src_side,
        error,
    };
    let write_failed = |error| Failed {
        side: dst_side,
        error,
    };
    let mut mover = Mover::new(src, dst);
    let end = ended(w.end.clone());
    tokio::pin!(end);
    let mut stopped = false;
    loop {
        // Bytes in hand have gone out: the timeout may end us here.
        let n = tokio::select! {
            biased;
            _ = &mut end => {
                stopped = true;
                break;
            }
            n = when_ready(src, Interest::READABLE, || mover.fill(src.raw_fd())) => n,
        };
        let n = n.map_err(read_failed)?;
        if n == 0 {
            if crate::sys::eof_was_reset(src.raw_fd(), w.src_fin.load(Ordering::SeqCst)) {
                return Err(read_failed(io::Error::from_raw_os_error(libc::ECONNRESET)));
            }
            break;
        }
        touch(c, started);
        w.moved.fetch_add(n as u64, Ordering::Relaxed);
        src_side.progress(n);
        let mut pending = n;
        while pending > 0 {
            let went = when_ready(dst, Interest::WRITABLE, || {
                mover.drain(dst.raw_fd(), pending)
            })
            .await
            .map_err(|e| {
                let fin_sent = w.dst_fin.load(Ordering::SeqCst);
                write_failed(crate::sys::write_error(dst.raw_fd(), e, fin_sent))
            })?;
            pending -= went;
        }
    }
    w.dst_fin.store(true, Ordering::SeqCst);
    match dst.sock_ref().shutdown(std::net::Shutdown::Write) {
        Err(e) if e.kind() != io::ErrorKind::NotConnected => return Err(write_failed(e)),
        _ => {}
    }
    if !stopped {
        return Ok(());
    }
    discard_plain(src, |n| {
        touch(c, started);
        src_side.progress(n);
        w.moved.fetch_add(n as u64, Ordering::Relaxed);
        w.dropped.fetch_add(n as u64, Ordering::Relaxed);
    })
    .await
    .map_err(read_failed)
}

/// After the timeout: read what `src` still sends, count it and drop it,
/// until its FIN.
async fn discard_plain(src: &Stream, mut counted: impl FnMut(usize)) -> io::Result<()> {
    let mut buf = vec![0u8; COPY_SIZE];
    loop {
        match when_ready(src, Interest::READABLE, || src.try_read(&mut buf)).await? {
            0 => return Ok(()),
            n => counted(n),
        }
    }
}

/// One direction of a pair through [`copy`]'s loop.
struct Sides<'a, R, W> {
    src: &'a mut R,
    dst: &'a mut W,
    src_side: Side,
    /// Bytes read from `src`.
    moved: &'a AtomicU64,
    /// Of those, the ones read after the timeout and not passed on.
    dropped: &'a AtomicU64,
    /// Set at the timeout.
    end: watch::Receiver<bool>,
}

/// [`copy`] for one direction of a pair, its errors blamed on the side
/// they came from; after the timeout, what `src` still sends is counted
/// and dropped until its end.
async fn copy_sides<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    w: Sides<'_, R, W>,
    c: &Counters,
    started: Instant,
) -> Result<(), Failed> {
    let src_side = w.src_side;
    let blame = |e| match e {
        PumpError::Read(error) => Failed {
            side: src_side,
            error,
        },
        PumpError::Write(error) => Failed {
            side: src_side.other(),
            error,
        },
    };
    let moved = |n| {
        touch(c, started);
        w.moved.fetch_add(n as u64, Ordering::Relaxed);
        src_side.progress(n);
    };
    let stopped = copy_until(w.src, w.dst, moved, ended(w.end))
        .await
        .map_err(blame)?;
    end_write(w.dst).await.map_err(blame)?;
    if !stopped {
        return Ok(());
    }
    discard_until_end(w.src, |n| {
        touch(c, started);
        src_side.progress(n);
        w.moved.fetch_add(n as u64, Ordering::Relaxed);
        w.dropped.fetch_add(n as u64, Ordering::Relaxed);
    })
    .await
    .map_err(blame)
}

/// Read what `src` still sends, count it and drop it, until its end (FIN,
/// or close_notify under TLS).
pub async fn discard_until_end(
    src: &mut (impl AsyncRead + Unpin),
    mut counted: impl FnMut(usize),
) -> Result<(), PumpError> {
    let mut buf = vec![0u8; COPY_SIZE];
    loop {
        match src.read(&mut buf).await.map_err(PumpError::Read)? {
            0 => return Ok(()),
            n => counted(n),
        }
    }
}

/// Bytes per read of [`copy`]: four full TLS records.
const COPY_SIZE: usize = 64 * 1024;

/// Copy `src` → `dst` until `src` ends, then shut `dst` down (FIN; under
/// TLS close_notify then FIN). The generic path, for streams that are not
/// plain sockets: one buffer of [`COPY_SIZE`], each chunk written and
/// flushed (out of rustls, onto the socket) before the next read, so
/// memory is bounded and a slow reader slows the writer. `moved(n)` is
/// called after each chunk has gone.
pub async fn copy(
    src: &mut (impl AsyncRead + Unpin),
    dst: &mut (impl AsyncWrite + Unpin),
    moved: impl FnMut(usize),
) -> Result<(), PumpError> {
    copy_until_end(src, dst, moved).await?;
    end_write(dst).await
}

/// Shut `dst` down: FIN, under TLS close_notify first.
async fn end_write(dst: &mut (impl AsyncWrite + Unpin)) -> Result<(), PumpError> {
    match dst.shutdown().await {
        // The peer may already be gone after its own end: not a failure.
        Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(PumpError::Write(e)),
        _ => Ok(()),
    }
}

/// [`copy`] without the shutdown at the end: for a connection that is to
/// close with RST (`--reset`), where a FIN (or close_notify) must not go first.
pub async fn copy_until_end(
    src: &mut (impl AsyncRead + Unpin),
    dst: &mut (impl AsyncWrite + Unpin),
    moved: impl FnMut(usize),
) -> Result<(), PumpError> {
    copy_until(src, dst, moved, std::future::pending())
        .await
        .map(|_| ())
}

/// [`copy_until_end`], unless `stop` resolves: it is looked at only
/// between chunks, so what was read has been written. Returns whether it
/// stopped (rather than reached `src`'s end).
async fn copy_until(
    src: &mut (impl AsyncRead + Unpin),
    dst: &mut (impl AsyncWrite + Unpin),
    mut moved: impl FnMut(usize),
    stop: impl Future<Output = ()>,
) -> Result<bool, PumpError> {
    tokio::pin!(stop);
    let mut buf = vec![0u8; COPY_SIZE];
    loop {
        let n = tokio::select! {
            biased;
            _ = &mut stop => return Ok(true),
            n = src.read(&mut buf) => n.map_err(PumpError::Read)?,
        };
        if n == 0 {
            return Ok(false);
        }
        dst.write_all(&buf[..n]).await.map_err(PumpError::Write)?;
        dst.flush().await.map_err(PumpError::Write)?;
        moved(n);
    }
}

/// Run `f` once `s` is ready for `interest`, until it does not block.
async fn when_ready<R>(
    s: &Stream,
    interest: Interest,
    mut f: impl FnMut() -> io::Result<R>,
) -> io::Result<R> {
    loop {
        s.ready(interest).await?;
        match s.try_io(interest, &mut f) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            r => return r,
        }
    }
}

/// How one direction moves bytes: through a pipe with splice(2), or through
/// a buffer with read(2)/write(2).
enum Mover {
    Splice { read: OwnedFd, write: OwnedFd },
    Buffer { buf: Vec<u8>, filled: usize },
}

impl Mover {
    fn new(src: &Stream, dst: &Stream) -> Mover {
        if src.is_plain() && dst.is_plain() {
            if let Ok((read, write)) = make_pipe() {
                return Mover::Splice { read, write };
            }
        }
        Mover::Buffer {
            buf: vec![0; BUFFER_SIZE],
            filled: 0,
        }
    }

    /// Take up to one pipe (or buffer) of bytes from `src`; 0 at its FIN.
    fn fill(&mut self, src: RawFd) -> io::Result<usize> {
        match self {
            Mover::Splice { write, .. } => splice(src, write.as_raw_fd(), SPLICE_LEN),
            Mover::Buffer { buf, filled } => {
                let n = unsafe { libc::read(src, buf.as_mut_ptr().cast(), buf.len()) };
                *filled = sys(n)?;
                Ok(*filled)
            }
        }
    }

    /// Give the last `pending` bytes taken to `dst`; returns how many went.
    fn drain(&mut self, dst: RawFd, pending: usize) -> io::Result<usize> {
        match self {
            Mover::Splice { read, .. } => splice(read.as_raw_fd(), dst, pending),
            Mover::Buffer { buf, filled } => {
                let from = &buf[*filled - pending..*filled];
                let n = unsafe {
                    libc::send(dst, from.as_ptr().cast(), from.len(), libc::MSG_NOSIGNAL)
                };
                sys(n)
            }
        }
    }
}

fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    splice_with(from, to, len, libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK)
}
