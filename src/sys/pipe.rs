//! Pipes for splice(2): making one, sizing it, telling a blocking pipe
//! (a shell's `cmd | wirecat`) from anything else, and the splice itself.

use std::io;
use std::os::fd::{OwnedFd, RawFd};

/// A new pipe (read end, write end), close-on-exec, at the system's
/// default size.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((super::fd::owned(fds[0])?, super::fd::owned(fds[1])?))
}

/// Ask for a pipe of `len` bytes (F_SETPIPE_SZ); the system's limit may
/// refuse, which is fine: the pipe keeps its size.
pub(crate) fn set_pipe_size(fd: RawFd, len: usize) {
    // SAFETY: F_SETPIPE_SZ takes an int, no pointer; a refusal is only an error.
    unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, len as libc::c_int) };
}

/// Whether `fd` is a pipe in blocking mode.
pub(crate) fn is_blocking_pipe(fd: RawFd) -> bool {
    let is_fifo = super::fd::fstat(fd).is_ok_and(|st| super::fd::kind(&st) == libc::S_IFIFO);
    // A failed F_GETFL is -1, every flag set: not taken for blocking.
    is_fifo && super::fd::status_flags(fd).unwrap_or(-1) & libc::O_NONBLOCK == 0
}

/// One splice(2) of up to `len` bytes between two descriptors (one of them
/// a pipe), at their current offsets; EINTR as EAGAIN.
pub(crate) fn splice(from: RawFd, to: RawFd, len: usize, flags: libc::c_uint) -> io::Result<usize> {
    // SAFETY: null offsets mean "the descriptors' own"; no other pointers.
    super::io::again(unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            flags,
        )
    })
}
