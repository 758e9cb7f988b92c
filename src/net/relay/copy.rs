//! The one generic copy loop for streams that are not plain sockets (TLS):
//! [`copy`] and its variants, used by `echo --tls` and `--exec` too, and a
//! relayed pair's two directions through it.

use std::future::Future;
use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{both_ways, ended, Failed, Leg, Outcome, Pair, Side};
use crate::net::stream::Stream;

/// Which side of a copy failed (here and in the splice(2) pumps), so callers can tell a closed stdout from a
/// broken connection.
#[derive(Debug)]
pub(crate) enum PumpError {
    Read(io::Error),
    Write(io::Error),
}

/// Both directions when either socket speaks TLS.
pub(super) async fn relay_tls(
    client: &mut Stream,
    target: &mut Stream,
    pair: &Pair<'_>,
) -> Outcome {
    let (mut client_rd, mut client_wr) = tokio::io::split(client);
    let (mut target_rd, mut target_wr) = tokio::io::split(target);
    let up = copy_sides(Sides {
        src: &mut client_rd,
        dst: &mut target_wr,
        leg: Leg::from(Side::Client, pair),
    });
    let down = copy_sides(Sides {
        src: &mut target_rd,
        dst: &mut client_wr,
        leg: Leg::from(Side::Target, pair),
    });
    both_ways(up, down, pair).await
}

/// One direction of a pair through [`copy`]'s loop.
struct Sides<'a, R, W> {
    src: &'a mut R,
    dst: &'a mut W,
    leg: Leg<'a>,
}

/// [`copy`] for one direction of a pair, its errors blamed on the side
/// they came from; after the timeout, what `src` still sends is counted
/// and dropped until its end.
async fn copy_sides<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    w: Sides<'_, R, W>,
) -> Result<(), Failed> {
    let src_side = w.leg.src_side;
    let blame = |e| match e {
        PumpError::Read(error) => Failed {
            side: src_side,
            error,
        },
        PumpError::Write(error) => Failed {
            side: src_side.other(),
            error,
        },
    };
    let leg = &w.leg;
    let stopped = copy_until(w.src, w.dst, |n| leg.passed(n), ended(leg.end.clone()))
        .await
        .map_err(blame)?;
    end_write(w.dst).await.map_err(blame)?;
    if !stopped {
        return Ok(());
    }
    discard_until_end(w.src, |n| leg.discarded(n))
        .await
        .map_err(blame)
}

/// Read what `src` still sends, count it and drop it, until its end (FIN,
/// or close_notify under TLS).
pub(crate) async fn discard_until_end(
    src: &mut (impl AsyncRead + Unpin),
    mut counted: impl FnMut(usize),
) -> Result<(), PumpError> {
    let mut buf = vec![0u8; COPY_SIZE];
    loop {
        match src.read(&mut buf).await.map_err(PumpError::Read)? {
            0 => return Ok(()),
            n => counted(n),
        }
    }
}

/// Bytes per read of [`copy`]: four full TLS records.
pub(super) const COPY_SIZE: usize = 64 * 1024;

/// Copy `src` → `dst` until `src` ends, then shut `dst` down (FIN; under
/// TLS close_notify then FIN). The generic path, for streams that are not
/// plain sockets: one buffer of `COPY_SIZE`, each chunk written and
/// flushed (out of rustls, onto the socket) before the next read, so
/// memory is bounded and a slow reader slows the writer. `moved(n)` is
/// called after each chunk has gone.
pub(crate) async fn copy(
    src: &mut (impl AsyncRead + Unpin),
    dst: &mut (impl AsyncWrite + Unpin),
    moved: impl FnMut(usize),
) -> Result<(), PumpError> {
    copy_until_end(src, dst, moved).await?;
    end_write(dst).await
}

/// Shut `dst` down: FIN, under TLS close_notify first.
async fn end_write(dst: &mut (impl AsyncWrite + Unpin)) -> Result<(), PumpError> {
    match dst.shutdown().await {
        // The peer may already be gone after its own end: not a failure.
        Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(PumpError::Write(e)),
        _ => Ok(()),
    }
}

/// [`copy`] without the shutdown at the end: for a connection that is to
/// close with RST (`--reset`), where a FIN (or close_notify) must not go first.
pub(crate) async fn copy_until_end(
    src: &mut (impl AsyncRead + Unpin),
    dst: &mut (impl AsyncWrite + Unpin),
    moved: impl FnMut(usize),
) -> Result<(), PumpError> {
    copy_until(src, dst, moved, std::future::pending())
        .await
        .map(|_| ())
}

/// [`copy_until_end`], unless `stop` resolves: it is looked at only
/// between chunks, so what was read has been written. Returns whether it
/// stopped (rather than reached `src`'s end).
async fn copy_until(
    src: &mut (impl AsyncRead + Unpin),
    dst: &mut (impl AsyncWrite + Unpin),
    mut moved: impl FnMut(usize),
    stop: impl Future<Output = ()>,
) -> Result<bool, PumpError> {
    tokio::pin!(stop);
    let mut buf = vec![0u8; COPY_SIZE];
    loop {
        let n = tokio::select! {
            biased;
            _ = &mut stop => return Ok(true),
            n = src.read(&mut buf) => n.map_err(PumpError::Read)?,
        };
        if n == 0 {
            return Ok(false);
        }
        dst.write_all(&buf[..n]).await.map_err(PumpError::Write)?;
        dst.flush().await.map_err(PumpError::Write)?;
        moved(n);
    }
}
