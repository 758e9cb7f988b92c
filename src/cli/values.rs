//! Typed flag values with messages aimed at people: durations with units,
//! text with escapes.

use std::time::Duration;

use bytes::Bytes;

/// The longest duration a flag takes: 2^32 s, 136 years. Longer is no
/// wait a person means, and a deadline that far (`Instant::now() + d`)
/// would overflow the clock: `--wait 18446744073709551615s` panicked.
const MAX_DURATION: Duration = Duration::from_secs(1 << 32);

/// `d`, unless it is longer than [`MAX_DURATION`].
fn at_most_max(s: &str, d: Duration) -> Result<Duration, String> {
    match d <= MAX_DURATION {
        true => Ok(d),
        false => Err(format!(
            "{s:?} is longer than any wait (at most {} s, 136 years)",
            MAX_DURATION.as_secs()
        )),
    }
}

/// A duration flag in milliseconds (`--timeout`, `--connect-timeout`, …):
/// a bare whole number is milliseconds, as before units were taken;
/// `500ms`, `5s`, `1.5s`, `2m`, `1h` say their unit.
pub fn parse_ms(s: &str) -> Result<Duration, String> {
    let d = match with_unit(s) {
        Some(d) => d,
        None => s.parse::<u64>().map(Duration::from_millis).map_err(|_| {
            format!("expected milliseconds or a duration such as 500ms, 5s or 2m, got {s:?}")
        }),
    };
    at_most_max(s, d?)
}

/// A duration flag in seconds (`--wait SECS`): a bare number (fractions
/// allowed) is seconds; `500ms`, `5s`, `2m`, `1h` say their unit.
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    let d = match with_unit(s) {
        Some(d) => d,
        None => s
            .parse::<f64>()
            .ok()
            .and_then(|n| Duration::try_from_secs_f64(n).ok())
            .ok_or_else(|| {
                format!("expected seconds or a duration such as 500ms, 5s or 2m, got {s:?}")
            }),
    };
    at_most_max(s, d?)
}

/// `NUMBER UNIT`, or None when `s` has no unit (a bare number).
fn with_unit(s: &str) -> Option<Result<Duration, String>> {
    let at = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = s.split_at(at);
    let seconds = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => {
            return Some(Err(format!(
                "unknown unit {unit:?} in {s:?}; expected ms, s, m or h (500ms, 5s, 2m)"
            )))
        }
    };
    // A whole number is exact (`4684558134ms` is not a float's
    // 4684558.134000001 s); only a fraction goes through f64.
    if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
        let whole = number.parse::<u64>().ok().and_then(|n| match unit {
            "ms" => Some(Duration::from_millis(n)),
            _ => n.checked_mul(seconds as u64).map(Duration::from_secs),
        });
        return Some(whole.ok_or_else(|| format!("{s:?} is too long a duration")));
    }
    let value = number
        .parse::<f64>()
        .ok()
        .and_then(|n| Duration::try_from_secs_f64(n * seconds).ok());
    Some(value.ok_or_else(|| format!("expected a duration such as 500ms, 5s or 2m, got {s:?}")))
}

/// The largest idle time TCP_KEEPIDLE takes (Linux's MAX_TCP_KEEPIDLE):
/// above it setsockopt(2) fails with EINVAL on every socket.
pub(super) const MAX_KEEPALIVE: Duration = Duration::from_secs(32_767);

/// `--keepalive=MS`: [`parse_ms`], at most [`MAX_KEEPALIVE`] once rounded
/// down to whole seconds (as it is set), so a value the kernel refuses is a
/// usage error at start, not EINVAL on the first socket.
pub(super) fn parse_keepalive(s: &str) -> Result<Duration, String> {
    let d = parse_ms(s)?;
    if d.as_secs() > MAX_KEEPALIVE.as_secs() {
        return Err(format!(
            "{s:?} is over TCP_KEEPIDLE's limit of {}s (32767000 ms)",
            MAX_KEEPALIVE.as_secs()
        ));
    }
    Ok(d)
}

/// `--exec`/`--sh-exec CMD`: a command, not empty or only blanks (which
/// would start nothing, or a shell that exits at once, on every connection).
pub(super) fn parse_command(s: &str) -> Result<String, String> {
    match s.trim().is_empty() {
        true => Err("expected a command, got an empty one".to_string()),
        false => Ok(s.to_string()),
    }
}

/// An `--alpn` protocol name: 1 to 255 bytes, as TLS's wire format
/// (RFC 7301) requires; rustls would otherwise refuse it only later.
pub(super) fn parse_alpn(s: &str) -> Result<String, String> {
    match s.len() {
        0 => Err("an ALPN protocol name cannot be empty".to_string()),
        1..=255 => Ok(s.to_string()),
        n => Err(format!(
            "an ALPN protocol name is at most 255 bytes, this one is {n}"
        )),
    }
}

/// `--send`/`--banner` text with its escapes decoded (see `unescape`).
pub fn parse_escapes(s: &str) -> Result<Bytes, String> {
    unescape(s).map(Bytes::from)
}

