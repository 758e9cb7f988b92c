//! The fast path of `isip < log`: whole lines classified from bit masks of
//! the 64 bytes where each starts, instead of by parsing.
//!
//! The byte parser in the parent module branches on every byte, and on
//! random logs those branches are unpredictable (is this octet one, two or
//! three digits? is the next line IPv4 or IPv6?); mispredictions, not work,
//! were most of its time. Here a few vector compares turn the window into
//! masks, one bit per byte for each class (LF, CR, `.`, `:`, `%`, hex digit,
//! zone character, digit, and the digit values `0`, `2`, `5`, `3-9`, `6-9`),
//! and Node's grammar becomes arithmetic on those masks with no
//! data-dependent branch:
//!
//! - IPv4: only digits and dots, three dots, each with a digit on both sides,
//!   no run of four digits, no run of two or more starting with `0`, and no
//!   run of three above `255` (`3xx`, `26x`..`29x`, `256`..`259`).
//! - IPv6: the address is what comes before the first `%`, the zone what
//!   follows it (one or more zone characters). An address without a dot has
//!   only hex digits and colons, no run of five hex digits, at most one `::`
//!   (and no `:::`), every other colon between two hex digits, and eight
//!   groups, or at most seven with `::`. With a dot, what follows the last
//!   colon must be IPv4 and what precedes it passes the same test with one
//!   group standing in for the two the IPv4 tail counts as.
//!
//! A CR before the LF is dropped first, as the byte parser's caller does. A
//! line with no LF within the window (longer than 63 bytes, or at the end of
//! the buffer) stops the run and is left to the byte parser.
//!
//! The masks come from AVX2 when the CPU has it (checked at run time; the
//! loop is compiled a second time for it, with POPCNT and BMI), otherwise
//! from SSE2, which every x86_64 CPU has, and elsewhere from a plain loop.
//! Tests hold every backend's masks to the plain loop and every answer to
//! the byte parser's.

/// Bytes each line is judged from; a line must end within them.
pub const WINDOW: usize = 64;

/// How far [`classify_lines`] got.
pub struct Run {
    /// Bytes of whole lines classified.
    pub used: usize,
    /// Whether every one of them was an IP.
    pub all_passed: bool,
}

/// Classifies the lines at the start of `chunk` while the fast path can,
/// appending `4\n`, `6\n` or `0\n` for each to `out`, and stops when `out`
/// holds `limit` bytes, when fewer than [`WINDOW`] bytes are left, or at a
/// line without LF in its window. The caller handles what stopped it.
pub fn classify_lines(chunk: &[u8], out: &mut Vec<u8>, limit: usize) -> Run {
    #[cfg(target_arch = "x86_64")]
    if avx2::detected() {
        // SAFETY: the CPU has every feature the function is compiled for.
        return unsafe { avx2::classify_lines(chunk, out, limit) };
    }
    classify_with(chunk, out, limit, masks::window)
}

/// The loop of [`classify_lines`], inlined into each backend's copy.
#[inline(always)]
fn classify_with(
    chunk: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
    masks: impl Fn(&[u8; WINDOW]) -> Masks,
) -> Run {
    let mut used = 0;
    let mut all_passed = true;
    while out.len() < limit {
        let Some(window) = chunk[used..].first_chunk::<WINDOW>() else {
            break;
        };
        let Some((family, len)) = line_family(&masks(window)) else {
            break;
        };
        out.extend_from_slice(&[b'0' + family, b'\n']);
        all_passed &= family != 0;
        used += len + 1;
    }
    Run { used, all_passed }
}

/// The family of the line at the start of a window (what the byte parser
/// answers for it, CR dropped) and its length without the LF; `None` when
/// it does not end within the window.
#[inline(always)]
fn line_family(m: &Masks) -> Option<(u8, usize)> {
    if m.lf == 0 {
        return None;
    }
    let len = m.lf.trailing_zeros() as usize;
    Some((decide(m, len), len))
}

