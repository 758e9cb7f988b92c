//! Zero-copy copying between two file descriptors with splice(2), for the
//! bridge's fast path on Linux (plain socket ↔ stdin/stdout).
//!
//! Each direction runs on its own thread: stdin and stdout stay blocking
//! (they are shared with the shell), the socket stays non-blocking (it
//! belongs to tokio), and the thread waits for the socket with poll(2) when
//! it would block. Bytes go src → our pipe → dst, so they never enter user
//! space; with one end a pipe of ours, EAGAIN always means the socket. If
//! either end cannot splice (a terminal, say), the same loop falls back to
//! read(2)/write(2) through a buffer, after draining what the pipe holds.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::sys::{self, poll_or_stop, Stop};

/// Bytes per splice(2) call, and the pipe size asked for.
pub(crate) const SPLICE_LEN: usize = 1 << 20;

pub(crate) use crate::net::relay::PumpError;

/// How a [`pump`] ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pumped {
    /// `src` reached its end and everything read from it was written.
    Eof,
    /// `stop` was set; `held` bytes taken from `src` had not been written.
    Stopped { held: usize },
}

/// Copy `src` to `dst` until EOF on `src` or an error. `moved(n)` is
/// called after every `n` bytes written. With `stop`, every wait (for
/// `src` to have bytes, for `dst` to take them) also ends when it is set,
/// so a thread blocked on a terminal or a full socket can be stopped, and
/// it says how many bytes it held that never went out.
pub(crate) fn pump(
    src: RawFd,
    dst: RawFd,
    stop: Option<&Stop>,
    moved: impl FnMut(usize),
) -> Result<Pumped, PumpError> {
    let mut p = Pump {
        src,
        dst,
        stop,
        held: 0,
    };
    // A blocking pipe on either side (`cmd | wirecat | cmd`) can be spliced
    // straight to or from the socket, and EAGAIN can then only be the
    // socket's. Growing that pipe lets the other process hand over a
    // megabyte per wake-up instead of 64 KiB.
    let r = if sys::is_blocking_pipe(src) {
        grow_pipe(src);
        p.direct(true, moved)
    } else if sys::is_blocking_pipe(dst) {
        grow_pipe(dst);
        p.direct(false, moved)
    } else {
        p.via_pipe(moved)
    };
    match r {
        Ok(true) => Ok(Pumped::Stopped { held: p.held }),
        Ok(false) => Ok(Pumped::Eof),
        Err(e) => Err(e),
    }
}

/// One copy in progress: its ends, what stops it, and how many bytes taken
/// from `src` are still on their way to `dst`. Each step returns
/// `Ok(true)` when stopped.
struct Pump<'a> {
    src: RawFd,
    dst: RawFd,
    stop: Option<&'a Stop>,
    held: usize,
}

