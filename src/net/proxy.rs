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

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
    fn port(&self) -> u16 {
        match self {
            Target::Name(_, port) => *port,
            Target::Addr(a) => a.port(),
        }
    }

    /// `host:port` as HTTP's CONNECT line and Host header write it.
    fn authority(&self) -> String {
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
    fn new(errno: i32, message: impl Into<String>) -> Refusal {
        Refusal {
            errno,
            message: message.into(),
        }
    }

    fn protocol(message: impl Into<String>) -> Refusal {
        Refusal::new(libc::EPROTO, message)
    }

    fn auth(message: impl Into<String>) -> Refusal {
        Refusal::new(libc::EACCES, message)
    }
}

/// An I/O error in the middle of a handshake, as a refusal.
fn broken(e: io::Error, during: &str) -> Refusal {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return Refusal::new(
            libc::ECONNRESET,
            format!("the proxy closed the connection during the {during} handshake"),
        );
    }
    let errno = e.raw_os_error().unwrap_or(libc::EIO);
    Refusal::new(errno, format!("{during} handshake: {e}"))
}

/// Ask the proxy on `sock` for a tunnel to `target`.
pub async fn tunnel(
    sock: &mut TcpStream,
    proxy: &Proxy,
    target: &Target<'_>,
) -> Result<(), Refusal> {
    match proxy.kind {
        Kind::Socks5 { .. } => socks5(sock, proxy, target).await,
        Kind::Socks4 { .. } => socks4(sock, proxy, target).await,
        Kind::Http => http_connect(sock, proxy, target).await,
    }
}

async fn socks5(sock: &mut TcpStream, proxy: &Proxy, target: &Target<'_>) -> Result<(), Refusal> {
    let io = |e| broken(e, "SOCKS5");
    let methods: &[u8] = match proxy.auth {
        Some(_) => &[5, 2, 0, 2],
        None => &[5, 1, 0],
    };
    sock.write_all(methods).await.map_err(io)?;
    let mut chosen = [0u8; 2];
    sock.read_exact(&mut chosen).await.map_err(io)?;
    if chosen[0] != 5 {
        return Err(Refusal::protocol("the proxy's answer is not SOCKS5"));
    }
    match (chosen[1], &proxy.auth) {
        (0, _) => {}
        (2, Some((user, pass))) => {
            if user.len() > 255 || pass.len() > 255 {
                return Err(Refusal::auth(
                    "SOCKS5 user names and passwords are at most 255 bytes",
                ));
            }
            let mut m = vec![1, user.len() as u8];
            m.extend_from_slice(user.as_bytes());
            m.push(pass.len() as u8);
            m.extend_from_slice(pass.as_bytes());
            sock.write_all(&m).await.map_err(io)?;
            let mut status = [0u8; 2];
            sock.read_exact(&mut status).await.map_err(io)?;
            if status[1] != 0 {
                return Err(Refusal::auth(
                    "the SOCKS5 proxy refused the user name and password",
                ));
            }
        }
        (0xff, None) => {
            return Err(Refusal::auth(
                "the SOCKS5 proxy wants credentials: user:pass@ in the URL, or --proxy-user",
            ))
        }
        (0xff, Some(_)) => {
            return Err(Refusal::auth(
                "the SOCKS5 proxy accepts none of our ways to log in",
            ))
        }
        (m, _) => {
            return Err(Refusal::protocol(format!(
                "the SOCKS5 proxy chose a method we did not offer ({m})"
            )))
        }
    }
    let mut req = vec![5, 1, 0];
    match target {
        Target::Addr(SocketAddr::V4(a)) => {
            req.push(1);
            req.extend_from_slice(&a.ip().octets());
        }
        Target::Addr(SocketAddr::V6(a)) => {
            req.push(4);
            req.extend_from_slice(&a.ip().octets());
        }
        Target::Name(name, _) => {
            if name.len() > 255 {
                return Err(Refusal::protocol("SOCKS5 host names are at most 255 bytes"));
            }
            req.push(3);
            req.push(name.len() as u8);
            req.extend_from_slice(name.as_bytes());
        }
    }
    req.extend_from_slice(&target.port().to_be_bytes());
    sock.write_all(&req).await.map_err(io)?;
    let mut head = [0u8; 4];
    sock.read_exact(&mut head).await.map_err(io)?;
    if head[0] != 5 {
        return Err(Refusal::protocol("the proxy's answer is not SOCKS5"));
    }
    if head[1] != 0 {
        return Err(socks5_reply(head[1]));
    }
    // The address the proxy bound for us; read past it.
    let rest = match head[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut len = [0u8; 1];
            sock.read_exact(&mut len).await.map_err(io)?;
            len[0] as usize + 2
        }
        t => {
            return Err(Refusal::protocol(format!(
                "the SOCKS5 proxy answered with address type {t}"
            )))
        }
    };
    let mut skip = vec![0u8; rest];
    sock.read_exact(&mut skip).await.map_err(io)?;
    Ok(())
}

