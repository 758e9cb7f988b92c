//! Node's `net.isIP`, `net.isIPv4` and `net.isIPv6`, byte for byte.
//!
//! Node decides with two regular expressions (`IPv4Reg`, `IPv6Reg` in
//! `lib/internal/net.js`), and scripts depend on their exact answers. Rust's
//! `std::net` parsers answer a different question: they reject a `%zone`
//! suffix (`fe80::1%eth0` is 6 in Node) and their grammar differs in other
//! corners, so this module carries its own parser. It works on bytes, never
//! allocates and reads each byte once, because `isip` classifies multi-GB logs
//! line by line; invalid UTF-8 is simply not an address.
//!
//! The rules, as Node's regular expressions encode them:
//! - IPv4: exactly four dot-separated decimal parts, each 0-255, written
//!   without leading zeros (`01.2.3.4` is 0, `0.0.0.0` is 4).
//! - IPv6: groups of 1-4 hex digits separated by `:`; either eight groups, or
//!   six groups and an IPv4 tail, or at most seven parts (the tail counting as
//!   two) around a single `::`. An optional `%zone` follows, the zone being one
//!   or more of `0-9 a-z A-Z - . :`.
//!
//! Everything else (spaces, brackets, ports, trailing dots, empty zones) is 0.
//!
//! The parser below is the reference. Plain `isip < log` classifies most
//! lines with the `fast` submodule instead, which decides the same grammar from
//! SIMD bit masks without a branch per byte and is tested against it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

mod fast;
pub(crate) use fast::classify_lines;

/// `net.isIP`: 4 for an IPv4 address, 6 for an IPv6 address, 0 otherwise.
pub(crate) fn is_ip(s: &[u8]) -> u8 {
    match first_separator(s) {
        Some(b'.') if is_ipv4(s) => 4,
        Some(b':') if is_ipv6(s) => 6,
        _ => 0,
    }
}

/// `net.isIPv4`: dot-decimal, four parts of 0-255, no leading zeros.
pub(crate) fn is_ipv4(s: &[u8]) -> bool {
    parse_ipv4(s).is_some()
}

/// `net.isIPv6`: Node's `IPv6Reg`, `%zone` suffix included.
pub(crate) fn is_ipv6(s: &[u8]) -> bool {
    ipv6_groups::<false>(s).is_some_and(|(_, end)| has_zone_or_none(s, end))
}

/// The address an input denotes when [`is_ip`] accepts it, `None` otherwise.
/// A `%zone` is dropped: rules match addresses, not interfaces.
pub(crate) fn parse_ip(s: &[u8]) -> Option<IpAddr> {
    match first_separator(s) {
        Some(b'.') => parse_ipv4(s).map(IpAddr::V4),
        Some(b':') => parse_ipv6(s).map(IpAddr::V6),
        _ => None,
    }
}

/// The first `.` or `:` among the first five bytes. It tells the families
/// apart before any parsing: an IPv4 address has its first `.` within four
/// bytes and no `:`, an IPv6 address its first `:` within five bytes and
/// no `.` before it. Classifying logs, this halves the work on every line
/// that is not IPv4.
fn first_separator(s: &[u8]) -> Option<u8> {
    s.iter().take(5).copied().find(|&b| b == b'.' || b == b':')
}

/// The address of an input that [`is_ipv4`] accepts.
pub(crate) fn parse_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    if s.len() < 7 || s.len() > 15 {
        return None;
    }
    match ipv4_prefix(s) {
        Some((addr, used)) if used == s.len() => Some(addr),
        _ => None,
    }
}

/// An IPv4 address at the start of `s` and the bytes it used; what follows
/// is the caller's business (an IPv6 tail may be followed by a zone, a line
/// in a buffer by its LF).
pub(crate) fn ipv4_prefix(s: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let (a, mut i) = decimal_octet(s, 0)?;
    let mut octets = [a, 0, 0, 0];
    for octet in &mut octets[1..] {
        if s.get(i) != Some(&b'.') {
            return None;
        }
        let (value, next) = decimal_octet(s, i + 1)?;
        *octet = value;
        i = next;
    }
    Some((Ipv4Addr::from(octets), i))
}

