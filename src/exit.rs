//! Exit codes and the one error type every command returns.
//!
//! The spec fixes a small table of exit codes that scripts depend on; keeping
//! the table as an enum, and mapping every failure to it in one place, is what
//! stops two commands from disagreeing about what "timed out" exits with.
//! `main` prints an [`Error`] once, as `wirecat: <what>: <why>`, plus a hint.

use std::fmt;
use std::io;

/// The process exit codes of SPEC.md, by meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success (`isip`: every input passed).
    Success = 0,
    /// A connection failed or broke; `isip`: some input did not pass.
    Failure = 1,
    /// Bad flag, bad endpoint, unreadable certificate file.
    Usage = 2,
    /// TLS handshake or certificate verification failed.
    Tls = 3,
    /// Connect, idle, handshake or `--wait` timeout.
    Timeout = 4,
    /// Could not listen (address in use, permission denied).
    Listen = 5,
    /// Name resolution failed.
    Resolve = 6,
    /// Interrupted by SIGINT.
    Interrupted = 130,
    /// A transfer stopped by SIGTERM (128 + 15, as a shell reports it).
    Terminated = 143,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// A failure on its way to stderr: what failed, why, and the exit code.
#[derive(Debug)]
pub struct Error {
    pub exit: Exit,
    pub what: String,
    pub why: String,
    pub hint: Option<String>,
    /// Set when an `error` event already told the story, so `main` does not
    /// print the same failure twice in `--json` mode.
    pub reported: bool,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(exit: Exit, what: impl Into<String>, why: impl fmt::Display) -> Error {
        Error {
            exit,
            what: what.into(),
            why: why.to_string(),
            hint: None,
            reported: false,
        }
    }

    pub fn usage(what: impl Into<String>, why: impl fmt::Display) -> Error {
        Error::new(Exit::Usage, what, why)
    }

    /// An I/O failure whose exit code follows from the system error.
    pub fn io(exit: Exit, what: impl Into<String>, err: &io::Error) -> Error {
        Error::new(exit, what, describe(err))
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wirecat: {}: {}", self.what, self.why)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// `ECONNREFUSED (connection refused)` — the system's name first, as Node
/// reports it, then the human text without Rust's "(os error N)" noise.
pub fn describe(err: &io::Error) -> String {
    let code = error_code(err);
    let text = match err.raw_os_error() {
        Some(n) => {
            let s = io::Error::from_raw_os_error(n).to_string();
            s.split(" (os error").next().unwrap_or(&s).to_lowercase()
        }
        None => err.to_string(),
    };
    format!("{code} ({text})")
}

/// The system's name for an error (`ECONNREFUSED`), as Node's `err.code`.
pub fn error_code(err: &io::Error) -> &'static str {
    if let Some(n) = err.raw_os_error() {
        if let Some(name) = errno_name(n) {
            return name;
        }
    }
    match err.kind() {
        io::ErrorKind::TimedOut => "ETIMEDOUT",
        io::ErrorKind::ConnectionRefused => "ECONNREFUSED",
        io::ErrorKind::ConnectionReset => "ECONNRESET",
        io::ErrorKind::ConnectionAborted => "ECONNABORTED",
        io::ErrorKind::BrokenPipe => "EPIPE",
        io::ErrorKind::NotFound => "ENOENT",
        io::ErrorKind::PermissionDenied => "EACCES",
        io::ErrorKind::AddrInUse => "EADDRINUSE",
        io::ErrorKind::AddrNotAvailable => "EADDRNOTAVAIL",
        io::ErrorKind::UnexpectedEof => "ECONNRESET",
        _ => "EIO",
    }
}

fn errno_name(n: i32) -> Option<&'static str> {
    Some(match n {
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ECONNRESET => "ECONNRESET",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ENETDOWN => "ENETDOWN",
        libc::EPIPE => "EPIPE",
        libc::EMFILE => "EMFILE",
        libc::ENFILE => "ENFILE",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EBADF => "EBADF",
        libc::EINVAL => "EINVAL",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::ENOTDIR => "ENOTDIR",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::EISDIR => "EISDIR",
        libc::ENOBUFS => "ENOBUFS",
        libc::ENOMEM => "ENOMEM",
        libc::EPROTO => "EPROTO",
        libc::EAGAIN => "EAGAIN",
        libc::EEXIST => "EEXIST",
        libc::ELOOP => "ELOOP",
        libc::EROFS => "EROFS",
        libc::ENOSPC => "ENOSPC",
        _ => return None,
    })
}

/// Which exit code a failed connection attempt maps to.
pub fn connect_exit(err: &io::Error) -> Exit {
    if err.kind() == io::ErrorKind::TimedOut {
        Exit::Timeout
    } else {
        Exit::Failure
    }
}

impl From<crate::net::endpoint::EndpointError> for Error {
    fn from(e: crate::net::endpoint::EndpointError) -> Error {
        let mut err = Error::usage(format!("bad endpoint {:?}", e.input), e.why);
        if let Some(s) = e.suggestion {
            err = err.hint(format!("did you mean {s}?"));
        }
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_errno_first() {
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(describe(&e), "ECONNREFUSED (connection refused)");
    }

    #[test]
    fn errors_of_exhaustion_have_their_names_not_eio() {
        let e = io::Error::from_raw_os_error(libc::EAGAIN);
        assert_eq!(describe(&e), "EAGAIN (resource temporarily unavailable)");
        for (n, name) in [(libc::ENOMEM, "ENOMEM"), (libc::ENOBUFS, "ENOBUFS")] {
            assert_eq!(error_code(&io::Error::from_raw_os_error(n)), name);
        }
    }

    #[test]
    fn display_is_one_line_with_hint() {
        let e = Error::usage("bad endpoint \"::1:80\"", "too many colons")
            .hint("did you mean [::1]:80?");
        assert_eq!(
            e.to_string(),
            "wirecat: bad endpoint \"::1:80\": too many colons (hint: did you mean [::1]:80?)"
        );
    }
}
