//! The channel transport of a bridge: the socket on tokio, its bytes to
//! and from chunk channels (stdin and stdout threads, `listen -k`'s
//! fan-out, `--send` text). [`send_input`] is the up direction,
//! [`receive_output`] the down one; the half-close table that ends them is
//! the parent's.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, Notify};

use super::{eof_or_reset, received, sent, Ends, InputEnd};
use crate::net::activity::{Activity, DownEnd};
use crate::net::options;
use crate::net::stdio::{self, CHUNK};
use crate::sys::{self, RawFd};

/// Socket → output chunks, until the peer's FIN.
pub(super) async fn receive_output<R: tokio::io::AsyncRead + Unpin>(
    mut rd: R,
    fd: RawFd,
    output: Option<mpsc::Sender<Bytes>>,
    activity: Arc<Activity>,
) -> io::Result<DownEnd> {
    let mut buf = BytesMut::with_capacity(CHUNK);
    loop {
        buf.reserve(CHUNK);
        let n = rd.read_buf(&mut buf).await?;
        if n == 0 {
            return eof_or_reset(fd, &activity);
        }
        // TLS hands over one record (≤ 16 KiB) per read: take whatever else
        // is ready now, up to a chunk, so the stdout thread gets fewer and
        // larger writes. A zero timeout polls the read exactly once.
        let mut end = None;
        while buf.len() < CHUNK && end.is_none() {
            match tokio::time::timeout(Duration::ZERO, rd.read_buf(&mut buf)).await {
                Ok(Ok(0)) => end = Some(eof_or_reset(fd, &activity)),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => end = Some(Err(e)),
                Err(_) => break,
            }
        }
        received(&activity, buf.len());
        let chunk = buf.split().freeze();
        if let Some(tx) = &output {
            if tx.send(chunk).await.is_err() {
                return Ok(DownEnd::StdoutClosed);
            }
        }
        if let Some(end) = end {
            return end;
        }
    }
}

/// The input side of a channel bridge.
pub(super) struct Input {
    pub(super) rx: Option<mpsc::Receiver<Bytes>>,
    /// The socket, to name a failed write right.
    pub(super) fd: RawFd,
    /// The chunks come from this process's stdin.
    pub(super) stdin: bool,
    /// Ends input from the bridge (the peer's FIN, a timeout).
    pub(super) stop: Arc<Notify>,
    /// Close with RST: no FIN at the end.
    pub(super) reset: bool,
    /// The socket speaks TLS: see [`send_input`].
    pub(super) tls: bool,
    /// `no_shutdown`: at input's end, say so and hold the FIN back until
    /// the peer's FIN or a stop.
    pub(super) no_shutdown: Option<Arc<Ends>>,
}

impl Input {
    /// Whether input holds bytes that never went out, once it has stopped:
    /// a chunk queued, or stdin with bytes still to read (which may take
    /// [`stdio::stdin_unsent`]'s linger to tell, off the runtime's thread).
    async fn unsent(&mut self) -> bool {
        let Some(rx) = self.rx.take() else {
            return false;
        };
        if !self.stdin {
            return !rx.is_empty();
        }
        tokio::task::spawn_blocking(move || stdio::stdin_unsent(&mut || !rx.is_empty()))
            .await
            .unwrap_or(true)
    }
}

/// Input → socket; FIN when input ends or when told to stop.
///
/// Bytes count once they are on the socket. Under TLS, what tokio-rustls
/// accepts may still sit in rustls when a stop comes, so each record's
/// worth ([`RECORD`]) is written and flushed before it counts: a stop
/// during the flush leaves that one record partly out, and the peer can
/// decrypt none of it.
pub(super) async fn send_input<W: tokio::io::AsyncWrite + Unpin>(
    mut wr: W,
    mut input: Input,
    activity: Arc<Activity>,
) -> io::Result<InputEnd> {
    let mut held = false;
    let end = match input.rx.as_mut() {
        Some(rx) => loop {
            let chunk = tokio::select! {
                biased;
                _ = input.stop.notified() => break None,
                chunk = rx.recv() => chunk,
            };
            let Some(b) = chunk else {
                break Some(InputEnd::Finished);
            };
            // One write(2) at a time, so that stopping in the middle (a
            // peer that ended and reads no more) knows what went.
            let mut rest = &b[..];
            while !rest.is_empty() {
                let piece = match input.tls {
                    true => &rest[..rest.len().min(RECORD)],
                    false => rest,
                };
                let n = tokio::select! {
                    biased;
                    _ = input.stop.notified() => break,
                    r = write_out(&mut wr, piece, input.tls) => r,
                };
                let n = n.map_err(|e| {
                    let fin_sent = activity.fin_sent.load(Ordering::SeqCst);
                    sys::write_error(input.fd, e, fin_sent)
                })?;
                rest = &rest[n..];
                sent(&activity, n);
            }
            if !rest.is_empty() {
                held = true;
                break None;
            }
        },
        // --recv-only: never half-close; end only when the peer ends.
        None => {
            input.stop.notified().await;
            None
        }
    };
    let end = match (end, input.no_shutdown.clone()) {
        (Some(InputEnd::Finished), Some(ends)) => {
            ends.input_eof.notify_one();
            tokio::select! {
                _ = input.stop.notified() => {}
                _ = ends.peer_fin.notified() => {}
            }
            InputEnd::Finished
        }
        (Some(end), _) => end,
        (None, _) => InputEnd::Stopped {
            unsent: held || input.unsent().await,
        },
    };
    if input.reset {
        // Ended cleanly (stdin's end, the peer's FIN, a timeout): not a
        // failure that already lost bytes.
        if matches!(
            end,
            InputEnd::Finished | InputEnd::Stopped { unsent: false }
        ) {
            // Everything written, TLS records included, reaches the peer
            // before the RST.
            options::flush_and_drain_before_reset(&mut wr, input.fd).await?;
        }
        return Ok(end);
    }
    activity.fin_sent.store(true, Ordering::SeqCst);
    if matches!(end, InputEnd::Stopped { unsent: true }) {
        // Failed: only the FIN (a TLS close_notify could wait forever on
        // a peer that no longer reads).
        crate::sys::shutdown_write(input.fd);
        return Ok(end);
    }
    match tokio::time::timeout(END_WAIT, wr.shutdown()).await {
        // The peer may already be gone after its own FIN; that is not a failure.
        Ok(Err(e)) if e.kind() == io::ErrorKind::NotConnected => Ok(end),
        Ok(Err(e)) => Err(e),
        Ok(Ok(())) => Ok(end),
        // No room for close_notify: the FIN goes anyway.
        Err(_) => {
            crate::sys::shutdown_write(input.fd);
            Ok(end)
        }
    }
}

/// The most plaintext rustls puts in one record.
const RECORD: usize = 16 * 1024;

/// Write some of `piece`; with `flush`, wait until it has left rustls too.
async fn write_out<W: tokio::io::AsyncWrite + Unpin>(
    wr: &mut W,
    piece: &[u8],
    flush: bool,
) -> io::Result<usize> {
    let n = match wr.write(piece).await? {
        0 => return Err(io::ErrorKind::WriteZero.into()),
        n => n,
    };
    if flush {
        wr.flush().await?;
    }
    Ok(n)
}

/// How long ending our side may wait for room to send close_notify.
const END_WAIT: Duration = Duration::from_secs(1);
