//! Name resolution (Node's `lookup`), with curl-style `--resolve` overrides
//! (`HOST:ADDR`, and `HOST:PORT:ADDR` for one port only) and the `family`
//! filter.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use serde_json::json;

use crate::events;
use crate::exit::{Error, Exit};
use crate::sys;

/// One `--resolve` override: `HOST:ADDR`, or curl's `HOST:PORT:ADDR`, which
/// answers HOST only when connecting to PORT. ADDR may be a list, `A,B`
/// (curl's form too), and an IPv6 address may be bracketed (`[::1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    pub host: String,
    /// Only for connections to this port (curl's form); None: any port.
    pub port: Option<u16>,
    pub addrs: Vec<IpAddr>,
}

impl Resolve {
    /// Whether this override answers `host` (lower-cased) for `port`.
    fn answers(&self, host: &str, port: u16) -> bool {
        self.host == host && self.port.map_or(true, |p| p == port)
    }
}

const EXPECTED: &str = "expected HOST:ADDR or HOST:PORT:ADDR";

impl FromStr for Resolve {
    type Err = String;

    fn from_str(s: &str) -> Result<Resolve, String> {
        let (host, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("{EXPECTED}, got {s:?}"))?;
        if host.is_empty() {
            return Err(format!("no host before ':' in {s:?}; {EXPECTED}"));
        }
        // `h:::1` and `h:1:2::3` are HOST:ADDR (the whole rest is an
        // address); `h:443:127.0.0.1` and `h:443:[::1]` are HOST:PORT:ADDR.
        let (port, addrs) = match (parse_addrs(rest), rest.split_once(':')) {
            (Some(addrs), _) => (None, addrs),
            (None, Some((port, addrs)))
                if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) =>
            {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| format!("{port:?} is not a port (in {s:?}); {EXPECTED}"))?;
                let addrs = parse_addrs(addrs).ok_or_else(|| {
                    format!(
                        "{addrs:?} is not an IP address or a list of them (in {s:?}); {EXPECTED}"
                    )
                })?;
                (Some(port), addrs)
            }
            _ => {
                return Err(format!(
                    "{rest:?} is not an IP address (in {s:?}); {EXPECTED}"
                ))
            }
        };
        Ok(Resolve {
            host: host.to_ascii_lowercase(),
            port,
            addrs,
        })
    }
}

/// `127.0.0.1`, `[::1]`, `::1`, or a comma-separated list of them.
fn parse_addrs(s: &str) -> Option<Vec<IpAddr>> {
    s.split(',')
        .map(|a| a.trim_start_matches('[').trim_end_matches(']').parse().ok())
        .collect()
}

impl fmt::Display for Resolve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.host)?;
        if let Some(port) = self.port {
            write!(f, "{port}:")?;
        }
        let addrs: Vec<String> = self.addrs.iter().map(|a| a.to_string()).collect();
        write!(f, "{}", addrs.join(","))
    }
}

/// Resolve `host` (Node's `lookup`): `--resolve` overrides first, then the
/// system resolver; addresses of the wrong `family` are dropped. An IP
/// literal never touches the resolver. `ENOTFOUND` is an `Exit::Resolve`.
pub(crate) async fn lookup(
    host: &str,
    port: u16,
    family: u8,
    overrides: &[Resolve],
) -> Result<Vec<SocketAddr>, Error> {
    let wanted = |a: &SocketAddr| match family {
        4 => a.is_ipv4(),
        6 => a.is_ipv6(),
        _ => true,
    };
    let lower = host.to_ascii_lowercase();
    let mut addrs: Vec<SocketAddr> = overrides
        .iter()
        .filter(|r| r.answers(&lower, port))
        .flat_map(|r| r.addrs.iter().map(|a| SocketAddr::new(*a, port)))
        .collect();
    if addrs.is_empty() {
        addrs = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => {
                let name = host.to_owned();
                let found = tokio::task::spawn_blocking(move || sys::getaddrinfo(&name, port))
                    .await
                    .unwrap_or_else(|_| {
                        Err(sys::LookupError {
                            code: "EAI_FAIL",
                            message: "the resolver thread failed".into(),
                        })
                    });
                match found {
                    Ok(addrs) => addrs,
                    Err(e) => return Err(lookup_failed(host, e.code, &e.message)),
                }
            }
        };
    }
    let before = addrs.len();
    addrs.retain(wanted);
    dedup_in_order(&mut addrs);
    if addrs.is_empty() {
        let why = if before > 0 {
            format!("no IPv{family} address")
        } else {
            "no address".to_string()
        };
        return Err(lookup_failed(host, "ENOTFOUND", &why));
    }
    // Like Node, an IP literal is not looked up, so it has no `lookup` event.
    if events::enabled() && host.parse::<IpAddr>().is_err() {
        let first = addrs[0];
        let all: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        events::emit(
            "lookup",
            None,
            json!({
                "host": host,
                "address": first.ip().to_string(),
                "family": if first.is_ipv4() { 4 } else { 6 },
                "addresses": all,
            }),
        );
    }
    Ok(addrs)
}

