//! The endpoint grammar shared by every command.
//!
//! One `FromStr` turns what the user wrote into an [`Endpoint`]; commands then
//! ask for the role they need ([`Endpoint::for_connect`], [`Endpoint::for_listen`]),
//! which fills in Node's defaults (`localhost` when connecting to a bare port,
//! every interface when listening) and rejects forms that make no sense for
//! the role (`fd:3` as a relay's target). Errors say what was expected and, when the
//! mistake is a common one, what was probably meant.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where to connect or listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// TCP, optionally with TLS on top. `host` is `None` for a bare port.
    Tcp {
        host: Option<String>,
        port: u16,
        tls: bool,
    },
    /// A Unix domain socket at a filesystem path.
    Unix(PathBuf),
    /// A Linux abstract socket (`unix:@NAME`), name without the `@`.
    Abstract(String),
    /// A Windows named pipe, by its full `\\.\pipe\NAME` name.
    NamedPipe(String),
    /// An inherited socket (`fd:N`): a listening (or bound) one to accept
    /// on, or one connection accepted by the parent (inetd).
    Fd(i32),
    /// The systemd socket-activation protocol (`fd:systemd`), `Accept=no`
    /// (a listening socket) or `Accept=yes` (one connection).
    Systemd,
}

/// A malformed endpoint: what was written, what is wrong, maybe a guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError {
    pub input: String,
    pub why: String,
    pub suggestion: Option<String>,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad endpoint {:?}: {}", self.input, self.why)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean {s}?")?;
        }
        Ok(())
    }
}

impl std::error::Error for EndpointError {}

/// The longest Unix socket path (or abstract name) the kernel takes:
/// `sun_path` is 108 bytes, one of them the path's NUL (the abstract
/// name's leading NUL). Longer is refused here, naming the limit, rather
/// than failing at bind or connect time with a bare EINVAL/EIO.
pub(crate) const MAX_UNIX_PATH: usize = 107;

fn check_unix_len(input: &str, what: &str, len: usize) -> Result<(), EndpointError> {
    if len > MAX_UNIX_PATH {
        return Err(err(
            input,
            format!("{what} is {len} bytes; at most {MAX_UNIX_PATH} fit in a Unix socket address (sun_path)"),
        ));
    }
    Ok(())
}

fn err(input: &str, why: impl Into<String>) -> EndpointError {
    EndpointError {
        input: input.to_string(),
        why: why.into(),
        suggestion: None,
    }
}

fn err_suggest(input: &str, why: impl Into<String>, suggestion: String) -> EndpointError {
    EndpointError {
        suggestion: Some(suggestion),
        ..err(input, why)
    }
}

