//! Windows error codes (Winsock's `WSAE*` and Win32's `ERROR_*`) by the
//! names Node gives them. The mapping follows libuv's
//! `uv_translate_sys_error` (`src/win/error.c`), which is what Node reports
//! on Windows: a refused connect is `ECONNREFUSED` (10061), not the CRT
//! errno that shares its number with something else.

use windows_sys::Win32::Foundation as w;
use windows_sys::Win32::Networking::WinSock as ws;

// Errors the portable code makes itself (and its tests), by their Windows
// codes.
pub(crate) const EADDRNOTAVAIL: i32 = ws::WSAEADDRNOTAVAIL;
pub(crate) const EAFNOSUPPORT: i32 = ws::WSAEAFNOSUPPORT;
pub(crate) const ECONNREFUSED: i32 = ws::WSAECONNREFUSED;
pub(crate) const ECONNRESET: i32 = ws::WSAECONNRESET;
pub(crate) const ENOMEM: i32 = w::ERROR_NOT_ENOUGH_MEMORY as i32;
pub(crate) const ETIMEDOUT: i32 = ws::WSAETIMEDOUT;
pub(crate) const EACCES: i32 = ws::WSAEACCES;
pub(crate) const EHOSTUNREACH: i32 = ws::WSAEHOSTUNREACH;
pub(crate) const ENETUNREACH: i32 = ws::WSAENETUNREACH;
pub(crate) const ENOBUFS: i32 = ws::WSAENOBUFS;
pub(crate) const EIO: i32 = w::ERROR_IO_DEVICE as i32;
/// A proxy's answer that is not its protocol: Windows has no EPROTO, and
/// "the server cannot perform the requested operation" is the nearest.
pub(crate) const EPROTO: i32 = w::ERROR_BAD_NET_RESP as i32;
#[cfg(test)]
pub(crate) const EADDRINUSE: i32 = ws::WSAEADDRINUSE;
#[cfg(test)]
pub(crate) const EAGAIN: i32 = ws::WSAEWOULDBLOCK;
#[cfg(test)]
pub(crate) const ECONNABORTED: i32 = ws::WSAECONNABORTED;
#[cfg(test)]
pub(crate) const EMFILE: i32 = ws::WSAEMFILE;
#[cfg(test)]
pub(crate) const EPERM: i32 = w::ERROR_ACCESS_DENIED as i32;

/// A short text for the Windows code `n`: the name of its kind, as on
/// Unix ("connection refused"), rather than FormatMessage's sentence
/// (which wine does not even have for Winsock's codes); that sentence
/// only where the kind has no name of its own.
pub(crate) fn error_text(n: i32) -> String {
    let e = std::io::Error::from_raw_os_error(n);
    let kind = e.kind().to_string();
    if kind != "uncategorized error" && kind != "other error" {
        return kind;
    }
    let s = e.to_string();
    let s = s.split(" (os error").next().unwrap_or(&s);
    s.trim_end_matches(['.', ' ', '\r', '\n']).to_lowercase()
}

/// Node's name for the Windows code `n`, if it is one libuv names.
pub(crate) fn error_name(n: i32) -> Option<&'static str> {
    if let Some(name) = winsock_name(n) {
        return Some(name);
    }
    u32::try_from(n).ok().and_then(win32_name)
}

/// Winsock's codes (10000 and up).
fn winsock_name(n: i32) -> Option<&'static str> {
    Some(match n {
        ws::WSAEACCES => "EACCES",
        ws::WSAEADDRINUSE => "EADDRINUSE",
        ws::WSAEADDRNOTAVAIL => "EADDRNOTAVAIL",
        ws::WSAEAFNOSUPPORT => "EAFNOSUPPORT",
        ws::WSAEWOULDBLOCK => "EAGAIN",
        ws::WSAEALREADY => "EALREADY",
        ws::WSAEINTR => "ECANCELED",
        ws::WSAECONNABORTED => "ECONNABORTED",
        ws::WSAECONNREFUSED => "ECONNREFUSED",
        ws::WSAECONNRESET => "ECONNRESET",
        ws::WSAEFAULT => "EFAULT",
        ws::WSAEHOSTUNREACH => "EHOSTUNREACH",
        ws::WSAEINVAL | ws::WSAEPFNOSUPPORT => "EINVAL",
        ws::WSAEISCONN => "EISCONN",
        ws::WSAEMFILE => "EMFILE",
        ws::WSAEMSGSIZE => "EMSGSIZE",
        ws::WSAENETUNREACH => "ENETUNREACH",
        ws::WSAENETDOWN => "ENETDOWN",
        ws::WSAENOBUFS => "ENOBUFS",
        ws::WSAHOST_NOT_FOUND | ws::WSANO_DATA => "ENOENT",
        ws::WSAENOTCONN => "ENOTCONN",
        ws::WSAENOTSOCK => "ENOTSOCK",
        ws::WSAESHUTDOWN => "EPIPE",
        ws::WSAEPROTONOSUPPORT => "EPROTONOSUPPORT",
        ws::WSAETIMEDOUT => "ETIMEDOUT",
        ws::WSAESOCKTNOSUPPORT => "ESOCKTNOSUPPORT",
        _ => return None,
    })
}

