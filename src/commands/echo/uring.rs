//! `wirecat echo`'s io_uring engine (Linux): one ring per accept loop
//! replaces that loop's tokio runtime, its accept loop and its connection
//! tasks, for plain echo servers (no TLS, no `--timeout`, not `--once`).
//!
//! Why: under connection churn the tokio path cost more CPU per connection
//! than a C epoll server (bench/floor-echo.c), spread over task spawning,
//! wakers and the reactor, and a C io_uring server (bench/floor-uring.c)
//! was lower still; this engine measures at that floor (the figures are in
//! bench/README.md, "echo on io_uring"). What it gives up: 16 KiB messages
//! cost more than on the tokio path, which splices large reads socket → pipe →
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
//!   one that holds `MAX_HELD` buffers because its client does not read
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
//!
//! This file is the loop (set-up, submit and wait, the queue's overflow);
//! `requests` issues the requests and handles their completions, `conn` is
//! a connection's state machine (no ring needed to test it), `ring` the
//! provided buffers and their unsafe, `user_data` what a completion is for.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use io_uring::{opcode, squeue, types, IoUring};

use crate::net::listen::{
    run_workers, Detached, Listener, ServerOptions, Shutdown, Stopped, Totals,
};

mod conn;
mod requests;
mod ring;
mod user_data;

use conn::Conn;
use ring::Buffers;
use user_data::{user_data, Op};

/// Buffers in each loop's provided-buffer ring, and their size: 4 MiB of
/// address space a loop, resident only once used.
const BUFFERS: u16 = 256;
const BUF_SIZE: usize = 16 * 1024;
/// The buffer group of the ring's buffers.
const GROUP: u16 = 0;
/// Submission and completion queue sizes.
const SQ_ENTRIES: u32 = 1024;
const CQ_ENTRIES: u32 = 16 * 1024;

/// What each connection needs to know.
#[derive(Clone)]
pub(super) struct EchoSetup {
    pub banner: Option<Bytes>,
    pub reset: bool,
}

/// Whether this kernel lets us set the ring up as the engine does (probed
/// once at start: io_uring may be disabled, filtered or too old).
pub(super) fn available() -> bool {
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
pub(super) async fn serve(
    listener: Listener,
    opts: &ServerOptions,
    shutdown: Shutdown,
    totals: Arc<Totals>,
    setup: EchoSetup,
) -> Result<crate::exit::Exit, crate::exit::Error> {
    let runtime = tokio::runtime::Handle::current();
    let (o, sd, t) = (opts.clone(), shutdown.clone(), totals.clone());
    let run = move |sock: Detached, stopped: Stopped| {
        let signal = signal_eventfd(&runtime, sd)?;
        let server = Server {
            opts: &o,
            totals: &t,
            setup: &setup,
        };
        Engine::new(server, sock, signal, stopped)?.run()
    };
    run_workers(listener, opts, &shutdown, &totals, run).await
}

/// An eventfd that a task on the main runtime bumps at each shutdown level.
fn signal_eventfd(runtime: &tokio::runtime::Handle, mut sd: Shutdown) -> io::Result<Arc<OwnedFd>> {
    let fd = Arc::new(crate::sys::blocking_eventfd()?);
    let writer = fd.clone();
    runtime.spawn(async move {
        for level in 1..=2 {
            sd.reached(level).await;
            let _ = crate::sys::write(writer.as_raw_fd(), &1u64.to_ne_bytes());
        }
    });
    Ok(fd)
}

/// What every accept loop of one server shares.
struct Server<'a> {
    opts: &'a ServerOptions,
    totals: &'a Totals,
    setup: &'a EchoSetup,
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
    /// The loop of `server` on `sock`; `signal` is its shutdown eventfd,
    /// `stopped` says when it has closed `sock`.
    fn new(
        server: Server<'a>,
        sock: Detached,
        signal: Arc<OwnedFd>,
        stopped: Stopped,
    ) -> io::Result<Engine<'a>> {
        // Socket options apply to TCP connections only.
        let (listener, tcp): (OwnedFd, bool) = match sock {
            Detached::Tcp(l) => (l.into(), true),
            Detached::Unix(l) => (l.into(), false),
        };
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
            opts: server.opts,
            totals: server.totals,
            setup: server.setup,
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
}
