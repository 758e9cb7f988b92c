//! `wirecat echo`: every connection receives its own bytes back, in order,
//! concurrently (Node's echo server, `c.pipe(c)`), on the shared accept loop.
//!
//! After the client's FIN everything it sent has already been echoed, so we
//! send our FIN and the connection closes (the default half-close rule).
//! An idle connection holds no buffer: the echo loop is a hand-written
//! future whose `poll` reads into a buffer on the thread's stack and writes
//! it straight back; only bytes the socket cannot take at once are copied to
//! the heap, and the socket is not read again until they are gone (bounded
//! memory, and a slow reader slows its own writer). That keeps 10,000 idle connections within a
//! few tens of MiB.
//!
//! On Linux, a connection whose last read was large moves its next bytes
//! socket → pipe → the same socket with splice(2), never through user
//! space; the pipe is borrowed from the accept loop's pool only while
//! bytes sit in it, so an idle connection still holds none. Small reads
//! stay read(2)/write(2), where splice would cost a call more per message.
//!
//! With `--tls` (or tls:// ADDRESS) each connection's handshake runs in its
//! own task, and the bytes go through rustls with the relay's generic
//! [`copy`] loop (a bounded buffer per connection while it is open: the
//! idle-memory property is the plain path's). The client's close_notify is
//! its FIN: everything before it is echoed, then close_notify and FIN.
//!
//! `--timeout` ends, it does not destroy (Node's `socket.end()`): after
//! the `timeout` event, what is in hand is written, then our FIN
//! (close_notify first under TLS). Nothing can be echoed after our FIN, so
//! what the client still sends is read, counted in `bytesRead` and
//! discarded, until its FIN (`end`) or until it is silent for another
//! `--timeout`; then the socket closes. Closing with bytes unread would
//! be a RST, which can destroy echoed bytes still on their way to the
//! client. On the plain path "what is in hand" is all of it (the bytes the
//! socket had not taken, a borrowed pipe's); under TLS it is what rustls
//! holds: a chunk that rustls had not taken yet either, because the client
//! read nothing for a whole `--timeout`, is not retried.
//!
//! The server's second signal ends every connection at once, each with an
//! `error` (ECONNABORTED, [`crate::net::listen::forced_close`]) and its
//! `close` with the bytes it moved, which the server's totals include.
//!
//! On Linux a plain server (no TLS, no `--timeout`, not `--once`) runs on
//! the io_uring engine in [`uring`] instead, unless `WIRECAT_NO_URING` is
//! set or the kernel refuses the ring; the `listening` event's `engine`
//! field says which (`io_uring` or `tokio`).

#[cfg(target_os = "linux")]
mod uring;

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::Instant;

use crate::cli::EchoArgs;
use crate::commands::block_on_with;
use crate::events;
use crate::exit::{Error, Exit};
use crate::net::bridge::{idle, report_close, touch, Counters, Ending};
use crate::net::endpoint::Endpoint;
use crate::net::listen::{serve, Accepted, Forced, Listener, Shutdown, Totals};
use crate::net::options;
use crate::net::relay::{copy, copy_until_end, discard_until_end};
use crate::net::splice::PumpError;
use crate::net::stream::Stream;
use crate::net::tls::{self, ServerSetup};
use crate::progress;

/// Bytes read per system call; on the stack, only while they are in hand.
const READ_SIZE: usize = 64 * 1024;

/// What each connection needs to know.
#[derive(Debug, Clone)]
struct EchoOptions {
    banner: Option<Bytes>,
    timeout: Option<Duration>,
    reset: bool,
}

