//! The fast path of `isip < log`: whole lines classified from bit masks of
//! the bytes where each starts, instead of by parsing.
//!
//! The byte parser in the parent module branches on every byte, and on
//! random logs those branches are unpredictable (is this octet one, two or
//! three digits? is the next line IPv4 or IPv6?); mispredictions, not work,
//! were most of its time. Here a few vector compares turn 32 bytes into
//! masks, one bit per byte for each class (LF, `.`, `:`, `%`, hex digit,
//! zone character, digit, `0`, and "starts three digits above 255"), and
//! Node's grammar becomes arithmetic on those masks with no data-dependent
//! branch:
//!
//! - IPv4: only digits and dots, three dots, each with a digit on both sides,
//!   no run of four digits, no run of two or more starting with `0`, and no
//!   run of three above `255`.
//! - IPv6: the address is what comes before the first `%`, the zone what
//!   follows it (one or more zone characters). An address without a dot has
//!   only hex digits and colons, no run of five hex digits, at most one `::`
//!   (and no `:::`), every other colon between two hex digits, and eight
//!   groups, or at most seven with `::`. With a dot, what follows the last
//!   colon must be IPv4 and what precedes it passes the same test with one
//!   group standing in for the two the IPv4 tail counts as.
//!
//! A CR before the LF is dropped first, as the byte parser's caller does.
//! A line longer than 31 bytes gets the masks of the next 32 bytes too (the
//! one branch, and a rare one in most logs); a line with no LF within
//! [`WINDOW`] bytes, or too near the end of the buffer, stops the run and is
//! left to the byte parser.
//!
//! The masks come from AVX2 when the CPU has it (checked at run time; the
//! loop is compiled a second time for it, with POPCNT and BMI), otherwise
//! from SSE2, which every x86_64 CPU has, and elsewhere from a plain loop.
//! Tests hold every backend's masks to the plain loop and every answer to
//! the byte parser's.

/// Bytes within which a line must end to take the fast path.
pub const WINDOW: usize = 64;
/// Bytes of masks computed at once.
const HALF: usize = WINDOW / 2;
/// Bytes read for the masks of `HALF` bytes: whether three digits exceed
/// 255 is read off each byte and the two after it.
const HALF_READ: usize = HALF + 2;
/// Bytes read from the start of a line.
const READ: usize = WINDOW + 2;
/// Lines answered between two checks of the output's length.
const BATCH: usize = 64;

/// How far [`classify_lines`] got.
pub struct Run {
    /// Bytes of whole lines classified.
    pub used: usize,
    /// Whether every one of them was an IP.
    pub all_passed: bool,
}

/// Classifies the lines at the start of `chunk` while the fast path can,
/// appending `4\n`, `6\n` or `0\n` for each to `out`, and stops when `out`
/// holds `limit` bytes, when fewer than 66 bytes are left, or at a line
/// that does not end within 64 bytes. The caller handles what stopped it.
pub fn classify_lines(chunk: &[u8], out: &mut Vec<u8>, limit: usize) -> Run {
    #[cfg(target_arch = "x86_64")]
    if avx2::detected() {
        // SAFETY: the CPU has every feature the function is compiled for.
        return unsafe { avx2::classify_lines(chunk, out, limit) };
    }
    classify_with(chunk, out, limit, masks::half)
}

/// The loop of [`classify_lines`], inlined into each backend's copy.
#[inline(always)]
fn classify_with(
    chunk: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
    half: impl Fn(&[u8; HALF_READ]) -> Masks,
) -> Run {
    let mut used = 0;
    let mut all_passed = true;
    // Answers go into slots laid out in batches, LFs in place, rather than
    // through a capacity check per line.
    while out.len() < limit {
        let base = out.len();
        out.resize(base + 2 * BATCH, b'\n');
        let slots: &mut [u8; 2 * BATCH] = (&mut out[base..]).try_into().unwrap();
        let mut n = 0;
        while n < BATCH {
            let Some(window) = chunk[used..].first_chunk::<READ>() else {
                break;
            };
            let Some((family, len)) = line_family(window, &half) else {
                break;
            };
            slots[2 * n] = b'0' + family;
            all_passed &= family != 0;
            used += len + 1;
            n += 1;
        }
        out.truncate(base + 2 * n);
        if n < BATCH {
            break;
        }
    }
    Run { used, all_passed }
}

