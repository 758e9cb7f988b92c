//! The raw system calls, behind small safe wrappers: the one place in the
//! crate with `unsafe` (but for the SIMD classifier in `net::ip::fast` and
//! the io_uring ring in `commands::echo::uring`, which must sit next to
//! their code). Each wrapper holds one `unsafe` with the reason it is
//! sound, and each file holds one concern; this is also where another
//! platform would get its own implementations.
//!
//! The copy paths need these to tell outcomes apart (a reset from a FIN,
//! stdin left unsent), to move bytes without tokio (splice(2), the copy
//! threads' read(2)/write(2)), and to stop a thread blocked in poll(2)
//! without losing what it holds.

mod fd;
mod io;
mod pipe;
mod poll;
mod process;
mod resolve;
mod socket;
mod term;

pub(crate) use fd::{blocking_eventfd, dup, inherit, regular_file_size, unread, Unread};
pub(crate) use io::{read, read_retrying, read_spare, send, write, write_retrying, writev};
pub(crate) use pipe::{is_blocking_pipe, pipe, set_pipe_size, splice};
pub(crate) use poll::{poll_for, poll_or_stop, wait, Stop};
pub(crate) use process::{die_by, host_name, signal_ignored, umask};
pub(crate) use resolve::{getaddrinfo, LookupError};
pub(crate) use socket::{set_nodelay, set_rcvlowat, shutdown_write, unacknowledged, write_error};
pub(crate) use term::terminal_width;

/// What the binary and the tests call directly.
pub use process::ignore_sigpipe;
pub use socket::eof_was_reset;
