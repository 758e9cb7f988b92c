//! Waiting on descriptors with poll(2): for readiness, for a bounded time,
//! or until a [`Stop`] is set from another thread (an eventfd that wakes
//! the waiter, so input can be stopped without closing descriptors under
//! a thread that uses them).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// The one poll(2): how many of `fds` have events, errors as they are
/// (EINTR too). `ms` < 0 waits forever.
pub(super) fn poll(fds: &mut [libc::pollfd], ms: libc::c_int) -> io::Result<usize> {
    // SAFETY: `fds` is a live, writable array of pollfds of the length given.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if r >= 0 {
        Ok(r as usize)
    } else {
        Err(io::Error::last_os_error())
    }
}

fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// `fd`'s events after a poll of `ms` (0: none came), errors as they are.
pub(super) fn revents(
    fd: RawFd,
    events: libc::c_short,
    ms: libc::c_int,
) -> io::Result<libc::c_short> {
    let mut p = [pollfd(fd, events)];
    poll(&mut p, ms)?;
    Ok(p[0].revents)
}

/// Block until `fd` is ready for `events` (or has an error to report).
pub(crate) fn wait(fd: RawFd, events: libc::c_short) -> io::Result<()> {
    let mut p = [pollfd(fd, events)];
    loop {
        match poll(&mut p, -1) {
            Ok(_) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// poll(2) for `events` for up to `ms`; false on timeout (an interrupted
/// wait counts as ready: the caller tries and sees).
pub(crate) fn poll_for(fd: RawFd, events: libc::c_short, ms: libc::c_int) -> io::Result<bool> {
    match poll(&mut [pollfd(fd, events)], ms) {
        Ok(n) => Ok(n > 0),
        Err(e) if e.raw_os_error() == Some(libc::EINTR) => Ok(true),
        Err(e) => Err(e),
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
        Ok(Stop {
            set: AtomicBool::new(false),
            wake: super::fd::eventfd()?,
        })
    }

    /// Set the flag and wake every waiter (for good: the eventfd stays readable).
    pub fn set(&self) {
        self.set.store(true, Ordering::SeqCst);
        let _ = super::io::write(self.wake.as_raw_fd(), &1u64.to_ne_bytes());
    }

    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }
}

/// Block until `fd` is ready for `events` (or has an error to report), or
/// until `stop` is set: `Ok(true)` when stopped. Without `stop`, only `fd`.
pub(crate) fn poll_or_stop(
    fd: RawFd,
    events: libc::c_short,
    stop: Option<&Stop>,
) -> io::Result<bool> {
    // A negative fd is ignored by poll(2).
    let mut fds = [
        pollfd(fd, events),
        pollfd(stop.map_or(-1, |s| s.wake.as_raw_fd()), libc::POLLIN),
    ];
    loop {
        if stop.is_some_and(Stop::is_set) {
            return Ok(true);
        }
        match poll(&mut fds, -1) {
            Ok(_) => return Ok(fds[1].revents != 0 || stop.is_some_and(Stop::is_set)),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_wakes_a_poll_that_would_block_forever() {
        let (r, _w) = crate::sys::pipe().unwrap();
        let stop = std::sync::Arc::new(Stop::new().unwrap());
        let s = stop.clone();
        let t = std::thread::spawn(move || poll_or_stop(r.as_raw_fd(), libc::POLLIN, Some(&s)));
        std::thread::sleep(std::time::Duration::from_millis(20));
        stop.set();
        assert!(t.join().unwrap().unwrap());
    }
}