impl FromStr for Endpoint {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Endpoint, EndpointError> {
        if s.is_empty() {
            return Err(err(
                s,
                "empty; expected PORT, HOST:PORT, [IPv6]:PORT or a socket path",
            ));
        }
        if let Some(rest) = strip_prefix_ci(s, "tcp://") {
            return parse_host_port(s, rest, false);
        }
        if let Some(rest) = strip_prefix_ci(s, "tls://") {
            return parse_host_port(s, rest, true);
        }
        if let Some(rest) = s.strip_prefix("unix:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            if let Some(name) = rest.strip_prefix('@') {
                if name.is_empty() {
                    return Err(err(s, "an abstract socket needs a name after '@'"));
                }
                check_unix_len(s, "the abstract name", name.len())?;
                return Ok(Endpoint::Abstract(name.to_string()));
            }
            if rest.is_empty() {
                return Err(err(s, "expected a socket path after 'unix:'"));
            }
            check_unix_len(s, "the socket path", rest.len())?;
            return Ok(Endpoint::Unix(PathBuf::from(rest)));
        }
        if let Some(name) = s.strip_prefix("npipe:") {
            if name.is_empty() {
                return Err(err(s, "expected a pipe name after 'npipe:'"));
            }
            return Ok(Endpoint::NamedPipe(format!(r"\\.\pipe\{name}")));
        }
        if s.starts_with(r"\\.\pipe\") || s.starts_with(r"\\?\pipe\") {
            return Ok(Endpoint::NamedPipe(s.to_string()));
        }
        if let Some(fd) = s.strip_prefix("fd:") {
            if fd == "systemd" {
                return Ok(Endpoint::Systemd);
            }
            return match fd.parse::<i32>() {
                Ok(n) if n >= 0 => Ok(Endpoint::Fd(n)),
                _ => Err(err(
                    s,
                    "expected fd:N with N a file descriptor number, or fd:systemd",
                )),
            };
        }
        if let Some(scheme) = s.split_once("://").map(|(a, _)| a) {
            if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(err(
                    s,
                    format!("unknown scheme {scheme:?}; expected tcp:// or tls://"),
                ));
            }
        }
        // Any argument with a '/' is a path, as in Node's `listen(path)`.
        if s.contains('/') {
            check_unix_len(s, "the socket path", s.len())?;
            return Ok(Endpoint::Unix(PathBuf::from(s)));
        }
        parse_host_port(s, s, false)
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `PORT`, `HOST:PORT` or `[V6]:PORT` (`input` is the whole argument, for errors).
fn parse_host_port(input: &str, s: &str, tls: bool) -> Result<Endpoint, EndpointError> {
    if let Some(rest) = s.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(err(input, "'[' without a closing ']'"));
        };
        if !is_bracketed_ipv6(host) {
            return Err(err(
                input,
                format!("{host:?} inside brackets is not an IPv6 address"),
            ));
        }
        let Some(port) = after.strip_prefix(':') else {
            return Err(err_suggest(
                input,
                "expected a port after the bracketed address",
                format!("[{host}]:PORT"),
            ));
        };
        let port = parse_port(input, port)?;
        return Ok(Endpoint::Tcp {
            host: Some(host.to_string()),
            port,
            tls,
        });
    }
    match s.matches(':').count() {
        0 => {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                let port = parse_port(input, s)?;
                return Ok(Endpoint::Tcp {
                    host: None,
                    port,
                    tls,
                });
            }
            Err(err_suggest(
                input,
                "no port given; expected HOST:PORT",
                format!("{s}:PORT"),
            ))
        }
        1 => {
            let (host, port) = s.split_once(':').unwrap_or((s, ""));
            if port.is_empty() {
                return Err(err_suggest(
                    input,
                    "no port after ':'",
                    format!("{host}:PORT"),
                ));
            }
            let port = parse_port(input, port)?;
            if host.is_empty() {
                return Ok(Endpoint::Tcp {
                    host: None,
                    port,
                    tls,
                });
            }
            check_host(input, host)?;
            Ok(Endpoint::Tcp {
                host: Some(host.to_string()),
                port,
                tls,
            })
        }
        _ => {
            // An unbracketed IPv6 address: guess where the port was meant to be.
            // `::1:80` is also a valid address, but a port is the likelier intent.
            if let Some((host, port)) = s.rsplit_once(':') {
                let decimal = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
                if decimal
                    && !host.ends_with(':')
                    && host.parse::<std::net::Ipv6Addr>().is_ok()
                    && port.parse::<u16>().is_ok()
                {
                    return Err(err_suggest(
                        input,
                        "an IPv6 address with a port needs brackets",
                        format!("[{host}]:{port}"),
                    ));
                }
            }
            if s.parse::<std::net::Ipv6Addr>().is_ok() {
                return Err(err_suggest(
                    input,
                    "an IPv6 address needs brackets and a port",
                    format!("[{s}]:PORT"),
                ));
            }
            Err(err(
                input,
                "too many ':'; expected HOST:PORT or [IPv6]:PORT",
            ))
        }
    }
}

/// What brackets may hold: an IPv6 address, with a `%zone` (one or more of
/// `0-9 a-z A-Z - . _ :`, as Node's isIPv6 takes) after it. Anything else
/// in brackets (`[%\x01]:3`, found by the fuzzer) would be a host no
/// message could write back.
fn is_bracketed_ipv6(host: &str) -> bool {
    let (addr, zone) = match host.split_once('%') {
        Some((addr, zone)) => (addr, Some(zone)),
        None => (host, None),
    };
    let zone_ok = zone.map_or(true, |z| {
        !z.is_empty()
            && z.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'))
    });
    addr.parse::<std::net::Ipv6Addr>().is_ok() && zone_ok
}

fn parse_port(input: &str, port: &str) -> Result<u16, EndpointError> {
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(input, format!("port {port:?} is not a number")));
    }
    port.parse::<u16>()
        .map_err(|_| err(input, format!("port {port} is out of range (0-65535)")))
}

