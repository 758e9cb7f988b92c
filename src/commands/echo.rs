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
use crate::net::listen::{serve, Accepted, Listener, ServerOptions, Shutdown, Totals};
use crate::net::options;
use crate::net::relay::{copy, copy_until_end};
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
    let tls = tls::server_tls(&args.tls.tls_args(), &ep)?;
    let opts = ServerOptions::from_args(&args.server, &args.socket);
    let echo = Arc::new(EchoOptions {
        banner: args.banner.clone().filter(|b| !b.is_empty()),
        timeout: args.socket.timeout,
        reset: args.end.reset,
    });
    let progress_wanted = args.events.progress_wanted();
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
            let (id, stream) = (acc.id, acc.stream);
            async move {
                let stream = match &tls {
                    None => stream,
                    // Boxed, so a plain connection's task carries no handshake state.
                    Some(setup) => {
                        match Box::pin(tls::secure_server(setup, stream, Some(id))).await {
                            Ok(s) => s,
                            // The error event is out; the server keeps serving.
                            Err(_) => return,
                        }
                    }
                };
                echo_connection(id, stream, &echo, &totals).await
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
            && std::env::var_os("WIRECAT_NO_URING").is_none()
            && uring::available()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (args, tls);
        false
    }
}

/// One connection from accept to `close`.
async fn echo_connection(id: u64, mut stream: Stream, opts: &EchoOptions, totals: &Totals) {
    let started = Instant::now();
    let counters = Counters::default();
    let conn = Some(id);
    if opts.reset {
        let _ = options::arm_reset(stream.sock_ref());
    }
    let work = async {
        if let Some(banner) = &opts.banner {
            stream.write_all(banner).await?;
            stream.flush().await?;
            counters
                .written
                .fetch_add(banner.len() as u64, Ordering::Relaxed);
        }
        if stream.is_plain() {
            echo_all(&mut stream, &counters, opts.timeout.map(|_| started)).await?;
        } else {
            Box::pin(echo_tls(&mut stream, &counters, started, opts.reset)).await?;
        }
        events::emit("end", conn, json!({}));
        Ok(())
    };
    let ending = match opts.timeout {
        None => ended(work.await),
        // Boxed, so connections without a timeout carry no timer.
        Some(_) => Box::pin(idle_bounded(work, opts.timeout, &counters, started, conn)).await,
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

/// `work`, unless nothing moves for `timeout`: then `timeout` and the end.
async fn idle_bounded(
    work: impl Future<Output = io::Result<()>>,
    timeout: Option<Duration>,
    counters: &Counters,
    started: Instant,
    conn: Option<u64>,
) -> Ending {
    tokio::select! {
        r = work => ended(r),
        _ = idle(timeout, counters, started) => {
            events::emit("timeout", conn, json!({}));
            Ending::Timeout
        }
    }
}

/// Echo until the client's FIN; `idle_since` (with `--timeout`) is when the
/// idle clock started, and every byte moved then restarts it.
async fn echo_all(
    stream: &mut Stream,
    c: &Counters,
    idle_since: Option<Instant>,
) -> io::Result<()> {
    EchoAll {
        stream,
        pending: Vec::new(),
        sent: 0,
        counters: c,
        idle_since,
        #[cfg(target_os = "linux")]
        splice: Splicing::default(),
    }
    .await
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
    r.map_err(|e| match e {
        PumpError::Read(e) | PumpError::Write(e) => e,
    })
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
            while this.sent < this.pending.len() {
                let n = ready!(this.write(cx, this.sent))?;
                this.sent += n;
            }
            this.pending = Vec::new();
            this.sent = 0;
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

impl EchoAll<'_> {
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
                while let Some(pipe) = self.splice.pipe.as_mut().filter(|p| p.held() > 0) {
                    ready!(self.stream.poll_ready(cx, Interest::WRITABLE))?;
                    match self.stream.try_io(Interest::WRITABLE, || pipe.drain(fd)) {
                        Ok(n) => self.wrote(n)?,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        Err(e) => return Poll::Ready(Err(e)),
                    };
                }
                // Empty: back to the pool, so a waiting connection holds none.
                self.splice.pipe = None;
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

#[cfg(test)]
mod memory {
    use super::*;

    /// What an idle connection costs lives mostly in its task's future:
    /// no read buffer, no timer without `--timeout`, no addresses.
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
        let f = echo_connection(1, Stream::Tcp(c), &opts, &totals);
        let size = std::mem::size_of_val(&f);
        assert!(size <= 512, "echo connection future is {size} bytes");
    }
}
