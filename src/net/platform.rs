//! What this platform cannot open or do, and the one error that says so:
//! a usage error (exit 2) naming the platform, never a flag or endpoint
//! silently ignored. On Windows that is Unix sockets, inherited sockets
//! (`fd:N`), Unix socket file modes and `--exec`; named pipes are not
//! served yet. On Linux (and other Unix systems) it is Windows named pipes.

use crate::exit::Error;
use crate::net::endpoint::Endpoint;

/// This platform, as the messages name it.
pub(crate) const NAME: &str = if cfg!(windows) {
    "Windows"
} else if cfg!(target_os = "linux") {
    "Linux"
} else {
    "this system"
};

/// The error for an endpoint this platform cannot open.
pub(crate) fn unsupported(ep: &Endpoint) -> Error {
    let (why, hint) = match ep {
        Endpoint::NamedPipe(_) if cfg!(windows) => (
            "Windows named pipes are not supported yet".to_string(),
            "use TCP for now, such as 127.0.0.1:8124",
        ),
        Endpoint::NamedPipe(_) => (
            format!("Windows named pipes are not supported on {NAME}"),
            "use a Unix socket path such as /tmp/wirecat.sock",
        ),
        Endpoint::Unix(_) => (
            format!("Unix domain sockets are not supported on {NAME}"),
            "use TCP, such as 127.0.0.1:8124 (a named pipe endpoint is \\\\.\\pipe\\NAME)",
        ),
        Endpoint::Abstract(_) => (
            format!("Linux abstract sockets are not supported on {NAME}"),
            "use TCP, such as 127.0.0.1:8124",
        ),
        Endpoint::Fd(_) | Endpoint::Systemd => (
            format!("inherited sockets (fd:N, fd:systemd) are not supported on {NAME}"),
            "listen on a TCP address instead",
        ),
        Endpoint::Tcp { .. } => (format!("not supported on {NAME}"), ""),
    };
    let err = Error::usage(format!("cannot use {ep}"), why);
    if hint.is_empty() {
        err
    } else {
        err.hint(hint)
    }
}

/// The error for a flag that does not apply on this platform.
pub(crate) fn flag_refused(flag: &str, why: &str) -> Error {
    Error::usage(
        format!("cannot use {flag}"),
        format!("{why}: it does not apply on {NAME}"),
    )
}