/// One bit per byte of the window, bit `i` for byte `i`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct Masks {
    lf: u64,
    cr: u64,
    colon: u64,
    pct: u64,
    /// `0-9 a-f A-F`
    hex: u64,
    /// Node's zone characters: `0-9 a-z A-Z - . :`
    zone: u64,
    v4: V4Masks,
}

/// The classes IPv4 needs.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct V4Masks {
    dot: u64,
    digit: u64,
    zero: u64,
    two: u64,
    five: u64,
    /// `3` to `9` (and other bytes from `3` to 0x7f: every use is ANDed
    /// with a run of digits).
    ge3: u64,
    /// `6` to `9`, with the same caveat.
    ge6: u64,
}

impl V4Masks {
    /// The masks as seen from byte `at`.
    #[inline(always)]
    fn from(&self, at: u32) -> V4Masks {
        V4Masks {
            dot: self.dot >> at,
            digit: self.digit >> at,
            zero: self.zero >> at,
            two: self.two >> at,
            five: self.five >> at,
            ge3: self.ge3 >> at,
            ge6: self.ge6 >> at,
        }
    }
}

impl Masks {
    /// `self` with the masks of the bytes `shift` further on ORed in.
    #[inline(always)]
    fn join(self, next: Masks, shift: u32) -> Masks {
        let j = |a: u64, b: u64| a | b << shift;
        Masks {
            lf: j(self.lf, next.lf),
            cr: j(self.cr, next.cr),
            colon: j(self.colon, next.colon),
            pct: j(self.pct, next.pct),
            hex: j(self.hex, next.hex),
            zone: j(self.zone, next.zone),
            v4: V4Masks {
                dot: j(self.v4.dot, next.v4.dot),
                digit: j(self.v4.digit, next.v4.digit),
                zero: j(self.v4.zero, next.v4.zero),
                two: j(self.v4.two, next.v4.two),
                five: j(self.v4.five, next.v4.five),
                ge3: j(self.v4.ge3, next.v4.ge3),
                ge6: j(self.v4.ge6, next.v4.ge6),
            },
        }
    }
}

/// The family of a line of `len` bytes (less than 64) from its masks.
///
/// `&` rather than `&&` throughout: on random input every branch would be
/// a coin toss, and evaluating all the terms costs less than a miss.
#[inline(always)]
fn decide(m: &Masks, len: usize) -> u8 {
    // A CR before the LF is not part of the input: drop the top bit.
    let cr_last = (m.cr << 1) >> len & 1;
    let line = ((1u64 << len) - 1) >> cr_last;
    // Before the first `%` the address, after it the zone.
    let pct = m.pct & line;
    let first = pct & pct.wrapping_neg();
    let addr = first.wrapping_sub(1) & line;
    let zone = line & !addr & !first;
    let zone_ok = (pct == 0) | (zone != 0) & (zone & !m.zone == 0);
    // IPv4 has no colon and IPv6 has one: at most one of these holds.
    4 * u8::from(is_ipv4(&m.v4, line)) + 6 * u8::from(zone_ok & is_ipv6(m, addr))
}

/// Dot-decimal over the bytes of `line`.
#[inline(always)]
fn is_ipv4(v: &V4Masks, line: u64) -> bool {
    let d = v.digit & line;
    let dot = v.dot & line;
    let starts = d & !(d << 1);
    let two_plus = starts & d >> 1;
    let three = two_plus & d >> 2;
    // abc > 255: a >= 3, or a = 2 and (b >= 6, or b = 5 and c >= 6).
    let too_big = three & (v.ge3 | v.two & (v.ge6 >> 1 | v.five >> 1 & v.ge6 >> 2));
    // Each dot between two digits: no dot first, last, or next to another.
    ((d | dot) == line)
        & (dot.count_ones() == 3)
        & (dot & !(d << 1) == 0)
        & (dot & !(d >> 1) == 0)
        & (d & d >> 1 & d >> 2 & d >> 3 == 0)
        & (two_plus & v.zero == 0)
        & (too_big == 0)
}