/// Win32's codes (files, pipes, and the `ERROR_*` forms of network errors).
fn win32_name(n: u32) -> Option<&'static str> {
    Some(match n {
        w::ERROR_ELEVATION_REQUIRED | w::ERROR_CANT_ACCESS_FILE => "EACCES",
        w::ERROR_ADDRESS_ALREADY_ASSOCIATED => "EADDRINUSE",
        w::ERROR_INVALID_FLAGS | w::ERROR_INVALID_HANDLE => "EBADF",
        w::ERROR_LOCK_VIOLATION | w::ERROR_PIPE_BUSY | w::ERROR_SHARING_VIOLATION => "EBUSY",
        w::ERROR_OPERATION_ABORTED => "ECANCELED",
        w::ERROR_CONNECTION_ABORTED => "ECONNABORTED",
        w::ERROR_CONNECTION_REFUSED => "ECONNREFUSED",
        w::ERROR_NETNAME_DELETED => "ECONNRESET",
        w::ERROR_ALREADY_EXISTS | w::ERROR_FILE_EXISTS => "EEXIST",
        w::ERROR_HOST_UNREACHABLE => "EHOSTUNREACH",
        w::ERROR_INSUFFICIENT_BUFFER | w::ERROR_INVALID_DATA | w::ERROR_INVALID_PARAMETER => {
            "EINVAL"
        }
        w::ERROR_GEN_FAILURE | w::ERROR_IO_DEVICE | w::ERROR_OPEN_FAILED => "EIO",
        w::ERROR_CANT_RESOLVE_FILENAME => "ELOOP",
        w::ERROR_TOO_MANY_OPEN_FILES => "EMFILE",
        w::ERROR_BUFFER_OVERFLOW | w::ERROR_FILENAME_EXCED_RANGE => "ENAMETOOLONG",
        w::ERROR_NETWORK_UNREACHABLE => "ENETUNREACH",
        w::ERROR_BAD_PATHNAME
        | w::ERROR_DIRECTORY
        | w::ERROR_FILE_NOT_FOUND
        | w::ERROR_INVALID_NAME
        | w::ERROR_INVALID_DRIVE
        | w::ERROR_MOD_NOT_FOUND
        | w::ERROR_PATH_NOT_FOUND => "ENOENT",
        w::ERROR_NOT_ENOUGH_MEMORY | w::ERROR_OUTOFMEMORY => "ENOMEM",
        w::ERROR_DISK_FULL | w::ERROR_HANDLE_DISK_FULL => "ENOSPC",
        w::ERROR_NOT_CONNECTED => "ENOTCONN",
        w::ERROR_DIR_NOT_EMPTY => "ENOTEMPTY",
        w::ERROR_NOT_SUPPORTED => "ENOTSUP",
        // libuv reads a broken pipe as the end (UV_EOF) and a write to one
        // as EPIPE; a read never reaches here as an error (it is a 0-byte
        // read), so what is left is the write.
        w::ERROR_BROKEN_PIPE | w::ERROR_NO_DATA => "EPIPE",
        w::ERROR_ACCESS_DENIED | w::ERROR_PRIVILEGE_NOT_HELD => "EPERM",
        w::ERROR_BAD_PIPE | w::ERROR_PIPE_NOT_CONNECTED => "EPIPE",
        w::ERROR_WRITE_PROTECT => "EROFS",
        w::ERROR_SEM_TIMEOUT => "ETIMEDOUT",
        w::ERROR_NOT_SAME_DEVICE => "EXDEV",
        w::ERROR_INVALID_FUNCTION => "EISDIR",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winsock_and_win32_codes_have_nodes_names() {
        for (n, name) in [
            (10061, "ECONNREFUSED"),
            (10054, "ECONNRESET"),
            (10048, "EADDRINUSE"),
            (10060, "ETIMEDOUT"),
            (10013, "EACCES"),
            (2, "ENOENT"),
            (5, "EPERM"),
            (64, "ECONNRESET"),
            (231, "EBUSY"),
        ] {
            assert_eq!(error_name(n), Some(name), "{n}");
        }
    }

    #[test]
    fn a_crt_errno_number_is_not_taken_for_its_unix_name() {
        // 32 is EPIPE in errno but ERROR_SHARING_VIOLATION on Windows.
        assert_eq!(error_name(32), Some("EBUSY"));
        // 111 is Linux's ECONNREFUSED but ERROR_BUFFER_OVERFLOW here.
        assert_eq!(error_name(111), Some("ENAMETOOLONG"));
    }
}
