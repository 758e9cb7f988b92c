//! Small safe wrappers around the raw system calls the copy paths need to
//! tell outcomes apart: a socket's TCP state (a reset from a FIN), how many
//! bytes a descriptor still holds (stdin left unsent), and an eventfd that
//! wakes a thread blocked in poll(2) (stopping input without losing what it
//! holds). Each wrapper holds one `unsafe` with the reason it is sound.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// Linux's `TCP_CLOSE` (`tcp_states.h`): no connection. A socket we still
/// hold reaches it without our FIN only through a reset (or a timeout).
const TCP_CLOSE: u8 = 7;

/// The TCP state of `fd` (`tcpi_state`), or `None` for a socket that is not
/// TCP (a Unix socket, a pipe).
pub fn tcp_state(fd: RawFd) -> Option<u8> {
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
pub fn shutdown_write(fd: RawFd) {
    // SAFETY: shutdown(2) takes no pointers; a bad descriptor is only an error.
    unsafe { libc::shutdown(fd, libc::SHUT_WR) };
}

/// A failed write on socket `fd`, named as Node would: EPIPE on a TCP
/// socket whose write side we never shut is a reset that another call
/// took first (the kernel says EPIPE to every write after it).
pub fn write_error(fd: RawFd, e: io::Error, fin_sent: bool) -> io::Error {
    if e.raw_os_error() == Some(libc::EPIPE) && eof_was_reset(fd, fin_sent) {
        return io::Error::from_raw_os_error(libc::ECONNRESET);
    }
    e
}

/// What a read of an input descriptor would meet now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unread {
    /// Bytes: a regular file not read to its end, or bytes queued in a
    /// pipe, socket or terminal (FIONREAD).
    Bytes,
    /// Nothing, and nothing is coming: a file at its end, a pipe whose
    /// writers are gone, /dev/null; also a terminal with nothing typed
    /// (nobody is typing into a script's terminal).
    Nothing,
    /// Nothing yet, but a pipe or socket whose other end is still open.
    NotYet,
}

/// What a read of `fd` would meet now (see [`Unread`]).
pub fn unread(fd: RawFd) -> Unread {
    // SAFETY: an all-zero `stat` is a valid value for fstat to overwrite.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid, writable `stat`.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Unread::Nothing;
    }
    let kind = st.st_mode & libc::S_IFMT;
    if kind == libc::S_IFREG {
        // SAFETY: lseek on a descriptor we were given only reads its offset.
        let pos = unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) };
        return if pos >= 0 && pos < st.st_size {
            Unread::Bytes
        } else {
            Unread::Nothing
        };
    }
    if fionread(fd) > 0 {
        return Unread::Bytes;
    }
    if kind != libc::S_IFIFO && kind != libc::S_IFSOCK {
        return Unread::Nothing;
    }
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no waiting.
    let r = unsafe { libc::poll(&mut p, 1, 0) };
    if r == 1 && p.revents & libc::POLLHUP != 0 && p.revents & libc::POLLIN == 0 {
        Unread::Nothing
    } else if r == 1 && p.revents & libc::POLLHUP != 0 {
        // Hung up with POLLIN: bytes raced in, or only the end is left.
        if fionread(fd) > 0 {
            Unread::Bytes
        } else {
            Unread::Nothing
        }
    } else {
        Unread::NotYet
    }
}

/// Bytes queued on a pipe, socket or terminal; 0 where FIONREAD fails.
fn fionread(fd: RawFd) -> libc::c_int {
    let mut queued: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int to the pointer given.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut queued) };
    if r == 0 {
        queued
    } else {
        0
    }
}

/// A flag that also wakes a thread blocked in [`poll_or_stop`]: stopping
/// input from another thread without closing descriptors under it.
pub struct Stop {
    set: AtomicBool,
    wake: OwnedFd,
}