pub fn run(args: EchoArgs) -> Result<Exit, Error> {
    events::init(args.events.verbose, args.events.json);
    let ep = Endpoint::for_listen(&args.address)?;
    let tls = tls::server_tls(&super::options::server_tls(&args.tls), &ep)?;
    let opts = super::options::server(&args.server, &args.socket);
    let echo = Arc::new(EchoOptions {
        banner: args.banner.clone().filter(|b| !b.is_empty()),
        timeout: args.socket.timeout,
        reset: args.end.reset,
    });
    let progress_wanted = super::options::progress(&args.events);
    let engine = uring_applies(&args, tls.is_some());
    block_on_with(async move {
        let mut extra = tls
            .as_deref()
            .map_or_else(|| json!({}), ServerSetup::listening_fields);
        extra["engine"] = if engine { "io_uring" } else { "tokio" }.into();
        let shutdown = Shutdown::on_signals();
        let listener = Listener::bind_with(&ep, &opts, extra).await?;
        let _progress = progress_wanted.then(progress::server);
        let totals = Arc::new(Totals::default());
        #[cfg(target_os = "linux")]
        if engine && !listener.is_connected() {
            let setup = uring::EchoSetup {
                banner: echo.banner.clone(),
                reset: echo.reset,
            };
            return uring::serve(listener, &opts, shutdown, totals, setup).await;
        }
        let all = totals.clone();
        let handler = move |acc: Accepted| {
            let (echo, totals, tls) = (echo.clone(), all.clone(), tls.clone());
            // Only what the connection needs goes into its task (not its addresses).
            let (id, stream, forced) = (acc.id, acc.stream, acc.forced);
            async move {
                let stream = match &tls {
                    None => stream,
                    // Boxed, so a plain connection's task carries no handshake state.
                    Some(setup) => {
                        let handshake = tls::secure_server(setup, stream, Some(id));
                        match Box::pin(forced.clone().unless(Some(id), handshake)).await {
                            Some(Ok(s)) => s,
                            // The error event is out; the server keeps serving.
                            _ => return,
                        }
                    }
                };
                echo_connection(id, stream, &echo, &totals, forced).await
            }
        };
        serve(listener, &opts, shutdown, args.once, totals, handler).await
    })
}

/// Whether this server runs on the io_uring engine: Linux, plain (no TLS),
/// no idle timeout, not `--once`, `WIRECAT_NO_URING` unset (the tests use
/// it to cover both paths), and a ring can be set up here.
fn uring_applies(args: &EchoArgs, tls: bool) -> bool {
    #[cfg(target_os = "linux")]
    {
        !tls && args.socket.timeout.is_none()
            && !args.once
            && super::options::uring_allowed()
            && uring::available()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (args, tls);
        false
    }
}

/// One connection from accept to `close`; `forced` is the server's
/// second signal, which ends it at once.
async fn echo_connection(
    id: u64,
    mut stream: Stream,
    opts: &EchoOptions,
    totals: &Totals,
    forced: Forced,
) {
    let started = Instant::now();
    let counters = Counters::default();
    let conn = Some(id);
    if opts.reset {
        let _ = options::arm_reset(stream.sock_ref());
    }
    let work = async {
        match opts.timeout {
            None => {
                let r = echo_untimed(&mut stream, opts, &counters, started).await;
                if r.is_ok() {
                    events::emit("end", conn, json!({}));
                }
                ended(r)
            }
            // Boxed, so connections without a timeout carry no timer.
            Some(timeout) => {
                let ctx = Timed {
                    c: &counters,
                    started,
                    conn,
                    timeout,
                    reset: opts.reset,
                };
                Box::pin(echo_timed(&mut stream, opts.banner.as_deref(), ctx)).await
            }
        }
    };
    let ending = tokio::select! {
        ending = work => ending,
        e = forced.wait() => Ending::Error(e),
    };
    // A plain socket needs no shutdown(2) here: everything read has been
    // echoed and the peer's FIN read, so dropping `stream` (close) sends
    // the FIN; one system call less per connection under churn.
    if !matches!(ending, Ending::Error(_)) && !opts.reset && !stream.is_plain() {
        // close_notify, then FIN (a second time after `copy` is a no-op),
        // bounded: a client that does not read cannot hold the task.
        let _ = Box::pin(tokio::time::timeout(
            Duration::from_secs(1),
            stream.shutdown(),
        ))
        .await;
    }
    if events::enabled() {
        report_close(conn, &ending, &counters, started);
    }
    totals.add_bytes(
        counters.read.load(Ordering::Relaxed),
        counters.written.load(Ordering::Relaxed),
    );
}

fn ended(r: io::Result<()>) -> Ending {
    match r {
        Ok(()) => Ending::Done,
        Err(e) => Ending::Error(e),
    }
}

/// The banner, then echo until the client's FIN (no `--timeout`).
async fn echo_untimed(
    stream: &mut Stream,
    opts: &EchoOptions,
    c: &Counters,
    started: Instant,
) -> io::Result<()> {
    if stream.is_plain() {
        return EchoAll::new(stream, c, opts.banner.as_deref(), None).await;
    }
    write_banner(stream, opts.banner.as_deref(), c).await?;
    Box::pin(echo_tls(stream, c, started, opts.reset)).await
}

