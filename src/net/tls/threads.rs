//! TLS between one socket and this process's stdin/stdout on two plain
//! threads, for `connect` and one-connection `listen`: the TLS counterpart
//! of the splice(2) path.
//!
//! The async path (tokio-rustls over chunk channels) hands every 64 KiB
//! through a channel and wakes a thread for it, and rustls reads one record
//! per recv(2); on the bulk benchmark the futex wake-ups and context
//! switches cost more than the cipher. Here, after the handshake, the
//! rustls connection moves behind a mutex shared by two blocking threads:
//!
//! - up: read(2) stdin in large pieces, encrypt them under the connection
//!   lock and let rustls write the records straight into the socket (one
//!   writev(2) for many), never waiting under the lock: when the socket is
//!   full the lock is let go first;
//! - down: read(2) the socket in large pieces, feed them to rustls and
//!   decrypt under the lock, write the plaintext to stdout outside it (a
//!   slow stdout must not hold up the up side).
//!
//! rustls still does everything TLS: records, alerts, close_notify,
//! KeyUpdate and the key-usage limits. Writing to the socket is serialised
//! by a second mutex, the right to write, so records never interleave; the
//! down side can need to write too (rustls answers a KeyUpdate, or sends
//! the alert of a failure), and when the up side holds that right it
//! flushes the down side's records before letting go, so nothing waits for
//! the next line of input. The socket stays non-blocking (tokio owns it):
//! both threads wait for it with poll(2).
//!
//! `bytesWritten` is exact, also when our side is stopped while the socket
//! is full (the peer ended and reads no more): a piece of stdin is handed
//! to rustls only when rustls holds nothing else, the bytes each flush puts
//! on the wire are counted, and a piece cut short is credited with the
//! records that went out whole — the peer can decrypt those and no others.
//! Its records are known from the piece's length, rustls's fragment size
//! and the suite's fixed overhead (`tls::records`); counting that way
//! keeps the one writev(2) for many records.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::records::RecordSizes;
use crate::net::activity::DownEnd;
use crate::net::splice::{self, PumpError};
use crate::sys::{self, poll_or_stop, Stop};

/// Bytes read from stdin or the socket per call.
const CHUNK: usize = 256 * 1024;

/// How the up side ended, when it did not fail.
#[derive(Debug)]
pub enum UpEnd {
    /// stdin's EOF: close_notify and FIN were sent.
    Eof,
    /// Our side was ended from elsewhere; `held`: a piece of stdin had been
    /// read and never went out.
    Stopped { held: bool },
}

/// One TLS connection shared by the up and down threads.
pub struct Shared {
    conn: Mutex<rustls::Connection>,
    records: RecordSizes,
    /// The right to write to the socket, and whether our side has ended.
    tx: Mutex<Tx>,
    /// The down side left records in rustls for the socket.
    pending: AtomicBool,
    /// Our side has ended (close_notify and FIN on their way): a 0-byte
    /// read after it is not taken for a reset.
    fin_sent: AtomicBool,
    sock: OwnedFd,
}

struct Tx {
    ended: bool,
    /// Bytes written to the socket so far, records of every kind.
    wire: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Take over `conn` (handshake done) on `sock`, a descriptor of our own.
    pub fn new(mut conn: rustls::Connection, sock: OwnedFd) -> Shared {
        // Our own chunk size bounds what is buffered; rustls's 64 KiB limit
        // would make it refuse part of each chunk.
        conn.set_buffer_limit(None);
        Shared {
            records: RecordSizes::of(&conn),
            conn: Mutex::new(conn),
            tx: Mutex::new(Tx {
                ended: false,
                wire: 0,
            }),
            pending: AtomicBool::new(false),
            fin_sent: AtomicBool::new(false),
            sock,
        }
    }

    fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// Write every record rustls has for the socket, waiting for room as
    /// `wait` says; false if it gave up first. The caller holds the
    /// right to write (`tx`). rustls writes straight into the socket (one
    /// writev(2) for many records) while the connection is locked, but
    /// never waits under the lock: when the socket is full the lock is let
    /// go, so the down side keeps reading while we wait to write.
    fn flush(&self, tx: &mut Tx, wait: Wait<'_>) -> io::Result<bool> {
        loop {
            self.pending.store(false, Ordering::Release);
            let full = {
                let mut conn = lock(&self.conn);
                loop {
                    if !conn.wants_write() {
                        break false;
                    }
                    match conn.write_tls(&mut SocketWriter(self.fd())) {
                        Ok(n) => tx.wire += n as u64,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break true,
                        Err(e) => return Err(e),
                    }
                }
            };
            if full {
                if !wait.for_room(self.fd())? {
                    return Ok(false);
                }
            } else if !self.pending.load(Ordering::Acquire) {
                return Ok(true);
            }
        }
    }