impl Stop {
    pub fn new() -> io::Result<Stop> {
        // SAFETY: eventfd takes no pointers; a negative result is an error.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Stop {
            set: AtomicBool::new(false),
            // SAFETY: eventfd just returned this descriptor; nothing else owns it.
            wake: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Set the flag and wake every waiter (for good: the eventfd stays readable).
    pub fn set(&self) {
        self.set.store(true, Ordering::SeqCst);
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our own eventfd.
        unsafe { libc::write(self.wake.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }
}

/// Block until `fd` is ready for `events` (or has an error to report), or
/// until `stop` is set: `Ok(true)` when stopped. Without `stop`, only `fd`.
pub fn poll_or_stop(fd: RawFd, events: libc::c_short, stop: Option<&Stop>) -> io::Result<bool> {
    let mut fds = [
        libc::pollfd {
            fd,
            events,
            revents: 0,
        },
        libc::pollfd {
            fd: stop.map_or(-1, |s| s.wake.as_raw_fd()),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    loop {
        if stop.is_some_and(Stop::is_set) {
            return Ok(true);
        }
        // SAFETY: `fds` is an array of two valid pollfds (a negative fd is ignored).
        let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if r >= 0 {
            return Ok(fds[1].revents != 0 || stop.is_some_and(Stop::is_set));
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// A failed getaddrinfo(3), by Node's name: `ENOTFOUND` for a name that
/// does not exist (EAI_NONAME, EAI_NODATA), else the EAI code itself
/// (`EAI_AGAIN`: the resolver could not be reached, worth retrying).
#[derive(Debug, Clone)]
pub struct LookupError {
    pub code: &'static str,
    pub message: String,
}

/// The system resolver: every address of `host` for a stream socket on
/// `port`, in the resolver's order. Blocking (run it off the runtime).
///
/// Written here rather than through std's `ToSocketAddrs`, whose error
/// keeps only gai_strerror's text, so EAI_AGAIN could not be told from a
/// name that does not exist.
pub fn getaddrinfo(host: &str, port: u16) -> Result<Vec<std::net::SocketAddr>, LookupError> {
    use std::ffi::{CStr, CString};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
    let name = CString::new(host).map_err(|_| LookupError {
        code: "ENOTFOUND",
        message: "a name with a NUL byte".into(),
    })?;
    // SAFETY: an all-zero addrinfo is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `name` is NUL-terminated, `hints` lives across the call, and
    // `list` receives a list we free below.
    let r = unsafe { libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut list) };
    if r != 0 {
        let code = match r {
            libc::EAI_NONAME | libc::EAI_NODATA => "ENOTFOUND",
            libc::EAI_AGAIN => "EAI_AGAIN",
            libc::EAI_FAIL => "EAI_FAIL",
            libc::EAI_MEMORY => "EAI_MEMORY",
            libc::EAI_SYSTEM => "EAI_SYSTEM",
            _ => "EAI_FAIL",
        };
        let message = if r == libc::EAI_SYSTEM {
            io::Error::last_os_error().to_string()
        } else {
            // SAFETY: gai_strerror returns a static NUL-terminated string.
            unsafe { CStr::from_ptr(libc::gai_strerror(r)) }
                .to_string_lossy()
                .into_owned()
        };
        return Err(LookupError { code, message });
    }
    let mut out = Vec::new();
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getaddrinfo returned, not yet freed.
        let ai = unsafe { &*cur };
        match ai.ai_family {
            libc::AF_INET if !ai.ai_addr.is_null() => {
                // SAFETY: for AF_INET, ai_addr points to a sockaddr_in.
                let sin = unsafe { &*(ai.ai_addr as *const libc::sockaddr_in) };
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                out.push(SocketAddr::V4(SocketAddrV4::new(ip, port)));
            }
            libc::AF_INET6 if !ai.ai_addr.is_null() => {
                // SAFETY: for AF_INET6, ai_addr points to a sockaddr_in6.
                let sin6 = unsafe { &*(ai.ai_addr as *const libc::sockaddr_in6) };
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                let a = SocketAddrV6::new(ip, port, sin6.sin6_flowinfo, sin6.sin6_scope_id);
                out.push(SocketAddr::V6(a));
            }
            _ => {}
        }
        cur = ai.ai_next;
    }
    // SAFETY: `list` came from getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    Ok(out)
}

/// Bytes written to the TCP socket `fd` that its peer has not acknowledged
/// yet, sent or still queued (SIOCOUTQ); `None` when `fd` is not TCP.
pub fn unacknowledged(fd: RawFd) -> Option<usize> {
    tcp_state(fd)?;
    let mut n: libc::c_int = 0;
    // SAFETY: SIOCOUTQ (TIOCOUTQ) writes one int through the pointer, which
    // points to `n`.
    let r = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut n) };
    (r == 0).then(|| usize::try_from(n).unwrap_or(0))
}

/// TCP_NODELAY on `fd`: what Nagle holds back goes out now.
pub fn set_nodelay(fd: RawFd) {
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
    use std::io::Write;

    #[test]
    fn getaddrinfo_resolves_localhost_and_names_a_missing_name() {
        let addrs = getaddrinfo("localhost", 80).unwrap();
        assert!(addrs.iter().any(|a| a.ip().is_loopback() && a.port() == 80));
        let e = getaddrinfo("wirecat-test.invalid", 80).unwrap_err();
        assert!(["ENOTFOUND", "EAI_AGAIN"].contains(&e.code), "{e:?}");
    }

    #[test]
    fn a_file_has_unread_bytes_until_read_to_its_end() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"abc").unwrap();
        use std::io::{Read, Seek};
        f.rewind().unwrap();
        assert_eq!(unread(f.as_raw_fd()), Unread::Bytes);
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(unread(f.as_raw_fd()), Unread::Nothing);
    }

    #[test]
    fn a_pipe_has_bytes_while_queued_and_nothing_once_its_writers_are_gone() {
        let (r, w) = crate::net::splice::make_pipe().unwrap();
        assert_eq!(unread(r.as_raw_fd()), Unread::NotYet);
        let mut w = std::fs::File::from(w);
        w.write_all(b"x").unwrap();
        assert_eq!(unread(r.as_raw_fd()), Unread::Bytes);
        drop(w);
        assert_eq!(
            unread(r.as_raw_fd()),
            Unread::Bytes,
            "the byte is still there"
        );
        let null = std::fs::File::open("/dev/null").unwrap();
        assert_eq!(unread(null.as_raw_fd()), Unread::Nothing);
        let (r, w) = crate::net::splice::make_pipe().unwrap();
        drop(w);
        assert_eq!(unread(r.as_raw_fd()), Unread::Nothing);
    }

    #[test]
    fn stop_wakes_a_poll_that_would_block_forever() {
        let (r, _w) = crate::net::splice::make_pipe().unwrap();
        let stop = std::sync::Arc::new(Stop::new().unwrap());
        let s = stop.clone();
        let t = std::thread::spawn(move || poll_or_stop(r.as_raw_fd(), libc::POLLIN, Some(&s)));
        std::thread::sleep(std::time::Duration::from_millis(20));
        stop.set();
        assert!(t.join().unwrap().unwrap());
    }

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