/// `--banner` on a TLS stream, counted.
async fn write_banner(stream: &mut Stream, banner: Option<&[u8]>, c: &Counters) -> io::Result<()> {
    if let Some(banner) = banner {
        stream.write_all(banner).await?;
        stream.flush().await?;
        c.written.fetch_add(banner.len() as u64, Ordering::Relaxed);
    }
    Ok(())
}

/// What a connection with `--timeout` needs.
#[derive(Clone, Copy)]
struct Timed<'a> {
    c: &'a Counters,
    started: Instant,
    conn: Option<u64>,
    timeout: Duration,
    reset: bool,
}

impl Timed<'_> {
    fn idle(&self) -> impl Future<Output = ()> + '_ {
        idle(Some(self.timeout), self.c, self.started)
    }
}

/// With `--timeout`: echo until the client's FIN, unless nothing moves
/// for the timeout: then `timeout` and `end()` (see the module's doc),
/// all of it bounded by another silent timeout.
async fn echo_timed(stream: &mut Stream, banner: Option<&[u8]>, t: Timed<'_>) -> Ending {
    if !stream.is_plain() {
        return echo_tls_timed(stream, banner, t).await;
    }
    let mut echo = EchoAll::new(stream, t.c, banner, Some(t.started));
    let r = tokio::select! {
        r = &mut echo => Some(r),
        _ = t.idle() => None,
    };
    if let Some(r) = r {
        return echo_ended(r, t.conn);
    }
    if timed_out(&t) {
        return Ending::Timeout;
    }
    let grace = async {
        // What is in hand goes first, then our FIN.
        std::future::poll_fn(|cx| echo.poll_flush(cx)).await?;
        t.c.fin_sent.store(true, Ordering::SeqCst);
        crate::sys::shutdown_write(echo.stream.raw_fd());
        discard(echo.stream, &t).await
    };
    after_timeout(grace, &t).await
}

/// The end of echoing: the client's FIN (`end`), or an error.
fn echo_ended(r: io::Result<()>, conn: Option<u64>) -> Ending {
    if r.is_ok() {
        events::emit("end", conn, json!({}));
    }
    ended(r)
}

/// The `timeout` event; the idle clock restarts for the grace. True when
/// the connection closes now (`--reset`: no FIN, the close is the RST).
fn timed_out(t: &Timed<'_>) -> bool {
    events::emit("timeout", t.conn, json!({}));
    touch(t.c, t.started);
    t.reset
}

/// `--timeout` over TLS: as [`echo_timed`], with close_notify before the FIN.
async fn echo_tls_timed(stream: &mut Stream, banner: Option<&[u8]>, t: Timed<'_>) -> Ending {
    let work = async {
        write_banner(stream, banner, t.c).await?;
        Box::pin(echo_tls(stream, t.c, t.started, t.reset)).await
    };
    let r = tokio::select! {
        r = work => Some(r),
        _ = t.idle() => None,
    };
    if let Some(r) = r {
        return echo_ended(r, t.conn);
    }
    if timed_out(&t) {
        return Ending::Timeout;
    }
    let grace = async {
        stream.shutdown().await?;
        discard(stream, &t).await
    };
    after_timeout(grace, &t).await
}

/// Read what the client still sends after our FIN, count it, drop it, until
/// its FIN (`end`).
async fn discard(stream: &mut Stream, t: &Timed<'_>) -> io::Result<()> {
    discard_until_end(stream, |n| {
        touch(t.c, t.started);
        t.c.read.fetch_add(n as u64, Ordering::Relaxed);
        progress::server_received(n);
    })
    .await
    .map_err(pump_error)?;
    events::emit("end", t.conn, json!({}));
    Ok(())
}

/// The grace after a timeout, given up once silent for another timeout.
async fn after_timeout(grace: impl Future<Output = io::Result<()>>, t: &Timed<'_>) -> Ending {
    tokio::select! {
        r = grace => match r {
            Ok(()) => Ending::Timeout,
            Err(e) => Ending::Error(e),
        },
        _ = t.idle() => Ending::Timeout,
    }
}

fn pump_error(e: PumpError) -> io::Error {
    match e {
        PumpError::Read(e) | PumpError::Write(e) => e,
    }
}