/// One IPv4 part at `s[at..]`: 1-3 digits, no leading zero, at most 255.
/// Returns the value and the index after it.
fn decimal_octet(s: &[u8], at: usize) -> Option<(u8, usize)> {
    let digit = |i: usize| {
        s.get(at + i)
            .map(|b| u32::from(b.wrapping_sub(b'0')))
            .filter(|&d| d < 10)
    };
    let a = digit(0)?;
    let Some(b) = digit(1) else {
        return Some((a as u8, at + 1));
    };
    if a == 0 {
        return None;
    }
    let Some(c) = digit(2) else {
        return Some(((a * 10 + b) as u8, at + 2));
    };
    let value = a * 100 + b * 10 + c;
    if value > 255 || digit(3).is_some() {
        return None;
    }
    Some((value as u8, at + 3))
}

/// The address of an input that [`is_ipv6`] accepts, zone dropped.
pub(crate) fn parse_ipv6(s: &[u8]) -> Option<Ipv6Addr> {
    let (groups, end) = ipv6_groups::<true>(s)?;
    has_zone_or_none(s, end).then(|| Ipv6Addr::from(groups))
}

/// Whether what follows the address (ending at `end`) is nothing or `%zone`.
fn has_zone_or_none(s: &[u8], end: usize) -> bool {
    end == s.len() || is_zone(&s[end + 1..])
}

/// Node's zone: `[0-9a-zA-Z-.:]{1,}`.
fn is_zone(z: &[u8]) -> bool {
    !z.is_empty()
        && z.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':')
}

/// Hex digit values; `NOT_HEX` for every other byte.
const HEX: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};
const NOT_HEX: u8 = 0xff;

/// The groups of the IPv6 address at the start of `s`, and where it ends: at
/// the end of `s` or at a `%`. `parts` counts the groups written (an IPv4
/// tail counts two); `gap` is where `::` stands, if it does. `BUILD` false
/// only validates, leaving the groups unset, which is all `isIPv6` needs.
fn ipv6_groups<const BUILD: bool>(s: &[u8]) -> Option<([u16; 8], usize)> {
    let ends_at = |i: usize| matches!(s.get(i), None | Some(b'%'));
    let mut groups = [0u16; 8];
    let mut parts = 0usize;
    let mut gap = None;
    let mut i = 0;
    if s.starts_with(b"::") {
        gap = Some(0);
        i = 2;
    }
    let end = loop {
        if gap == Some(parts) && ends_at(i) {
            break i;
        }
        let start = i;
        let mut value = 0u32;
        while let Some(&b) = s.get(i) {
            let h = HEX[usize::from(b)];
            if h == NOT_HEX {
                break;
            }
            value = value << 4 | u32::from(h);
            i += 1;
        }
        if s.get(i) == Some(&b'.') {
            // An IPv4 tail ends the address.
            let (v4, next) = ipv4_prefix(&s[start..])?;
            if parts > 6 || !ends_at(start + next) {
                return None;
            }
            if BUILD {
                let v4 = v4.octets();
                groups[parts] = u16::from_be_bytes([v4[0], v4[1]]);
                groups[parts + 1] = u16::from_be_bytes([v4[2], v4[3]]);
            }
            parts += 2;
            break start + next;
        }
        let digits = i - start;
        if digits == 0 || digits > 4 || parts == 8 {
            return None;
        }
        if BUILD {
            groups[parts] = value as u16;
        }
        parts += 1;
        match s.get(i) {
            None | Some(b'%') => break i,
            Some(b':') => i += 1,
            Some(_) => return None,
        }
        if s.get(i) == Some(&b':') {
            if gap.is_some() {
                return None;
            }
            gap = Some(parts);
            i += 1;
        }
    };
    match gap {
        None if parts == 8 => Some((groups, end)),
        Some(at) if parts <= 7 => {
            if BUILD {
                // Move the groups after `::` to the end; zeros fill the gap.
                let tail = parts - at;
                groups.copy_within(at..parts, 8 - tail);
                groups[at..8 - tail].fill(0);
            }
            Some((groups, end))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