    /// Flush what the down side left, unless the up side is writing (it
    /// flushes before it lets go of the right to write).
    fn flush_pending(&self) -> io::Result<()> {
        while self.pending.load(Ordering::Acquire) {
            match self.tx.try_lock() {
                Ok(mut tx) => self.flush(&mut tx, Wait::Forever).map(drop)?,
                Err(std::sync::TryLockError::Poisoned(p)) => {
                    self.flush(&mut p.into_inner(), Wait::Forever).map(drop)?
                }
                Err(std::sync::TryLockError::WouldBlock) => return Ok(()),
            }
        }
        Ok(())
    }

    /// End our side: close_notify then FIN (nothing with `reset`: the
    /// socket is armed to close with RST; only the FIN when not
    /// `graceful`: the connection has failed, and a peer that no longer
    /// reads must not keep us waiting to send close_notify). Waiting for
    /// room for close_notify is bounded by `END_WAIT`. Idempotent; later
    /// input is dropped.
    pub fn end(&self, reset: bool, graceful: bool) -> io::Result<()> {
        let mut tx = lock(&self.tx);
        self.end_locked(&mut tx, reset, graceful)
    }

    fn end_locked(&self, tx: &mut Tx, reset: bool, graceful: bool) -> io::Result<()> {
        if tx.ended {
            return Ok(());
        }
        tx.ended = true;
        if reset {
            if graceful {
                crate::net::options::drain_before_reset(self.fd())?;
            }
            return Ok(());
        }
        self.fin_sent.store(true, Ordering::SeqCst);
        let mut r = Ok(true);
        if graceful {
            lock(&self.conn).send_close_notify();
            r = self.flush(tx, Wait::Until(Instant::now() + END_WAIT));
        }
        sys::shutdown_write(self.fd());
        match r {
            // The peer may already be gone after its own close; not a failure.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => Ok(()),
            r => r.map(drop),
        }
    }

    /// stdin → TLS → socket until stdin ends (then close_notify and FIN,
    /// unless `reset`) or our side is ended from elsewhere (`stop` wakes a
    /// wait for stdin). A read error on stdin ends input like EOF.
    /// `moved(n)` after every `n` plaintext bytes on the wire in whole
    /// records, counted before the right to write is let go, so whoever
    /// ends our side next sees the count.
    ///
    /// Unlike the splice(2) path, a stdin pipe is not grown: read(2) copies
    /// under the pipe's lock, and with a megabyte of room the writer keeps
    /// spinning on that lock while we copy (figures in bench/README.md,
    /// "Figures once quoted in the code").
    pub fn up(
        &self,
        input: RawFd,
        reset: bool,
        stop: &Stop,
        moved: impl FnMut(usize),
    ) -> io::Result<UpEnd> {
        self.up_until_end(input, reset, stop, moved)
            .map_err(|e| sys::write_error(self.fd(), e, self.fin_sent.load(Ordering::SeqCst)))
    }

    fn up_until_end(
        &self,
        input: RawFd,
        reset: bool,
        stop: &Stop,
        mut moved: impl FnMut(usize),
    ) -> io::Result<UpEnd> {
        let mut buf = vec![0u8; CHUNK];
        loop {
            // An error here is left for the read to report.
            if poll_or_stop(input, libc::POLLIN, Some(stop)).unwrap_or(false) {
                return Ok(UpEnd::Stopped { held: false });
            }
            let n = sys::read_retrying(input, &mut buf).unwrap_or(0);
            let mut tx = lock(&self.tx);
            if tx.ended {
                return Ok(UpEnd::Stopped { held: n > 0 });
            }
            if n == 0 {
                self.end_locked(&mut tx, reset, true)?;
                return Ok(UpEnd::Eof);
            }
            if !self.queue_alone(&mut tx, &buf[..n], stop)? {
                return Ok(UpEnd::Stopped { held: true });
            }
            let start = tx.wire;
            // Stopped while the socket is full: rustls holds the rest, and
            // only the records that went out whole count.
            if !self.flush(&mut tx, Wait::Stop(stop))? {
                moved(self.records.whole(n, tx.wire - start));
                return Ok(UpEnd::Stopped { held: true });
            }
            moved(n);
            drop(tx);
            self.flush_pending()?;
        }
    }