impl Pump<'_> {
    fn stopped(&self) -> bool {
        self.stop.is_some_and(Stop::is_set)
    }

    /// Wait for `src` to have bytes (or its end); only when stoppable, so
    /// that a blocking read never sleeps through the stop.
    fn wait_src(&self) -> Result<bool, PumpError> {
        match self.stop {
            Some(stop) => poll_or_stop(self.src, libc::POLLIN, Some(stop)).map_err(PumpError::Read),
            None => Ok(false),
        }
    }

    fn wait(&self, fd: RawFd, events: libc::c_short) -> io::Result<bool> {
        poll_or_stop(fd, events, self.stop)
    }

    /// One splice(2) per chunk between a blocking pipe and the socket.
    fn direct(
        &mut self,
        src_is_pipe: bool,
        mut moved: impl FnMut(usize),
    ) -> Result<bool, PumpError> {
        let (src, dst) = (self.src, self.dst);
        loop {
            if self.stopped() || (src_is_pipe && self.wait_src()?) {
                return Ok(true);
            }
            match splice(src, dst, SPLICE_LEN) {
                Ok(0) => return Ok(false),
                Ok(n) => moved(n),
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                    let stopped = if src_is_pipe {
                        self.wait(dst, libc::POLLOUT).map_err(PumpError::Write)?
                    } else {
                        self.wait(src, libc::POLLIN).map_err(PumpError::Read)?
                    };
                    if stopped {
                        return Ok(true);
                    }
                }
                // Nothing moved in a failed call: fall back with nothing lost.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return self.copy(moved),
                Err(e) if src_is_pipe || e.raw_os_error() == Some(libc::EPIPE) => {
                    return Err(PumpError::Write(e))
                }
                Err(e) => return Err(PumpError::Read(e)),
            }
        }
    }

    /// Two splices per chunk through a pipe of our own (file or /dev/null on
    /// one side, or a non-blocking pipe whose EAGAIN would be ambiguous).
    fn via_pipe(&mut self, mut moved: impl FnMut(usize)) -> Result<bool, PumpError> {
        let (src, dst) = (self.src, self.dst);
        let (pr, pw) = make_pipe().map_err(PumpError::Read)?;
        let mut buffered = 0usize;
        loop {
            if self.stopped() || self.wait_src()? {
                return Ok(true);
            }
            // Stage 1: src → pipe (the pipe is empty, so this only waits on src).
            let n = match splice(src, pw.as_raw_fd(), SPLICE_LEN) {
                Ok(0) => return Ok(false),
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                    if self.wait(src, libc::POLLIN).map_err(PumpError::Read)? {
                        return Ok(true);
                    }
                    continue;
                }
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) && buffered == 0 => {
                    return self.copy(moved);
                }
                Err(e) => return Err(PumpError::Read(e)),
            };
            buffered += n;
            self.held = n;
            // Stage 2: pipe → dst, all of it.
            while self.held > 0 {
                match splice(pr.as_raw_fd(), dst, self.held) {
                    Ok(m) => {
                        self.held -= m;
                        moved(m);
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                        if self.wait(dst, libc::POLLOUT).map_err(PumpError::Write)? {
                            return Ok(true);
                        }
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                        // dst cannot splice: hand over what the pipe holds, then copy.
                        if self.drain(pr.as_raw_fd(), &mut moved)? {
                            return Ok(true);
                        }
                        return self.copy(moved);
                    }
                    Err(e) => return Err(PumpError::Write(e)),
                }
            }
        }
    }

    /// The read(2)/write(2) fallback, waiting on EAGAIN like the splice path.
    fn copy(&mut self, mut moved: impl FnMut(usize)) -> Result<bool, PumpError> {
        let src = self.src;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if self.stopped() || self.wait_src()? {
                return Ok(true);
            }
            let n = match sys::read(src, &mut buf) {
                Ok(0) => return Ok(false),
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                    if self.wait(src, libc::POLLIN).map_err(PumpError::Read)? {
                        return Ok(true);
                    }
                    continue;
                }
                Err(e) => return Err(PumpError::Read(e)),
            };
            if self.write_all(&buf[..n], &mut moved)? {
                return Ok(true);
            }
        }
    }

    /// Hand what the pipe holds (`held` bytes) to `dst` through a buffer.
    fn drain(&mut self, pr: RawFd, moved: &mut impl FnMut(usize)) -> Result<bool, PumpError> {
        let mut buf = vec![0u8; 64 * 1024];
        while self.held > 0 {
            let want = self.held.min(buf.len());
            let n = sys::read(pr, &mut buf[..want]).map_err(PumpError::Read)?;
            let rest = self.held - n;
            if self.write_all(&buf[..n], moved)? {
                self.held += rest;
                return Ok(true);
            }
            self.held = rest;
        }
        Ok(false)
    }

    /// Write all of `data` to `dst`; `held` counts what has not gone yet.
    fn write_all(
        &mut self,
        mut data: &[u8],
        moved: &mut impl FnMut(usize),
    ) -> Result<bool, PumpError> {
        self.held = data.len();
        while !data.is_empty() {
            match sys::write(self.dst, data) {
                Ok(m) => {
                    data = &data[m..];
                    self.held = data.len();
                    moved(m);
                }
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                    if self
                        .wait(self.dst, libc::POLLOUT)
                        .map_err(PumpError::Write)?
                    {
                        return Ok(true);
                    }
                }
                Err(e) => return Err(PumpError::Write(e)),
            }
        }
        Ok(false)
    }
}

/// Ask for a bigger pipe; the system's limit may refuse, which is fine.
fn grow_pipe(fd: RawFd) {
    sys::set_pipe_size(fd, SPLICE_LEN);
}

pub(crate) fn write_all(
    dst: RawFd,
    mut data: &[u8],
    moved: &mut impl FnMut(usize),
) -> Result<(), PumpError> {
    while !data.is_empty() {
        match sys::write(dst, data) {
            Ok(m) => {
                data = &data[m..];
                moved(m);
            }
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                sys::wait(dst, libc::POLLOUT).map_err(PumpError::Write)?;
            }
            Err(e) => return Err(PumpError::Write(e)),
        }
    }
    Ok(())
}

