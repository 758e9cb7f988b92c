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
pub use fast::{classify_lines, Run};

/// `net.isIP`: 4 for an IPv4 address, 6 for an IPv6 address, 0 otherwise.
pub fn is_ip(s: &[u8]) -> u8 {
    match first_separator(s) {
        Some(b'.') if is_ipv4(s) => 4,
        Some(b':') if is_ipv6(s) => 6,
        _ => 0,
    }
}

/// `net.isIPv4`: dot-decimal, four parts of 0-255, no leading zeros.
pub fn is_ipv4(s: &[u8]) -> bool {
    parse_ipv4(s).is_some()
}

/// `net.isIPv6`: Node's `IPv6Reg`, `%zone` suffix included.
pub fn is_ipv6(s: &[u8]) -> bool {
    ipv6_groups::<false>(s).is_some_and(|(_, end)| has_zone_or_none(s, end))
}

/// The address an input denotes when [`is_ip`] accepts it, `None` otherwise.
/// A `%zone` is dropped: rules match addresses, not interfaces.
pub fn parse_ip(s: &[u8]) -> Option<IpAddr> {
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
pub fn parse_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
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
pub fn ipv4_prefix(s: &[u8]) -> Option<(Ipv4Addr, usize)> {
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
pub fn parse_ipv6(s: &[u8]) -> Option<Ipv6Addr> {
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Node's own vectors (test/parallel/test-net-isip.js, test-net-isipv4.js,
    /// test-net-isipv6.js) and corners checked against node v20; the expected
    /// family is what `net.isIP` returns.
    pub(super) const CASES: &[(&str, u8)] = &[
        // test-net-isip.js
        ("127.0.0.1", 4),
        ("x127.0.0.1", 0),
        ("example.com", 0),
        ("0000:0000:0000:0000:0000:0000:0000:0000", 6),
        ("0000:0000:0000:0000:0000:0000:0000:0000::0000", 0),
        ("1050:0:0:0:5:600:300c:326b", 6),
        ("2001:252:0:1::2008:6", 6),
        ("2001:dead:beef:1::2008:6", 6),
        ("2001::", 6),
        ("2001:dead::", 6),
        ("2001:dead:beef::", 6),
        ("2001:dead:beef:1::", 6),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 6),
        (":2001:252:0:1::2008:6:", 0),
        (":2001:252:0:1::2008:6", 0),
        ("2001:252:0:1::2008:6:", 0),
        ("2001:252::1::2008:6", 0),
        ("::2001:252:1:2008:6", 6),
        ("::2001:252:1:1.1.1.1", 6),
        ("::2001:252:1:255.255.255.255", 6),
        ("::2001:252:1:255.255.255.255.76", 0),
        ("fe80::2008%eth0", 6),
        ("fe80::2008%eth0.0", 6),
        ("fe80::2008%eth0@1", 0),
        ("::anything", 0),
        ("::1", 6),
        ("::", 6),
        ("0000:0000:0000:0000:0000:0000:12345:0000", 0),
        ("0", 0),
        ("", 0),
        // test-net-isipv4.js, valid
        ("0.0.0.0", 4),
        ("8.8.8.8", 4),
        ("127.0.0.1", 4),
        ("100.100.100.100", 4),
        ("192.168.0.1", 4),
        ("18.101.25.153", 4),
        ("123.23.34.2", 4),
        ("172.26.168.134", 4),
        ("212.58.241.131", 4),
        ("128.0.0.0", 4),
        ("23.71.254.72", 4),
        ("223.255.255.255", 4),
        ("192.0.2.235", 4),
        ("99.198.122.146", 4),
        ("46.51.197.88", 4),
        ("173.194.34.134", 4),
        // test-net-isipv4.js, invalid
        (".100.100.100.100", 0),
        ("100..100.100.100.", 0),
        ("100.100.100.100.", 0),
        ("999.999.999.999", 0),
        ("256.256.256.256", 0),
        ("256.100.100.100.100", 0),
        ("123.123.123", 0),
        ("http://123.123.123", 0),
        ("1000.2.3.4", 0),
        ("999.2.3.4", 0),
        ("0000000192.168.0.200", 0),
        ("192.168.0.2000000000", 0),
        // test-net-isipv6.js, valid
        ("::1", 6),
        ("::", 6),
        ("0:0:0:0:0:0:0:1", 6),
        ("0:0:0:0:0:0:0:0", 6),
        ("2001:DB8:0:0:8:800:200C:417A", 6),
        ("FF01:0:0:0:0:0:0:101", 6),
        ("2001:DB8::8:800:200C:417A", 6),
        ("FF01::101", 6),
        ("fe80::217:f2ff:fe07:ed62", 6),
        ("2001:0000:1234:0000:0000:C1C0:ABCD:0876", 6),
        ("3ffe:0b00:0000:0000:0001:0000:0000:000a", 6),
        ("FF02:0000:0000:0000:0000:0000:0000:0001", 6),
        ("0000:0000:0000:0000:0000:0000:0000:0001", 6),
        ("::ffff:192.168.1.26", 6),
        ("2::10", 6),
        ("ff02::1", 6),
        ("fe80::", 6),
        ("2002::", 6),
        ("2001:db8::", 6),
        ("2001:0db8:1234::", 6),
        ("::ffff:0:0", 6),
        ("1:2:3:4:5:6:7:8", 6),
        ("1:2:3:4:5:6::8", 6),
        ("1:2:3:4:5::8", 6),
        ("1:2:3:4::8", 6),
        ("1:2:3::8", 6),
        ("1:2::8", 6),
        ("1::8", 6),
        ("1::2:3:4:5:6:7", 6),
        ("1::2:3:4:5:6", 6),
        ("1::2:3:4:5", 6),
        ("1::2:3:4", 6),
        ("1::2:3", 6),
        ("::2:3:4:5:6:7:8", 6),
        ("::2:3:4:5:6:7", 6),
        ("::2:3:4:5:6", 6),
        ("::2:3:4:5", 6),
        ("::2:3:4", 6),
        ("::2:3", 6),
        ("::8", 6),
        ("1:2:3:4:5:6::", 6),
        ("1:2:3:4:5::", 6),
        ("1:2:3:4::", 6),
        ("1:2:3::", 6),
        ("1:2::", 6),
        ("1::", 6),
        ("1:2:3:4:5::7:8", 6),
        ("1:2:3::4:5:6:7", 6),
        ("1::3:4:5:6:7:8", 6),
        ("a:b:c:d:e:f:0::", 6),
        ("1:2:3:4:5:6:1.2.3.4", 6),
        ("1:2:3:4:5::1.2.3.4", 6),
        ("1:2:3:4::1.2.3.4", 6),
        ("1:2:3::1.2.3.4", 6),
        ("1:2::1.2.3.4", 6),
        ("1::1.2.3.4", 6),
        ("1:2:3:4::5:1.2.3.4", 6),
        ("1:2:3::5:1.2.3.4", 6),
        ("1:2::5:1.2.3.4", 6),
        ("1::5:1.2.3.4", 6),
        ("1::5:11.22.33.44", 6),
        ("fe80::217:f2ff:254.7.237.98", 6),
        ("::ffff:192.168.1.1", 6),
        ("fe80:0:0:0:204:61ff:fe9d:f156", 6),
        ("fe80::204:61ff:fe9d:f156", 6),
        ("fe80:0000:0000:0000:0204:61ff:254.157.241.086", 0),
        ("fe80::204:61ff:254.157.241.86", 6),
        ("fe80::1", 6),
        ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", 6),
        ("2001:db8:85a3:0:0:8a2e:370:7334", 6),
        ("2001:db8:85a3::8a2e:370:7334", 6),
        ("2001:0db8:0000:0000:0000:0000:1428:57ab", 6),
        ("2001:0db8:0000:0000:0000::1428:57ab", 6),
        ("2001:0db8:0:0:0:0:1428:57ab", 6),
        ("2001:0db8:0:0::1428:57ab", 6),
        ("2001:0db8::1428:57ab", 6),
        ("2001:db8::1428:57ab", 6),
        ("::ffff:12.34.56.78", 6),
        ("::ffff:0c22:384e", 6),
        ("2001:0db8:1234:0000:0000:0000:0000:0000", 6),
        ("2001:0db8:1234:ffff:ffff:ffff:ffff:ffff", 6),
        ("2001:db8:a::123", 6),
        ("::ffff:192.0.2.128", 6),
        ("::ffff:c000:280", 6),
        ("a:b:c:d:e:f:f1:f2", 6),
        ("a:b:c::d:e:f:f1", 6),
        ("a:b:c::d:e:f", 6),
        ("a:b:c::d:e", 6),
        ("a:b:c::d", 6),
        ("::a", 6),
        ("::a:b:c", 6),
        ("::a:b:c:d:e:f:f1", 6),
        ("a::", 6),
        ("a:b:c::", 6),
        ("a:b:c:d:e:f:f1::", 6),
        ("a:bb:ccc:dddd:000e:00f:0f::", 6),
        ("0:a:0:a:0:0:0:a", 6),
        ("0:a:0:0:a:0:0:a", 6),
        ("2001:db8:1:1:1:1:0:0", 6),
        ("2001:db8:1:1:1:0:0:0", 6),
        ("2001:db8:1:1:0:0:0:0", 6),
        ("2001:db8:1:0:0:0:0:0", 6),
        ("2001:db8:0:0:0:0:0:0", 6),
        ("2001:0:0:0:0:0:0:0", 6),
        ("A:BB:CCC:DDDD:000E:00F:0F::", 6),
        ("0:0:0:0:0:0:0:a", 6),
        ("0:0:0:0:a:0:0:0", 6),
        ("0:0:0:a:0:0:0:0", 6),
        ("a:0:0:a:0:0:a:a", 6),
        ("a:0:0:a:0:0:0:a", 6),
        ("a:0:0:0:a:0:0:a", 6),
        ("a:0:0:0:a:0:0:0", 6),
        ("a:0:0:0:0:0:0:0", 6),
        ("fe80::7:8%eth0", 6),
        ("fe80::7:8%1", 6),
        // test-net-isipv6.js, invalid
        ("", 0),
        ("1:", 0),
        (":1", 0),
        ("11:36:12", 0),
        ("02001:0000:1234:0000:0000:C1C0:ABCD:0876", 0),
        ("2001:0000:1234:0000:00001:C1C0:ABCD:0876", 0),
        ("2001:0000:1234: 0000:0000:C1C0:ABCD:0876", 0),
        ("2001:1:1:1:1:1:255Z255X255Y255", 0),
        ("3ffe:0b00:0000:0001:0000:0000:000a", 0),
        ("FF02:0000:0000:0000:0000:0000:0000:0000:0001", 0),
        ("3ffe:b00::1::a", 0),
        ("::1111:2222:3333:4444:5555:6666::", 0),
        ("1:2:3::4:5::7:8", 0),
        ("1::2::3", 0),
        ("1:::3:4:5", 0),
        ("1:2:3::4:5:6:7:8:9", 0),
        ("::ffff:2.3.4", 0),
        ("::ffff:257.1.2.3", 0),
        ("::ffff:12345678901234567890.1.26", 0),
        ("2001:0000:1234:0000:0000:C1C0:ABCD:0876 0", 0),
        ("02001:0000:1234:0000:0000:C1C0:ABCD:0876", 0),
        // corners checked against node v20
        ("01.2.3.4", 0),
        ("1.2.3.04", 0),
        ("1.2.3.4 ", 0),
        (" 1.2.3.4", 0),
        ("1.2.3.4\n", 0),
        ("1.2.3.4:80", 0),
        ("[::1]", 0),
        ("[::1]:80", 0),
        ("::1%", 0),
        ("::1%%", 0),
        ("::1%a%b", 0),
        ("::1%a-b.c:d", 6),
        ("::1%:", 6),
        ("::1%eth0/1", 0),
        ("::1%é", 0),
        ("1.2.3.4%eth0", 0),
        ("::1.2.3.4%eth0", 6),
        (":::", 0),
        ("1:::", 0),
        ("1:2:3:4:5:6:7::", 6),
        ("1:2:3:4:5:6:7:8::", 0),
        ("::1:2:3:4:5:6:7", 6),
        ("::1:2:3:4:5:6:7:8", 0),
        ("1:2:3:4:5:6::1.2.3.4", 0),
        ("1:2:3:4:5:6:7:1.2.3.4", 0),
        ("::1.2.3.4", 6),
        ("::1.2.3.04", 0),
        ("::a1.2.3.4", 0),
        ("1.2.3.4::", 0),
        ("1.2.3.4:1::", 0),
        ("::1.2.3.4:1", 0),
        ("00000::", 0),
        ("::0:0:0:0:0:0:0", 6),
        ("g::", 0),
        ("255.255.255.255", 4),
        ("255.255.255.256", 0),
        ("1.2.3", 0),
        ("1.2.3.4.5", 0),
        ("1..3.4", 0),
        ("١.٢.٣.٤", 0),
    ];

    #[test]
    fn matches_nodes_vectors_and_corners() {
        for &(input, family) in CASES {
            let b = input.as_bytes();
            assert_eq!(is_ip(b), family, "isIP({input:?})");
            assert_eq!(is_ipv4(b), family == 4, "isIPv4({input:?})");
            assert_eq!(is_ipv6(b), family == 6, "isIPv6({input:?})");
            assert_eq!(parse_ip(b).is_some(), family != 0, "parse_ip({input:?})");
        }
    }

    #[test]
    fn parse_agrees_with_std_on_the_address() {
        for &(input, family) in CASES {
            if family == 0 {
                continue;
            }
            let bare = input.split('%').next().unwrap();
            let std: IpAddr = bare
                .parse()
                .unwrap_or_else(|_| panic!("std rejects {bare:?}"));
            assert_eq!(parse_ip(input.as_bytes()), Some(std), "{input:?}");
        }
    }

    #[test]
    fn zone_is_dropped_from_the_value() {
        assert_eq!(
            parse_ip(b"fe80::1%eth0"),
            Some("fe80::1".parse::<IpAddr>().unwrap())
        );
    }

    #[test]
    fn invalid_utf8_is_not_an_ip() {
        assert_eq!(is_ip(b"1.2.3.\xff"), 0);
        assert_eq!(is_ip(b"::1%\xff"), 0);
        assert_eq!(is_ip(b"\xc0\xae"), 0);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(s in proptest::collection::vec(any::<u8>(), 0..64)) {
            let family = is_ip(&s);
            prop_assert!(matches!(family, 0 | 4 | 6));
            prop_assert_eq!(parse_ip(&s).is_some(), family != 0);
        }

        /// A fuzz-style target: strings over the alphabet that matters, so the
        /// parser meets near misses far more often than with random bytes.
        #[test]
        fn near_misses_never_panic_and_agree_with_std(s in "[0-9a-fA-F:.%]{0,48}") {
            let family = is_ip(s.as_bytes());
            if family == 4 {
                prop_assert_eq!(parse_ip(s.as_bytes()), s.parse::<IpAddr>().ok());
            }
            if family == 6 && !s.contains('%') {
                prop_assert_eq!(parse_ip(s.as_bytes()), s.parse::<IpAddr>().ok());
            }
        }

        #[test]
        fn formatted_ipv4_is_4(bits in any::<u32>()) {
            let addr = Ipv4Addr::from(bits);
            let text = addr.to_string();
            prop_assert_eq!(is_ip(text.as_bytes()), 4);
            prop_assert_eq!(parse_ip(text.as_bytes()), Some(IpAddr::V4(addr)));
        }

        #[test]
        fn formatted_ipv6_is_6(bits in any::<u128>(), zero_runs in 0u8..4) {
            // Bias towards zero runs so `::` appears in every position.
            let mask = match zero_runs {
                0 => u128::MAX,
                1 => !(u128::from(u64::MAX) << 32),
                2 => u128::from(u64::MAX),
                _ => 0xffff_ffff,
            };
            let addr = Ipv6Addr::from(bits & mask);
            let text = addr.to_string();
            prop_assert_eq!(is_ip(text.as_bytes()), 6, "{}", text);
            prop_assert_eq!(parse_ip(text.as_bytes()), Some(IpAddr::V6(addr)));
            let full = format!("{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
                addr.segments()[0], addr.segments()[1], addr.segments()[2], addr.segments()[3],
                addr.segments()[4], addr.segments()[5], addr.segments()[6], addr.segments()[7]);
            prop_assert_eq!(is_ip(full.as_bytes()), 6);
        }
    }
}
