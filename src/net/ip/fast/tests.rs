//! Tests of the `fast` classifier: on every backend it agrees with the byte
//! parser, line by line, kept apart from the SIMD code.

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
        "200", "209", "249", "250", "251", "255", "256", "259", "260", "299", "300", "999", "0000",
        "1000", "", "a", "1a",
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