/// IPv6 over the bytes of `addr` (no zone).
#[inline(always)]
fn is_ipv6(m: &Masks, addr: u64) -> bool {
    let colon = m.colon & addr;
    let dotted = m.v4.dot & addr != 0;
    // With a dot, an IPv4 tail after the last colon, and a stand-in group
    // where it starts. `tail` is 0 without a colon, which fails below.
    let tail = 64 - colon.leading_zeros();
    let keep = 0u64.wrapping_sub(u64::from(dotted));
    let stand_in = 1u64 << tail & keep;
    let groups_part = addr & (((1u64 << tail) - 1) | !keep) | stand_in;
    let tail_ok = !dotted | is_ipv4(&m.v4.from(tail), addr >> tail);
    let full = 8 - u32::from(dotted);
    let h = m.hex & groups_part | stand_in;
    let c = colon & groups_part;
    // `double` marks the first colon of each `::`; `:::` marks two.
    let double = c & c >> 1;
    let lone = c & !double & !(double << 1);
    let groups = (h & !(h << 1)).count_ones();
    let count_ok = (double == 0) & (groups == full)
        | (double != 0) & (double & double.wrapping_sub(1) == 0) & (groups < full);
    tail_ok
        & ((h | c) == groups_part)
        & (lone & !(h << 1) == 0)
        & (lone & !(h >> 1) == 0)
        & (h & h >> 1 & h >> 2 & h >> 3 & h >> 4 == 0)
        & count_ok
}

mod masks {
    //! The masks of a window on this target without runtime detection.

    #[cfg(not(target_arch = "x86_64"))]
    pub use super::portable::window;
    #[cfg(target_arch = "x86_64")]
    pub use super::sse2::window;
}

/// The masks byte by byte: the reference the vector code is tested against,
/// and the code on targets without it.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
mod portable {
    use super::{Masks, V4Masks, WINDOW};

