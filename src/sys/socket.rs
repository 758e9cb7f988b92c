//! Sockets below socket2: a TCP socket's state (a reset told from a FIN),
//! our FIN on a raw descriptor, a write error named as Node would, and
//! SO_RCVLOWAT for the TLS reader's coalesced wake-ups.

use std::io;
use std::os::fd::RawFd;

/// Linux's `TCP_CLOSE` (`tcp_states.h`): no connection. A socket we still
/// hold reaches it without our FIN only through a reset (or a timeout).
const TCP_CLOSE: u8 = 7;

/// The TCP state of `fd` (`tcpi_state`), or `None` for a socket that is not
/// TCP (a Unix socket, a pipe).
pub(crate) fn tcp_state(fd: RawFd) -> Option<u8> {
    // `tcpi_state` is the first byte of `struct tcp_info`; the kernel
    // copies at most `len` bytes, so a buffer of any size is safe to give.
    let mut info = [0u8; 8];
    let mut len = info.len() as libc::socklen_t;
    // SAFETY: `info` is writable for `len` bytes and `len` points to its size.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    (r == 0 && len >= 1).then_some(info[0])
}

/// Whether a read of 0 bytes on `fd` was a reset rather than the peer's FIN.
///
/// The kernel reports a reset once, to whichever call asks first: when the
/// writing side of a connection takes the ECONNRESET, the reading side's
/// next read returns 0, exactly like a FIN. Only the state tells them
/// apart: after a FIN the socket waits in CLOSE_WAIT until we end our side;
/// after a reset it is CLOSED at once. `fin_sent` says our side has ended
/// (then CLOSED is also how a clean close ends, and nobody else reads the
/// socket's error: the reader takes a reset itself).
pub fn eof_was_reset(fd: RawFd, fin_sent: bool) -> bool {
    !fin_sent && tcp_state(fd) == Some(TCP_CLOSE)
}

/// shutdown(SHUT_WR): our FIN, after what the kernel already holds.
pub(crate) fn shutdown_write(fd: RawFd) {
    // SAFETY: shutdown(2) takes no pointers; a bad descriptor is only an error.
    unsafe { libc::shutdown(fd, libc::SHUT_WR) };
}

/// A failed write on socket `fd`, named as Node would: EPIPE on a TCP
/// socket whose write side we never shut is a reset that another call
/// took first (the kernel says EPIPE to every write after it).
pub(crate) fn write_error(fd: RawFd, e: io::Error, fin_sent: bool) -> io::Error {
    if e.raw_os_error() == Some(libc::EPIPE) && eof_was_reset(fd, fin_sent) {
        return io::Error::from_raw_os_error(libc::ECONNRESET);
    }
    e
}

/// Set SO_RCVLOWAT: the kernel wakes a reader only once `bytes` are
/// queued. False where the option is refused (a Unix socket).
pub(crate) fn set_rcvlowat(fd: RawFd, bytes: libc::c_int) -> bool {
    // SAFETY: the option value points to a live c_int of the size given.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVLOWAT,
            (&bytes as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    r == 0
}

/// Bytes written to the TCP socket `fd` that its peer has not acknowledged
/// yet, sent or still queued (SIOCOUTQ); `None` when `fd` is not TCP.
pub(crate) fn unacknowledged(fd: RawFd) -> Option<usize> {
    tcp_state(fd)?;
    let mut n: libc::c_int = 0;
    // SAFETY: SIOCOUTQ (TIOCOUTQ) writes one int through the pointer, which
    // points to `n`.
    let r = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut n) };
    (r == 0).then(|| usize::try_from(n).unwrap_or(0))
}

/// TCP_NODELAY on `fd`: what Nagle holds back goes out now.
pub(crate) fn set_nodelay(fd: RawFd) {
    let on: libc::c_int = 1;
    // SAFETY: the option value points to an int of the given size.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_tcp_reset_leaves_the_socket_closed_and_a_fin_in_close_wait() {
        use std::net::{TcpListener, TcpStream};
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        for reset in [false, true] {
            let ours = TcpStream::connect(l.local_addr().unwrap()).unwrap();
            let (theirs, _) = l.accept().unwrap();
            if reset {
                socket2::SockRef::from(&theirs)
                    .set_linger(Some(std::time::Duration::ZERO))
                    .unwrap();
            }
            drop(theirs);
            // Wait (bounded) for the FIN or RST to arrive.
            let mut state = tcp_state(ours.as_raw_fd());
            for _ in 0..200 {
                if state != Some(1) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
                state = tcp_state(ours.as_raw_fd());
            }
            assert_eq!(eof_was_reset(ours.as_raw_fd(), false), reset, "{state:?}");
        }
    }
}
