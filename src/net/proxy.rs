//! The proxy client (`--proxy URL`): a TCP connection to the proxy, then
//! the proxy's handshake asks it for a tunnel to the target, and what comes
//! back is an ordinary [`TcpStream`] to the target (TLS, if asked for, goes
//! on top, verified against the target's name).
//!
//! Written here rather than taken from a crate: the three handshakes are a
//! few dozen bytes each, and what matters is how their failures read —
//! each reply is mapped to Node's error names (`ECONNREFUSED`,
//! `EHOSTUNREACH`, `EACCES`, …) with the proxy's own words, and the
//! credentials never reach an event or an error line.
//!
//! - `socks5://` (RFC 1928, user/password by RFC 1929): the target's name
//!   is resolved here; `socks5h://` lets the proxy resolve it (curl's
//!   spelling).
//! - `socks4://` (IPv4, resolved here) and `socks4a://` (the proxy
//!   resolves); the user name, if any, is the SOCKS4 user id.
//! - `http://`: HTTP `CONNECT`, with Basic `Proxy-Authorization`.
//!
//! The default port is 1080 for every scheme, as curl has it.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};

use tokio::net::TcpStream;

mod http;
mod socks;

/// How the proxy is asked for the tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SOCKS5; `remote_dns`: the proxy resolves the target (`socks5h`).
    Socks5 { remote_dns: bool },
    /// SOCKS4; `remote_dns`: SOCKS4a.
    Socks4 { remote_dns: bool },
    /// HTTP CONNECT.
    Http,
}

/// A proxy to reach targets through.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub kind: Kind,
    pub host: String,
    pub port: u16,
    /// User and password (`user:pass@`, or `--proxy-user`).
    pub auth: Option<(String, String)>,
}

impl fmt::Debug for Proxy {
    /// Never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proxy({self})")
    }
}

impl fmt::Display for Proxy {
    /// The URL without its credentials: what events and errors show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            Kind::Socks5 { remote_dns: false } => "socks5",
            Kind::Socks5 { remote_dns: true } => "socks5h",
            Kind::Socks4 { remote_dns: false } => "socks4",
            Kind::Socks4 { remote_dns: true } => "socks4a",
            Kind::Http => "http",
        };
        match self.host.contains(':') {
            true => write!(f, "{scheme}://[{}]:{}", self.host, self.port),
            false => write!(f, "{scheme}://{}:{}", self.host, self.port),
        }
    }
}

impl std::str::FromStr for Proxy {
    type Err = String;

    fn from_str(url: &str) -> Result<Proxy, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            format!("expected SCHEME://HOST[:PORT] (socks5h://127.0.0.1:1080, http://proxy:3128), got {url:?}")
        })?;
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "socks5" => Kind::Socks5 { remote_dns: false },
            "socks5h" => Kind::Socks5 { remote_dns: true },
            "socks4" => Kind::Socks4 { remote_dns: false },
            "socks4a" => Kind::Socks4 { remote_dns: true },
            "http" => Kind::Http,
            "https" => return Err("an https:// proxy (TLS to the proxy) is not supported; use http:// (the tunnel itself can carry TLS: tls://HOST:PORT)".into()),
            other => return Err(format!("unknown proxy scheme {other:?}; expected socks5, socks5h, socks4, socks4a or http")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((userinfo, hostport)) => {
                let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                (
                    Some((percent_decode(user)?, percent_decode(pass)?)),
                    hostport,
                )
            }
            None => (None, rest),
        };
        let (host, port) = split_host_port(hostport)
            .ok_or_else(|| format!("expected HOST[:PORT] after {scheme}://, got {hostport:?}"))?;
        if host.is_empty() || host.contains('/') {
            return Err(format!(
                "expected a proxy host after {scheme}://, got {hostport:?}"
            ));
        }
        Ok(Proxy {
            kind,
            host: host.to_string(),
            port,
            auth,
        })
    }
}

/// `HOST`, `HOST:PORT`, `[V6]` or `[V6]:PORT` (default port 1080).
fn split_host_port(s: &str) -> Option<(&str, u16)> {
    let (host, port) = match s.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            match after {
                "" => (host, None),
                p => (host, Some(p.strip_prefix(':')?)),
            }
        }
        None => match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => return None,
            None => (s, None),
        },
    };
    let port = match port {
        Some(p) => p.parse().ok().filter(|&p| p != 0)?,
        None => 1080,
    };
    Some((host, port))
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("a % in the proxy's credentials must start an escape such as %40")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the proxy's credentials are not UTF-8".to_string())
}

