//! The fast path of `isip < log`: the family of the line at the start of a
//! 64-byte window, decided from bit masks instead of by parsing.
//!
//! The byte parser in the parent module branches on every byte, and on
//! random logs those branches are unpredictable (is this octet one, two or
//! three digits? is the next line IPv4 or IPv6?); mispredictions, not work,
//! were most of its time. Here one pass of vector compares turns the window
//! into masks, a bit per byte (LF, `.`, `:`, digit, hex digit, `%` or CR,
//! and a few digit values), and the grammar becomes arithmetic on those
//! masks with few branches:
//!
//! - IPv4: only digits and dots, three dots, each with a digit on both sides,
//!   no run of four digits, no run of two or more starting with `0`, and no
//!   run of three above `255` (read off the masks of `2`, `5`, `3-9`, `6-9`).
//! - IPv6 without an IPv4 tail or zone: only hex digits and colons, no run of
//!   five hex digits, at most one `::` (and no `:::`), every other colon with
//!   a hex digit on both sides, and eight groups without `::` or at most seven
//!   with it.
//!
//! Lines that hold both `.` and `:` (an IPv4 tail, or a near miss like
//! `1.2.3.4:80`), a `%` (a zone), a CR, or no LF within the window are left to
//! the byte parser: [`line_family`] answers `None` and the caller asks
//! [`super::is_ip`]. On x86_64 the masks come from SSE2, which every x86_64
//! CPU has, so no runtime detection is needed; elsewhere a plain loop builds
//! the same masks. Tests hold both to the byte parser's answers.

/// Bytes [`line_family`] looks at; the caller must have this many from the
/// start of the line (the line itself may be shorter and usually is).
pub const WINDOW: usize = 64;

/// The family of the line at the start of `window` (4, 6 or 0, as
/// [`super::is_ip`] answers for it) and its length without the LF, or `None`
/// when the masks cannot tell and the byte parser must.
#[inline]
pub fn line_family(window: &[u8; WINDOW]) -> Option<(u8, usize)> {
    let head: &[u8; 16] = window[..16].try_into().unwrap();
    let mut m = masks::head(head);
    if m.lf == 0 {
        // Too long for IPv4: only the classes IPv6 needs, for the rest.
        for (i, chunk) in window[16..].chunks_exact(16).enumerate() {
            let t = masks::tail(chunk.try_into().unwrap());
            let shift = 16 * (i + 1);
            m.lf |= t.lf << shift;
            m.dot |= t.dot << shift;
            m.colon |= t.colon << shift;
            m.hex |= t.hex << shift;
            m.special |= t.special << shift;
        }
        if m.lf == 0 {
            return None;
        }
    }
    let len = m.lf.trailing_zeros() as usize;
    decide(&m, len).map(|family| (family, len))
}

/// One bit per byte of the window, bit `i` for byte `i`. `digit` and the
/// digit values (`zero` to `ge6`) cover only the first 16 bytes, enough for
/// any IPv4 address; the other masks cover the whole window.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct Masks {
    lf: u64,
    dot: u64,
    colon: u64,
    /// `0-9 a-f A-F`
    hex: u64,
    /// `%` or CR: a zone, or a line the byte parser must strip.
    special: u64,
    digit: u64,
    zero: u64,
    two: u64,
    five: u64,
    /// `3` to `9` (and, harmlessly, other bytes above `2` that are not
    /// digits: every use is ANDed with a digit run).
    ge3: u64,
    /// `6` to `9`, with the same caveat.
    ge6: u64,
}

/// The family of a line of `len` bytes (less than the window) from its
/// masks, `None` when they are not enough.
#[inline]
fn decide(m: &Masks, len: usize) -> Option<u8> {
    let line = (1u64 << len) - 1;
    let dot = m.dot & line;
    let colon = m.colon & line;
    if (m.special & line != 0) | (dot != 0) & (colon != 0) {
        return None;
    }
    // IPv4 needs a dot and IPv6 a colon, so at most one of these holds.
    let family = 4 * u8::from(is_ipv4(m, len, line)) + 6 * u8::from(is_ipv6(m, line));
    Some(family)
}

