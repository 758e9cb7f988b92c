//! The handshakes, client and server, each bounded by its timeout, and the
//! graceful close after a failed one, so the peer reads our alert.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::{client, server, TlsConnector};

use super::{HandshakeTimeout, ServerSetup};

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, HandshakeTimeout)
}

/// How long a failed handshake waits for the peer to close, at most.
const LINGER: Duration = Duration::from_secs(1);

/// Finish a handshake within `timeout`; after a failure, close gracefully.
///
/// When a handshake fails, our alert has been written but the peer's last
/// flight may still be unread in the socket; closing a socket with unread
/// bytes makes the kernel send a RST, and a RST can destroy the alert
/// before the peer reads it (it then sees `ECONNRESET` instead of, say,
/// `ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE`). So: FIN after the alert, then
/// read and discard until the peer closes, for at most [`LINGER`].
async fn finish<S, IO>(
    handshake: impl std::future::Future<Output = Result<S, (io::Error, IO)>>,
    timeout: Option<Duration>,
) -> io::Result<S>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let outcome = match timeout {
        Some(limit) => match tokio::time::timeout(limit, handshake).await {
            Ok(r) => r,
            Err(_) => return Err(timed_out()),
        },
        None => handshake.await,
    };
    match outcome {
        Ok(stream) => Ok(stream),
        Err((e, mut io)) => {
            let _ = tokio::time::timeout(LINGER, async {
                let _ = io.shutdown().await;
                let mut sink = [0u8; 4096];
                while matches!(io.read(&mut sink).await, Ok(n) if n > 0) {}
            })
            .await;
            Err(e)
        }
    }
}

/// The client handshake over `io`, bounded by `timeout` when given; errors
/// go through [`tls_error_code`](super::tls_error_code) /
/// [`tls_error_exit`](super::tls_error_exit).
pub async fn connect<IO>(
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    io: IO,
    timeout: Option<Duration>,
) -> io::Result<client::TlsStream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let handshake = TlsConnector::from(config).connect(name, io).into_fallible();
    finish(handshake, timeout).await
}

/// The server handshake over `io`, bounded by `--handshake-timeout` so a
/// silent client cannot hold a slot.
pub async fn accept<IO>(setup: &ServerSetup, io: IO) -> io::Result<server::TlsStream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let handshake = setup.acceptor().accept(io).into_fallible();
    finish(handshake, Some(setup.handshake_timeout)).await
}