/// Echo over TLS until the client's close_notify, then close_notify + FIN.
async fn echo_tls(
    stream: &mut Stream,
    c: &Counters,
    started: Instant,
    reset: bool,
) -> io::Result<()> {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let moved = |n| {
        touch(c, started);
        c.read.fetch_add(n as u64, Ordering::Relaxed);
        c.written.fetch_add(n as u64, Ordering::Relaxed);
        progress::server_received(n);
        progress::server_sent(n);
    };
    // With --reset no close_notify or FIN goes out: the close is the RST.
    let r = match reset {
        false => copy(&mut rd, &mut wr, moved).await,
        true => copy_until_end(&mut rd, &mut wr, moved).await,
    };
    r.map_err(pump_error)
}

/// The echo loop as a hand-written future, so that the read buffer lives on
/// the stack of `poll` and never in the connection's state.
struct EchoAll<'a> {
    stream: &'a mut Stream,
    /// Bytes read that the socket would not take yet, and how many went since.
    pending: Vec<u8>,
    sent: usize,
    counters: &'a Counters,
    /// Only with `--timeout`: reading the clock twice a message costs
    /// more than the atomic counters.
    idle_since: Option<Instant>,
    #[cfg(target_os = "linux")]
    splice: Splicing,
}

impl Future for EchoAll<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            // Bytes in hand go out before more are read: bounded memory.
            ready!(this.poll_flush(cx))?;
            #[cfg(target_os = "linux")]
            if this.splice.on {
                match ready!(this.poll_splice(cx))? {
                    Spliced::Echoed => continue,
                    Spliced::Fin => return Poll::Ready(Ok(())),
                    Spliced::Refused => {}
                }
            }
            let mut buf = [MaybeUninit::<u8>::uninit(); READ_SIZE];
            let mut rb = ReadBuf::uninit(&mut buf);
            ready!(Pin::new(&mut *this.stream).poll_read(cx, &mut rb))?;
            let data = rb.filled();
            if data.is_empty() {
                return Poll::Ready(this.fin_or_reset());
            }
            this.read(data.len());
            let mut done = 0;
            while done < data.len() {
                match Pin::new(&mut *this.stream).poll_write(cx, &data[done..]) {
                    Poll::Ready(Ok(n)) => done += this.wrote(n)?,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        this.pending = data[done..].to_vec();
                        return Poll::Pending;
                    }
                }
            }
        }
    }
}