/// RFC 1928's reply codes, as Node would name the failure.
fn socks5_reply(rep: u8) -> Refusal {
    let (errno, what) = match rep {
        2 => (
            libc::EACCES,
            "the proxy's rules do not allow this connection",
        ),
        3 => (
            libc::ENETUNREACH,
            "the proxy reports the network unreachable",
        ),
        4 => (
            libc::EHOSTUNREACH,
            "the proxy reports the host unreachable (or its name unknown)",
        ),
        5 => (
            libc::ECONNREFUSED,
            "the target refused the proxy's connection",
        ),
        6 => (
            libc::ETIMEDOUT,
            "the proxy's connection to the target timed out",
        ),
        7 => (libc::EPROTO, "the proxy does not support CONNECT"),
        8 => (
            libc::EAFNOSUPPORT,
            "the proxy does not support this address type",
        ),
        _ => (
            libc::ECONNREFUSED,
            "the proxy failed to connect (general failure)",
        ),
    };
    Refusal::new(errno, format!("{what} (SOCKS5 reply {rep})"))
}

async fn socks4(sock: &mut TcpStream, proxy: &Proxy, target: &Target<'_>) -> Result<(), Refusal> {
    let io = |e| broken(e, "SOCKS4");
    let mut req = vec![4, 1];
    req.extend_from_slice(&target.port().to_be_bytes());
    let name =
        match target {
            Target::Addr(SocketAddr::V4(a)) => {
                req.extend_from_slice(&a.ip().octets());
                None
            }
            Target::Addr(SocketAddr::V6(_)) => return Err(Refusal::new(
                libc::EAFNOSUPPORT,
                "SOCKS4 carries IPv4 only; use socks4a:// or socks5h:// to let the proxy resolve",
            )),
            // SOCKS4a: 0.0.0.x, then the name after the user id.
            Target::Name(name, _) => {
                req.extend_from_slice(&[0, 0, 0, 1]);
                Some(name)
            }
        };
    if let Some((user, _)) = &proxy.auth {
        req.extend_from_slice(user.as_bytes());
    }
    req.push(0);
    if let Some(name) = name {
        req.extend_from_slice(name.as_bytes());
        req.push(0);
    }
    sock.write_all(&req).await.map_err(io)?;
    let mut reply = [0u8; 8];
    sock.read_exact(&mut reply).await.map_err(io)?;
    match reply[1] {
        0x5a => Ok(()),
        0x5b => Err(Refusal::new(
            libc::ECONNREFUSED,
            "the SOCKS4 proxy rejected the request or could not connect (reply 91)",
        )),
        0x5c | 0x5d => Err(Refusal::auth(format!(
            "the SOCKS4 proxy could not confirm the user id (reply {})",
            reply[1]
        ))),
        r => Err(Refusal::protocol(format!(
            "the proxy's answer is not SOCKS4 (reply {r})"
        ))),
    }
}

/// The most header bytes an HTTP proxy's answer may have.
const MAX_HEAD: usize = 16 * 1024;

async fn http_connect(
    sock: &mut TcpStream,
    proxy: &Proxy,
    target: &Target<'_>,
) -> Result<(), Refusal> {
    let io = |e| broken(e, "HTTP CONNECT");
    let authority = target.authority();
    let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some((user, pass)) = &proxy.auth {
        req.push_str(&format!(
            "Proxy-Authorization: Basic {}\r\n",
            base64(format!("{user}:{pass}").as_bytes())
        ));
    }
    req.push_str("\r\n");
    sock.write_all(req.as_bytes()).await.map_err(io)?;
    // Byte by byte: what follows the header is the tunnel's, not ours.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err(Refusal::protocol(
                "the HTTP proxy's answer has no end of header within 16 KiB",
            ));
        }
        let b = sock.read_u8().await.map_err(io)?;
        head.push(b);
    }
    let head = String::from_utf8_lossy(&head);
    let status_line = head.lines().next().unwrap_or("");
    let mut words = status_line.splitn(3, ' ');
    let (version, status, reason) = (words.next(), words.next(), words.next().unwrap_or(""));
    let status: u16 = match (version, status.and_then(|s| s.parse().ok())) {
        (Some(v), Some(s)) if v.starts_with("HTTP/") => s,
        _ => {
            return Err(Refusal::protocol(format!(
                "the proxy's answer is not HTTP: {status_line:?}"
            )))
        }
    };
    let said = format!("HTTP {status} {}", reason.trim());
    match status {
        200..=299 => Ok(()),
        407 if proxy.auth.is_none() => Err(Refusal::auth(format!(
            "the HTTP proxy wants credentials: user:pass@ in the URL, or --proxy-user ({said})"
        ))),
        401 | 403 | 407 => Err(Refusal::auth(format!("the HTTP proxy refused ({said})"))),
        504 => Err(Refusal::new(
            libc::ETIMEDOUT,
            format!("the proxy's connection to the target timed out ({said})"),
        )),
        _ => Err(Refusal::new(
            libc::ECONNREFUSED,
            format!("the HTTP proxy could not connect ({said})"),
        )),
    }
}

fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
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
    fn base64_pads_like_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
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
