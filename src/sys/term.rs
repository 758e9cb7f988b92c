//! The terminal's size, for the progress line's width.

use std::os::fd::RawFd;

/// The width in columns of the terminal on `fd`, if it is one and says.
pub(crate) fn terminal_width(fd: RawFd) -> Option<u16> {
    // SAFETY: an all-zero winsize is a valid value, and TIOCGWINSZ writes
    // one winsize through the pointer to it.
    let (r, ws) = unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        (libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws), ws)
    };
    (r == 0 && ws.ws_col > 0).then_some(ws.ws_col)
}