/// Text with the usual escapes: `\r \n \t \0 \e \\ \xHH`. Any other
/// backslash is kept as written; a `\x` without two hex digits after it is
/// refused (it was meant as a byte, and no byte is certain).
pub(super) fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            let mut tmp = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('e') => out.push(0x1b),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.clone().take(2).collect();
                let digits = hex.len() == 2 && hex.bytes().all(|b| b.is_ascii_hexdigit());
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) if digits => {
                        out.push(b);
                        chars.nth(1);
                    }
                    _ => {
                        return Err(format!(
                            "\\x{hex} is not a byte: \\x takes two hex digits (\\x41); \\\\ is a backslash"
                        ))
                    }
                }
            }
            Some(other) => {
                out.push(b'\\');
                let mut tmp = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut tmp).as_bytes());
            }
            None => out.push(b'\\'),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_take_units_and_bare_numbers_keep_their_meaning() {
        let ms = Duration::from_millis;
        assert_eq!(parse_ms("250").unwrap(), ms(250));
        assert_eq!(parse_ms("500ms").unwrap(), ms(500));
        assert_eq!(parse_ms("5s").unwrap(), ms(5000));
        assert_eq!(parse_ms("1.5s").unwrap(), ms(1500));
        assert_eq!(parse_ms("2m").unwrap(), ms(120_000));
        assert_eq!(parse_ms("1h").unwrap(), ms(3_600_000));
        assert_eq!(parse_secs("3").unwrap(), ms(3000));
        assert_eq!(parse_secs("0.5").unwrap(), ms(500));
        assert_eq!(parse_secs("200ms").unwrap(), ms(200));
        assert_eq!(parse_secs("2m").unwrap(), ms(120_000));
        for bad in [
            "", "x", "5x", "1.5", "ms", "-1s", "5 s", "1e3s", "infs", "nan",
        ] {
            assert!(parse_ms(bad).is_err(), "{bad:?} should be refused");
        }
        for bad in ["", "x", "-1", "5sec", "nan", "inf"] {
            assert!(parse_secs(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_ms("5x").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn escapes_are_understood() {
        assert_eq!(unescape(r"hi\r\n").unwrap(), b"hi\r\n");
        assert_eq!(unescape(r"a\tb\\c\x41\e\0").unwrap(), b"a\tb\\cA\x1b\0");
        assert_eq!(unescape(r"odd\q").unwrap(), b"odd\\q");
        assert_eq!(unescape("é").unwrap(), "é".as_bytes());
        for bad in [r"\xZZ", r"\x4", r"\x", r"\x+1", r"\x-1", r"a\xé1"] {
            assert!(unescape(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(&parse_escapes(r"PING\r\n").unwrap()[..], b"PING\r\n");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// No text makes a duration parser panic (a float that overflows a
        /// Duration once did, in `--wait inf`), and whatever is accepted
        /// is finite and not negative by construction.
        #[test]
        fn duration_parsers_never_panic(
            s in prop_oneof![
                "\\PC{0,24}",
                "[-+]?([0-9]{0,25}|inf|infinity|nan|NaN)(\\.[0-9]{0,5})?(e[-+]?[0-9]{1,4})?(ms|s|m|h|x)?",
            ],
        ) {
            let _ = parse_ms(&s);
            let _ = parse_secs(&s);
            let _ = parse_keepalive(&s);
        }

        /// The forms agree: N, Nms, and N/1000 s are the same milliseconds.
        #[test]
        fn duration_forms_agree(n in 0u64..=1 << 32) {
            let ms = Duration::from_millis(n);
            prop_assert_eq!(parse_ms(&n.to_string()), Ok(ms));
            prop_assert_eq!(parse_ms(&format!("{n}ms")), Ok(ms));
            prop_assert_eq!(parse_secs(&format!("{n}ms")), Ok(ms));
            let secs = Duration::from_secs(n);
            prop_assert_eq!(parse_secs(&n.to_string()), Ok(secs));
            prop_assert_eq!(parse_ms(&format!("{n}s")), Ok(secs));
            prop_assert_eq!(parse_keepalive(&format!("{n}s")).is_ok(), n <= 32_767);
        }

        /// Whatever a duration parser accepts, a deadline can be set from:
        /// `Instant::now() + d` does not overflow (it panicked for
        /// `--wait 18446744073709551615s`).
        #[test]
        fn accepted_durations_make_deadlines(
            n in prop_oneof![any::<u64>(), 0u64..=1 << 33],
            unit in prop_oneof![Just(""), Just("ms"), Just("s"), Just("m"), Just("h")],
        ) {
            let s = format!("{n}{unit}");
            for d in [parse_ms(&s), parse_secs(&s)].into_iter().flatten() {
                prop_assert!(std::time::Instant::now().checked_add(d).is_some(), "{}", s);
                prop_assert!(d <= MAX_DURATION);
            }
        }

        /// Any text decodes or is refused without a panic, and text with no
        /// backslash is sent as it is written.
        #[test]
        fn escapes_never_panic(s in "(\\PC|\\\\|\\\\x|[0-9a-fA-F]){0,24}") {
            let decoded = unescape(&s);
            if !s.contains('\\') {
                prop_assert_eq!(decoded, Ok(s.as_bytes().to_vec()));
            }
        }

        /// Every byte written as `\xHH` (either case) or by its own escape
        /// comes back as that byte: any message can be sent.
        #[test]
        fn escaped_bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64), upper in any::<bool>()) {
            let text: String = bytes
                .iter()
                .map(|b| match (b, upper) {
                    (b'\r', _) => "\\r".to_string(),
                    (b'\\', _) => "\\\\".to_string(),
                    (_, true) => format!("\\x{b:02X}"),
                    (_, false) => format!("\\x{b:02x}"),
                })
                .collect();
            prop_assert_eq!(unescape(&text), Ok(bytes));
        }

        /// Command and ALPN values: refused exactly when empty (or blank,
        /// for a command) or, for ALPN, over 255 bytes.
        #[test]
        fn command_and_alpn_limits(s in "\\PC{0,300}") {
            prop_assert_eq!(parse_command(&s).is_ok(), !s.trim().is_empty());
            prop_assert_eq!(parse_alpn(&s).is_ok(), (1..=255).contains(&s.len()));
        }
    }
}