/// A failed lookup as Node reports it: `lookup` with the error, then
/// `error` and `close` (the connection never opened), and exit 6.
/// EAI_AGAIN (no resolver reachable) is told apart from a name that does
/// not exist, and hints that it may pass.
fn lookup_failed(host: &str, code: &'static str, why: &str) -> Error {
    let why = why.split(" (os error").next().unwrap_or(why).to_lowercase();
    let mut err = Error::new(
        Exit::Resolve,
        format!("cannot resolve {host:?}"),
        format!("{code} ({why})"),
    )
    .code(code);
    if code == "EAI_AGAIN" {
        err = err.hint(
            "the resolver could not be reached; retry (`--wait SECS` does), \
             or answer the name with --resolve HOST:ADDR",
        );
    }
    if events::enabled() {
        let fields = json!({"host": host, "code": code, "message": err.why});
        events::emit("lookup", None, fields);
        events::error(None, &err, json!({"host": host}));
        events::emit("close", None, crate::net::connect::unopened_close());
    }
    err.reported = events::mode() == events::Mode::Json;
    err
}

fn dedup_in_order(addrs: &mut Vec<SocketAddr>) {
    let mut seen = std::collections::HashSet::new();
    addrs.retain(|a| seen.insert(*a));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_flag_parses() {
        let r: Resolve = "Example.com:127.0.0.1".parse().unwrap();
        assert_eq!(r.host, "example.com");
        assert_eq!(r.port, None);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let r: Resolve = "h:[::1]".parse().unwrap();
        assert_eq!(r.addrs, [ip("::1")]);
        let r: Resolve = "h:1:2::3".parse().unwrap();
        assert_eq!((r.port, r.addrs), (None, vec![ip("1:2::3")]));
        let r: Resolve = "api.test:443:127.0.0.1".parse().unwrap();
        assert_eq!((r.port, r.addrs), (Some(443), vec![ip("127.0.0.1")]));
        let r: Resolve = "h:443:[::1],127.0.0.2".parse().unwrap();
        assert_eq!(
            (r.port, r.addrs),
            (Some(443), vec![ip("::1"), ip("127.0.0.2")])
        );
        let r: Resolve = "h:80:::1".parse().unwrap();
        assert_eq!(r.to_string(), "h:80:::1");
        assert_eq!((r.port, r.addrs), (Some(80), vec![ip("::1")]));
        for bad in [
            "nohost",
            "h:notip",
            ":1.2.3.4",
            "h:99999:1.2.3.4",
            "h:443:nope",
            "h:443:",
        ] {
            assert!(bad.parse::<Resolve>().is_err(), "{bad} should be refused");
        }
    }

    #[tokio::test]
    async fn a_port_override_answers_only_for_its_port() {
        let o = vec!["only443.invalid:443:127.0.0.3".parse().unwrap()];
        let hit = lookup("only443.invalid", 443, 0, &o).await.unwrap();
        assert_eq!(hit, vec!["127.0.0.3:443".parse().unwrap()]);
        let miss = lookup("only443.invalid", 80, 0, &o).await.unwrap_err();
        assert_eq!(miss.exit, Exit::Resolve);
    }

    #[tokio::test]
    async fn overrides_win_and_family_filters() {
        let o = vec![
            "x.test:127.0.0.2".parse().unwrap(),
            "x.test:::1".parse().unwrap(),
        ];
        let all = lookup("x.test", 80, 0, &o).await.unwrap();
        assert_eq!(all.len(), 2);
        let v6 = lookup("X.TEST", 80, 6, &o).await.unwrap();
        assert_eq!(v6, vec!["[::1]:80".parse().unwrap()]);
        let e = lookup("127.0.0.1", 80, 6, &[]).await.unwrap_err();
        assert_eq!(e.exit, Exit::Resolve);
    }
}