impl<'a> EchoAll<'a> {
    /// Echo on `stream`, the banner (if any) first; `idle_since` (with
    /// `--timeout`) is when the idle clock started, and every byte moved
    /// then restarts it.
    fn new(
        stream: &'a mut Stream,
        counters: &'a Counters,
        banner: Option<&[u8]>,
        idle_since: Option<Instant>,
    ) -> EchoAll<'a> {
        EchoAll {
            stream,
            pending: banner.map(<[u8]>::to_vec).unwrap_or_default(),
            sent: 0,
            counters,
            idle_since,
            #[cfg(target_os = "linux")]
            splice: Splicing::default(),
        }
    }

    /// Write what is in hand: bytes the socket did not take yet, and what
    /// sits in a borrowed pipe.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(self.write(cx, self.sent))?;
            self.sent += n;
        }
        self.pending = Vec::new();
        self.sent = 0;
        #[cfg(target_os = "linux")]
        if self.splice.pipe.is_some() {
            ready!(self.poll_drain_pipe(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    /// A 0-byte read: the client's FIN, or a reset that a write took first
    /// (echo has not ended its side, so CLOSED can only be a reset).
    fn fin_or_reset(&self) -> io::Result<()> {
        if crate::sys::eof_was_reset(self.stream.raw_fd(), false) {
            return Err(io::Error::from_raw_os_error(libc::ECONNRESET));
        }
        Ok(())
    }

    /// Write pending bytes from `from` on.
    fn write(&mut self, cx: &mut Context<'_>, from: usize) -> Poll<io::Result<usize>> {
        let r = ready!(Pin::new(&mut *self.stream).poll_write(cx, &self.pending[from..]));
        Poll::Ready(r.and_then(|n| self.wrote(n)))
    }

    fn touch(&self) {
        if let Some(started) = self.idle_since {
            touch(self.counters, started);
        }
    }

    /// `n` bytes came in (by read(2) or splice(2)).
    fn read(&mut self, n: usize) {
        self.touch();
        self.counters.read.fetch_add(n as u64, Ordering::Relaxed);
        progress::server_received(n);
        #[cfg(target_os = "linux")]
        self.splice.choose(n);
    }

    fn wrote(&self, n: usize) -> io::Result<usize> {
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        self.touch();
        self.counters.written.fetch_add(n as u64, Ordering::Relaxed);
        progress::server_sent(n);
        Ok(n)
    }
}

/// Reads at least this large switch a connection to splice(2), and
/// smaller ones back to read(2)/write(2): a small message costs the same
/// two calls either way, and splice's extra call to find the socket empty
/// would cost more than the copies it saves.
#[cfg(target_os = "linux")]
const SPLICE_MIN: usize = 8 * 1024;

/// echo's zero-copy path: socket → pipe → the same socket with splice(2),
/// the pipe borrowed from the loop's pool only while bytes sit in it.
#[cfg(target_os = "linux")]
#[derive(Default)]
struct Splicing {
    /// The last read was large: splice the next one.
    on: bool,
    /// splice(2) failed with EINVAL once (not a socket it supports).
    refused: bool,
    pipe: Option<crate::net::splice::Pipe>,
}

#[cfg(target_os = "linux")]
impl Splicing {
    fn choose(&mut self, n: usize) {
        self.on = n >= SPLICE_MIN && !self.refused;
    }
}

/// What one round of [`EchoAll::poll_splice`] did.
#[cfg(target_os = "linux")]
enum Spliced {
    /// Bytes went back; the connection may have switched to read(2).
    Echoed,
    /// The client's FIN.
    Fin,
    /// Nothing moved: splice(2) refused this socket (EINVAL, read(2) from
    /// now on) or no pipe could be had (read(2) this time).
    Refused,
}

#[cfg(target_os = "linux")]
impl EchoAll<'_> {
    /// Echo one splice(2) of bytes through a borrowed pipe. Unlike read(2)
    /// through tokio, a short splice does not prove the socket empty (the
    /// pipe may have run out of slots), so readiness is cleared only by the
    /// call that finds the socket empty, and the pipe goes back then.
    fn poll_splice(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Spliced>> {
        use crate::net::splice::Pipe;
        use tokio::io::Interest;
        let fd = self.stream.raw_fd();
        loop {
            if self.splice.pipe.is_some() {
                ready!(self.poll_drain_pipe(cx))?;
                return Poll::Ready(Ok(Spliced::Echoed));
            }
            ready!(self.stream.poll_ready(cx, Interest::READABLE))?;
            // Out of descriptors for a pipe (EMFILE): read(2) this time.
            let Ok(mut pipe) = Pipe::borrow() else {
                return Poll::Ready(Ok(Spliced::Refused));
            };
            match self
                .stream
                .try_io(Interest::READABLE, || pipe.fill(fd, READ_SIZE))
            {
                Ok(0) => return Poll::Ready(self.fin_or_reset().map(|()| Spliced::Fin)),
                Ok(n) => {
                    self.read(n);
                    self.splice.pipe = Some(pipe);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                    self.splice.refused = true;
                    self.splice.on = false;
                    return Poll::Ready(Ok(Spliced::Refused));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

#[cfg(target_os = "linux")]
impl EchoAll<'_> {
    /// Send what the borrowed pipe holds; then it goes back to the pool, so
    /// a waiting connection holds none.
    fn poll_drain_pipe(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        use tokio::io::Interest;
        let fd = self.stream.raw_fd();
        while let Some(pipe) = self.splice.pipe.as_mut().filter(|p| p.held() > 0) {
            ready!(self.stream.poll_ready(cx, Interest::WRITABLE))?;
            match self.stream.try_io(Interest::WRITABLE, || pipe.drain(fd)) {
                Ok(n) => self.wrote(n)?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            };
        }
        self.splice.pipe = None;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod memory {
    use super::*;

    /// What an idle connection costs lives mostly in its task's future:
    /// no read buffer, no timer without `--timeout`, no addresses. Of its
    /// bytes, 160 are the wait for the server's second signal (tokio's
    /// watch), which lets a forced connection still report its `close`
    /// and its bytes: 1.6 MB for 10,000 idle connections.
    #[tokio::test]
    async fn idle_connection_state_stays_small() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = tokio::net::TcpStream::connect(l.local_addr().unwrap())
            .await
            .unwrap();
        let opts = EchoOptions {
            banner: None,
            timeout: None,
            reset: false,
        };
        let totals = Totals::default();
        let forced = Shutdown::on_signals().forced();
        let f = echo_connection(1, Stream::Tcp(c), &opts, &totals, forced);
        let size = std::mem::size_of_val(&f);
        assert!(size <= 640, "echo connection future is {size} bytes");
    }
}
