//! The system resolver, getaddrinfo(3), with its errors by Node's names.

use std::io;

/// A failed getaddrinfo(3), by Node's name: `ENOTFOUND` for a name that
/// does not exist (EAI_NONAME, EAI_NODATA), else the EAI code itself
/// (`EAI_AGAIN`: the resolver could not be reached, worth retrying).
#[derive(Debug, Clone)]
pub(crate) struct LookupError {
    pub code: &'static str,
    pub message: String,
}

/// The system resolver: every address of `host` for a stream socket on
/// `port`, in the resolver's order. Blocking (run it off the runtime).
///
/// Written here rather than through std's `ToSocketAddrs`, whose error
/// keeps only gai_strerror's text, so EAI_AGAIN could not be told from a
/// name that does not exist.
pub(crate) fn getaddrinfo(host: &str, port: u16) -> Result<Vec<std::net::SocketAddr>, LookupError> {
    use std::ffi::{CStr, CString};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
    let name = CString::new(host).map_err(|_| LookupError {
        code: "ENOTFOUND",
        message: "a name with a NUL byte".into(),
    })?;
    // SAFETY: an all-zero addrinfo is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `name` is NUL-terminated, `hints` lives across the call, and
    // `list` receives a list we free below.
    let r = unsafe { libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut list) };
    if r != 0 {
        let code = match r {
            libc::EAI_NONAME | libc::EAI_NODATA => "ENOTFOUND",
            libc::EAI_AGAIN => "EAI_AGAIN",
            libc::EAI_FAIL => "EAI_FAIL",
            libc::EAI_MEMORY => "EAI_MEMORY",
            libc::EAI_SYSTEM => "EAI_SYSTEM",
            _ => "EAI_FAIL",
        };
        let message = if r == libc::EAI_SYSTEM {
            io::Error::last_os_error().to_string()
        } else {
            // SAFETY: gai_strerror returns a static NUL-terminated string.
            unsafe { CStr::from_ptr(libc::gai_strerror(r)) }
                .to_string_lossy()
                .into_owned()
        };
        return Err(LookupError { code, message });
    }
    let mut out = Vec::new();
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getaddrinfo returned, not yet freed.
        let ai = unsafe { &*cur };
        match ai.ai_family {
            libc::AF_INET if !ai.ai_addr.is_null() => {
                // SAFETY: for AF_INET, ai_addr points to a sockaddr_in.
                let sin = unsafe { &*(ai.ai_addr as *const libc::sockaddr_in) };
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                out.push(SocketAddr::V4(SocketAddrV4::new(ip, port)));
            }
            libc::AF_INET6 if !ai.ai_addr.is_null() => {
                // SAFETY: for AF_INET6, ai_addr points to a sockaddr_in6.
                let sin6 = unsafe { &*(ai.ai_addr as *const libc::sockaddr_in6) };
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                let a = SocketAddrV6::new(ip, port, sin6.sin6_flowinfo, sin6.sin6_scope_id);
                out.push(SocketAddr::V6(a));
            }
            _ => {}
        }
        cur = ai.ai_next;
    }
    // SAFETY: `list` came from getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getaddrinfo_resolves_localhost_and_names_a_missing_name() {
        let addrs = getaddrinfo("localhost", 80).unwrap();
        assert!(addrs.iter().any(|a| a.ip().is_loopback() && a.port() == 80));
        let e = getaddrinfo("wirecat-test.invalid", 80).unwrap_err();
        assert!(["ENOTFOUND", "EAI_AGAIN"].contains(&e.code), "{e:?}");
    }
}
