//! Copying between one connection and a pair of chunk channels (stdin and
//! stdout, or their fan-out with `listen -k`), with Node's half-close rules.
//!
//! The table in SPEC.md is implemented here and only here:
//! - our input ends → FIN (`socket.end()`), keep reading until the peer's FIN;
//! - the peer's FIN (`'end'`) → by default write what is pending, FIN, stop
//!   reading input; with `allowHalfOpen` keep sending input until it ends;
//! - a reset → `error` ECONNRESET, `close` with hadError;
//! - the peer's FIN while our input still holds bytes (stdin not at its
//!   end, a chunk read and not sent) → Node's `writeAfterFIN`: `error`
//!   EPIPE, `close` with hadError, exit 1; those bytes were never delivered;
//! - idle for `timeout` → `timeout`, then `end()`: FIN, and what the peer
//!   still sends is delivered (and counted) until its FIN or until it is
//!   silent for another `timeout`; the caller exits 4;
//! - `linger` (nc's `-q`): once input has ended, the peer gets that long to
//!   end its side; then the connection closes, a chosen end (not an error);
//! - `no_shutdown` (ncat's `--no-shutdown`): input's end sends no FIN; our
//!   side ends (FIN) only at the peer's FIN, the linger or the timeout.
//!
//! A 0-byte read is only a FIN when the socket says so: a reset is
//! reported once, to whichever direction asks first, so the other one's
//! read returns 0 (see [`crate::sys::eof_was_reset`]).
//!
//! Both directions are bounded: the socket is read only when the previous
//! chunk has been taken by stdout, and input is read only as fast as the
//! socket takes it.
//!
//! The two transports are `channels` (the socket on tokio, chunk channels)
//! and `threads` (stdin and stdout on two threads of their own).

mod channels;
#[cfg(target_os = "linux")]
mod threads;
#[cfg(not(target_os = "linux"))]
mod threads {
    //! No thread bridges off Linux ([`super::stdio_threads_apply`] is
    //! false): stdin and stdout always go through the chunk channels.

    use std::io;
    use std::sync::Arc;

    use super::{BridgeOptions, DownFuture, UpFuture};
    use crate::net::activity::Activity;
    use crate::net::stream::Stream;

    #[allow(dead_code)] // the Linux module's fields, never read here
    pub(super) struct Ctx {
        pub read_stdin: bool,
        pub write_stdout: bool,
        pub stop_input: Arc<tokio::sync::Notify>,
        pub activity: Arc<Activity>,
        pub opts: BridgeOptions,
    }

    pub(super) fn start(
        _stream: Stream,
        _ctx: Ctx,
    ) -> io::Result<(UpFuture<'static>, DownFuture<'static>)> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no stdin/stdout threads on this platform",
        ))
    }
}

use channels::{receive_output, send_input, Input};

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use tokio::sync::{mpsc, Notify};

use crate::events;
use crate::net::activity::{Activity, Closed, DownEnd};
use crate::net::options;
use crate::net::stream::Stream;
use crate::progress;
use crate::sys::{self, RawFd};

/// How a bridged connection ended: the callers match on it.
pub(crate) use crate::net::activity::Ending;

/// Node's per-socket behaviour that the bridge needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct BridgeOptions {
    pub allow_half_open: bool,
    /// Idle timeout (`setTimeout()`).
    pub timeout: Option<Duration>,
    /// Close with RST instead of FIN.
    pub reset: bool,
    /// Stdin and stdout may be bridged on two threads ([`Io::Stdio`]); off,
    /// they always go through chunk channels.
    pub splice: bool,
    /// After input's end, how long the peer may take to end its side.
    pub linger: Option<Duration>,
    /// Input's end sends no FIN (the channel path only: see [`Io`]).
    pub no_shutdown: bool,
}

/// `n` bytes came from the peer: counted here and in the process's
/// progress meter, and the idle clock starts again.
fn received(a: &Activity, n: usize) {
    a.touch();
    a.count_read(n);
    progress::meter()
        .received
        .fetch_add(n as u64, Ordering::Relaxed);
}

/// `n` bytes went to the peer (see [`received`]).
fn sent(a: &Activity, n: usize) {
    a.touch();
    a.count_written(n);
    progress::meter()
        .sent
        .fetch_add(n as u64, Ordering::Relaxed);
}

/// What the two directions tell each other beyond their results.
#[derive(Default)]
struct Ends {
    /// The peer's FIN arrived (a permit is kept if nobody waits).
    peer_fin: Notify,
    /// Input reached its end and, under `no_shutdown`, our FIN was held
    /// back.
    input_eof: Notify,
}

