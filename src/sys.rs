//! The raw system calls, behind small safe wrappers: the one place in the
//! crate with `unsafe` (but for the SIMD classifier in `net::ip::fast` and
//! the io_uring ring in `commands::echo::uring`, which must sit next to
//! their code). Each wrapper holds one `unsafe` with the reason it is
//! sound, and each file holds one concern.
//!
//! This is also where the platforms split: the Unix files below, and
//! `windows` with the same names for what the portable code calls (the
//! socket's state, our FIN, error names, stdin and stdout, the resolver).
//! The Linux-only copy paths (splice(2), the copy threads, io_uring) use
//! the Unix files directly and are not built on Windows.
//!
//! The copy paths need these to tell outcomes apart (a reset from a FIN,
//! stdin left unsent), to move bytes without tokio (splice(2), the copy
//! threads' read(2)/write(2)), and to stop a thread blocked in poll(2)
//! without losing what it holds.

#[cfg(unix)]
pub(crate) mod errno;
#[cfg(unix)]
mod fd;
#[cfg(unix)]
mod io;
#[cfg(target_os = "linux")]
mod pipe;
#[cfg(unix)]
mod poll;
#[cfg(unix)]
mod process;
#[cfg(unix)]
mod resolve;
#[cfg(unix)]
mod socket;
#[cfg(unix)]
mod stdio;
#[cfg(unix)]
mod term;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
pub(crate) use errno::{error_name, error_text};
#[cfg(target_os = "linux")]
pub(crate) use fd::blocking_eventfd;
#[cfg(unix)]
pub(crate) use fd::{dup, inherit};
#[cfg(unix)]
pub(crate) use io::{read, read_retrying, send, write, writev};
#[cfg(target_os = "linux")]
pub(crate) use pipe::{is_blocking_pipe, pipe, set_pipe_size, splice};
#[cfg(unix)]
pub(crate) use poll::{poll_for, poll_or_stop, wait, Stop};
#[cfg(unix)]
pub(crate) use process::{die_by, host_name, signal_ignored, umask};
#[cfg(unix)]
pub(crate) use resolve::{getaddrinfo, LookupError};
#[cfg(unix)]
pub(crate) use socket::{set_nodelay, set_rcvlowat, shutdown_write, unacknowledged, write_error};
#[cfg(unix)]
pub(crate) use stdio::{
    read_stdin, regular_file_size, stdin_unread, terminal_width, wait_for_stdin, write_stdout,
    STDIN_WAITS,
};

#[cfg(windows)]
pub(crate) use windows::{
    die_by, errno, error_name, error_text, getaddrinfo, host_name, read_stdin, regular_file_size,
    set_nodelay, shutdown_write, stdin_unread, terminal_width, unacknowledged, wait_for_stdin,
    write_error, write_stdout, LookupError, STDIN_WAITS,
};

/// A socket as the system names it: a descriptor on Unix, a `SOCKET`
/// handle on Windows.
#[cfg(unix)]
pub type RawFd = std::os::fd::RawFd;
/// A socket as the system names it: a descriptor on Unix, a `SOCKET`
/// handle on Windows.
#[cfg(windows)]
pub type RawFd = std::os::windows::io::RawSocket;

/// The raw socket of anything that has one (tokio's and std's sockets).
#[cfg(unix)]
pub(crate) fn raw_socket(s: &impl std::os::fd::AsRawFd) -> RawFd {
    s.as_raw_fd()
}

/// The raw socket of anything that has one (tokio's and std's sockets).
#[cfg(windows)]
pub(crate) fn raw_socket(s: &impl std::os::windows::io::AsRawSocket) -> RawFd {
    s.as_raw_socket()
}

/// What the binary and the tests call directly.
#[cfg(unix)]
pub use process::ignore_sigpipe;
#[cfg(unix)]
pub use socket::eof_was_reset;
#[cfg(windows)]
pub use windows::{eof_was_reset, ignore_sigpipe};

/// What a read of stdin (or another input descriptor) would meet now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unread {
    /// Bytes: a regular file not read to its end, or bytes queued in a
    /// pipe, socket or terminal (FIONREAD).
    Bytes,
    /// Nothing, and nothing is coming: a file at its end, a pipe whose
    /// writers are gone, /dev/null; also a terminal with nothing typed
    /// (nobody is typing into a script's terminal).
    Nothing,
    /// Nothing yet, but a pipe or socket whose other end is still open.
    #[cfg_attr(windows, allow(dead_code))]
    NotYet,
}
