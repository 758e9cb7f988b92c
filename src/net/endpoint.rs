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
        if host.parse::<std::net::Ipv6Addr>().is_err() && !host.contains('%') {
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tcp(host: Option<&str>, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: host.map(String::from),
            port,
            tls: false,
        }
    }

    #[test]
    fn bare_port_is_tcp_without_host() {
        assert_eq!("8124".parse(), Ok(tcp(None, 8124)));
        assert_eq!(":8124".parse(), Ok(tcp(None, 8124)));
    }

    #[test]
    fn host_and_port_forms() {
        assert_eq!(
            "example.com:8124".parse(),
            Ok(tcp(Some("example.com"), 8124))
        );
        assert_eq!("127.0.0.1:80".parse(), Ok(tcp(Some("127.0.0.1"), 80)));
        assert_eq!("[::1]:80".parse(), Ok(tcp(Some("::1"), 80)));
        assert_eq!("[fe80::1%lo]:80".parse(), Ok(tcp(Some("fe80::1%lo"), 80)));
        assert_eq!("tcp://localhost:1".parse(), Ok(tcp(Some("localhost"), 1)));
        assert_eq!(
            "TLS://example.com:443".parse(),
            Ok(Endpoint::Tcp {
                host: Some("example.com".into()),
                port: 443,
                tls: true
            })
        );
    }

    #[test]
    fn paths_and_unix_forms() {
        assert_eq!(
            "/tmp/echo.sock".parse(),
            Ok(Endpoint::Unix("/tmp/echo.sock".into()))
        );
        assert_eq!("./sock".parse(), Ok(Endpoint::Unix("./sock".into())));
        assert_eq!("unix:sock".parse(), Ok(Endpoint::Unix("sock".into())));
        assert_eq!("unix:@wire".parse(), Ok(Endpoint::Abstract("wire".into())));
    }

    #[test]
    fn pipes_and_fds() {
        assert_eq!(
            r"\\.\pipe\x".parse(),
            Ok(Endpoint::NamedPipe(r"\\.\pipe\x".into()))
        );
        assert_eq!(
            r"\\?\pipe\x".parse(),
            Ok(Endpoint::NamedPipe(r"\\?\pipe\x".into()))
        );
        assert_eq!(
            "npipe:x".parse(),
            Ok(Endpoint::NamedPipe(r"\\.\pipe\x".into()))
        );
        assert_eq!("fd:3".parse(), Ok(Endpoint::Fd(3)));
        assert_eq!("fd:systemd".parse(), Ok(Endpoint::Systemd));
    }

    #[test]
    fn connect_defaults_and_two_words() {
        assert_eq!(
            Endpoint::for_connect("8124", None),
            Ok(tcp(Some("localhost"), 8124))
        );
        assert_eq!(
            Endpoint::for_connect("example.com", Some("80")),
            Ok(tcp(Some("example.com"), 80))
        );
        assert_eq!(
            Endpoint::for_connect("::1", Some("80")),
            Ok(tcp(Some("::1"), 80))
        );
        assert_eq!(Endpoint::for_connect("fd:3", None), Ok(Endpoint::Fd(3)));
        assert!(Endpoint::for_target("fd:3").is_err());
        assert!(Endpoint::for_target("fd:systemd").is_err());
        assert!(Endpoint::for_connect("localhost:0", None).is_err());
    }

    fn bad(s: &str) -> EndpointError {
        s.parse::<Endpoint>().expect_err(s)
    }

    #[test]
    fn malformed_endpoints_explain_and_suggest() {
        let e = bad("::1:80");
        assert_eq!(e.suggestion.as_deref(), Some("[::1]:80"), "{e}");
        assert!(e.to_string().contains("did you mean [::1]:80?"));
        assert_eq!(bad("::1").suggestion.as_deref(), Some("[::1]:PORT"));
        assert_eq!(
            bad("localhost").suggestion.as_deref(),
            Some("localhost:PORT")
        );
        assert_eq!(bad("host:").suggestion.as_deref(), Some("host:PORT"));
        assert!(bad("host:http").why.contains("not a number"));
        assert!(bad("host:70000").why.contains("out of range"));
        assert!(bad("[::1").why.contains("closing"));
        assert!(bad("[::1]80").why.contains("port"));
        assert!(bad("[nope]:80").why.contains("not an IPv6"));
        assert!(bad("http://x:1").why.contains("unknown scheme"));
        assert!(bad("fd:x").why.contains("fd:N"));
        assert!(bad("unix:@").why.contains("name"));
        assert!(bad("").why.contains("empty"));
        assert!(bad("a b:1").why.contains("not a host"));
        let long = format!("/tmp/{}", "a".repeat(MAX_UNIX_PATH - 4));
        assert!(bad(&long).why.contains("at most 107"), "{}", bad(&long));
        assert!(long[..MAX_UNIX_PATH].parse::<Endpoint>().is_ok());
        let name = "n".repeat(MAX_UNIX_PATH + 1);
        assert!(bad(&format!("unix:@{name}")).why.contains("at most 107"));
        assert!(format!("unix:@{}", &name[1..]).parse::<Endpoint>().is_ok());
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "tcp://fd:80",
            "tcp://unix:1",
            "tcp://npipe:2",
            "unix:sock",
            "unix:tcp://x/y",
            "unix:fd:3/x",
            "example.com:80",
            "[::1]:80",
            "tls://a:1",
            "/tmp/x",
            "unix:@a",
            "fd:3",
            "8124",
        ] {
            let ep: Endpoint = s.parse().unwrap();
            assert_eq!(ep.to_string().parse::<Endpoint>().unwrap(), ep, "{s}");
        }
    }

    /// Strings over the characters the grammar cares about, so near misses
    /// (`::1:80`, `[::1`, `unix:@`, `fd:-1`, `tcp://`) come often.
    const NEAR: &str = r"(tcp://|tls://|TLS://|unix:|unix://|npipe:|fd:|\\\\\.\\pipe\\|@|\[|\]|:|/|\.|%|[0-9a-fA-F]|-|_| |systemd|localhost){0,12}";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Any text parses or is refused with a message; whatever parses
        /// is written back (`Display`, the form every message uses) as
        /// text that parses to the same endpoint.
        #[test]
        fn any_text_parses_or_is_refused_and_what_parses_round_trips(
            s in prop_oneof![NEAR, "\\PC{0,40}", ".{0,130}"],
        ) {
            if let Ok(ep) = s.parse::<Endpoint>() {
                let shown = ep.to_string();
                prop_assert_eq!(shown.parse::<Endpoint>(), Ok(ep), "{:?} shown as {:?}", s, shown);
            } else {
                let e = s.parse::<Endpoint>().unwrap_err();
                prop_assert!(!e.why.is_empty());
            }
            let _ = Endpoint::for_listen(&s);
            let _ = Endpoint::for_target(&s);
        }

        /// `connect HOST PORT` (two words) never panics, and for a host
        /// name or IPv4 address names what `HOST:PORT` names.
        #[test]
        fn two_words_agree_with_one(host in NEAR, port in "[0-9]{0,6}|.{0,4}") {
            let two = Endpoint::for_connect(&host, Some(&port));
            if let (Ok(ep), false) = (&two, host.contains(':') || host.contains('[')) {
                let one = Endpoint::for_connect(&format!("{host}:{port}"), None);
                prop_assert_eq!(one.as_ref(), Ok(ep), "{:?} {:?}", host, port);
            }
        }
    }
}
