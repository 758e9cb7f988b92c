//! Name resolution (Node's `lookup`), with curl-style `--resolve HOST:ADDR`
//! overrides and the `family` filter.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

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
