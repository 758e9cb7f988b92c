//! Windows counterparts of the Unix wrappers that the portable code calls:
//! a socket's state and our FIN, error names, stdin and stdout, the
//! resolver, process state. Where Windows has no equivalent the answer is
//! the conservative one, and says so (no TCP state: a 0-byte read is a
//! FIN, since Windows reports a reset to the read itself as WSAECONNRESET;
//! no unacknowledged count: `--reset` does not wait for the peer's ACKs).

pub(crate) mod errno;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::windows::io::{AsHandle, BorrowedSocket, RawSocket};

use bytes::BytesMut;
use windows_sys::Win32::Networking::WinSock as ws;

pub(crate) use errno::{error_name, error_text};

use super::Unread;

/// Run `f` on a socket the caller holds open for the length of the call.
fn with_socket<R>(sock: RawSocket, f: impl FnOnce(socket2::SockRef<'_>) -> R) -> R {
    // SAFETY: every caller passes the raw handle of a socket it owns (a
    // Stream's), which stays open while this borrow lives: it does not
    // outlive `f`.
    let borrowed = unsafe { BorrowedSocket::borrow_raw(sock) };
    f(socket2::SockRef::from(&borrowed))
}

/// Whether a 0-byte read was a reset: never on Windows, where a reset is
/// WSAECONNRESET to the read itself (there is no second reader to take it).
pub fn eof_was_reset(_sock: RawSocket, _fin_sent: bool) -> bool {
    false
}

/// A failed write, named as Node would: Windows already says WSAECONNRESET.
pub(crate) fn write_error(_sock: RawSocket, e: io::Error, _fin_sent: bool) -> io::Error {
    e
}

/// shutdown(SD_SEND): our FIN, after what the system already holds.
pub(crate) fn shutdown_write(sock: RawSocket) {
    with_socket(sock, |s| {
        let _ = s.shutdown(std::net::Shutdown::Write);
    });
}

/// TCP_NODELAY on `sock`.
pub(crate) fn set_nodelay(sock: RawSocket) {
    with_socket(sock, |s| {
        let _ = s.set_nodelay(true);
    });
}

/// Bytes not yet acknowledged by the peer: Windows does not say (without
/// SIO_TCP_INFO), so a close with RST does not wait for them.
pub(crate) fn unacknowledged(_sock: RawSocket) -> Option<usize> {
    None
}

/// Windows has no SIGPIPE: a write to a closed pipe or socket is an error.
pub fn ignore_sigpipe() {}

/// Windows has no death by a signal: the exit code (130, 143) says it.
pub(crate) fn die_by(_signal: i32) {}

/// The computer's name, for a self-signed certificate's names.
pub(crate) fn host_name() -> Option<String> {
    let name = std::env::var("COMPUTERNAME").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_lowercase())
}

/// The console's width: not asked (the progress line takes its default).
pub(crate) fn terminal_width() -> Option<u16> {
    None
}

/// stdin's size when it is a regular file (a redirected `< file`).
pub(crate) fn regular_file_size() -> Option<u64> {
    let handle = io::stdin().as_handle().try_clone_to_owned().ok()?;
    let meta = std::fs::File::from(handle).metadata().ok()?;
    meta.is_file().then_some(meta.len())
}

/// [`wait_for_stdin`] does not wait: the read after it blocks.
pub(crate) const STDIN_WAITS: bool = false;

/// Nothing to wait on: the read itself blocks.
pub(crate) fn wait_for_stdin() {}

/// One read of stdin into `buf`'s spare capacity.
pub(crate) fn read_stdin(buf: &mut BytesMut) -> io::Result<usize> {
    let start = buf.len();
    buf.resize(buf.capacity(), 0);
    let r = io::stdin().lock().read(&mut buf[start..]);
    buf.truncate(start + *r.as_ref().unwrap_or(&0));
    r
}

/// What a read of stdin would meet: not looked at on Windows (no FIONREAD
/// on a console or pipe handle without more calls), taken as nothing, so
/// the peer's FIN ends a connection as if stdin had been read through.
pub(crate) fn stdin_unread() -> Unread {
    Unread::Nothing
}

/// One write to stdout, flushed.
pub(crate) fn write_stdout(data: &[u8]) -> io::Result<usize> {
    let mut out = io::stdout().lock();
    let n = out.write(data)?;
    out.flush()?;
    Ok(n)
}

/// A failed lookup, by Node's name (see the Unix `resolve`).
#[derive(Debug, Clone)]
pub(crate) struct LookupError {
    pub code: &'static str,
    pub message: String,
}

/// The system resolver (getaddrinfo through std): every address of `host`
/// on `port`, with Winsock's error codes named as Node names them.
pub(crate) fn getaddrinfo(host: &str, port: u16) -> Result<Vec<SocketAddr>, LookupError> {
    match (host, port).to_socket_addrs() {
        Ok(addrs) => Ok(addrs.collect()),
        Err(e) => {
            let code = match e.raw_os_error() {
                Some(ws::WSAHOST_NOT_FOUND | ws::WSANO_DATA) => "ENOTFOUND",
                Some(ws::WSATRY_AGAIN) => "EAI_AGAIN",
                Some(ws::WSA_NOT_ENOUGH_MEMORY) => "EAI_MEMORY",
                _ => "EAI_FAIL",
            };
            let text = e.to_string();
            let message = text.split(" (os error").next().unwrap_or(&text).to_string();
            Err(LookupError { code, message })
        }
    }
}