    pub fn window(w: &[u8; WINDOW]) -> Masks {
        let mut m = Masks::default();
        for (i, &x) in w.iter().enumerate() {
            let bit = |yes: bool| u64::from(yes) << i;
            m.lf |= bit(x == b'\n');
            m.cr |= bit(x == b'\r');
            m.colon |= bit(x == b':');
            m.pct |= bit(x == b'%');
            m.hex |= bit(x.is_ascii_hexdigit());
            m.zone |= bit(x.is_ascii_alphanumeric() || matches!(x, b'-' | b'.' | b':'));
            let v = &mut m.v4;
            *v = V4Masks {
                dot: v.dot | bit(x == b'.'),
                digit: v.digit | bit(x.is_ascii_digit()),
                zero: v.zero | bit(x == b'0'),
                two: v.two | bit(x == b'2'),
                five: v.five | bit(x == b'5'),
                ge3: v.ge3 | bit((b'3'..0x80).contains(&x)),
                ge6: v.ge6 | bit((b'6'..0x80).contains(&x)),
            };
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

    use super::{Masks, V4Masks, WINDOW};

    #[inline(always)]
    pub fn window(w: &[u8; WINDOW]) -> Masks {
        let quarter = |i: usize| sixteen(w[16 * i..16 * i + 16].try_into().unwrap());
        quarter(0)
            .join(quarter(1), 16)
            .join(quarter(2), 32)
            .join(quarter(3), 48)
    }

    #[inline(always)]
    fn sixteen(b: &[u8; 16]) -> Masks {
        // SAFETY: SSE2 is part of the x86_64 baseline, and the unaligned
        // load reads the 16 bytes of `b`.
        unsafe {
            let v = _mm_loadu_si128(b.as_ptr().cast());
            let splat = |c: u8| _mm_set1_epi8(c as i8);
            let eq = |c: u8| _mm_cmpeq_epi8(v, splat(c));
            // Lanes of `x` whose byte minus `low` is at most `span`.
            let within = |x: __m128i, low: u8, span: u8| {
                let d = _mm_sub_epi8(x, splat(low));
                _mm_cmpeq_epi8(_mm_min_epu8(d, splat(span)), d)
            };
            let bits = |x: __m128i| u64::from(_mm_movemask_epi8(x) as u16);
            let or = |a, b| _mm_or_si128(a, b);
            let digit = within(v, b'0', 9);
            // `x | 0x20` folds A-Z onto a-z.
            let lower = or(v, splat(0x20));
            let dot = eq(b'.');
            let colon = eq(b':');
            Masks {
                lf: bits(eq(b'\n')),
                cr: bits(eq(b'\r')),
                colon: bits(colon),
                pct: bits(eq(b'%')),
                hex: bits(or(digit, within(lower, b'a', 5))),
                zone: bits(or(
                    or(digit, within(lower, b'a', 25)),
                    or(eq(b'-'), or(dot, colon)),
                )),
                v4: V4Masks {
                    dot: bits(dot),
                    digit: bits(digit),
                    zero: bits(eq(b'0')),
                    two: bits(eq(b'2')),
                    five: bits(eq(b'5')),
                    ge3: bits(_mm_cmpgt_epi8(v, splat(b'2'))),
                    ge6: bits(_mm_cmpgt_epi8(v, splat(b'5'))),
                },
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_cmpgt_epi8, _mm256_loadu_si256, _mm256_min_epu8,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_sub_epi8,
    };

    use super::{Masks, Run, V4Masks, WINDOW};

    /// Whether the CPU has what [`classify_lines`] is compiled for; the
    /// standard library caches the answer.
    pub fn detected() -> bool {
        is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("popcnt")
            && is_x86_feature_detected!("bmi1")
            && is_x86_feature_detected!("bmi2")
            && is_x86_feature_detected!("lzcnt")
    }

    /// [`super::classify_lines`] compiled for AVX2, with POPCNT for the
    /// counts and BMI/LZCNT for the bit scans.
    ///
    /// # Safety
    ///
    /// The CPU must have those features: see [`detected`].
    #[target_feature(enable = "avx2,popcnt,bmi1,bmi2,lzcnt")]
    pub unsafe fn classify_lines(chunk: &[u8], out: &mut Vec<u8>, limit: usize) -> Run {
        // SAFETY: this function only runs where AVX2 is present.
        super::classify_with(chunk, out, limit, |w| unsafe { window(w) })
    }

    /// # Safety
    ///
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn window(w: &[u8; WINDOW]) -> Masks {
        let (low, high) = w.split_at(32);
        // SAFETY: the caller vouches for AVX2.
        unsafe { half(low.try_into().unwrap()).join(half(high.try_into().unwrap()), 32) }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn half(b: &[u8; 32]) -> Masks {
        // SAFETY: the caller vouches for AVX2, and the unaligned load reads
        // the 32 bytes of `b`.
        unsafe {
            let v = _mm256_loadu_si256(b.as_ptr().cast());
            let splat = |c: u8| _mm256_set1_epi8(c as i8);
            let eq = |c: u8| _mm256_cmpeq_epi8(v, splat(c));
            // Lanes of `x` whose byte minus `low` is at most `span`.
            let within = |x: __m256i, low: u8, span: u8| {
                let d = _mm256_sub_epi8(x, splat(low));
                _mm256_cmpeq_epi8(_mm256_min_epu8(d, splat(span)), d)
            };
            let bits = |x: __m256i| u64::from(_mm256_movemask_epi8(x) as u32);
            let or = |a, b| _mm256_or_si256(a, b);
            let digit = within(v, b'0', 9);
            // `x | 0x20` folds A-Z onto a-z.
            let lower = or(v, splat(0x20));
            let dot = eq(b'.');
            let colon = eq(b':');
            Masks {
                lf: bits(eq(b'\n')),
                cr: bits(eq(b'\r')),
                colon: bits(colon),
                pct: bits(eq(b'%')),
                hex: bits(or(digit, within(lower, b'a', 5))),
                zone: bits(or(
                    or(digit, within(lower, b'a', 25)),
                    or(eq(b'-'), or(dot, colon)),
                )),
                v4: V4Masks {
                    dot: bits(dot),
                    digit: bits(digit),
                    zero: bits(eq(b'0')),
                    two: bits(eq(b'2')),
                    five: bits(eq(b'5')),
                    ge3: bits(_mm256_cmpgt_epi8(v, splat(b'2'))),
                    ge6: bits(_mm256_cmpgt_epi8(v, splat(b'5'))),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Backend = (&'static str, fn(&[u8; WINDOW]) -> Masks);

    /// Every way this target can build the masks, with its name.
    fn backends() -> Vec<Backend> {
        #[allow(unused_mut)]
        let mut all: Vec<Backend> = vec![("portable", portable::window)];
        #[cfg(target_arch = "x86_64")]
        {
            all.push(("sse2", sse2::window));
            if avx2::detected() {
                // SAFETY: only where the CPU has AVX2.
                all.push(("avx2", |w| unsafe { avx2::window(w) }));
            }
        }
        all
    }

    /// What the byte parser says of a line, CR dropped, as the caller of
    /// the byte parser in `isip` does.
    fn truth(line: &[u8]) -> u8 {
        super::super::is_ip(line.strip_suffix(b"\r").unwrap_or(line))
    }

    /// The fast path must give the byte parser's answer for `line` followed
    /// by LF and `rest`, with every backend, or stop when the line does not
    /// fit the window.
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
        let expected = (line.len() < WINDOW).then(|| (truth(line), line.len()));
        for (name, masks) in backends() {
            let got = line_family(&masks(&window));
            assert_eq!(got, expected, "{name}: {:?}", String::from_utf8_lossy(line));
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
                crlf.push(b'\r');
                check(&crlf, rest);
            }
        }
    }

    #[test]
    fn zones_tails_and_crs_in_every_place() {
        let lines = [
            "fe80::1%eth0",
            "fe80::1%",
            "fe80::1%eth0%",
            "fe80::1%eth 0",
            "fe80::1%a-b.c:D",
            "%eth0",
            "1.2.3.4%eth0",
            "::1.2.3.4%eth0",
            "::ffff:1.2.3.4",
            "::ffff:1.2.3.04",
            "::ffff:1.2.3",
            "::ffff:256.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1:2:3:4:5::1.2.3.4",
            "1:2:3:4:5:6::1.2.3.4",
            "::1.2.3.4",
            ":1.2.3.4",
            "1.2.3.4::",
            "1.2.3.4:1::",
            "::1.2.3.4:1",
            "::1:2.3.4.5",
            "::1.2.3.4.5",
            "::ffff:1.2.3.4%",
            "fe80::217:f2ff:254.7.237.98%eth0",
            "1.2.3.4\r",
            "::1\r",
            "\r",
            "1.2.3.4\r\r",
            "1.2.\r3.4",
            "::\r1",
            "fe80::1%eth0\r",
        ];
        for line in lines {
            for pad in ["", "0:", "ab", "1:2:3:"] {
                check(format!("{pad}{line}").as_bytes(), b"");
                check(format!("{line}{pad}").as_bytes(), b"1.2.3.4\n");
            }
        }
    }

    #[test]
    fn stops_at_a_line_longer_than_the_window() {
        let long = [b'1'; WINDOW];
        for (_, masks) in backends() {
            assert_eq!(line_family(&masks(&long)), None);
        }
        let mut out = Vec::new();
        let run = classify_lines(&[b'a'; 200], &mut out, 1 << 20);
        assert_eq!((run.used, out.len()), (0, 0));
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
                        check(format!("::{d}.{c}.{b}.{a}").as_bytes(), b"9");
                    }
                }
            }
        }
    }

    /// The fast loop over a buffer of many lines answers what a loop of the
    /// byte parser answers, stopping exactly where it must.
    fn agrees_over_a_buffer(text: &[u8]) {
        let mut out = Vec::new();
        let run = classify_lines(text, &mut out, usize::MAX);
        let lines: Vec<&[u8]> = text[..run.used].split(|&b| b == b'\n').collect();
        let expected: Vec<u8> = lines[..lines.len() - 1]
            .iter()
            .flat_map(|l| [b'0' + truth(l), b'\n'])
            .collect();
        assert_eq!(out, expected);
        assert_eq!(run.all_passed, !expected.contains(&b'0'));
        assert!(run.used == 0 || text[run.used - 1] == b'\n');
        let rest = &text[run.used..];
        let fits = rest.len() >= WINDOW && rest[..WINDOW].contains(&b'\n');
        assert!(
            !fits,
            "stopped early at {:?}",
            String::from_utf8_lossy(rest)
        );
    }

    fn lines_of(alphabet: &'static str) -> impl Strategy<Value = Vec<u8>> {
        let line = proptest::string::string_regex(alphabet).unwrap();
        proptest::collection::vec(line, 0..40).prop_map(|lines| {
            let mut text = lines.join("\n").into_bytes();
            text.push(b'\n');
            text
        })
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
            tail in proptest::option::of("[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}"),
            zone in proptest::option::of("[0-9a-zA-Z.:%/ -]{0,6}"),
        ) {
            let cut: Vec<&str> = groups.iter().map(String::as_str).collect();
            let mut line = match gap {
                Some(at) => {
                    let at = at.min(cut.len());
                    format!("{}::{}", cut[..at].join(":"), cut[at..].join(":"))
                }
                None => cut.join(":"),
            };
            if let Some(tail) = tail {
                line = format!("{line}:{tail}");
            }
            if let Some(zone) = zone {
                line = format!("{line}%{zone}");
            }
            check(line.as_bytes(), b"");
        }

        #[test]
        fn formatted_addresses_take_the_fast_path(bits in any::<u128>(), v4 in any::<u32>()) {
            for text in [
                std::net::Ipv6Addr::from(bits).to_string(),
                std::net::Ipv6Addr::from(bits).to_ipv4_mapped().unwrap_or(std::net::Ipv4Addr::from(v4)).to_string(),
                format!("::ffff:{}", std::net::Ipv4Addr::from(v4)),
                format!("fe80::{:x}%eth{}", bits as u16, v4 % 10),
            ] {
                let family = if text.contains(':') { 6 } else { 4 };
                let mut window = [b'\n'; WINDOW];
                window[..text.len()].copy_from_slice(text.as_bytes());
                for (name, masks) in backends() {
                    prop_assert_eq!(line_family(&masks(&window)), Some((family, text.len())), "{}: {}", name, text);
                }
            }
        }

        #[test]
        fn buffers_of_near_misses_agree(text in lines_of("[0-9a-fA-F:.%\r]{0,20}")) {
            agrees_over_a_buffer(&text);
        }

        #[test]
        fn buffers_with_long_lines_agree(text in lines_of("[0-9a-f:.x]{0,90}")) {
            agrees_over_a_buffer(&text);
        }

        #[test]
        fn vector_masks_match_the_byte_loop(w in proptest::collection::vec(prop_oneof![any::<u8>(), "[0-9a-fA-FgzGZ:.%\r\n/@`-]".prop_map(|s| s.as_bytes()[0])], WINDOW)) {
            let w: [u8; WINDOW] = w.try_into().unwrap();
            let reference = portable::window(&w);
            for (name, masks) in backends() {
                prop_assert_eq!(masks(&w), reference, "{}", name);
            }
        }
    }

    #[test]
    fn vector_masks_match_the_byte_loop_on_every_byte() {
        let mut w = [0u8; WINDOW];
        for x in 0..=255u8 {
            w.fill(x);
            w[usize::from(x) % WINDOW] = b'.';
            for (name, masks) in backends() {
                assert_eq!(masks(&w), portable::window(&w), "{name}: byte {x}");
            }
        }
    }
}
