//! Socket options (Node's `keepAlive`, `noDelay`, `resetAndDestroy()` …)
//! applied through socket2, so every command sets them the same way.

use std::io;
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};

use crate::sys::{self, RawFd};

/// Per-connection options (Node's `keepAlive` and `noDelay`).
#[derive(Debug, Clone, Default)]
pub(crate) struct SocketOptions {
    /// `keepAlive` with `keepAliveInitialDelay` (zero: leave the system's idle time).
    pub keep_alive: Option<Duration>,
    pub no_delay: bool,
}

impl SocketOptions {
    /// Apply to a TCP socket. As libuv does for Node: SO_KEEPALIVE, TCP_KEEPIDLE
    /// from the delay (in whole seconds, at least 1), TCP_KEEPINTVL=1, TCP_KEEPCNT=10.
    pub(crate) fn apply(&self, sock: SockRef<'_>) -> io::Result<()> {
        if let Some(delay) = self.keep_alive {
            let mut ka = TcpKeepalive::new();
            if !delay.is_zero() {
                ka = ka.with_time(Duration::from_secs(delay.as_secs().max(1)));
            }
            #[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
            {
                ka = ka.with_interval(Duration::from_secs(1)).with_retries(10);
            }
            sock.set_tcp_keepalive(&ka)?;
        }
        if self.no_delay {
            sock.set_nodelay(true)?;
        }
        Ok(())
    }
}

/// How long a close with RST waits for the peer to acknowledge more of
/// what was written, before it gives up on it.
const RESET_STALL: Duration = Duration::from_secs(1);

/// Before a close with RST (`--reset` after input ended): let every byte
/// written reach the peer first. A zero-linger close throws the send queue
/// away: the tail of a file still queued would be lost, and so would a small
/// last segment that Nagle holds behind an unacknowledged one (a TLS record
/// right after the handshake's Finished, while the peer delays its ACK).
/// TCP_NODELAY pushes that out; then wait while the peer keeps
/// acknowledging. A peer that acknowledges nothing more for `RESET_STALL`
/// makes it an error (ETIMEDOUT, with the count): the bytes would be lost,
/// and exit 0 must not say they arrived. Blocks; see [`flush_and_drain_before_reset`].
#[cfg(target_os = "linux")]
pub(crate) fn drain_before_reset(fd: RawFd) -> io::Result<()> {
    let mut drain = ResetDrain::new(fd);
    while let Some(pause) = drain.next()? {
        std::thread::sleep(pause);
    }
    Ok(())
}

/// On the runtime: flush what `wr` still buffers (TLS records), bounded by
/// `RESET_STALL`, then [`drain_before_reset`] without blocking a thread.
pub(crate) async fn flush_and_drain_before_reset<W>(wr: &mut W, fd: RawFd) -> io::Result<()>
where
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::AsyncWriteExt;
    tokio::time::timeout(RESET_STALL, wr.flush())
        .await
        .unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the peer took no more bytes before the reset",
            ))
        })?;
    drain_before_reset_async(fd).await
}

/// [`drain_before_reset`] with the runtime's timer.
async fn drain_before_reset_async(fd: RawFd) -> io::Result<()> {
    let mut drain = ResetDrain::new(fd);
    while let Some(pause) = drain.next()? {
        tokio::time::sleep(pause).await;
    }
    Ok(())
}

/// The wait of [`drain_before_reset`], one check at a time.
struct ResetDrain {
    fd: RawFd,
    /// Unacknowledged bytes at the last check; `None` before the first.
    left: Option<usize>,
    progress: std::time::Instant,
    pause: Duration,
}

impl ResetDrain {
    fn new(fd: RawFd) -> ResetDrain {
        ResetDrain {
            fd,
            left: None,
            progress: std::time::Instant::now(),
            pause: Duration::from_micros(100),
        }
    }

    /// How long to wait before the next check; `None` once all is acknowledged.
    fn next(&mut self) -> io::Result<Option<Duration>> {
        let now = sys::unacknowledged(self.fd).unwrap_or(0);
        match self.left {
            _ if now == 0 => return Ok(None),
            None => sys::set_nodelay(self.fd),
            Some(before) if now < before => self.progress = std::time::Instant::now(),
            Some(_) if self.progress.elapsed() > RESET_STALL => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{now} bytes written were not acknowledged by the peer \
                         within {RESET_STALL:?} before the reset"
                    ),
                ))
            }
            Some(_) => {}
        }
        self.left = Some(now);
        let pause = self.pause;
        self.pause = (self.pause * 2).min(Duration::from_millis(20));
        Ok(Some(pause))
    }
}

/// Arrange for the coming close to send RST: SO_LINGER with a zero timeout.
pub(crate) fn arm_reset(sock: SockRef<'_>) -> io::Result<()> {
    sock.set_linger(Some(Duration::ZERO))
}