/// The family of the line at the start of `w` (what the byte parser answers
/// for it, a CR before the LF dropped) and its length without the LF;
/// `None` when it does not end within [`WINDOW`] bytes.
#[inline(always)]
fn line_family(w: &[u8; READ], half: impl Fn(&[u8; HALF_READ]) -> Masks) -> Option<(u8, usize)> {
    let mut m = half(w[..HALF_READ].try_into().unwrap());
    if m.lf == 0 {
        m = m.join(half(w[HALF..].try_into().unwrap()), HALF as u32);
        if m.lf == 0 {
            return None;
        }
    }
    let len = m.lf.trailing_zeros() as usize;
    let cr = (len > 0) & (w[len.wrapping_sub(1) % WINDOW] == b'\r');
    Some((decide(&m, len - usize::from(cr)), len))
}

/// One bit per byte, bit `i` for byte `i`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct Masks {
    lf: u64,
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
    /// Bytes that start three digits above 255, if the three are digits:
    /// `a > 2`, or `a = 2` and (`b > 5`, or `b = 5` and `c > 5`), comparing
    /// bytes as signed (every use is ANDed with a run of three digits).
    big: u64,
}

impl V4Masks {
    /// The masks as seen from byte `at`.
    #[inline(always)]
    fn from(&self, at: u32) -> V4Masks {
        V4Masks {
            dot: self.dot >> at,
            digit: self.digit >> at,
            zero: self.zero >> at,
            big: self.big >> at,
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
            colon: j(self.colon, next.colon),
            pct: j(self.pct, next.pct),
            hex: j(self.hex, next.hex),
            zone: j(self.zone, next.zone),
            v4: V4Masks {
                dot: j(self.v4.dot, next.v4.dot),
                digit: j(self.v4.digit, next.v4.digit),
                zero: j(self.v4.zero, next.v4.zero),
                big: j(self.v4.big, next.v4.big),
            },
        }
    }
}

/// The family of a line of `len` bytes (less than 64, CR dropped) from its
/// masks.
///
/// `&` rather than `&&` throughout: on random input every branch would be
/// a coin toss, and evaluating all the terms costs less than a miss.
#[inline(always)]
fn decide(m: &Masks, len: usize) -> u8 {
    let line = (1u64 << len) - 1;
    // Before the first `%` the address, after it the zone.
    let pct = m.pct & line;
    let first = pct & pct.wrapping_neg();
    let addr = first.wrapping_sub(1) & line;
    let zone = line & !addr & !first;
    let zone_ok = (pct == 0) | (zone != 0) & (zone & !m.zone == 0);
    // The IPv4 test serves both families: after the last colon of the
    // address, which without a colon is the whole line.
    let colon = m.colon & addr;
    let tail = 64 - colon.leading_zeros();
    let tail_is_ipv4 = is_ipv4(&m.v4.from(tail), addr >> tail);
    let v4 = tail_is_ipv4 & (colon == 0) & (pct == 0);
    let v6 = zone_ok & is_ipv6(m, addr, colon, tail, tail_is_ipv4);
    // IPv4 has no colon and IPv6 has one: at most one of these holds. A
    // table, because the compiler turns arithmetic on them into a branch.
    const FAMILY: [u8; 4] = [0, 4, 6, 0];
    FAMILY[usize::from(v4) | usize::from(v6) << 1]
}

/// Dot-decimal over the bytes of `line`.
#[inline(always)]
fn is_ipv4(v: &V4Masks, line: u64) -> bool {
    let d = v.digit & line;
    let dot = v.dot & line;
    let starts = d & !(d << 1);
    let two_plus = starts & d >> 1;
    let three = two_plus & d >> 2;
    // Each dot between two digits: no dot first, last, or next to another.
    ((d | dot) == line)
        & (dot.count_ones() == 3)
        & (dot & !(d << 1) == 0)
        & (dot & !(d >> 1) == 0)
        & (d & d >> 1 & d >> 2 & d >> 3 == 0)
        & (two_plus & v.zero == 0)
        & (three & v.big == 0)
}

/// IPv6 over the bytes of `addr` (no zone), given its colons, where its
/// last colon ends (0 without a colon, which fails below), and whether an
/// IPv4 address follows it.
#[inline(always)]
fn is_ipv6(m: &Masks, addr: u64, colon: u64, tail: u32, tail_is_ipv4: bool) -> bool {
    let dotted = m.v4.dot & addr != 0;
    // With a dot, an IPv4 tail after the last colon, and a stand-in group
    // where it starts.
    let keep = 0u64.wrapping_sub(u64::from(dotted));
    let stand_in = 1u64 << tail & keep;
    let groups_part = addr & (((1u64 << tail) - 1) | !keep) | stand_in;
    let tail_ok = !dotted | tail_is_ipv4;
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
    //! The masks on this target without runtime detection.

    #[cfg(not(target_arch = "x86_64"))]
    pub use super::portable::half;
    #[cfg(target_arch = "x86_64")]
    pub use super::sse2::half;
}