/// How our input side ended, when it did not fail.
enum InputEnd {
    /// Input reached its end; our FIN went out (unless `--reset`).
    Finished,
    /// Ended from here (the peer's FIN, a timeout); `unsent`: input still
    /// held bytes that never reached the peer.
    Stopped { unsent: bool },
}

/// Node's `writeAfterFIN`: the peer ended the connection while our input
/// still had bytes for it.
#[derive(Debug)]
pub(crate) struct WriteAfterFin;

impl std::fmt::Display for WriteAfterFin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("This socket has been ended by the other party")
    }
}

impl std::error::Error for WriteAfterFin {}

impl WriteAfterFin {
    /// The error, as Node's `EPIPE`.
    pub(crate) fn error() -> io::Error {
        io::Error::new(io::ErrorKind::BrokenPipe, WriteAfterFin)
    }

    pub(crate) fn is(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|inner| inner.is::<WriteAfterFin>())
    }
}

/// A 0-byte read on `fd`: the peer's FIN, or a reset another call took.
fn eof_or_reset(fd: RawFd, a: &Activity) -> io::Result<DownEnd> {
    if sys::eof_was_reset(fd, a.fin_sent.load(Ordering::SeqCst)) {
        return Err(io::Error::from_raw_os_error(crate::sys::errno::ECONNRESET));
    }
    Ok(DownEnd::Eof)
}

/// Where a bridged connection's bytes come from and go to.
pub enum Io {
    /// Chunks through channels: stdin/stdout threads, `listen -k`'s fan-out,
    /// `--send` text. `input: None` is `--recv-only` (never half-close);
    /// `output: None` is `--send-only` (received bytes are discarded).
    /// `stdin`: the input is this process's stdin ([`crate::net::stdio::stdin_chunks`]),
    /// so bytes still unread there count as unsent at the peer's FIN.
    Channels {
        input: Option<mpsc::Receiver<Bytes>>,
        output: Option<mpsc::Sender<Bytes>>,
        stdin: bool,
    },
    /// The process's own stdin and stdout, on two threads: splice(2) for
    /// plain sockets, rustls on blocking threads for TLS (see
    /// [`stdio_threads_apply`]).
    Stdio {
        read_stdin: bool,
        write_stdout: bool,
    },
}

/// Whether the zero-copy path may carry this stream: Linux, no TLS, and
/// `allowed` (see [`BridgeOptions::splice`]).
pub(crate) fn splice_applies(stream: &Stream, allowed: bool) -> bool {
    cfg!(target_os = "linux") && stream.is_plain() && allowed
}

/// Whether stdin/stdout may be bridged on two threads ([`Io::Stdio`]):
/// splice(2) for plain sockets, rustls on blocking threads for TLS. The
/// same `allowed` switches both off.
pub(crate) fn stdio_threads_apply(stream: &Stream, allowed: bool) -> bool {
    splice_applies(stream, allowed) || (cfg!(target_os = "linux") && !stream.is_plain() && allowed)
}

type UpFuture<'a> = Pin<Box<dyn Future<Output = io::Result<InputEnd>> + Send + 'a>>;
type DownFuture<'a> = Pin<Box<dyn Future<Output = io::Result<DownEnd>> + Send + 'a>>;

/// Bridge `stream` to `io` with the half-close rules. Emits `end`,
/// `timeout`, `error` and `close` for connection `conn`.
pub(crate) async fn bridge(
    stream: Stream,
    conn: Option<u64>,
    io: Io,
    opts: BridgeOptions,
) -> Closed {
    bridge_until(stream, conn, io, opts, std::future::pending()).await
}