fn check_host(input: &str, host: &str) -> Result<(), EndpointError> {
    let ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'%'));
    if ok {
        Ok(())
    } else {
        Err(err(
            input,
            format!("{host:?} is not a host name or address"),
        ))
    }
}

impl Endpoint {
    /// The endpoint of `connect TARGET [PORT]`: `nc HOST PORT` is accepted as
    /// two words, a bare port means `localhost`; `fd:` forms name an
    /// inherited connection (refused later if the socket is not connected).
    pub fn for_connect(target: &str, port: Option<&str>) -> Result<Endpoint, EndpointError> {
        let ep = match port {
            Some(port) => {
                let (tls, host) = match strip_prefix_ci(target, "tls://") {
                    Some(h) => (true, h),
                    None => (false, strip_prefix_ci(target, "tcp://").unwrap_or(target)),
                };
                // `[::1] 80`: brackets only as a pair (a stray `]` is a typo).
                let host = host
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or(host);
                let whole = format!("{target} {port}");
                if host.contains('/') || host.is_empty() {
                    return Err(err(&whole, "HOST PORT needs a host name or address first"));
                }
                if !host.contains(':') {
                    check_host(&whole, host)?;
                } else if host.parse::<std::net::Ipv6Addr>().is_err() {
                    return Err(err(
                        &whole,
                        format!("{host:?} is not a host name or address"),
                    ));
                }
                Endpoint::Tcp {
                    host: Some(host.to_string()),
                    port: parse_port(&whole, port)?,
                    tls,
                }
            }
            None => target.parse()?,
        };
        match ep {
            Endpoint::Tcp {
                host: None,
                port,
                tls,
            } => Ok(Endpoint::Tcp {
                host: Some("localhost".into()),
                port,
                tls,
            }),
            Endpoint::Tcp { port: 0, .. } => Err(err(target, "cannot connect to port 0")),
            ep => Ok(ep),
        }
    }

    /// The TARGET of `pipe`: as [`Endpoint::for_connect`], but each
    /// connection needs a new one, so an inherited socket cannot be it.
    pub fn for_target(target: &str) -> Result<Endpoint, EndpointError> {
        let ep = Endpoint::for_connect(target, None)?;
        if ep.is_inherited() {
            return Err(err(
                target,
                "an inherited socket is one connection; a relay's TARGET is connected to once per client",
            ));
        }
        Ok(ep)
    }

    /// Whether this names an inherited socket (`fd:N`, `fd:systemd`).
    pub fn is_inherited(&self) -> bool {
        matches!(self, Endpoint::Fd(_) | Endpoint::Systemd)
    }

    /// The endpoint of a server: a bare port means every interface.
    pub fn for_listen(address: &str) -> Result<Endpoint, EndpointError> {
        address.parse()
    }

    /// Whether TLS was asked for in the endpoint itself (`tls://`).
    pub fn is_tls(&self) -> bool {
        matches!(self, Endpoint::Tcp { tls: true, .. })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port, tls } => {
                let scheme = if *tls { "tls://" } else { "" };
                // `fd:80`, `unix:80`, `npipe:80` would read back as other
                // forms: such a host is written with its scheme.
                let scheme = match host.as_deref() {
                    Some("fd" | "unix" | "npipe") if !*tls => "tcp://",
                    _ => scheme,
                };
                match host.as_deref() {
                    Some(h) if h.contains(':') => write!(f, "{scheme}[{h}]:{port}"),
                    Some(h) => write!(f, "{scheme}{h}:{port}"),
                    None => write!(f, "{scheme}{port}"),
                }
            }
            // A path alone when it reads back as itself (`/tmp/s`), else
            // with `unix:` (`unix:sock`, `unix:tcp://x/y`).
            Endpoint::Unix(p) => {
                let bare = p.display().to_string();
                match bare.parse::<Endpoint>() {
                    Ok(Endpoint::Unix(q)) if q == *p => write!(f, "{bare}"),
                    _ => write!(f, "unix:{bare}"),
                }
            }
            Endpoint::Abstract(n) => write!(f, "unix:@{n}"),
            Endpoint::NamedPipe(n) => write!(f, "{n}"),
            Endpoint::Fd(n) => write!(f, "fd:{n}"),
            Endpoint::Systemd => write!(f, "fd:systemd"),
        }
    }
}

#[cfg(test)]
mod tests;
