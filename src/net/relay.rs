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
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{json, Map};
use tokio::sync::watch;

use crate::events;
use crate::net::activity::{close_fields, Activity, Closed, Ending};
use crate::net::options;
use crate::net::stream::Stream;
use crate::net::tls;

mod copy;
#[cfg(target_os = "linux")]
mod plain;

use copy::relay_tls;
pub(crate) use copy::{copy, copy_until_end, discard_until_end, PumpError};
#[cfg(target_os = "linux")]
use plain::relay_plain;

/// Node's per-socket options that apply to a relayed pair.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RelayOptions {
    /// Idle timeout for the pair (`setTimeout()`): nothing moved either way.
    pub timeout: Option<Duration>,
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
pub(crate) enum Side {
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
/// `timeout` and one `close` per side for connection `conn`; returns the
/// client's side (its bytes read are written to the target, but for those
/// that came after a timeout had ended the pair).
pub(crate) async fn relay(
    mut client: Stream,
    mut target: Stream,
    conn: Option<u64>,
    opts: RelayOptions,
    forced: impl Future<Output = io::Error>,
) -> Closed {
    // The client's books: what it sent is `read`, what went back `written`.
    let activity = Activity::new();
    let dropped = Dropped::default();
    // The receiver is kept so the timeout's send is never refused.
    let (end, _end) = watch::channel(false);
    let pair = Pair {
        activity: &activity,
        timeout: opts.timeout,
        end: &end,
        dropped: &dropped,
        conn,
    };
    let work = async {
        // splice(2) between plain sockets on Linux; the copy loop elsewhere.
        #[cfg(target_os = "linux")]
        if client.is_plain() && target.is_plain() {
            return relay_plain(&client, &target, &pair).await;
        }
        relay_tls(&mut client, &mut target, &pair).await
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
    let (read, written) = (activity.bytes_read(), activity.bytes_written());
    let client = (read, written - dropped.down.load(Ordering::Relaxed));
    let target = (written, read - dropped.up.load(Ordering::Relaxed));
    if events::enabled() {
        let sides = [(Side::Target, target), (Side::Client, client)];
        report_closes(conn, &ending, sides, activity.duration_ms());
    }
    Closed {
        ending,
        bytes_read: client.0,
        bytes_written: client.1,
    }
}

/// What both directions of a pair share.
struct Pair<'a> {
    /// Counts for both: the client's `read` is the up direction's bytes,
    /// its `written` the down direction's.
    activity: &'a Activity,
    timeout: Option<Duration>,
    /// Set at the timeout: each direction ends its destination.
    end: &'a watch::Sender<bool>,
    dropped: &'a Dropped,
    conn: Option<u64>,
}

/// One direction of a pair, as both kinds of copy loop count it.
struct Leg<'a> {
    /// The socket it reads from.
    src_side: Side,
    activity: &'a Activity,
    /// Bytes read from the source (the client's `read` or `written`).
    moved: &'a AtomicU64,
    /// Of those, the ones read after the timeout and not passed on.
    dropped: &'a AtomicU64,
    /// Set at the timeout.
    end: watch::Receiver<bool>,
}

impl<'a> Leg<'a> {
    /// The direction that reads from `src_side`.
    fn from(src_side: Side, pair: &Pair<'a>) -> Leg<'a> {
        let (moved, dropped) = match src_side {
            Side::Client => (&pair.activity.read, &pair.dropped.up),
            Side::Target => (&pair.activity.written, &pair.dropped.down),
        };
        Leg {
            src_side,
            activity: pair.activity,
            moved,
            dropped,
            end: pair.end.subscribe(),
        }
    }

    /// `n` bytes read from the source and passed on.
    fn passed(&self, n: usize) {
        self.activity.touch();
        self.moved.fetch_add(n as u64, Ordering::Relaxed);
        self.src_side.progress(n);
    }

    /// `n` bytes read from the source after the timeout, and dropped.
    fn discarded(&self, n: usize) {
        self.passed(n);
        self.dropped.fetch_add(n as u64, Ordering::Relaxed);
    }
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
            _ = pair.activity.idle(pair.timeout) => {
                if timed_out {
                    return Outcome::Timeout;
                }
                timed_out = true;
                pair.activity.timed_out(pair.conn);
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

/// One `close` per side, each with its own bytes (read, written).
fn report_closes(conn: Option<u64>, ending: &Ending, sides: [(Side, (u64, u64)); 2], ms: u64) {
    for (side, bytes) in sides {
        let mut first = Map::new();
        first.insert("side".into(), side.name().into());
        events::emit("close", conn, close_fields(first, ending, bytes, ms));
    }
}
