//! `wirecat echo`'s io_uring engine (Linux): one ring per accept loop
//! replaces that loop's tokio runtime, its accept loop and its connection
//! tasks, for plain echo servers (no TLS, no `--timeout`, not `--once`).
//!
//! Why: under connection churn the tokio path cost ~1.2x a C epoll server
//! (bench/floor-echo.c) in CPU per connection, spread over task spawning,
//! wakers and the reactor, and a C io_uring server (bench/floor-uring.c)
//! was lower still (churn 23.9 µs/conn tokio, 20.1 epoll, 18.0 io_uring,
//! Node 68.6; 64 B ping-pong 5.38, 4.28, 3.80, Node 7.41). This engine
//! measured 17-18 µs a connection and 3.1-3.5 µs at 64 B (bench/README.md,
//! "echo on io_uring"). What it gives up: 16 KiB messages cost 17-22 %
//! more than on the tokio path, which splices large reads socket → pipe →
//! socket where the ring copies them in and out (io_uring's splice runs
//! on worker threads, so it is not used here). It is that C server's
//! design, with every behaviour of the tokio path:
//!
//! - one thread, one ring (single issuer, deferred task work); a multishot
//!   accept; each connection a multishot recv into a provided buffer ring
//!   shared by the loop's connections, and one send per received buffer,
//!   straight from it, in order (at most one send in flight per
//!   connection); the buffer goes back to the ring once sent; closes go
//!   through the ring;
//! - an idle connection holds no buffer (its state is a few dozen bytes);
//!   one that holds [`MAX_HELD`] buffers because its client does not read
//!   has its recv cancelled (again if the kernel answers EALREADY) and
//!   re-armed once its queue drains, so a slow reader slows only itself.
//!   Bytes that still arrive before the cancellation takes (a multishot
//!   recv takes up to 32 buffers in one go) are copied to the connection's
//!   own memory and their buffers go back at once: no number of clients
//!   that do not read can hold the ring's last buffers (with 40 of them,
//!   before the copies, the others starved). A recv that finds the ring
//!   empty (ENOBUFS) parks its connection until buffers come back, without
//!   spinning;
//! - admission, `maxConnections`, ids, the `connection`/`drop`/`close`
//!   events, accept errors with their backoff, the totals and the progress
//!   line are the shared ones from [`crate::net::listen`];
//! - shutdown is the shared [`Shutdown`], seen through an eventfd that a
//!   task on the main runtime writes at each level: the first signal
//!   cancels the accept and closes the listening socket, the second ends
//!   the open connections (their recvs and sends cancelled, then closed),
//!   each with its `error` (ECONNABORTED) and `close` and its bytes in
//!   the totals, as on the tokio path.
//!
//! No request ever outlives what it points at: a connection's socket is
//! closed only once its recv has posted its last completion and its send
//! is done, and the loop returns only once nothing is in flight.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use io_uring::{cqueue, opcode, squeue, types, IoUring};
use serde_json::json;
use tokio::time::Instant;

use crate::events;
use crate::net::bridge::{report_close, Counters, Ending};
use crate::net::listen::{
    accept_backoff, forced_close, register, run_workers, unregister, Detached, Listener,
    ServerOptions, Shutdown, Stopped, Totals,
};
use crate::net::options;
use crate::net::stream::Addresses;
use crate::progress;

/// Buffers in each loop's provided-buffer ring, and their size: 4 MiB of
/// address space a loop, resident only once used.
const BUFFERS: u16 = 256;
const BUF_SIZE: usize = 16 * 1024;
/// The buffer group of the ring's buffers.
const GROUP: u16 = 0;
/// Buffers a connection may hold before its recv is stopped.
const MAX_HELD: usize = 4;
/// Submission and completion queue sizes.
const SQ_ENTRIES: u32 = 1024;
const CQ_ENTRIES: u32 = 16 * 1024;

/// What each connection needs to know.
#[derive(Clone)]
pub struct EchoSetup {
    pub banner: Option<Bytes>,
    pub reset: bool,
}

/// Whether this kernel lets us set the ring up as the engine does (probed
/// once at start: io_uring may be disabled, filtered or too old).
pub fn available() -> bool {
    builder().build(8).is_ok()
}

fn builder() -> io_uring::Builder {
    let mut b = IoUring::builder();
    b.setup_single_issuer()
        .setup_defer_taskrun()
        .setup_coop_taskrun()
        .setup_cqsize(CQ_ENTRIES);
    b
}

