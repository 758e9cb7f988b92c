//! Exit codes and the one error type every command returns.
//!
//! The spec fixes a small table of exit codes that scripts depend on; keeping
//! the table as an enum, and mapping every failure to it in one place, is what
//! stops two commands from disagreeing about what "timed out" exits with. The
//! same table writes the exit-code line of `--help` and the man pages' EXIT
//! STATUS, so the three cannot drift. Node's `code` for any failure, errno or
//! TLS, comes from [`error_code`]. [`finish`] ends the process: it prints an
//! [`Error`] once, as `wirecat: <what>: <why>`, plus a hint.

use std::fmt;
use std::io;

use crate::events;

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

/// Every exit code, in order: the code, its name in `--help`'s one line,
/// and its meaning on the man page (the README's table says the same).
const TABLE: [(Exit, &str, &str); 9] = [
    (Exit::Success, "ok", "success; also a closed stdout (| head)"),
    (
        Exit::Failure,
        "connection failed/broke",
        "connection failed or broke (refused, reset); isip: some input did not pass",
    ),
    (
        Exit::Usage,
        "usage",
        "usage error: bad flag, bad endpoint, unreadable certificate file",
    ),
    (
        Exit::Tls,
        "TLS",
        "TLS handshake or certificate verification failed",
    ),
    (
        Exit::Timeout,
        "timeout",
        "timed out (connect, idle, handshake, --wait)",
    ),
    (
        Exit::Listen,
        "could not listen",
        "could not listen (address in use, permission denied), or no accept loop could start (EAGAIN, ENOMEM, EMFILE)",
    ),
    (Exit::Resolve, "name resolution", "name resolution failed"),
    (Exit::Interrupted, "SIGINT", "interrupted by SIGINT"),
    (
        Exit::Terminated,
        "SIGTERM or SIGHUP",
        "a transfer (connect, listen without -k) stopped by SIGTERM or SIGHUP; servers stopped by SIGTERM or SIGHUP drain and exit 0",
    ),
];

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The signal a shell sees as this end: SIGINT for 130, SIGTERM for
    /// 143 (after SIGHUP too: 143 is its documented code).
    pub fn signal(self) -> Option<i32> {
        match self {
            Exit::Interrupted => Some(libc::SIGINT),
            Exit::Terminated => Some(libc::SIGTERM),
            _ => None,
        }
    }

    /// Every exit code, in order.
    pub fn all() -> impl Iterator<Item = Exit> {
        TABLE.iter().map(|row| row.0)
    }

    /// The short name of `--help`'s exit-code line (`could not listen`).
    pub fn name(self) -> &'static str {
        Self::row(self).1
    }

    /// What the code means, as the man page says it.
    pub fn meaning(self) -> &'static str {
        Self::row(self).2
    }

    fn row(self) -> &'static (Exit, &'static str, &'static str) {
        TABLE
            .iter()
            .find(|row| row.0 == self)
            .expect("every Exit has a row in TABLE")
    }
}

/// The exit-code line at the end of `wirecat --help`.
pub fn help_line() -> String {
    let codes: Vec<String> = Exit::all()
        .map(|e| format!("{} {}", e.code(), e.name()))
        .collect();
    format!(
        "Exit codes: {} (see wirecat(1): EXIT STATUS).",
        codes.join(", ")
    )
}

/// A failure on its way to stderr: what failed, why, and the exit code.
#[derive(Debug)]
pub struct Error {
    pub exit: Exit,
    pub what: String,
    pub why: String,
    pub hint: Option<String>,
    /// Node's `err.code` (`ECONNREFUSED`, `ERR_TLS_CERT_ALTNAME_INVALID`),
    /// when the failure has one: what a connection's `error` event says.
    pub code: Option<&'static str>,
    /// Set when an `error` event already told the story, so `main` does not
    /// print the same failure twice in `--json` mode.
    pub reported: bool,
}

impl Error {
    pub fn new(exit: Exit, what: impl Into<String>, why: impl fmt::Display) -> Error {
        Error {
            exit,
            what: what.into(),
            why: why.to_string(),
            hint: None,
            code: None,
            reported: false,
        }
    }

    pub fn usage(what: impl Into<String>, why: impl fmt::Display) -> Error {
        Error::new(Exit::Usage, what, why)
    }

    /// An I/O failure: the system's name and text for `err`, and its code.
    pub fn io(exit: Exit, what: impl Into<String>, err: &io::Error) -> Error {
        Error::new(exit, what, describe(err)).code(error_code(err))
    }

    /// Node's `err.code` for this failure.
    pub fn code(mut self, code: &'static str) -> Error {
        self.code = Some(code);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line whatever the parts hold (a path with a newline in it).
        let line = events::one_line;
        write!(f, "wirecat: {}: {}", line(&self.what), line(&self.why))?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {})", line(hint))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// An `error` event for a failure already on its way to stderr says its
/// code and its why (without `wirecat: <what>:`).
impl events::NodeError for Error {
    fn code(&self) -> &str {
        self.code.unwrap_or("EIO")
    }

