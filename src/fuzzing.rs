//! Entry points for the coverage-guided fuzz targets in `fuzz/` (a crate
//! of its own, built with `cargo +nightly fuzz`; see bench/README.md): each
//! takes raw input, runs one parser, and asserts that parser's own
//! properties, so a violation is a crash the fuzzer keeps. The parsers are
//! crate-private; this module is the one door to them, hidden from the
//! docs and used by nothing else.

use std::time::Instant;

use crate::cli::{parse_escapes, parse_ms, parse_secs, Cli};
use crate::net::blocklist::{parse_rules, Rule};
use crate::net::endpoint::Endpoint;
use crate::net::ip;

/// The endpoint grammar: no panic in any role, and what parses is written
/// back (`Display`) as text that parses to the same endpoint.
pub fn endpoint(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ep) = s.parse::<Endpoint>() {
        assert_eq!(ep.to_string().parse::<Endpoint>(), Ok(ep), "{s:?}");
    }
    let _ = Endpoint::for_listen(s);
    let _ = Endpoint::for_target(s);
    if let Some((host, port)) = s.split_once(' ') {
        let _ = Endpoint::for_connect(host, Some(port));
    }
}

/// `isIP`: a family of 0, 4 or 6, and an address exactly when not 0.
pub fn is_ip(data: &[u8]) {
    let family = ip::is_ip(data);
    assert!(matches!(family, 0 | 4 | 6));
    assert_eq!(ip::parse_ip(data).is_some(), family != 0);
    assert_eq!(ip::is_ipv4(data), family == 4);
    assert_eq!(ip::is_ipv6(data), family == 6);
}

/// BlockList rules and rule files: a rule that parses prints back as
/// itself; a file is read or refused, never a panic.
pub fn blocklist(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rule) = s.parse::<Rule>() {
        assert_eq!(rule.to_string().parse::<Rule>().ok(), Some(rule), "{s:?}");
    }
    let _ = parse_rules(s, "fuzz");
}

/// Duration flags: whatever is accepted can be a deadline.
pub fn durations(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for d in [parse_ms(s), parse_secs(s)].into_iter().flatten() {
        assert!(Instant::now().checked_add(d).is_some(), "{s:?}");
    }
}

/// `--send`/`--banner` escapes: decoded or refused, and text without a
/// backslash is sent as written.
pub fn escapes(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let decoded = parse_escapes(s);
    if !s.contains('\\') {
        assert_eq!(decoded.as_deref().ok(), Some(s.as_bytes()));
    }
}

/// The whole command line, from NUL-separated words: parsed or refused by
/// clap, never a panic (nothing is run).
pub fn argv(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let words = std::iter::once("wirecat").chain(s.split('\0'));
    let _ = <Cli as clap::Parser>::try_parse_from(words);
}

#[cfg(test)]
mod tests {
    /// Each entry point on a few inputs, so none rots between fuzz runs.
    #[test]
    fn entry_points_take_their_inputs() {
        for input in [
            &b""[..],
            b"127.0.0.1:80",
            b"unix:sock",
            b"\xff",
            b"::1",
            b"\\x41",
        ] {
            super::endpoint(input);
            super::is_ip(input);
            super::blocklist(input);
            super::durations(input);
            super::escapes(input);
            super::argv(input);
        }
        super::argv(b"connect\0--wait\0inf\0localhost:1");
    }
}
