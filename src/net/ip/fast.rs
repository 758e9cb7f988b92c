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
pub(super) const WINDOW: usize = 64;
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
pub(crate) struct Run {
    /// Bytes of whole lines classified.
    pub used: usize,
    /// Whether every one of them was an IP.
    pub all_passed: bool,
}

/// Classifies the lines at the start of `chunk` while the fast path can,
/// appending `4\n`, `6\n` or `0\n` for each to `out`, and stops when `out`
/// holds `limit` bytes, when fewer than 66 bytes are left, or at a line
/// that does not end within 64 bytes. The caller handles what stopped it.
pub(crate) fn classify_lines(chunk: &[u8], out: &mut Vec<u8>, limit: usize) -> Run {
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
    pub(super) use super::sse2::half;
}

/// The masks byte by byte: the reference the vector code is tested against,
/// and the code on targets without it.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
mod portable {
    use super::{Masks, V4Masks, HALF, HALF_READ};

    pub(super) fn half(b: &[u8; HALF_READ]) -> Masks {
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
    pub(super) fn half(b: &[u8; HALF_READ]) -> Masks {
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
    pub(super) fn detected() -> bool {
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
    pub(super) unsafe fn classify_lines(chunk: &[u8], out: &mut Vec<u8>, limit: usize) -> Run {
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
    pub(super) unsafe fn half(b: &[u8; HALF_READ]) -> Masks {
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
mod tests;
