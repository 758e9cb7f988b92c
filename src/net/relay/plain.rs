//! A relayed pair between plain sockets: each direction moves bytes
//! socket → pipe → socket with splice(2) (or through one buffer where no
//! pipe can be had), every call non-blocking and driven by tokio's
//! readiness, so a relayed connection costs no thread.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::io::Interest;
use tokio::sync::watch;
use tokio::time::Instant;

use super::copy::COPY_SIZE;
use super::{both_ways, ended, Dropped, Failed, Outcome, Pair, Side};
use crate::net::bridge::{touch, Counters};
use crate::net::splice::{make_pipe, SPLICE_LEN};
use crate::net::stream::Stream;

/// The fallback buffer's size. Through a pipe, each splice(2) asks for as
/// much as the pipe holds ([`SPLICE_LEN`], 1 MiB where allowed): fewer
/// calls and wakeups per byte than 256 KiB moves.
const BUFFER_SIZE: usize = 256 * 1024;

/// Both directions between plain sockets.
pub(super) async fn relay_plain(
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
                *filled = crate::sys::read(src, buf)?;
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
                crate::sys::send(dst, from)
            }
        }
    }
}

fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    crate::sys::splice(from, to, len, libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK)
}
