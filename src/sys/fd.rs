//! Descriptors themselves: new ones (eventfd, dup), inherited ones taken
//! over, and what a descriptor is and holds (fstat, the offset, FIONREAD):
//! whether stdin's bytes have all been read, a file's size for the ETA.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use super::Unread;

/// A new non-blocking eventfd (counter 0), for waking a poll(2).
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes no pointers; a negative result is an error.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    owned(fd)
}

/// A blocking eventfd (close-on-exec), for a reader that waits on it
/// through io_uring rather than poll(2).
pub(crate) fn blocking_eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes no pointers; a negative result is an error.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    owned(fd)
}

/// A descriptor a call has just returned (or its error), now owned.
pub(super) fn owned(fd: libc::c_int) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call just created this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A descriptor of our own for the same open socket, so a thread can keep
/// using it even after the tokio side has closed its copy.
pub(crate) fn dup(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC takes no pointer; a bad descriptor is only an error.
    owned(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) })
}

/// Take over `fd`, a descriptor this process inherited to own (systemd's
/// LISTEN_FDS, `fd:N`), once it is known to be open. Nothing else in the
/// process may own it: it is closed when the result is dropped.
pub(crate) fn inherit(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_GETFD takes no pointer; it only asks whether `fd` is open.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the descriptor is open (checked above) and, as this
    // function's contract says, handed to us to own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The file status flags (F_GETFL: O_NONBLOCK and the rest), or an error.
pub(crate) fn status_flags(fd: RawFd) -> io::Result<libc::c_int> {
    // SAFETY: F_GETFL takes no pointer; a bad descriptor is only an error.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r)
}

/// fstat(2) of `fd`.
pub(crate) fn fstat(fd: RawFd) -> io::Result<libc::stat> {
    // SAFETY: an all-zero `stat` is a valid value, and fstat only writes a
    // `stat` through the pointer to it.
    let (r, st) = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        (libc::fstat(fd, &mut st), st)
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st)
}

/// The file type bits of a `stat` (`S_IFREG`, `S_IFIFO`, …).
pub(super) fn kind(st: &libc::stat) -> libc::mode_t {
    st.st_mode & libc::S_IFMT
}

/// The size of `fd` when it is a regular file.
pub(crate) fn regular_file_size(fd: RawFd) -> Option<u64> {
    let st = fstat(fd).ok()?;
    (kind(&st) == libc::S_IFREG).then_some(st.st_size as u64)
}

/// What a read of `fd` would meet now (see [`Unread`]).
pub(crate) fn unread(fd: RawFd) -> Unread {
    let Ok(st) = fstat(fd) else {
        return Unread::Nothing;
    };
    let kind = kind(&st);
    if kind == libc::S_IFREG {
        let pos = offset(fd);
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
    // No waiting: only what the pipe or socket shows now.
    let revents = super::poll::revents(fd, libc::POLLIN, 0);
    let hup = matches!(revents, Ok(r) if r & libc::POLLHUP != 0);
    let readable = matches!(revents, Ok(r) if r & libc::POLLIN != 0);
    if hup && !readable {
        Unread::Nothing
    } else if hup {
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

/// The file offset of `fd`, or -1.
fn offset(fd: RawFd) -> libc::off_t {
    // SAFETY: lseek(SEEK_CUR, 0) takes no pointer and only reads the offset.
    unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;

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
        let (r, w) = crate::sys::pipe().unwrap();
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
        let (r, w) = crate::sys::pipe().unwrap();
        drop(w);
        assert_eq!(unread(r.as_raw_fd()), Unread::Nothing);
    }
}
