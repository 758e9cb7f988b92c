//! read(2), write(2), writev(2) and send(2) on raw descriptors, for the
//! copy threads and loops that drive a descriptor themselves (stdin and
//! stdout stay blocking, sockets stay non-blocking under tokio).
//!
//! One convention for the copy loops: EINTR comes back as EAGAIN, so a
//! loop that waits for readiness on EAGAIN also retries an interrupted
//! call. The `_retrying` reads are for blocking descriptors, where EINTR
//! is retried at once and every other error (EAGAIN too) is reported.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

use bytes::BytesMut;

/// A syscall's byte count as a Result, EINTR reported as EAGAIN.
pub(super) fn again(r: isize) -> io::Result<usize> {
    eintr_as_eagain(raw(r))
}

fn eintr_as_eagain(r: io::Result<usize>) -> io::Result<usize> {
    match r {
        Err(e) if e.raw_os_error() == Some(libc::EINTR) => {
            Err(io::Error::from_raw_os_error(libc::EAGAIN))
        }
        r => r,
    }
}

/// A syscall's byte count as a Result, errors as they are.
fn raw(r: isize) -> io::Result<usize> {
    if r >= 0 {
        Ok(r as usize)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Call `f` until it is not interrupted.
fn retrying(mut f: impl FnMut() -> io::Result<usize>) -> io::Result<usize> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// The one read(2): into `buf`, which it may leave partly uninitialised.
fn read_uninit(fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: `buf` is writable for its length, and read(2) writes at most
    // that many bytes into it.
    raw(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })
}

/// One read(2) into `buf`, errors as they are.
fn read_init(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the same memory seen as possibly uninitialised; read(2) only
    // ever writes initialised bytes into it, so `buf` stays initialised.
    let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
    read_uninit(fd, uninit)
}

/// One read(2); EINTR as EAGAIN (see the module's note).
pub(crate) fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    eintr_as_eagain(read_init(fd, buf))
}

/// read(2) from a blocking descriptor, retrying EINTR.
pub(crate) fn read_retrying(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    retrying(|| read_init(fd, buf))
}

/// read(2) from a blocking descriptor into `buf`'s spare capacity (no
/// zeroing of a fresh chunk), retrying EINTR; `buf` grows by what was read.
pub(crate) fn read_spare(fd: RawFd, buf: &mut BytesMut) -> io::Result<usize> {
    let n = retrying(|| read_uninit(fd, buf.spare_capacity_mut()))?;
    // SAFETY: read(2) initialised the first `n` bytes of the spare capacity.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// The one write(2), errors as they are.
fn write_raw(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    // SAFETY: `data` is readable for its length.
    raw(unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) })
}

/// One write(2); EINTR as EAGAIN.
pub(crate) fn write(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    eintr_as_eagain(write_raw(fd, data))
}

/// write(2) to a blocking descriptor, retrying EINTR.
pub(crate) fn write_retrying(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    retrying(|| write_raw(fd, data))
}

/// One writev(2) of as many of `bufs` as one call takes; EINTR as EAGAIN.
pub(crate) fn writev(fd: RawFd, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    let n = bufs.len().min(libc::c_int::MAX as usize) as libc::c_int;
    // SAFETY: IoSlice is ABI-compatible with iovec on Unix, and the first
    // `n` of `bufs` are live slices.
    again(unsafe { libc::writev(fd, bufs.as_ptr().cast(), n) })
}

/// One send(2) on a socket with MSG_NOSIGNAL (a reset peer is EPIPE, never
/// SIGPIPE); EINTR as EAGAIN.
pub(crate) fn send(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    // SAFETY: `data` is readable for its length.
    again(unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), libc::MSG_NOSIGNAL) })
}
