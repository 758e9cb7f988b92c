//! `wirecat echo`: every connection receives its own bytes back, in order,
//! concurrently (Node's echo server, `c.pipe(c)`), on the shared accept loop.
//!
//! After the client's FIN everything it sent has already been echoed, so we
//! send our FIN and the connection closes (the default half-close rule).
//! An idle connection holds no buffer: the echo loop is a hand-written
//! future whose `poll` reads into a buffer on the thread's stack and writes
//! it straight back; only bytes the socket cannot take at once are copied to
//! the heap, and the socket is not read again until they are gone (bounded
//! memory, and a slow reader slows its own writer). Idle connections stay
//! cheap (the figures are in bench/README.md).
//!
//! On Linux, a connection whose last read was large moves its next bytes
//! socket → pipe → the same socket with splice(2), never through user
//! space; the pipe is borrowed from the accept loop's pool only while
//! bytes sit in it, so an idle connection still holds none. Small reads
//! stay read(2)/write(2), where splice would cost a call more per message.
//! That loop is `plain`'s `EchoAll`; this file holds the connection's life
//! around it (banner, TLS, `--timeout`, the second signal, `close`).
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
//! On Linux a plain server (no TLS, no `--timeout`, not `--once`, not
//! `--reset`) runs on the io_uring engine in `uring` instead, unless
//! `WIRECAT_NO_URING` is set or the kernel refuses the ring; the
//! `listening` event's `engine` field says which (`io_uring` or `tokio`).

mod plain;
#[cfg(target_os = "linux")]
mod uring;

use plain::EchoAll;

use std::future::Future;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::cli::EchoArgs;
use crate::commands::block_on_with;
use crate::events;
use crate::exit::{Error, Exit};
use crate::net::activity::{Activity, Ending};
use crate::net::endpoint::Endpoint;
use crate::net::listen::{serve, Accepted, Forced, Listener, Shutdown, Totals};
use crate::net::options;
use crate::net::relay::{copy, copy_until_end, discard_until_end, PumpError};
use crate::net::stream::Stream;
use crate::net::tls;
use crate::progress;

/// What each connection needs to know.
#[derive(Debug, Clone)]
struct EchoOptions {
    banner: Option<Bytes>,
    timeout: Option<Duration>,
    reset: bool,
}

pub(crate) fn run(args: EchoArgs) -> Result<Exit, Error> {
    events::init(args.events.verbose, args.events.json);
    let ep = Endpoint::for_listen(&args.address)?;
    super::options::check_server(&ep, &args.server)?;
    super::options::check_family(&ep, &args.socket)?;
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
        let mut extra = tls::listening_fields(tls.as_deref());
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
                let secured = tls::secure_accepted(tls.as_deref(), stream, Some(id), None, &forced);
                let Some(stream) = secured.await else {
                    return;
                };
                echo_connection(id, stream, &echo, &totals, forced).await
            }
        };
        serve(listener, &opts, shutdown, args.once, totals, handler).await
    })
}

