//! The system's error numbers by the names Node gives them (errno(3) on
//! Unix) and their text, and the few numbers the portable code makes
//! errors from.

/// Errors the portable code makes itself (and its tests), by their errno
/// numbers.
pub(crate) use libc::{
    EACCES, EADDRNOTAVAIL, EAFNOSUPPORT, ECONNREFUSED, ECONNRESET, EHOSTUNREACH, EINVAL, EIO,
    ENETUNREACH, ENOBUFS, ENOMEM, EPROTO, ETIMEDOUT,
};
#[cfg(test)]
pub(crate) use libc::{EADDRINUSE, EAGAIN, ECONNABORTED, EMFILE, ENFILE, EPERM};

/// Node's name for errno `n` (`ECONNREFUSED`), if it is one we name.
pub(crate) fn error_name(n: i32) -> Option<&'static str> {
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

/// strerror(3)'s text for errno `n`, lower case, without Rust's
/// "(os error N)".
pub(crate) fn error_text(n: i32) -> String {
    let s = std::io::Error::from_raw_os_error(n).to_string();
    s.split(" (os error").next().unwrap_or(&s).to_lowercase()
}