/// Serve on `opts.workers` rings, one a thread; returns the exit code once
/// every loop has stopped (as [`crate::net::listen::serve`] does).
pub async fn serve(
    listener: Listener,
    opts: &ServerOptions,
    shutdown: Shutdown,
    totals: Arc<Totals>,
    setup: EchoSetup,
) -> Result<crate::exit::Exit, crate::exit::Error> {
    let runtime = tokio::runtime::Handle::current();
    let (o, sd, t) = (opts.clone(), shutdown.clone(), totals.clone());
    let tcp = matches!(listener, Listener::Tcp(_));
    let run = move |sock: Detached, stopped: Stopped| {
        let signal = signal_eventfd(&runtime, sd)?;
        let listener: OwnedFd = match sock {
            Detached::Tcp(l) => l.into(),
            Detached::Unix(l) => l.into(),
        };
        Engine::new(&o, &t, &setup, listener, tcp, signal, stopped)?.run()
    };
    run_workers(listener, opts, &shutdown, &totals, run).await
}

/// An eventfd that a task on the main runtime bumps at each shutdown level.
fn signal_eventfd(runtime: &tokio::runtime::Handle, mut sd: Shutdown) -> io::Result<Arc<OwnedFd>> {
    // SAFETY: eventfd(2) takes no pointers; a descriptor it returns is ours.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    let fd = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
    let writer = fd.clone();
    runtime.spawn(async move {
        for level in 1..=2 {
            sd.reached(level).await;
            let one = 1u64.to_ne_bytes();
            // SAFETY: an 8-byte write from a live buffer to our eventfd.
            unsafe { libc::write(writer.as_raw_fd(), one.as_ptr().cast(), 8) };
        }
    });
    Ok(fd)
}

/// What a completion is for: the kind in the top byte of its user data,
/// the connection's descriptor (or none) in the low 32 bits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Accept = 1,
    Recv,
    Send,
    /// Closes, cancellations: nothing to do when they complete.
    Quiet,
    Signal,
    Backoff,
    /// The cancellation of a connection's recv, which may have to be retried.
    CancelRecv,
}

fn user_data(op: Op, fd: RawFd) -> u64 {
    (op as u64) << 56 | u64::from(fd as u32)
}

fn op_of(data: u64) -> (Op, RawFd) {
    let op = match data >> 56 {
        1 => Op::Accept,
        2 => Op::Recv,
        3 => Op::Send,
        5 => Op::Signal,
        6 => Op::Backoff,
        7 => Op::CancelRecv,
        _ => Op::Quiet,
    };
    (op, data as u32 as RawFd)
}

/// Where a connection's recv stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Recv {
    /// A multishot recv is in flight.
    Armed,
    /// It was cancelled; its last completion has not come yet.
    Cancelling,
    /// None in flight: stopped (queue full, or ending), or never armed.
    Off,
    /// None in flight: the buffer ring was empty; waits in `parked`.
    Parked,
    /// The client's FIN or an error: never again.
    Ended,
}

/// Bytes waiting to go back, and how much of them has gone.
struct Out {
    from: Source,
    len: u32,
    off: u32,
}

/// Where queued bytes are.
enum Source {
    /// A buffer of the ring.
    Ring(u16),
    /// `--banner`.
    Banner,
    /// Bytes that came while the connection already held [`MAX_HELD`]
    /// buffers (before its recv stopped), copied out so the ring's buffer
    /// goes back at once: the ring is shared, this memory is the
    /// connection's own, and no client can take the ring's last buffers.
    Copied(Box<[u8]>),
}

/// One connection, indexed by its descriptor.
struct Conn {
    id: u64,
    started: Instant,
    counters: Counters,
    queue: VecDeque<Out>,
    /// Ring buffers in `queue`: at most [`MAX_HELD`].
    ring_held: u8,
    recv: Recv,
    /// The queue's head is being sent.
    sending: bool,
    /// The client's FIN came.
    eof: bool,
    /// Ends without echoing what is left: an error, or the second signal
    /// (`killed`: its `close` says so, with [`forced_close`], and the bytes
    /// it moved count in the totals, as on the tokio path).
    error: Option<io::Error>,
    killed: bool,
}

impl Conn {
    fn ending(&self) -> bool {
        self.error.is_some() || self.killed
    }
}