/// No SPLICE_F_MORE: it corks the socket, and an interactive line would
/// wait for the cork timer. EINTR comes back as EAGAIN, so the loops wait
/// and try again.
fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    sys::splice(from, to, len, libc::SPLICE_F_MOVE)
}

/// A pipe (read end, write end), enlarged to [`SPLICE_LEN`] where allowed.
pub(crate) fn make_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = sys::pipe()?;
    grow_pipe(w.as_raw_fd());
    Ok((r, w))
}

/// Idle pipes kept per thread (per accept loop) for [`Pipe::borrow`].
const POOL_MAX: usize = 32;

thread_local! {
    static POOL: RefCell<Vec<(OwnedFd, OwnedFd)>> = const { RefCell::new(Vec::new()) };
}

/// A pipe lent to one connection only while bytes sit in it (echo's
/// splice(2) path): borrowed from a small per-thread pool when the socket
/// is readable, given back on drop once empty, so an idle connection
/// holds no pipe. A pipe dropped with bytes still in it is closed instead.
pub(crate) struct Pipe {
    /// (read end, write end); taken only by `drop`.
    ends: Option<(OwnedFd, OwnedFd)>,
    /// Bytes spliced in and not yet out.
    held: usize,
}

impl Pipe {
    pub(crate) fn borrow() -> io::Result<Pipe> {
        let ends = match POOL.with(|p| p.borrow_mut().pop()) {
            Some(ends) => ends,
            None => make_pipe()?,
        };
        Ok(Pipe {
            ends: Some(ends),
            held: 0,
        })
    }

    /// Bytes in the pipe, still to go out.
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// Move up to `len` bytes from `src` into the pipe; 0 at `src`'s EOF.
    pub(crate) fn fill(&mut self, src: RawFd, len: usize) -> io::Result<usize> {
        let flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK;
        let n = sys::splice(src, self.end(1), len, flags)?;
        self.held += n;
        Ok(n)
    }

    /// Move what the pipe holds to `dst`, as much as it takes.
    pub(crate) fn drain(&mut self, dst: RawFd) -> io::Result<usize> {
        let flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK;
        let n = sys::splice(self.end(0), dst, self.held, flags)?;
        self.held -= n;
        Ok(n)
    }

    /// 0: the read end, 1: the write end.
    fn end(&self, which: usize) -> RawFd {
        let (read, write) = self.ends.as_ref().expect("a pipe's ends go only on drop");
        [read, write][which].as_raw_fd()
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // Bytes left in it belong to a connection that is gone: close it.
        let Some(ends) = self.ends.take().filter(|_| self.held == 0) else {
            return;
        };
        let _ = POOL.try_with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < POOL_MAX {
                p.push(ends);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    #[test]
    fn pumps_a_socket_into_a_file_with_splice() {
        let (mut a, b) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let writer = {
            let data = data.clone();
            std::thread::spawn(move || {
                a.write_all(&data).unwrap();
            })
        };
        let mut out = tempfile::tempfile().unwrap();
        let mut total = 0;
        let end = pump(b.as_raw_fd(), out.as_raw_fd(), None, |n| total += n).unwrap();
        assert_eq!(end, Pumped::Eof);
        writer.join().unwrap();
        assert_eq!(total, data.len());
        let mut got = Vec::new();
        use std::io::Seek;
        out.rewind().unwrap();
        out.read_to_end(&mut got).unwrap();
        assert_eq!(got, data);
    }

    #[test]
    fn pumps_a_blocking_pipe_straight_into_a_socket() {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let (pr, pw) = make_pipe().unwrap();
        // make_pipe's pipe is blocking, as a shell's would be.
        assert!(sys::is_blocking_pipe(pr.as_raw_fd()));
        let data: Vec<u8> = (0..2_500_000u32).map(|i| (i * 13 % 241) as u8).collect();
        let writer = {
            let data = data.clone();
            let mut w = std::fs::File::from(pw);
            std::thread::spawn(move || w.write_all(&data).unwrap())
        };
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            b.read_to_end(&mut got).unwrap();
            got
        });
        let mut total = 0;
        pump(pr.as_raw_fd(), a.as_raw_fd(), None, |n| total += n).unwrap();
        writer.join().unwrap();
        drop(a);
        assert_eq!(total, data.len());
        assert_eq!(reader.join().unwrap(), data);
    }
}