/// Where the tunnel should lead: a name, or an address resolved here.
#[derive(Debug, Clone)]
pub enum Target<'a> {
    Name(&'a str, u16),
    Addr(SocketAddr),
}

impl Target<'_> {
    pub(super) fn port(&self) -> u16 {
        match self {
            Target::Name(_, port) => *port,
            Target::Addr(a) => a.port(),
        }
    }

    /// `host:port` as HTTP's CONNECT line and Host header write it.
    pub(super) fn authority(&self) -> String {
        match self {
            Target::Name(h, p) if h.contains(':') => format!("[{h}]:{p}"),
            Target::Name(h, p) => format!("{h}:{p}"),
            Target::Addr(a) => a.to_string(),
        }
    }
}

/// Why the proxy gave no tunnel: the errno whose Node name fits, and the
/// proxy's own words.
#[derive(Debug)]
pub struct Refusal {
    pub errno: i32,
    pub message: String,
}

impl Refusal {
    pub(super) fn new(errno: i32, message: impl Into<String>) -> Refusal {
        Refusal {
            errno,
            message: message.into(),
        }
    }

    pub(super) fn protocol(message: impl Into<String>) -> Refusal {
        Refusal::new(crate::sys::errno::EPROTO, message)
    }

    pub(super) fn auth(message: impl Into<String>) -> Refusal {
        Refusal::new(crate::sys::errno::EACCES, message)
    }
}

/// An I/O error in the middle of a handshake, as a refusal.
pub(super) fn broken(e: io::Error, during: &str) -> Refusal {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return Refusal::new(
            crate::sys::errno::ECONNRESET,
            format!("the proxy closed the connection during the {during} handshake"),
        );
    }
    let errno = e.raw_os_error().unwrap_or(crate::sys::errno::EIO);
    Refusal::new(errno, format!("{during} handshake: {e}"))
}

/// Ask the proxy on `sock` for a tunnel to `target`.
pub async fn tunnel(
    sock: &mut TcpStream,
    proxy: &Proxy,
    target: &Target<'_>,
) -> Result<(), Refusal> {
    match proxy.kind {
        Kind::Socks5 { .. } => socks::socks5(sock, proxy, target).await,
        Kind::Socks4 { .. } => socks::socks4(sock, proxy, target).await,
        Kind::Http => http::connect(sock, proxy, target).await,
    }
}

/// Whether the target's name is resolved here (not by the proxy).
pub fn resolves_here(kind: Kind, host: &str) -> bool {
    host.parse::<IpAddr>().is_ok()
        || matches!(
            kind,
            Kind::Socks5 { remote_dns: false } | Kind::Socks4 { remote_dns: false }
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_as_curl_writes_them() {
        let p: Proxy = "socks5h://user:p%40ss@127.0.0.1:9050".parse().unwrap();
        assert_eq!(p.kind, Kind::Socks5 { remote_dns: true });
        assert_eq!((p.host.as_str(), p.port), ("127.0.0.1", 9050));
        assert_eq!(p.auth, Some(("user".into(), "p@ss".into())));
        assert_eq!(p.to_string(), "socks5h://127.0.0.1:9050");
        assert!(!format!("{p:?}").contains("p@ss"));
        let p: Proxy = "HTTP://[::1]".parse().unwrap();
        assert_eq!((p.kind, p.host.as_str(), p.port), (Kind::Http, "::1", 1080));
        assert_eq!(p.to_string(), "http://[::1]:1080");
        let p: Proxy = "socks4a://proxy:1080/".parse().unwrap();
        assert_eq!(p.kind, Kind::Socks4 { remote_dns: true });
        for bad in [
            "127.0.0.1:1080",
            "ftp://x",
            "https://x",
            "socks5://",
            "socks5://h:0",
            "socks5://h:x",
            "socks5://u:%zz@h",
            "socks5://::1:80",
        ] {
            assert!(bad.parse::<Proxy>().is_err(), "{bad}");
        }
    }

    #[test]
    fn local_resolution_follows_the_scheme() {
        assert!(resolves_here(
            Kind::Socks5 { remote_dns: false },
            "example.test"
        ));
        assert!(!resolves_here(
            Kind::Socks5 { remote_dns: true },
            "example.test"
        ));
        assert!(!resolves_here(Kind::Http, "example.test"));
        assert!(resolves_here(Kind::Http, "127.0.0.1"));
    }
}
