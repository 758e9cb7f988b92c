//! `wirecat echo`: every connection receives its own bytes back, in order,
//! concurrently (Node's echo server, `c.pipe(c)`), on the shared accept loop.
//!
//! After the client's FIN everything it sent has already been echoed, so we
//! send our FIN and the connection closes (the default half-close rule).
//! An idle connection holds no buffer: the task waits for readability, then
//! reads into a buffer on the thread's stack and writes it straight back;
//! only bytes the socket cannot take at once are copied to the heap, and the
//! socket is not read again until they are gone (bounded memory, and a slow
//! reader slows its own writer). That keeps 10,000 idle connections within a
//! few tens of MiB.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::time::Instant;

use crate::cli::EchoArgs;
use crate::commands::block_on_with;
use crate::events;
use crate::exit::{Error, Exit};
use crate::net::bridge::{idle, report_close, touch, Counters, Ending};
use crate::net::endpoint::Endpoint;
use crate::net::listen::{serve, Accepted, Listener, ServerOptions, Shutdown, Totals};
use crate::net::options;
use crate::net::stream::Stream;

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
    let opts = ServerOptions::from_args(&args.server, &args.socket);
    let echo = EchoOptions {
        banner: args
            .banner
            .as_deref()
            .map(|b| Bytes::from(unescape(b)))
            .filter(|b| !b.is_empty()),
        timeout: args.socket.timeout,
        reset: args.socket.reset,
    };
    block_on_with(async move {
        let listener = Listener::bind(&ep, &opts).await?;
        let totals = Arc::new(Totals::default());
        let all = totals.clone();
        let handler = move |acc: Accepted| {
            let (echo, totals) = (echo.clone(), all.clone());
            async move { echo_connection(acc, &echo, &totals).await }
        };
        let shutdown = Shutdown::on_signals();
        Ok(serve(listener, &opts, shutdown, args.once, totals, handler).await)
    })
}

/// One connection from accept to `close`.
async fn echo_connection(acc: Accepted, opts: &EchoOptions, totals: &Totals) {
    let started = Instant::now();
    let counters = Counters::default();
    let mut stream = acc.stream;
    if opts.reset {
        let _ = options::arm_reset(stream.sock_ref());
    }
    let conn = Some(acc.id);
    let work = async {
        if let Some(banner) = &opts.banner {
            write_all(&stream, banner, &counters, started).await?;
        }
        echo_all(&mut stream, &counters, started).await?;
        events::emit("end", conn, json!({}));
        Ok(())
    };
    let ending = tokio::select! {
        r = work => match r {
            Ok(()) => Ending::Done,
            Err(e) => Ending::Error(e),
        },
        _ = idle(opts.timeout, &counters, started) => {
            events::emit("timeout", conn, json!({}));
            Ending::Timeout
        }
    };
    if !matches!(ending, Ending::Error(_)) && !opts.reset {
        let _ = stream.sock_ref().shutdown(std::net::Shutdown::Write);
    }
    report_close(conn, &ending, &counters, started);
    totals.add_bytes(
        counters.read.load(std::sync::atomic::Ordering::Relaxed),
        counters.written.load(std::sync::atomic::Ordering::Relaxed),
    );
}

/// Echo until the client's FIN.
async fn echo_all(stream: &mut Stream, c: &Counters, started: Instant) -> io::Result<()> {
    if !stream.is_plain() {
        return echo_buffered(stream, c, started).await;
    }
    loop {
        stream.ready(Interest::READABLE).await?;
        match read_and_echo(stream, c, started)? {
            Step::Eof => return Ok(()),
            Step::Echoed => {}
            Step::Pending(rest) => write_all(stream, &rest, c, started).await?,
        }
    }
}

enum Step {
    Eof,
    Echoed,
    /// Bytes read that the socket would not take yet.
    Pending(Vec<u8>),
}

/// One read and as much of its echo as the socket takes now. Not async, so
/// the buffer lives on the stack and never in the connection's task.
fn read_and_echo(stream: &Stream, c: &Counters, started: Instant) -> io::Result<Step> {
    let mut buf = [0u8; READ_SIZE];
    let n = match stream.try_read(&mut buf) {
        Ok(0) => return Ok(Step::Eof),
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Step::Echoed),
        Err(e) => return Err(e),
    };
    touch(c, started);
    c.read
        .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    let mut done = 0;
    while done < n {
        match stream.try_write(&buf[done..n]) {
            Ok(w) => {
                c.written
                    .fetch_add(w as u64, std::sync::atomic::Ordering::Relaxed);
                done += w;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Ok(Step::Pending(buf[done..n].to_vec()))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Step::Echoed)
}

/// Write all of `data`, waiting for room as needed.
async fn write_all(
    stream: &Stream,
    mut data: &[u8],
    c: &Counters,
    started: Instant,
) -> io::Result<()> {
    while !data.is_empty() {
        stream.ready(Interest::WRITABLE).await?;
        match stream.try_write(data) {
            Ok(w) => {
                touch(c, started);
                c.written
                    .fetch_add(w as u64, std::sync::atomic::Ordering::Relaxed);
                data = &data[w..];
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Streams that are not bare sockets (TLS): read and write through the
/// stream itself, with a buffer taken for the connection's lifetime.
async fn echo_buffered(stream: &mut Stream, c: &Counters, started: Instant) -> io::Result<()> {
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return stream.flush().await;
        }
        touch(c, started);
        c.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        stream.write_all(&buf[..n]).await?;
        c.written
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `--banner` text with the usual escapes: `\r \n \t \0 \e \\ \xHH`.
pub fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            let mut tmp = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('e') => out.push(0x1b),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.clone().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) if hex.len() == 2 => {
                        out.push(b);
                        chars.nth(1);
                    }
                    _ => out.extend_from_slice(b"\\x"),
                }
            }
            Some(other) => {
                out.push(b'\\');
                let mut tmp = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut tmp).as_bytes());
            }
            None => out.push(b'\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn banner_escapes_are_understood() {
        assert_eq!(unescape(r"hi\r\n"), b"hi\r\n");
        assert_eq!(unescape(r"a\tb\\c\x41\e"), b"a\tb\\cA\x1b");
        assert_eq!(unescape(r"odd\q\x4"), b"odd\\q\\x4");
        assert_eq!(unescape("é"), "é".as_bytes());
    }
}
