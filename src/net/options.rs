//! Socket options (Node's `keepAlive`, `noDelay`, `resetAndDestroy()` …)
//! applied through socket2, so every command sets them the same way.

use std::io;
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};

/// Per-connection options (Node's `keepAlive` and `noDelay`).
#[derive(Debug, Clone, Default)]
pub struct SocketOptions {
    /// `keepAlive` with `keepAliveInitialDelay` (zero: leave the system's idle time).
    pub keep_alive: Option<Duration>,
    pub no_delay: bool,
}

impl SocketOptions {
    /// Apply to a TCP socket. As libuv does for Node: SO_KEEPALIVE, TCP_KEEPIDLE
    /// from the delay (in whole seconds, at least 1), TCP_KEEPINTVL=1, TCP_KEEPCNT=10.
    pub fn apply(&self, sock: SockRef<'_>) -> io::Result<()> {
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

/// Arrange for the coming close to send RST: SO_LINGER with a zero timeout.
pub fn arm_reset(sock: SockRef<'_>) -> io::Result<()> {
    sock.set_linger(Some(Duration::ZERO))
}