/// [`bridge`], unless `stop` resolves first (a server's second signal):
/// then the connection ends at once with that error, its `close` carrying
/// the bytes it moved.
pub(crate) async fn bridge_until(
    stream: Stream,
    conn: Option<u64>,
    io: Io,
    opts: BridgeOptions,
    stop: impl Future<Output = io::Error>,
) -> Closed {
    let activity = Arc::new(Activity::new());
    if opts.reset {
        // SO_LINGER 0 now: no FIN is ever sent, and the final close is a RST.
        let _ = options::arm_reset(stream.sock_ref());
    }
    let stop_input = Arc::new(Notify::new());
    let ends = Arc::new(Ends::default());
    let (recv_only, up, down): (bool, UpFuture<'_>, DownFuture<'_>) = match io {
        Io::Channels {
            input,
            output,
            stdin,
        } => {
            let fd = stream.raw_fd();
            let tls = !stream.is_plain();
            let (rd, wr) = tokio::io::split(stream);
            let input = Input {
                rx: input,
                fd,
                stdin,
                stop: stop_input.clone(),
                reset: opts.reset,
                tls,
                no_shutdown: opts.no_shutdown.then(|| ends.clone()),
            };
            (
                input.rx.is_none(),
                Box::pin(send_input(wr, input, activity.clone())),
                Box::pin(receive_output(rd, fd, output, activity.clone())),
            )
        }
        Io::Stdio {
            read_stdin,
            write_stdout,
        } => {
            let ctx = threads::Ctx {
                read_stdin,
                write_stdout,
                stop_input: stop_input.clone(),
                activity: activity.clone(),
                opts,
            };
            match threads::start(stream, ctx) {
                Ok((up, down)) => (!read_stdin, up, down),
                Err(e) => {
                    let ending = Ending::Error(e);
                    activity.report_close(conn, &ending);
                    return activity.closed(ending);
                }
            }
        }
    };
    let half = Halves {
        conn,
        recv_only,
        stop_input: &stop_input,
        ends: &ends,
        activity: &activity,
        opts,
    };
    let ending = tokio::select! {
        ending = half.drive(up, down) => ending,
        e = stop => Ending::Error(e),
    };
    activity.report_close(conn, &ending);
    activity.closed(ending)
}

/// One bridged connection's two directions and what ends them.
struct Halves<'a> {
    conn: Option<u64>,
    recv_only: bool,
    stop_input: &'a Notify,
    ends: &'a Ends,
    activity: &'a Activity,
    opts: BridgeOptions,
}

impl Halves<'_> {
    fn linger_from_now(&self) -> Option<tokio::time::Instant> {
        self.opts.linger.map(|d| tokio::time::Instant::now() + d)
    }

    /// The half-close table, over whichever pair of directions.
    async fn drive(&self, mut up: UpFuture<'_>, mut down: DownFuture<'_>) -> Ending {
        let (mut up_done, mut down_done) = (false, false);
        // Input was stopped because of the peer's FIN (not a timeout).
        let mut peer_ended = false;
        let mut timed_out = false;
        // When the linger after input's end runs out, and whether it has.
        let mut linger_until = None;
        let mut lingered = false;
        let finished = |timed_out| {
            if timed_out {
                Ending::Timeout
            } else {
                Ending::Done
            }
        };
        loop {
            if up_done && down_done {
                return finished(timed_out);
            }
            tokio::select! {
                r = &mut down, if !down_done => {
                    down_done = true;
                    match r {
                        Ok(DownEnd::Eof) => {
                            events::emit("end", self.conn, json!({}));
                            self.ends.peer_fin.notify_one();
                            let stop = !self.opts.allow_half_open || self.recv_only;
                            if stop && !timed_out && !up_done {
                                peer_ended = true;
                                self.stop_input.notify_one();
                            }
                        }
                        Ok(DownEnd::StdoutClosed) => return Ending::StdoutClosed,
                        Err(e) => return Ending::Error(e),
                    }
                }
                r = &mut up, if !up_done => {
                    up_done = true;
                    match r {
                        Ok(InputEnd::Stopped { unsent: true }) if peer_ended => {
                            return Ending::Error(WriteAfterFin::error());
                        }
                        Ok(_) if lingered => return finished(timed_out),
                        Ok(InputEnd::Finished) if linger_until.is_none() => {
                            linger_until = self.linger_from_now();
                        }
                        Ok(_) => {}
                        Err(e) => return Ending::Error(e),
                    }
                    // Input is over and the socket closes with RST now
                    // (after the linger, if there is one).
                    if self.opts.reset && linger_until.is_none() {
                        return finished(timed_out);
                    }
                }
                _ = self.ends.input_eof.notified(), if linger_until.is_none() && !up_done => {
                    linger_until = self.linger_from_now();
                }
                _ = sleep_until(linger_until), if linger_until.is_some() && !lingered => {
                    // The peer had its time: end our side (the held FIN
                    // goes now) and close without waiting for the peer.
                    lingered = true;
                    if up_done {
                        return finished(timed_out);
                    }
                    self.stop_input.notify_one();
                }
                _ = self.activity.idle(self.opts.timeout) => {
                    if timed_out {
                        // Silent for another timeout since our FIN: give up.
                        return Ending::Timeout;
                    }
                    timed_out = true;
                    self.activity.timed_out(self.conn);
                    // end(): the input side finishes its write, then FINs;
                    // what the peer still sends keeps coming.
                    if !up_done {
                        self.stop_input.notify_one();
                    }
                }
            }
        }
    }
}

/// Sleep until `at`; never, without one.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