/// Dot-decimal, from the masks of a line of `len` bytes.
#[inline]
fn is_ipv4(m: &Masks, len: usize, line: u64) -> bool {
    let d = m.digit & line;
    let dot = m.dot & line;
    // Each dot between two digits: no dot first, last, or next to another.
    // `&` rather than `&&` throughout: on random input every branch would
    // be a coin toss, and evaluating all the terms costs less than a miss.
    let shape = (len <= 15)
        & ((d | dot) == line)
        & (dot.count_ones() == 3)
        & (dot & !(d << 1) == 0)
        & (dot & !(d >> 1) == 0)
        & (d & d >> 1 & d >> 2 & d >> 3 == 0);
    let starts = d & !(d << 1);
    let two_plus = starts & d >> 1;
    let three = two_plus & d >> 2;
    // abc > 255: a >= 3, or a = 2 and (b >= 6, or b = 5 and c >= 6).
    let too_big = three & (m.ge3 | m.two & (m.ge6 >> 1 | m.five >> 1 & m.ge6 >> 2));
    shape & (two_plus & m.zero == 0) & (too_big == 0)
}

/// IPv6 without an IPv4 tail or a zone, from the masks of a line.
#[inline]
fn is_ipv6(m: &Masks, line: u64) -> bool {
    let h = m.hex & line;
    let c = m.colon & line;
    // `double` marks the first colon of each `::`; `:::` marks two.
    let double = c & c >> 1;
    let lone = c & !double & !(double << 1);
    let groups = (h & !(h << 1)).count_ones();
    // Eight groups, or one `::` (only one: `double` has no other bit) and
    // at most seven.
    let count_ok = (double == 0) & (groups == 8)
        | (double != 0) & (double & double.wrapping_sub(1) == 0) & (groups <= 7);
    ((h | c) == line)
        & (lone & !(h << 1) == 0)
        & (lone & !(h >> 1) == 0)
        & (h & h >> 1 & h >> 2 & h >> 3 & h >> 4 == 0)
        & count_ok
}

mod masks {
    //! The masks of 16 bytes: `head` for the first 16 of a window (every
    //! class), `tail` for the rest (the classes IPv6 needs).

    #[cfg(not(target_arch = "x86_64"))]
    pub use super::portable::{head, tail};
    #[cfg(target_arch = "x86_64")]
    pub use super::sse2::{head, tail};
}

/// The masks byte by byte: the reference the vector code is tested against,
/// and the code on targets without it.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
mod portable {
    use super::Masks;

    pub fn head(b: &[u8; 16]) -> Masks {
        let mut m = tail(b);
        for (i, &x) in b.iter().enumerate() {
            let bit = |yes: bool| u64::from(yes) << i;
            m.digit |= bit(x.is_ascii_digit());
            m.zero |= bit(x == b'0');
            m.two |= bit(x == b'2');
            m.five |= bit(x == b'5');
            m.ge3 |= bit((x as i8) > b'2' as i8);
            m.ge6 |= bit((x as i8) > b'5' as i8);
        }
        m
    }

    pub fn tail(b: &[u8; 16]) -> Masks {
        let mut m = Masks::default();
        for (i, &x) in b.iter().enumerate() {
            let bit = |yes: bool| u64::from(yes) << i;
            m.lf |= bit(x == b'\n');
            m.dot |= bit(x == b'.');
            m.colon |= bit(x == b':');
            m.hex |= bit(x.is_ascii_hexdigit());
            m.special |= bit(x == b'%' || x == b'\r');
        }
        m
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
    };

    use super::Masks;

    #[inline(always)]
    fn load(b: &[u8; 16]) -> __m128i {
        // SAFETY: SSE2 is part of the x86_64 baseline, and the pointer is
        // valid for 16 bytes, which is what an unaligned load reads.
        unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
    }