/// Whether this server runs on the io_uring engine: Linux, plain (no TLS),
/// no idle timeout, not `--once`, not `--reset` (whose close waits for the
/// echo to be acknowledged first), `WIRECAT_NO_URING` unset (the tests use
/// it to cover both paths), and a ring can be set up here.
fn uring_applies(args: &EchoArgs, tls: bool) -> bool {
    #[cfg(target_os = "linux")]
    {
        !tls && args.socket.timeout.is_none()
            && !args.once
            && !args.end.reset
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
    let activity = Activity::new();
    let conn = Some(id);
    if opts.reset {
        let _ = options::arm_reset(stream.sock_ref());
    }
    let work = async {
        match opts.timeout {
            None => {
                let r = echo_untimed(&mut stream, opts, &activity).await;
                if r.is_ok() {
                    events::emit("end", conn, json!({}));
                }
                ended(r)
            }
            // Boxed, so connections without a timeout carry no timer.
            Some(timeout) => {
                let ctx = Timed {
                    a: &activity,
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
    // The close is the RST: the echo is acknowledged first, TLS records
    // included (see options::drain_before_reset). Boxed: the wait takes no
    // room in every connection's future.
    let ending = match ending {
        Ending::Done | Ending::Timeout if opts.reset => reset_close(&mut stream, ending).await,
        ending => ending,
    };
    if events::enabled() {
        activity.report_close(conn, &ending);
    }
    totals.add_bytes(activity.bytes_read(), activity.bytes_written());
}

/// Before `--reset`'s close: what was echoed reaches the client, or the
/// connection ends with the error that says it did not.
fn reset_close(
    stream: &mut Stream,
    ending: Ending,
) -> std::pin::Pin<Box<dyn Future<Output = Ending> + Send + '_>> {
    Box::pin(async move {
        match reset_drained(stream).await {
            Ok(()) => ending,
            Err(e) => Ending::Error(e),
        }
    })
}

async fn reset_drained(stream: &mut Stream) -> io::Result<()> {
    let fd = stream.raw_fd();
    options::flush_and_drain_before_reset(stream, fd).await
}

fn ended(r: io::Result<()>) -> Ending {
    match r {
        Ok(()) => Ending::Done,
        Err(e) => Ending::Error(e),
    }
}

/// The banner, then echo until the client's FIN (no `--timeout`).
async fn echo_untimed(stream: &mut Stream, opts: &EchoOptions, a: &Activity) -> io::Result<()> {
    if stream.is_plain() {
        return EchoAll::new(stream, a, opts.banner.as_deref(), false).await;
    }
    write_banner(stream, opts.banner.as_deref(), a).await?;
    Box::pin(echo_tls(stream, a, opts.reset)).await
}

/// `--banner` on a TLS stream, counted.
async fn write_banner(stream: &mut Stream, banner: Option<&[u8]>, a: &Activity) -> io::Result<()> {
    if let Some(banner) = banner {
        stream.write_all(banner).await?;
        stream.flush().await?;
        a.count_written(banner.len());
    }
    Ok(())
}

/// What a connection with `--timeout` needs.
#[derive(Clone, Copy)]
struct Timed<'a> {
    a: &'a Activity,
    conn: Option<u64>,
    timeout: Duration,
    reset: bool,
}

impl Timed<'_> {
    fn idle(&self) -> impl Future<Output = ()> + '_ {
        self.a.idle(Some(self.timeout))
    }
}

/// With `--timeout`: echo until the client's FIN, unless nothing moves
/// for the timeout: then `timeout` and `end()` (see the module's doc),
/// all of it bounded by another silent timeout.
async fn echo_timed(stream: &mut Stream, banner: Option<&[u8]>, t: Timed<'_>) -> Ending {
    if !stream.is_plain() {
        return echo_tls_timed(stream, banner, t).await;
    }
    let mut echo = EchoAll::new(stream, t.a, banner, true);
    if let Some(ending) = unless_idle(&mut echo, &t).await {
        return ending;
    }
    let grace = async {
        // What is in hand goes first, then our FIN.
        std::future::poll_fn(|cx| echo.poll_flush(cx)).await?;
        t.a.fin_sent.store(true, Ordering::SeqCst);
        crate::sys::shutdown_write(echo.stream.raw_fd());
        discard(echo.stream, &t).await
    };
    after_timeout(grace, &t).await
}

/// `work` (echoing) until the client's FIN or an error, unless nothing
/// moves for the timeout first: then the `timeout` event. `None` when the
/// grace after it follows; else how the connection ended (`--reset`
/// closes at once).
async fn unless_idle(work: impl Future<Output = io::Result<()>>, t: &Timed<'_>) -> Option<Ending> {
    let r = tokio::select! {
        r = work => Some(r),
        _ = t.idle() => None,
    };
    if let Some(r) = r {
        return Some(echo_ended(r, t.conn));
    }
    timed_out(t).then_some(Ending::Timeout)
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
    t.a.timed_out(t.conn);
    t.reset
}

/// `--timeout` over TLS: as [`echo_timed`], with close_notify before the FIN.
async fn echo_tls_timed(stream: &mut Stream, banner: Option<&[u8]>, t: Timed<'_>) -> Ending {
    let work = async {
        write_banner(stream, banner, t.a).await?;
        Box::pin(echo_tls(stream, t.a, t.reset)).await
    };
    if let Some(ending) = unless_idle(work, &t).await {
        return ending;
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
        t.a.touch();
        t.a.count_read(n);
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
async fn echo_tls(stream: &mut Stream, a: &Activity, reset: bool) -> io::Result<()> {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let moved = |n| {
        a.touch();
        a.count_read(n);
        a.count_written(n);
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