/// The provided-buffer ring: `BUFFERS` entries the kernel picks from, and
/// the memory they point at.
struct Buffers {
    entries: *mut types::BufRingEntry,
    layout: std::alloc::Layout,
    memory: Box<[u8]>,
    tail: u16,
    /// Buffers out of the ring, in connections' queues.
    held: usize,
}

impl Buffers {
    fn new() -> io::Result<Buffers> {
        let size = usize::from(BUFFERS) * std::mem::size_of::<types::BufRingEntry>();
        let layout = std::alloc::Layout::from_size_align(size, 4096)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a non-zero size; zeroed memory is a valid (empty) ring.
        let entries = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<types::BufRingEntry>();
        if entries.is_null() {
            return Err(io::Error::from_raw_os_error(libc::ENOMEM));
        }
        let memory = zeroed_bytes(usize::from(BUFFERS) * BUF_SIZE).inspect_err(|_| {
            // SAFETY: allocated just above with this layout, not yet shared.
            unsafe { std::alloc::dealloc(entries.cast(), layout) };
        })?;
        Ok(Buffers {
            entries,
            layout,
            memory,
            tail: 0,
            held: usize::from(BUFFERS),
        })
    }

    fn address(&self, bid: u16) -> *const u8 {
        self.memory[usize::from(bid) * BUF_SIZE..].as_ptr()
    }

    /// The first `len` bytes of buffer `bid`.
    fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        let start = usize::from(bid) * BUF_SIZE;
        &self.memory[start..start + len]
    }

    /// Hand buffer `bid` back to the kernel.
    fn give_back(&mut self, bid: u16) {
        let slot = usize::from(self.tail & (BUFFERS - 1));
        let addr = self.memory[usize::from(bid) * BUF_SIZE..].as_mut_ptr();
        // SAFETY: `slot` < BUFFERS entries allocated in `new`; the kernel
        // reads an entry only once the tail (published below) covers it.
        let entry = unsafe { &mut *self.entries.add(slot) };
        entry.set_addr(addr as u64);
        entry.set_len(BUF_SIZE as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
        // SAFETY: the tail field lives in the first entry, which we
        // allocated; the kernel reads it concurrently, hence the atomic.
        let tail = unsafe { &*types::BufRingEntry::tail(self.entries).cast::<AtomicU16>() };
        tail.store(self.tail, Ordering::Release);
        self.held -= 1;
    }
}

/// `len` zeroed bytes (pages resident only once written), or ENOMEM
/// instead of the abort of a failed `vec!` under a memory limit.
fn zeroed_bytes(len: usize) -> io::Result<Box<[u8]>> {
    let layout = std::alloc::Layout::array::<u8>(len)
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a non-zero size (the callers' constants).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return Err(io::Error::from_raw_os_error(libc::ENOMEM));
    }
    // SAFETY: `len` initialised bytes from the global allocator with the
    // layout a `Box<[u8]>` of that length frees with.
    Ok(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) })
}

impl Drop for Buffers {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the ring that used
        // it is gone (the engine drops its ring first) and nothing is in flight.
        unsafe { std::alloc::dealloc(self.entries.cast(), self.layout) };
    }
}

/// One accept loop's ring and connections.
struct Engine<'a> {
    // Declared first so it is dropped first, before the buffers.
    ring: IoUring,
    bufs: Buffers,
    conns: Vec<Option<Conn>>,
    /// Connections waiting for buffers (descriptor, id).
    parked: Vec<(RawFd, u64)>,
    opts: &'a ServerOptions,
    totals: &'a Totals,
    setup: &'a EchoSetup,
    tcp: bool,
    listener: Option<OwnedFd>,
    stopped: Option<Stopped>,
    accepting: bool,
    backoff: Duration,
    /// A backoff timer is in flight, and the time it waits (read by the kernel).
    waiting: bool,
    timespec: Box<types::Timespec>,
    signal: Arc<OwnedFd>,
    /// The eventfd read in flight, and its buffer (written by the kernel).
    signal_armed: bool,
    signal_cancelled: bool,
    signal_buf: Box<u64>,
    level: u64,
    open: usize,
    batch: Vec<(u64, i32, u32)>,
    overflow: VecDeque<squeue::Entry>,
}