    /// Hand `piece` to rustls once it holds nothing else for the socket
    /// (what the down side queued is flushed first), so that the next
    /// bytes on the wire are the piece's records. False if stopped first.
    fn queue_alone(&self, tx: &mut Tx, piece: &[u8], stop: &Stop) -> io::Result<bool> {
        loop {
            {
                let mut conn = lock(&self.conn);
                if !conn.wants_write() {
                    conn.writer().write_all(piece)?;
                    return Ok(true);
                }
            }
            if !self.flush(tx, Wait::Stop(stop))? {
                return Ok(false);
            }
        }
    }

    /// socket → TLS → `output` (or nowhere) until the peer's close_notify.
    /// A FIN without close_notify is a truncation: `UnexpectedEof`.
    pub fn down(&self, output: Option<RawFd>, moved: impl FnMut(usize)) -> io::Result<DownEnd> {
        // The down side writes too (alerts, KeyUpdate answers): its EPIPE
        // after a reset is the reset.
        self.down_until_end(output, moved)
            .map_err(|e| sys::write_error(self.fd(), e, self.fin_sent.load(Ordering::SeqCst)))
    }

    fn down_until_end(
        &self,
        output: Option<RawFd>,
        mut moved: impl FnMut(usize),
    ) -> io::Result<DownEnd> {
        // Records rustls queued during or right after the handshake.
        self.pending.store(true, Ordering::Release);
        self.flush_pending()?;
        let mut reader = SocketReader::new(self.fd());
        let mut wire = vec![0u8; CHUNK];
        let mut plain = vec![0u8; CHUNK + 64 * 1024];
        // The handshake may have read records already: take those first.
        let mut n = None;
        loop {
            let (filled, status) = match n {
                None => self.decrypt(&[], false, &mut plain),
                Some(n) => self.decrypt(&wire[..n], n == 0, &mut plain),
            };
            self.flush_pending()?;
            if filled > 0 {
                if let Some(out) = output {
                    match splice::write_all(out, &plain[..filled], &mut |_| {}) {
                        Ok(()) => {}
                        Err(PumpError::Write(e)) if e.raw_os_error() == Some(libc::EPIPE) => {
                            return Ok(DownEnd::StdoutClosed)
                        }
                        Err(PumpError::Write(e) | PumpError::Read(e)) => return Err(e),
                    }
                }
                moved(filled);
            }
            match status? {
                true => return Ok(DownEnd::Eof),
                // EOF on the socket without close_notify is reported by
                // rustls's reader (a truncation); this is only a backstop.
                false if n == Some(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                false => {}
            }
            let got = reader.read(&mut wire)?;
            if got == 0 && sys::eof_was_reset(self.fd(), self.fin_sent.load(Ordering::SeqCst)) {
                return Err(io::Error::from_raw_os_error(libc::ECONNRESET));
            }
            n = Some(got);
        }
    }

    /// Feed `wire` to rustls (with `eof`: tell it of the socket's EOF) and
    /// take the plaintext out into `plain`, growing it if needed. Returns
    /// the plaintext length, and whether the peer has cleanly closed or the
    /// error that ends the connection (delivered after the plaintext).
    fn decrypt(
        &self,
        mut wire: &[u8],
        eof: bool,
        plain: &mut Vec<u8>,
    ) -> (usize, io::Result<bool>) {
        let mut filled = 0;
        let mut conn = lock(&self.conn);
        let mut feed = !wire.is_empty() || eof;
        loop {
            if feed {
                // rustls takes up to about one record per call; an empty
                // `wire` tells it of the EOF.
                if let Err(e) = conn.read_tls(&mut wire) {
                    return (filled, Err(e));
                }
            }
            let state = match conn.process_new_packets() {
                Ok(s) => s,
                Err(e) => {
                    // rustls queued the alert that says why: send it.
                    drop(conn);
                    self.pending.store(true, Ordering::Release);
                    let _ = self.flush_pending();
                    return (filled, Err(io::Error::new(io::ErrorKind::InvalidData, e)));
                }
            };
            let mut ready = state.plaintext_bytes_to_read();
            if plain.len() < filled + ready {
                plain.resize(filled + ready, 0);
            }
            while ready > 0 {
                match conn.reader().read(&mut plain[filled..filled + ready]) {
                    Ok(0) => break,
                    Ok(n) => {
                        filled += n;
                        ready -= n;
                    }
                    Err(e) => return (filled, Err(e)),
                }
            }
            if state.peer_has_closed() {
                return (filled, Ok(true));
            }
            if wire.is_empty() {
                break;
            }
            feed = true;
        }
        if conn.wants_write() {
            self.pending.store(true, Ordering::Release);
        }
        if eof {
            // Not closed cleanly: rustls's reader says UnexpectedEof.
            let mut probe = [0u8; 1];
            return match conn.reader().read(&mut probe) {
                Ok(0) => (filled, Ok(true)),
                Ok(_) => (filled, Err(io::ErrorKind::InvalidData.into())),
                Err(e) => (filled, Err(e)),
            };
        }
        (filled, Ok(false))
    }
}

/// How long ending our side may wait for room to send close_notify.
const END_WAIT: Duration = Duration::from_secs(1);

/// How a flush waits for room on a full socket.
#[derive(Clone, Copy)]
enum Wait<'a> {
    Forever,
    /// Until the input is stopped (the peer ended, a timeout).
    Stop(&'a Stop),
    Until(Instant),
}

impl Wait<'_> {
    /// Wait for `fd` to take more; false if this wait gives up first.
    fn for_room(self, fd: RawFd) -> io::Result<bool> {
        match self {
            Wait::Forever => sys::wait(fd, libc::POLLOUT).map(|()| true),
            Wait::Stop(stop) => poll_or_stop(fd, libc::POLLOUT, Some(stop)).map(|stopped| !stopped),
            Wait::Until(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                let ms = left.as_millis().min(i32::MAX as u128) as libc::c_int;
                Ok(ms > 0 && sys::poll_for(fd, libc::POLLOUT, ms)?)
            }
        }
    }
}

