//! Name resolution (Node's `lookup`), with curl-style `--resolve HOST:ADDR`
//! overrides and the `family` filter.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use serde_json::json;

use crate::events;
use crate::exit::{Error, Exit};
use crate::sys;

/// One `--resolve HOST:ADDR` override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    pub host: String,
    pub addr: IpAddr,
}

impl FromStr for Resolve {
    type Err = String;

    fn from_str(s: &str) -> Result<Resolve, String> {
        let (host, addr) = s
            .split_once(':')
            .ok_or_else(|| format!("expected HOST:ADDR, got {s:?}"))?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let addr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IP address (in {s:?}); expected HOST:ADDR"))?;
        if host.is_empty() {
            return Err(format!("no host before ':' in {s:?}; expected HOST:ADDR"));
        }
        Ok(Resolve {
            host: host.to_ascii_lowercase(),
            addr,
        })
    }
}

impl fmt::Display for Resolve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.addr)
    }
}

/// Resolve `host` (Node's `lookup`): `--resolve` overrides first, then the
/// system resolver; addresses of the wrong `family` are dropped. An IP
/// literal never touches the resolver. `ENOTFOUND` is an `Exit::Resolve`.
pub async fn lookup(
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
        .filter(|r| r.host == lower)
        .map(|r| SocketAddr::new(r.addr, port))
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
fn lookup_failed(host: &str, code: &str, why: &str) -> Error {
    let why = why.split(" (os error").next().unwrap_or(why).to_lowercase();
    let mut err = Error::new(
        Exit::Resolve,
        format!("cannot resolve {host:?}"),
        format!("{code} ({why})"),
    );
    if code == "EAI_AGAIN" {
        err = err.hint(
            "the resolver could not be reached; retry (`--wait SECS` does), \
             or answer the name with --resolve HOST:ADDR",
        );
    }
    if events::enabled() {
        let fields = json!({"host": host, "code": code, "message": err.why});
        events::emit("lookup", None, fields.clone());
        events::emit("error", None, fields);
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
        let r: Resolve = "h:[::1]".parse().unwrap();
        assert_eq!(r.addr, "::1".parse::<IpAddr>().unwrap());
        assert!("nohost".parse::<Resolve>().is_err());
        assert!("h:notip".parse::<Resolve>().is_err());
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