    /// One bit per byte: the top bit of each lane of a compare result.
    #[inline(always)]
    fn bits(v: __m128i) -> u64 {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        u64::from(unsafe { _mm_movemask_epi8(v) } as u16)
    }

    #[inline(always)]
    fn eq(v: __m128i, byte: u8) -> __m128i {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { _mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8)) }
    }

    /// Lanes whose byte minus `low` is at most `span`, unsigned.
    #[inline(always)]
    fn within(v: __m128i, low: u8, span: u8) -> __m128i {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe {
            let d = _mm_sub_epi8(v, _mm_set1_epi8(low as i8));
            _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(span as i8)), d)
        }
    }

    #[inline(always)]
    fn or(a: __m128i, b: __m128i) -> __m128i {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { _mm_or_si128(a, b) }
    }

    /// Lanes above `byte`, signed (bytes from 0x80 count as below).
    #[inline(always)]
    fn above(v: __m128i, byte: u8) -> __m128i {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { _mm_cmpgt_epi8(v, _mm_set1_epi8(byte as i8)) }
    }

    #[inline(always)]
    fn classes(v: __m128i) -> (Masks, __m128i) {
        let digit = within(v, b'0', 9);
        // `x | 0x20` folds A-F onto a-f.
        // SAFETY: SSE2 is part of the x86_64 baseline.
        let lower = unsafe { _mm_or_si128(v, _mm_set1_epi8(0x20)) };
        let hex = or(digit, within(lower, b'a', 5));
        let m = Masks {
            lf: bits(eq(v, b'\n')),
            dot: bits(eq(v, b'.')),
            colon: bits(eq(v, b':')),
            hex: bits(hex),
            special: bits(or(eq(v, b'%'), eq(v, b'\r'))),
            ..Masks::default()
        };
        (m, digit)
    }

    #[inline(always)]
    pub fn head(b: &[u8; 16]) -> Masks {
        let v = load(b);
        let (mut m, digit) = classes(v);
        m.digit = bits(digit);
        m.zero = bits(eq(v, b'0'));
        m.two = bits(eq(v, b'2'));
        m.five = bits(eq(v, b'5'));
        m.ge3 = bits(above(v, b'2'));
        m.ge6 = bits(above(v, b'5'));
        m
    }

    #[inline(always)]
    pub fn tail(b: &[u8; 16]) -> Masks {
        classes(load(b)).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the fast path must answer: the byte parser's family, or `None`.
    fn check(line: &[u8], rest: &[u8]) {
        if line.contains(&b'\n') {
            return; // not one line
        }
        let mut window = [0u8; WINDOW];
        let mut text = line.to_vec();
        text.push(b'\n');
        text.extend_from_slice(rest);
        let n = text.len().min(WINDOW);
        window[..n].copy_from_slice(&text[..n]);
        let truth = super::super::is_ip(line.strip_suffix(b"\r").unwrap_or(line));
        if let Some((family, len)) = line_family(&window) {
            assert_eq!(
                len,
                line.len(),
                "length of {:?}",
                String::from_utf8_lossy(line)
            );
            assert_eq!(
                family,
                truth,
                "family of {:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn agrees_with_the_byte_parser_on_nodes_vectors() {
        for &(input, _) in super::super::tests::CASES {
            for rest in [&b""[..], b"1.2.3.4\n", b"::1\n", &[b'7'; 80]] {
                check(input.as_bytes(), rest);
                let mut crlf = input.as_bytes().to_vec();
                crlf.push(b'\r');
                check(&crlf, rest);
            }
        }
    }

    #[test]
    fn decides_plain_addresses_without_the_byte_parser() {
        for line in [
            "0.0.0.0",
            "255.255.255.255",
            "1.22.199.250",
            "::",
            "::1",
            "1::",
        ] {
            let mut window = [b'x'; WINDOW];
            window[..line.len()].copy_from_slice(line.as_bytes());
            window[line.len()] = b'\n';
            let family = if line.contains(':') { 6 } else { 4 };
            assert_eq!(line_family(&window), Some((family, line.len())), "{line}");
        }
        let long = b"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n";
        let mut window = [0u8; WINDOW];
        window[..long.len()].copy_from_slice(long);
        assert_eq!(line_family(&window), Some((6, long.len() - 1)));
    }

    /// Every octet at and around the limits, in every position: leading
    /// zeros, 255/256, 199/200, 249/250, four digits.
    #[test]
    fn ipv4_octet_limits_in_every_position() {
        const OCTETS: &[&str] = &[
            "0", "1", "9", "00", "01", "09", "10", "99", "000", "001", "010", "099", "100", "199",
            "200", "209", "249", "250", "251", "255", "256", "259", "260", "299", "300", "999",
            "0000", "1000", "", "a", "1a",
        ];
        for a in OCTETS {
            for b in OCTETS {
                for c in ["0", "255", "256", "01", ""] {
                    for d in OCTETS {
                        check(format!("{a}.{b}.{c}.{d}").as_bytes(), b"");
                        check(format!("{d}.{c}.{b}.{a}").as_bytes(), b"9");
                    }
                }
            }
        }
    }

    proptest! {
        /// Lines over the bytes that matter, then more lines, so LF, CR,
        /// `%`, dots and colons meet every position of the window, including
        /// lines that end exactly at or beyond its end.
        #[test]
        fn agrees_with_the_byte_parser_on_near_misses(
            line in "[0-9a-fA-F:.%\r]{0,70}",
            rest in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'1'), Just(b':'), any::<u8>()], 0..70),
        ) {
            check(line.as_bytes(), &rest);
        }

        #[test]
        fn agrees_with_the_byte_parser_on_random_bytes(
            line in proptest::collection::vec(any::<u8>().prop_filter("no LF", |&b| b != b'\n'), 0..70),
            rest in proptest::collection::vec(any::<u8>(), 0..70),
        ) {
            check(&line, &rest);
        }

        #[test]
        fn agrees_with_the_byte_parser_on_ipv6_shapes(
            groups in proptest::collection::vec("[0-9a-fA-F]{0,5}", 1..10),
            gap in proptest::option::of(0usize..10),
        ) {
            let mut line = groups.join(":");
            if let Some(at) = gap {
                let cut: Vec<&str> = groups.iter().map(String::as_str).collect();
                let at = at.min(cut.len());
                line = format!("{}::{}", cut[..at].join(":"), cut[at..].join(":"));
            }
            check(line.as_bytes(), b"");
        }

        #[test]
        fn formatted_addresses_take_the_fast_path(bits in any::<u128>(), v4 in any::<u32>()) {
            for (text, family) in [
                (std::net::Ipv6Addr::from(bits).to_string(), 6),
                (std::net::Ipv4Addr::from(v4).to_string(), 4),
            ] {
                if text.contains('.') && family == 6 {
                    continue; // `::ffff:1.2.3.4`: an IPv4 tail is the byte parser's
                }
                let mut window = [b'\n'; WINDOW];
                window[..text.len()].copy_from_slice(text.as_bytes());
                prop_assert_eq!(line_family(&window), Some((family, text.len())), "{}", text);
            }
        }
    }

    proptest! {
        #[test]
        fn vector_masks_match_the_byte_loop_on_random_bytes(b in any::<[u8; 16]>()) {
            prop_assert_eq!(masks::head(&b), portable::head(&b));
            prop_assert_eq!(masks::tail(&b), portable::tail(&b));
        }
    }

    #[test]
    fn vector_masks_match_the_byte_loop() {
        let mut b = [0u8; 16];
        for x in 0..=255u8 {
            b.fill(x);
            b[x as usize % 16] = b'.';
            assert_eq!(masks::head(&b), portable::head(&b), "byte {x}");
            assert_eq!(masks::tail(&b), portable::tail(&b), "byte {x}");
        }
    }
}