/// The non-blocking socket as rustls's sink: EAGAIN (and EINTR) are
/// `WouldBlock`, so rustls keeps what did not fit.
struct SocketWriter(RawFd);

impl Write for SocketWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        sys::write(self.0, buf).map_err(would_block)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        sys::writev(self.0, bufs).map_err(would_block)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn would_block(e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(libc::EAGAIN) {
        return io::ErrorKind::WouldBlock.into();
    }
    e
}

/// Reads the non-blocking socket, waiting with poll(2) when it is empty,
/// and coalesces wake-ups while bytes stream in: once reads come back
/// large, SO_RCVLOWAT asks the kernel not to wake us before [`LOWAT`]
/// bytes are queued (each wake-up costs the sending side an inter-CPU
/// wake in `sock_def_readable`, the largest single item in its profile),
/// for at most [`LINGER_MS`]; a read that comes back small, or the linger
/// running out, goes back to waking on every byte. It takes context
/// switches and both ends' CPU down on bulk TLS transfers; the splice(2)
/// path does not do it (there the sender copies nothing, and coalescing
/// made plain transfers slower, not cheaper). Figures in bench/README.md.
struct SocketReader {
    fd: RawFd,
    bulk: bool,
}

/// A read at least this large means bytes are streaming in.
const BULK_READ: usize = 32 * 1024;
/// Bytes the kernel queues before it wakes a bulk reader.
const LOWAT: usize = 192 * 1024;
/// How long a bulk reader waits for [`LOWAT`] bytes before taking less.
const LINGER_MS: libc::c_int = 1;

impl SocketReader {
    fn new(fd: RawFd) -> SocketReader {
        SocketReader { fd, bulk: false }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match sys::read(self.fd, buf) {
                Ok(n) => {
                    self.set_bulk(n >= BULK_READ);
                    return Ok(n);
                }
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                    if !self.bulk {
                        sys::wait(self.fd, libc::POLLIN)?;
                    } else if !sys::poll_for(self.fd, libc::POLLIN, LINGER_MS)? {
                        // Fewer than LOWAT bytes came: take them as they are.
                        self.set_bulk(false);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn set_bulk(&mut self, bulk: bool) {
        if bulk == self.bulk {
            return;
        }
        let lowat = if bulk { LOWAT as libc::c_int } else { 1 };
        // Where the option is refused (a Unix socket), stay as we are.
        if sys::set_rcvlowat(self.fd, lowat) {
            self.bulk = bulk;
        }
    }
}