impl<'a> Engine<'a> {
    fn new(
        opts: &'a ServerOptions,
        totals: &'a Totals,
        setup: &'a EchoSetup,
        listener: OwnedFd,
        tcp: bool,
        signal: Arc<OwnedFd>,
        stopped: Stopped,
    ) -> io::Result<Engine<'a>> {
        let ring = builder().build(SQ_ENTRIES)?;
        let mut bufs = Buffers::new()?;
        // SAFETY: the entries stay allocated until `bufs` drops, after the ring.
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                bufs.entries as u64,
                BUFFERS,
                GROUP,
                0,
            )?;
        }
        for bid in 0..BUFFERS {
            bufs.give_back(bid);
        }
        let mut engine = Engine {
            ring,
            bufs,
            conns: Vec::new(),
            parked: Vec::new(),
            opts,
            totals,
            setup,
            tcp,
            listener: Some(listener),
            stopped: Some(stopped),
            accepting: false,
            backoff: Duration::from_millis(10),
            waiting: false,
            timespec: Box::new(types::Timespec::new()),
            signal,
            signal_armed: false,
            signal_cancelled: false,
            signal_buf: Box::new(0),
            level: 0,
            open: 0,
            batch: Vec::with_capacity(CQ_ENTRIES as usize),
            overflow: VecDeque::new(),
        };
        engine.arm_accept();
        engine.arm_signal();
        Ok(engine)
    }

    /// Until shutdown, and until nothing is in flight.
    fn run(mut self) -> io::Result<()> {
        while !self.done() {
            self.push_overflow();
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EBUSY)) => {}
                Err(e) => return Err(e),
            }
            let mut batch = std::mem::take(&mut self.batch);
            batch.extend(
                self.ring
                    .completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
            for &(data, res, flags) in &batch {
                self.complete(data, res, flags);
            }
            batch.clear();
            self.batch = batch;
            self.unpark();
        }
        // The last closes may still be queued.
        self.push_overflow();
        self.ring.submit()?;
        Ok(())
    }

    fn done(&mut self) -> bool {
        if self.level == 0 || self.accepting || self.waiting || self.open > 0 {
            return false;
        }
        if self.signal_armed {
            if std::mem::replace(&mut self.signal_cancelled, true) {
                return false;
            }
            self.push(
                opcode::AsyncCancel::new(user_data(Op::Signal, -1))
                    .build()
                    .user_data(user_data(Op::Quiet, -1)),
            );
            return false;
        }
        true
    }

    /// Queue a request, submitting first if the queue is full; if the
    /// kernel cannot take more now, it waits in `overflow` for the next round.
    fn push(&mut self, entry: squeue::Entry) {
        if self.overflow.is_empty() && self.try_push(&entry) {
            return;
        }
        self.overflow.push_back(entry);
    }

    fn try_push(&mut self, entry: &squeue::Entry) -> bool {
        // SAFETY: every request's buffers are owned by the engine and
        // outlive it (see the module comment and each caller).
        if unsafe { self.ring.submission().push(entry) }.is_ok() {
            return true;
        }
        let _ = self.ring.submit();
        // SAFETY: as above.
        unsafe { self.ring.submission().push(entry) }.is_ok()
    }

    /// Requests that did not fit last round, in order.
    fn push_overflow(&mut self) {
        while let Some(entry) = self.overflow.pop_front() {
            if !self.try_push(&entry) {
                self.overflow.push_front(entry);
                return;
            }
        }
    }

    fn complete(&mut self, data: u64, res: i32, flags: u32) {
        match op_of(data) {
            (Op::Accept, _) => self.accepted(res, flags),
            (Op::Recv, fd) => self.received(fd, res, flags),
            (Op::Send, fd) => self.sent(fd, res),
            (Op::Signal, _) => self.signalled(res),
            (Op::Backoff, _) => {
                self.waiting = false;
                if self.level == 0 {
                    self.arm_accept();
                }
                self.maybe_stopped();
            }
            (Op::CancelRecv, fd) => self.cancel_done(fd, res),
            (Op::Quiet, _) => {}
        }
    }

    fn arm_accept(&mut self) {
        let Some(l) = &self.listener else { return };
        let entry = opcode::AcceptMulti::new(types::Fd(l.as_raw_fd()))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(user_data(Op::Accept, -1));
        self.push(entry);
        self.accepting = true;
    }

    fn arm_signal(&mut self) {
        let buf: *mut u64 = &mut *self.signal_buf;
        // SAFETY (for the push): `signal_buf` is boxed in the engine, which
        // waits for this read's completion before returning.
        let entry = opcode::Read::new(types::Fd(self.signal.as_raw_fd()), buf.cast(), 8)
            .build()
            .user_data(user_data(Op::Signal, -1));
        self.push(entry);
        self.signal_armed = true;
    }

    fn accepted(&mut self, res: i32, flags: u32) {
        if !cqueue::more(flags) {
            self.accepting = false;
        }
        if res >= 0 {
            self.backoff = Duration::from_millis(10);
            // SAFETY: the descriptor accept(2) just gave us.
            let sock = unsafe { OwnedFd::from_raw_fd(res) };
            self.start(sock);
        } else if res != -libc::ECANCELED {
            let e = io::Error::from_raw_os_error(-res);
            let wait = accept_backoff(&e, &mut self.backoff);
            if let (Some(wait), false, 0) = (wait, self.accepting, self.level) {
                *self.timespec = types::Timespec::from(wait);
                // SAFETY (for the push): the timespec is boxed in the
                // engine, which waits for this timer before returning.
                let entry = opcode::Timeout::new(&*self.timespec)
                    .build()
                    .user_data(user_data(Op::Backoff, -1));
                self.push(entry);
                self.waiting = true;
            }
        }
        if !self.accepting && !self.waiting && self.level == 0 {
            self.arm_accept();
        }
        self.maybe_stopped();
    }

    /// A new connection: the shared admission and books, then its recv.
    fn start(&mut self, sock: OwnedFd) {
        if self.tcp {
            if let Err(e) = self.opts.socket.apply(socket2::SockRef::from(&sock)) {
                let _ = accept_backoff(&e, &mut self.backoff);
                return;
            }
        }
        let addrs = if self.opts.needs_addresses() {
            Addresses::of(socket2::SockRef::from(&sock))
        } else {
            Addresses::unknown()
        };
        let Some(id) = register(self.opts, self.totals, &addrs) else {
            return;
        };
        if self.setup.reset {
            let _ = options::arm_reset(socket2::SockRef::from(&sock));
        }
        let fd = sock.into_raw_fd();
        let index = fd as usize;
        if self.conns.len() <= index {
            self.conns.resize_with(index + 1, || None);
        }
        let mut conn = Conn {
            id,
            started: Instant::now(),
            counters: Counters::default(),
            queue: VecDeque::new(),
            ring_held: 0,
            recv: Recv::Off,
            sending: false,
            eof: false,
            error: None,
            killed: false,
        };
        if let Some(banner) = &self.setup.banner {
            conn.queue.push_back(Out {
                from: Source::Banner,
                len: banner.len() as u32,
                off: 0,
            });
        }
        self.conns[index] = Some(conn);
        self.open += 1;
        self.advance(fd);
    }

    fn conn(&mut self, fd: RawFd) -> Option<&mut Conn> {
        self.conns.get_mut(fd as usize).and_then(Option::as_mut)
    }

    fn received(&mut self, fd: RawFd, res: i32, flags: u32) {
        let more = cqueue::more(flags);
        let bid = cqueue::buffer_select(flags);
        let Some(conn) = self.conns.get_mut(fd as usize).and_then(Option::as_mut) else {
            return;
        };
        if !more {
            conn.recv = Recv::Off;
        }
        match res {
            n if n > 0 => {
                let bid = bid.expect("a recv with data names its buffer");
                self.bufs.held += 1;
                let n = n as usize;
                conn.counters.read.fetch_add(n as u64, Ordering::Relaxed);
                progress::server_received(n);
                let from = if conn.ending() {
                    None
                } else if usize::from(conn.ring_held) < MAX_HELD {
                    conn.ring_held += 1;
                    Some(Source::Ring(bid))
                } else {
                    Some(Source::Copied(self.bufs.bytes(bid, n).into()))
                };
                if !matches!(from, Some(Source::Ring(_))) {
                    self.bufs.give_back(bid);
                }
                if let Some(from) = from {
                    conn.queue.push_back(Out {
                        from,
                        len: n as u32,
                        off: 0,
                    });
                }
            }
            0 => {
                // A reset that a send took first reads as 0 too.
                if conn.error.is_none() && !conn.killed && crate::sys::eof_was_reset(fd, false) {
                    conn.error = Some(io::Error::from_raw_os_error(libc::ECONNRESET));
                }
                conn.eof = true;
                conn.recv = Recv::Ended;
            }
            // Parked only if it may read now (else it waits for its queue).
            e if e == -libc::ENOBUFS => {
                if !conn.ending() && conn.queue.len() <= MAX_HELD / 2 {
                    conn.recv = Recv::Parked;
                    let id = conn.id;
                    self.parked.push((fd, id));
                }
            }
            e if e == -libc::ECANCELED => {}
            e => {
                if conn.error.is_none() && !conn.killed {
                    conn.error = Some(io::Error::from_raw_os_error(-e));
                }
                conn.recv = Recv::Ended;
            }
        }
        if res <= 0 {
            if let Some(bid) = bid {
                self.bufs.held += 1;
                self.bufs.give_back(bid);
            }
        }
        self.advance(fd);
    }

    fn sent(&mut self, fd: RawFd, res: i32) {
        let Some(conn) = self.conns.get_mut(fd as usize).and_then(Option::as_mut) else {
            return;
        };
        conn.sending = false;
        let Some(head) = conn.queue.front_mut() else {
            return;
        };
        let finished = if res <= 0 {
            if conn.error.is_none() && !conn.killed {
                conn.error = Some(match res {
                    0 => io::ErrorKind::WriteZero.into(),
                    e => io::Error::from_raw_os_error(-e),
                });
            }
            true
        } else {
            let n = res as u32;
            head.off += n;
            conn.counters
                .written
                .fetch_add(u64::from(n), Ordering::Relaxed);
            progress::server_sent(n as usize);
            head.off == head.len
        };
        if finished {
            if let Some(Out {
                from: Source::Ring(bid),
                ..
            }) = conn.queue.pop_front()
            {
                conn.ring_held -= 1;
                self.bufs.give_back(bid);
            }
        }
        self.advance(fd);
    }

    /// Move connection `fd` on after any change: send the next bytes,
    /// stop or re-arm its recv, or close it once it is done.
    fn advance(&mut self, fd: RawFd) {
        let Some(conn) = self.conns.get_mut(fd as usize).and_then(Option::as_mut) else {
            return;
        };
        if conn.ending() {
            // What is queued will not be sent: back to the ring, all but
            // the buffer a send in flight still reads.
            let keep = usize::from(conn.sending);
            for out in conn.queue.drain(keep..) {
                if let Source::Ring(bid) = out.from {
                    conn.ring_held -= 1;
                    self.bufs.give_back(bid);
                }
            }
            let conn = self.conns[fd as usize].as_mut().expect("still here");
            match conn.recv {
                Recv::Armed => self.cancel_recv(fd),
                Recv::Parked => conn.recv = Recv::Off,
                _ => {}
            }
            let conn = self.conns[fd as usize].as_mut().expect("still here");
            if !conn.sending && !matches!(conn.recv, Recv::Armed | Recv::Cancelling) {
                self.close(fd);
            }
            return;
        }
        if !conn.sending {
            if let Some(head) = conn.queue.front() {
                let ptr = match &head.from {
                    Source::Ring(bid) => self.bufs.address(*bid),
                    Source::Banner => self.setup.banner.as_ref().expect("queued").as_ptr(),
                    Source::Copied(bytes) => bytes.as_ptr(),
                };
                // SAFETY (for the push): the buffer stays out of the ring
                // (the banner, the copy alive) until this send completes.
                let entry = opcode::Send::new(
                    types::Fd(fd),
                    ptr.wrapping_add(head.off as usize),
                    head.len - head.off,
                )
                .flags(libc::MSG_NOSIGNAL)
                .build()
                .user_data(user_data(Op::Send, fd));
                conn.sending = true;
                self.push(entry);
            }
        }
        let conn = self.conns[fd as usize].as_mut().expect("still here");
        let queued = conn.queue.len();
        match conn.recv {
            Recv::Armed if queued >= MAX_HELD => self.cancel_recv(fd),
            Recv::Off if queued <= MAX_HELD / 2 => self.arm_recv(fd),
            Recv::Ended if queued == 0 && !conn.sending => {
                events::emit("end", Some(conn.id), json!({}));
                self.close(fd);
            }
            _ => {}
        }
    }

    fn arm_recv(&mut self, fd: RawFd) {
        let entry = opcode::RecvMulti::new(types::Fd(fd), GROUP)
            .build()
            .user_data(user_data(Op::Recv, fd));
        self.push(entry);
        if let Some(conn) = self.conn(fd) {
            conn.recv = Recv::Armed;
        }
    }

    fn cancel_recv(&mut self, fd: RawFd) {
        self.push(
            opcode::AsyncCancel::new(user_data(Op::Recv, fd))
                .build()
                .user_data(user_data(Op::CancelRecv, fd)),
        );
        if let Some(conn) = self.conn(fd) {
            conn.recv = Recv::Cancelling;
        }
    }

    /// A recv that was completing when its cancellation came (EALREADY:
    /// bytes had just arrived) stays armed, multishot: cancel it again, or
    /// a client that does not read would take every buffer.
    fn cancel_done(&mut self, fd: RawFd, res: i32) {
        let again =
            res == -libc::EALREADY && self.conn(fd).is_some_and(|c| c.recv == Recv::Cancelling);
        if again {
            self.cancel_recv(fd);
        }
    }

    /// Nothing references the socket any more: close it, report, forget it.
    fn close(&mut self, fd: RawFd) {
        let conn = self.conns[fd as usize].take().expect("open");
        self.push(
            opcode::Close::new(types::Fd(fd))
                .build()
                .user_data(user_data(Op::Quiet, fd)),
        );
        self.open -= 1;
        if events::enabled() {
            let ending = match conn.error {
                Some(e) => Ending::Error(e),
                None if conn.killed => Ending::Error(forced_close()),
                None => Ending::Done,
            };
            report_close(Some(conn.id), &ending, &conn.counters, conn.started);
        }
        self.totals.add_bytes(
            conn.counters.read.load(Ordering::Relaxed),
            conn.counters.written.load(Ordering::Relaxed),
        );
        unregister(self.totals);
    }

    /// Re-arm parked connections once the ring has buffers again. All of
    /// them: one whose client has gone quiet would otherwise sit on the
    /// wake-up the others wait for; those that find it empty again park
    /// again until the next buffer comes back (never in a loop of their own).
    fn unpark(&mut self) {
        if self.parked.is_empty() || self.bufs.held >= usize::from(BUFFERS) {
            return;
        }
        for (fd, id) in std::mem::take(&mut self.parked) {
            let waiting = self
                .conn(fd)
                .is_some_and(|c| c.id == id && c.recv == Recv::Parked);
            if waiting {
                self.arm_recv(fd);
            }
        }
    }

    fn signalled(&mut self, res: i32) {
        self.signal_armed = false;
        if res == 8 {
            self.level = (self.level + *self.signal_buf).min(2);
        }
        if res == -libc::ECANCELED {
            return;
        }
        if self.level < 2 {
            self.arm_signal();
        }
        if self.level >= 1 {
            self.stop_accepting();
        }
        if self.level >= 2 {
            self.end_all();
        }
    }

    /// The first signal: no more connections.
    fn stop_accepting(&mut self) {
        if self.accepting {
            self.push(
                opcode::AsyncCancel::new(user_data(Op::Accept, -1))
                    .build()
                    .user_data(user_data(Op::Quiet, -1)),
            );
        }
        if self.waiting {
            self.push(
                opcode::TimeoutRemove::new(user_data(Op::Backoff, -1))
                    .build()
                    .user_data(user_data(Op::Quiet, -1)),
            );
        }
        self.maybe_stopped();
    }

    /// Once no accept is in flight or waiting, close the listening socket
    /// and say so (the Unix socket file goes once every loop has).
    fn maybe_stopped(&mut self) {
        if self.level == 0 || self.accepting || self.waiting {
            return;
        }
        self.listener = None;
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.send(());
        }
    }

    /// The second signal: end every connection now.
    fn end_all(&mut self) {
        let open: Vec<RawFd> = (0..self.conns.len())
            .filter(|&i| self.conns[i].is_some())
            .map(|i| i as RawFd)
            .collect();
        for fd in open {
            let conn = self.conns[fd as usize].as_mut().expect("open");
            if conn.killed {
                continue;
            }
            conn.killed = true;
            if conn.sending {
                self.push(
                    opcode::AsyncCancel::new(user_data(Op::Send, fd))
                        .build()
                        .user_data(user_data(Op::Quiet, fd)),
                );
            }
            self.advance(fd);
        }
    }
}
