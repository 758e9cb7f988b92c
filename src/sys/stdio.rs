//! This process's stdin and stdout for the stdin and stdout threads of
//! the channel bridge (fd 0 and fd 1, blocking, read and written raw),
//! and what the progress line asks of them (stdin's size, stderr's width).

use std::io;

use bytes::BytesMut;

use super::Unread;

/// [`wait_for_stdin`] waits (poll(2)): a read after it does not block.
pub(crate) const STDIN_WAITS: bool = true;

/// Wait until stdin has bytes or its end (poll(2)); an error is left for
/// the read to report.
pub(crate) fn wait_for_stdin() {
    let _ = super::poll::poll_or_stop(0, libc::POLLIN, None);
}

/// One read of stdin into `buf`'s spare capacity (EINTR retried).
pub(crate) fn read_stdin(buf: &mut BytesMut) -> io::Result<usize> {
    super::io::read_spare(0, buf)
}

/// What a read of stdin would meet now.
pub(crate) fn stdin_unread() -> Unread {
    super::fd::unread(0)
}

/// One write to stdout, unbuffered (EINTR retried).
pub(crate) fn write_stdout(data: &[u8]) -> io::Result<usize> {
    super::io::write_retrying(libc::STDOUT_FILENO, data)
}

/// stdin's size when it is a regular file (`< file`), for the ETA.
pub(crate) fn regular_file_size() -> Option<u64> {
    super::fd::regular_file_size(0)
}

/// The width of the terminal on stderr, if it is one.
pub(crate) fn terminal_width() -> Option<u16> {
    super::term::terminal_width(2)
}