/// The masks byte by byte: the reference the vector code is tested against,
/// and the code on targets without it.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
mod portable {
    use super::{Masks, V4Masks, HALF, HALF_READ};

    pub fn half(b: &[u8; HALF_READ]) -> Masks {
        let mut m = Masks::default();
        for i in 0..HALF {
            let x = b[i];
            let bit = |yes: bool| u64::from(yes) << i;
            let above = |x: u8, y: u8| (x as i8) > (y as i8);
            let big = above(x, b'2')
                || x == b'2'
                    && (above(b[i + 1], b'5') || b[i + 1] == b'5' && above(b[i + 2], b'5'));
            m.lf |= bit(x == b'\n');
            m.colon |= bit(x == b':');
            m.pct |= bit(x == b'%');
            m.hex |= bit(x.is_ascii_hexdigit());
            m.zone |= bit(x.is_ascii_alphanumeric() || matches!(x, b'-' | b'.' | b':'));
            m.v4 = V4Masks {
                dot: m.v4.dot | bit(x == b'.'),
                digit: m.v4.digit | bit(x.is_ascii_digit()),
                zero: m.v4.zero | bit(x == b'0'),
                big: m.v4.big | bit(big),
            };
        }
        m
    }
}

/// The masks of one vector of `$width` bytes at `$b` (which holds two
/// bytes more, read for `big`), written once for both x86 backends: each
/// passes its vector type, movemask width and intrinsics. Expands to an
/// expression that must sit in an `unsafe` block of a function the
/// intrinsics' target feature is enabled for.
#[cfg(target_arch = "x86_64")]
macro_rules! lane_masks {
    (
        $b:expr, $width:literal, $vec:ty, $bits:ty, $loadu:ident, $set1:ident, $cmpeq:ident,
        $cmpgt:ident, $sub:ident, $min:ident, $movemask:ident, $or:ident, $and:ident
    ) => {{
        let load = |at: usize| $loadu($b[at..at + $width].as_ptr().cast());
        let (v, next, after) = (load(0), load(1), load(2));
        let splat = |c: u8| $set1(c as i8);
        let eq = |x: $vec, c: u8| $cmpeq(x, splat(c));
        let gt = |x: $vec, c: u8| $cmpgt(x, splat(c));
        // Lanes of `x` whose byte minus `low` is at most `span`.
        let within = |x: $vec, low: u8, span: u8| {
            let d = $sub(x, splat(low));
            $cmpeq($min(d, splat(span)), d)
        };
        let bits = |x: $vec| u64::from($movemask(x) as $bits);
        let or = |a, b| $or(a, b);
        let and = |a, b| $and(a, b);
        let digit = within(v, b'0', 9);
        // `x | 0x20` folds A-Z onto a-z.
        let lower = or(v, splat(0x20));
        let dot = eq(v, b'.');
        let colon = eq(v, b':');
        let big_tail = or(gt(next, b'5'), and(eq(next, b'5'), gt(after, b'5')));
        Masks {
            lf: bits(eq(v, b'\n')),
            colon: bits(colon),
            pct: bits(eq(v, b'%')),
            hex: bits(or(digit, within(lower, b'a', 5))),
            zone: bits(or(
                or(digit, within(lower, b'a', 25)),
                or(eq(v, b'-'), or(dot, colon)),
            )),
            v4: V4Masks {
                dot: bits(dot),
                digit: bits(digit),
                zero: bits(eq(v, b'0')),
                big: bits(or(gt(v, b'2'), and(eq(v, b'2'), big_tail))),
            },
        }
    }};
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128, _mm_min_epu8,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
    };

    use super::{Masks, V4Masks, HALF_READ};

    #[inline(always)]
    pub fn half(b: &[u8; HALF_READ]) -> Masks {
        let low = sixteen(b[..18].try_into().unwrap());
        low.join(sixteen(b[16..].try_into().unwrap()), 16)
    }

    /// The masks of `b[..16]`; the last two bytes are read for `big`.
    #[inline(always)]
    fn sixteen(b: &[u8; 18]) -> Masks {
        // SAFETY: SSE2 is part of the x86_64 baseline, and the three
        // unaligned loads read `b[0..16]`, `b[1..17]` and `b[2..18]`.
        unsafe {
            lane_masks!(
                b,
                16,
                __m128i,
                u16,
                _mm_loadu_si128,
                _mm_set1_epi8,
                _mm_cmpeq_epi8,
                _mm_cmpgt_epi8,
                _mm_sub_epi8,
                _mm_min_epu8,
                _mm_movemask_epi8,
                _mm_or_si128,
                _mm_and_si128
            )
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_cmpgt_epi8, _mm256_loadu_si256,
        _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_sub_epi8,
    };

    use super::{Masks, Run, V4Masks, HALF_READ};

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
        super::classify_with(chunk, out, limit, |b| unsafe { half(b) })
    }

    /// The masks of `b[..32]`; the last two bytes are read for `big`.
    ///
    /// # Safety
    ///
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn half(b: &[u8; HALF_READ]) -> Masks {
        // SAFETY: the caller vouches for AVX2, and the three unaligned loads
        // read `b[0..32]`, `b[1..33]` and `b[2..34]`.
        unsafe {
            lane_masks!(
                b,
                32,
                __m256i,
                u32,
                _mm256_loadu_si256,
                _mm256_set1_epi8,
                _mm256_cmpeq_epi8,
                _mm256_cmpgt_epi8,
                _mm256_sub_epi8,
                _mm256_min_epu8,
                _mm256_movemask_epi8,
                _mm256_or_si256,
                _mm256_and_si256
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Backend = (&'static str, fn(&[u8; HALF_READ]) -> Masks);

    /// Every way this target can build the masks, with its name.
    fn backends() -> Vec<Backend> {
        #[allow(unused_mut)]
        let mut all: Vec<Backend> = vec![("portable", portable::half)];
        #[cfg(target_arch = "x86_64")]
        {
            all.push(("sse2", sse2::half));
            if avx2::detected() {
                // SAFETY: only where the CPU has AVX2.
                all.push(("avx2", |b| unsafe { avx2::half(b) }));
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
        let mut window = [0u8; READ];
        let mut text = line.to_vec();
        text.push(b'\n');
        text.extend_from_slice(rest);
        let n = text.len().min(READ);
        window[..n].copy_from_slice(&text[..n]);
        let expected = (line.len() < WINDOW).then(|| (truth(line), line.len()));
        for (name, masks) in backends() {
            let got = line_family(&window, masks);
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
        let mut long = [b'1'; READ];
        long[WINDOW] = b'\n';
        for (_, masks) in backends() {
            assert_eq!(line_family(&long, masks), None);
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
        let fits = rest.len() >= READ && rest[..WINDOW].contains(&b'\n');
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
                let mut window = [b'\n'; READ];
                window[..text.len()].copy_from_slice(text.as_bytes());
                for (name, masks) in backends() {
                    prop_assert_eq!(line_family(&window, masks), Some((family, text.len())), "{}: {}", name, text);
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
        fn vector_masks_match_the_byte_loop(w in proptest::collection::vec(prop_oneof![any::<u8>(), "[0-9a-fA-FgzGZ:.%\r\n/@`-]".prop_map(|s| s.as_bytes()[0])], HALF_READ)) {
            let w: [u8; HALF_READ] = w.try_into().unwrap();
            let reference = portable::half(&w);
            for (name, masks) in backends() {
                prop_assert_eq!(masks(&w), reference, "{}", name);
            }
        }
    }

    /// Every three bytes among the digits and their neighbours, at every
    /// offset, for the "above 255" mask that reads two bytes ahead.
    #[test]
    fn vector_masks_match_the_byte_loop_on_every_digit_triple() {
        let bytes = b"0123456789./:\x7f\x80\xff";
        for (i, &a) in bytes.iter().enumerate() {
            for &b in bytes {
                for &c in bytes {
                    let mut w = [b'7'; HALF_READ];
                    let at = (i * 7 + usize::from(b)) % (HALF_READ - 2);
                    w[at..at + 3].copy_from_slice(&[a, b, c]);
                    for (name, masks) in backends() {
                        assert_eq!(masks(&w), portable::half(&w), "{name}: {a} {b} {c} at {at}");
                    }
                }
            }
        }
    }

    #[test]
    fn vector_masks_match_the_byte_loop_on_every_byte() {
        let mut w = [0u8; HALF_READ];
        for x in 0..=255u8 {
            for y in [b'2', b'5', b'6', b'9', x] {
                w.fill(x);
                w[usize::from(x) % HALF_READ] = y;
                w[usize::from(y) % HALF_READ] = b'5';
                for (name, masks) in backends() {
                    assert_eq!(masks(&w), portable::half(&w), "{name}: bytes {x} {y}");
                }
            }
        }
    }
}