    fn message(&self) -> String {
        self.why.clone()
    }
}

/// TLS's words where it has them (truncation, alerts), else the system's.
impl events::NodeError for io::Error {
    fn code(&self) -> &str {
        error_code(self)
    }

    fn message(&self) -> String {
        crate::net::tls::tls_error_message(self)
    }
}

/// End the process as `result` says: a failure's one line on stderr
/// (unless its `error` event has told it in `--json` mode), with `--json`
/// an `exit` event last, then the exit code; 130 and 143 by re-raising
/// SIGINT and SIGTERM.
pub fn finish(result: Result<Exit, Error>) -> ! {
    let json = events::mode() == events::Mode::Json;
    let (exit, message) = match result {
        Ok(exit) => (exit, None),
        Err(err) => {
            if !json && !err.reported {
                eprintln!("{err}");
            }
            (err.exit, Some(err.to_string()))
        }
    };
    // --json: the last line says how the process ends, with the failure's
    // one line (and hint) when it failed; the `error` events before it
    // name the failure once each.
    if json {
        let mut fields = serde_json::json!({ "exitCode": exit.code() });
        if let Some(m) = message {
            fields["message"] = m.into();
        }
        events::emit("exit", None, fields);
    }
    if let Some(signal) = exit.signal() {
        // Death by the signal itself, as fd does: `$?` is still 128 + N,
        // and a shell loop that ran us stops at ^C, since a shell checks
        // WIFSIGNALED, not the code. Nothing flushes stdout after this.
        let _ = std::io::Write::flush(&mut std::io::stdout());
        crate::sys::die_by(signal);
    }
    std::process::exit(exit.code());
}

/// `ECONNREFUSED (connection refused)` — the system's name first, as Node
/// reports it, then the human text without Rust's "(os error N)" noise.
pub fn describe(err: &io::Error) -> String {
    let code = error_code(err);
    let text = match err.raw_os_error() {
        Some(n) => crate::sys::error_text(n),
        None => err.to_string(),
    };
    format!("{code} ({text})")
}

/// Node's `err.code` for any error: TLS's own where it has one (an alert,
/// a rejected certificate, the handshake timeout: see
/// [`crate::net::tls::tls_code`]), else the system's name (`ECONNREFUSED`).
pub fn error_code(err: &io::Error) -> &'static str {
    if let Some(code) = crate::net::tls::tls_code(err) {
        return code;
    }
    if let Some(n) = err.raw_os_error() {
        if let Some(name) = crate::sys::error_name(n) {
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
        let e = io::Error::from_raw_os_error(crate::sys::errno::ECONNREFUSED);
        assert_eq!(describe(&e), "ECONNREFUSED (connection refused)");
    }

    #[test]
    fn errors_of_exhaustion_have_their_names_not_eio() {
        let e = io::Error::from_raw_os_error(crate::sys::errno::EAGAIN);
        let text = if cfg!(windows) {
            "EAGAIN (operation would block)"
        } else {
            "EAGAIN (resource temporarily unavailable)"
        };
        assert_eq!(describe(&e), text);
        for (n, name) in [
            (crate::sys::errno::ENOMEM, "ENOMEM"),
            (crate::sys::errno::ENOBUFS, "ENOBUFS"),
        ] {
            assert_eq!(error_code(&io::Error::from_raw_os_error(n)), name);
        }
    }

    #[test]
    fn io_errors_carry_their_code() {
        let e = io::Error::from_raw_os_error(crate::sys::errno::EADDRINUSE);
        let err = Error::io(Exit::Listen, "cannot listen on 80", &e);
        assert_eq!(err.code, Some("EADDRINUSE"));
        assert_eq!(Error::usage("x", "y").code, None);
    }

    #[test]
    fn every_exit_code_has_one_row() {
        let codes: Vec<i32> = Exit::all().map(Exit::code).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 130, 143]);
        assert!(help_line().starts_with("Exit codes: 0 ok, 1 connection failed/broke, 2 usage"));
    }

    #[test]
    fn display_is_one_line_with_hint() {
        let e = Error::usage("bad endpoint \"::1:80\"", "too many colons")
            .hint("did you mean [::1]:80?");
        assert_eq!(
            e.to_string(),
            "wirecat: bad endpoint \"::1:80\": too many colons (hint: did you mean [::1]:80?)"
        );
        let e = Error::usage("cannot connect to /tmp/a\nb", "ENOENT").hint("\x1b[2J");
        assert_eq!(
            e.to_string(),
            "wirecat: cannot connect to /tmp/a\\nb: ENOENT (hint: \\u{1b}[2J)"
        );
    }
}
