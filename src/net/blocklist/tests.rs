//! Tests of `blocklist`: rule parsing and matching, kept apart from the code.

use super::*;
use proptest::prelude::*;

fn list(rules: &[&str]) -> BlockList {
    BlockList::from_args(rules).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn hits(rules: &[&str], addr: &str) -> Option<String> {
    list(rules).check(ip(addr)).map(|r| r.to_string())
}

fn err(rule: &str) -> String {
    rule.parse::<Rule>().unwrap_err().to_string()
}

#[test]
fn rules_parse_and_print_back() {
    for (text, shown) in [
        ("10.0.0.1", "10.0.0.1"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.0.0.1-10.0.0.9", "10.0.0.1-10.0.0.9"),
        ("2001:DB8::/32", "2001:db8::/32"),
        ("::1-::9", "::1-::9"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("::/128", "::/128"),
        ("::ffff:10.0.0.1-10.0.0.9", "::ffff:10.0.0.1-10.0.0.9"),
    ] {
        assert_eq!(text.parse::<Rule>().unwrap().to_string(), shown);
    }
}

#[test]
fn bad_rules_say_what_is_wrong() {
    assert_eq!(
        err("10.0.0.0/33"),
        r#"bad rule "10.0.0.0/33": prefix must be 0-32 for IPv4"#
    );
    assert_eq!(
        err("::/129"),
        r#"bad rule "::/129": prefix must be 0-128 for IPv6"#
    );
    assert_eq!(
        err("10.0.0.0/x"),
        r#"bad rule "10.0.0.0/x": prefix must be 0-32 for IPv4"#
    );
    assert_eq!(
        err("10.0.0.0/+8"),
        r#"bad rule "10.0.0.0/+8": prefix must be 0-32 for IPv4"#
    );
    assert_eq!(
        err("10.0.0.0/"),
        r#"bad rule "10.0.0.0/": the prefix length is missing after /"#
    );
    assert_eq!(
        err("10.0.0.256"),
        r#"bad rule "10.0.0.256": "10.0.0.256" is not an IPv4 or IPv6 address"#
    );
    assert_eq!(
        err("010.0.0.1"),
        r#"bad rule "010.0.0.1": "010.0.0.1" is not an IPv4 or IPv6 address"#
    );
    assert_eq!(err(""), r#"bad rule "": an address is missing"#);
    assert_eq!(
        err("10.0.0.9-10.0.0.1"),
        r#"bad rule "10.0.0.9-10.0.0.1": start must come before end"#
    );
    assert!(err("10.0.0.1-::1").contains("different families"));
    assert!(err("fe80::1%eth0").contains("zone %eth0 does not belong in a rule"));
    assert!(err("10.0.0.1-").contains("an address is missing"));
}

#[test]
fn single_address_matches_itself_only() {
    assert_eq!(hits(&["10.0.0.1"], "10.0.0.1").as_deref(), Some("10.0.0.1"));
    assert_eq!(hits(&["10.0.0.1"], "10.0.0.2"), None);
    assert_eq!(hits(&["10.0.0.1"], "10.0.0.0"), None);
    assert_eq!(hits(&["::1"], "::1").as_deref(), Some("::1"));
    assert_eq!(hits(&["::1"], "::2"), None);
}

#[test]
fn prefix_edges() {
    assert!(hits(&["0.0.0.0/0"], "255.255.255.255").is_some());
    assert!(hits(&["0.0.0.0/0"], "0.0.0.0").is_some());
    assert!(hits(&["0.0.0.0/0"], "::1").is_none());
    assert!(hits(&["10.1.2.3/32"], "10.1.2.3").is_some());
    assert!(hits(&["10.1.2.3/32"], "10.1.2.4").is_none());
    assert!(
        hits(&["10.1.2.3/8"], "10.200.0.1").is_some(),
        "host bits are ignored, as in Node"
    );
    assert!(hits(&["10.0.0.0/31"], "10.0.0.1").is_some());
    assert!(hits(&["10.0.0.0/31"], "10.0.0.2").is_none());
    assert!(hits(&["::/0"], "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").is_some());
    assert!(
        hits(&["::/0"], "10.0.0.1").is_some(),
        "Node: ::/0 covers IPv4"
    );
    assert!(hits(&["::1/128"], "::1").is_some());
    assert!(hits(&["::1/128"], "::").is_none());
    assert!(hits(&["2001:db8::/127"], "2001:db8::1").is_some());
    assert!(hits(&["2001:db8::/127"], "2001:db8::2").is_none());
    assert!(hits(
        &["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"],
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
    )
    .is_some());
}

#[test]
fn ranges_include_both_ends() {
    let r = ["10.0.0.1-10.0.0.9"];
    assert!(hits(&r, "10.0.0.0").is_none());
    assert!(hits(&r, "10.0.0.1").is_some());
    assert!(hits(&r, "10.0.0.9").is_some());
    assert!(hits(&r, "10.0.0.10").is_none());
    assert!(hits(&["::-::"], "::").is_some());
    assert!(hits(
        &["ffff::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
    )
    .is_some());
}

#[test]
fn ipv4_mapped_ipv6_matches_ipv4_rules() {
    assert!(hits(&["10.1.2.3"], "::ffff:10.1.2.3").is_some());
    assert!(hits(&["10.0.0.0/8"], "::ffff:10.9.2.3").is_some());
    assert!(hits(&["10.0.0.1-10.0.0.9"], "::ffff:10.0.0.5").is_some());
    assert!(hits(&["0.0.0.0/0"], "::ffff:1.2.3.4").is_some());
    // IPv4-compatible (::a.b.c.d) is not mapped.
    assert!(hits(&["0.0.0.0/0"], "::1.2.3.4").is_none());
    // And the other way round.
    assert!(hits(&["::ffff:10.1.2.3"], "10.1.2.3").is_some());
    assert!(hits(&["::ffff:a01:203"], "10.1.2.3").is_some());
    assert!(hits(&["::ffff:10.0.0.0/104"], "10.9.2.3").is_some());
    assert!(hits(&["::ffff:10.0.0.0/104"], "11.9.2.3").is_none());
}

#[test]
fn ranges_across_the_v4_v6_boundary() {
    // A mapped end orders against IPv4, so this is an IPv4 range.
    assert!(hits(&["::ffff:10.0.0.1-10.0.0.9"], "10.0.0.5").is_some());
    assert!(hits(&["10.0.0.1-::ffff:10.0.0.9"], "::ffff:10.0.0.9").is_some());
    // An IPv6 range over the mapped space matches the mapped spelling but,
    // as in Node, not the IPv4 one: Node cannot order 1.2.3.4 against ::1.
    let r = ["::1-::ffff:ffff:ffff"];
    assert!(hits(&r, "::ffff:1.2.3.4").is_some());
    assert!(hits(&r, "1.2.3.4").is_none());
    assert!(err("1.2.3.4-::ffff:0:0:1").contains("different families"));
}

#[test]
fn check_names_the_first_matching_rule() {
    let rules = ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.3"];
    assert_eq!(hits(&rules, "10.1.2.3").as_deref(), Some("10.0.0.0/8"));
    let rules = ["10.1.2.3", "10.1.0.0/16", "10.0.0.0/8"];
    assert_eq!(hits(&rules, "10.1.2.3").as_deref(), Some("10.1.2.3"));
    assert_eq!(hits(&rules, "10.1.2.4").as_deref(), Some("10.1.0.0/16"));
    assert_eq!(hits(&rules, "10.2.0.0").as_deref(), Some("10.0.0.0/8"));
    assert_eq!(hits(&rules, "11.0.0.0"), None);
    assert_eq!(hits(&rules, "9.255.255.255"), None);
}

#[test]
fn empty_list_matches_nothing() {
    let empty = BlockList::default();
    assert!(empty.check(ip("1.2.3.4")).is_none());
    assert!(BlockList::new(vec![]).check(ip("::")).is_none());
}

#[test]
fn rules_file_skips_comments_and_names_the_line() {
    let text = "# office\n10.0.0.0/8  # lan\n\n  ::1  \n192.168.0.1-192.168.0.9\n";
    let rules = parse_rules(text, "rules.txt").unwrap();
    assert_eq!(rules.len(), 3);
    let e = parse_rules("10.0.0.0/8\n\n10.0.0.0/33\n", "rules.txt").unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"rules.txt:3: bad rule "10.0.0.0/33": prefix must be 0-32 for IPv4"#
    );
}

#[test]
fn rules_file_from_args() {
    let dir = std::env::temp_dir().join(format!("wirecat-bl-{}", std::process::id()));
    std::fs::write(&dir, "10.0.0.0/8\n").unwrap();
    let arg = format!("@{}", dir.display());
    let list = BlockList::from_args(&[arg.as_str(), "::1"]).unwrap();
    assert_eq!(list.rules.len(), 2);
    assert!(list.check(ip("10.2.3.4")).is_some());
    std::fs::remove_file(&dir).unwrap();
    let e = BlockList::from_args(&["@/nonexistent/rules"]).unwrap_err();
    assert!(e.to_string().contains("cannot read the file"), "{e}");
}

proptest! {
    /// A fuzz-style target for the rule parser (cargo-fuzz needs nightly):
    /// any text parses or fails with a message, and what parses prints
    /// back to a rule that parses to the same thing.
    #[test]
    fn rule_parser_never_panics_and_round_trips(s in "[0-9a-fA-F:./%-]{0,40}") {
        if let Ok(rule) = s.parse::<Rule>() {
            let again: Rule = rule.to_string().parse().unwrap();
            prop_assert_eq!(again, rule);
        }
    }

    #[test]
    fn rule_parser_survives_any_bytes(s in "\\PC{0,40}") {
        let _ = s.parse::<Rule>();
    }

    /// Any file text is read or refused naming its line, never a panic.
    #[test]
    fn rule_files_never_panic(text in "(\\PC|\r|\n|#|[0-9a-f:./-]){0,200}") {
        if let Err(e) = parse_rules(&text, "f") {
            prop_assert!(e.to_string().contains("f:"), "{}", e);
        }
    }

    /// A file holds the rules of its lines, whatever the comments, blank
    /// lines, CRLF line ends or byte-order mark around them.
    #[test]
    fn a_rule_file_is_its_lines(
        lines in proptest::collection::vec(
            (any::<u32>(), 0u8..=32, 0u8..3, "[ \t]{0,2}", proptest::option::of("[ -~]{0,8}")),
            0..12,
        ),
        crlf in any::<bool>(),
        bom in any::<bool>(),
    ) {
        let mut text = String::from(if bom { "\u{feff}" } else { "" });
        let mut want = Vec::new();
        for (addr, prefix, kind, pad, comment) in &lines {
            let addr = Ipv4Addr::from(*addr);
            let rule = match kind {
                0 => format!("{addr}"),
                1 => format!("{addr}/{prefix}"),
                _ => String::new(),
            };
            if !rule.is_empty() {
                want.push(rule.parse::<Rule>().unwrap());
            }
            let comment = comment.as_ref().map(|c| format!("#{c}")).unwrap_or_default();
            text.push_str(&format!("{pad}{rule}{pad}{comment}"));
            text.push_str(if crlf { "\r\n" } else { "\n" });
        }
        prop_assert_eq!(parse_rules(&text, "f").unwrap(), want);
    }

    /// The step function answers like checking every rule in order.
    #[test]
    fn check_equals_first_matching_rule(
        nets in proptest::collection::vec((any::<u32>(), 0u8..=32, 0u8..3), 1..12),
        probes in proptest::collection::vec(any::<u32>(), 1..64),
    ) {
        let rules: Vec<Rule> = nets.iter().map(|&(a, p, kind)| {
            let a = IpAddr::V4(Ipv4Addr::from(a & 0xff0f_00ff));
            match kind {
                0 => Rule::Address(a),
                1 => Rule::Subnet(a, p),
                _ => Rule::Subnet(a, p.max(24)),
            }
        }).collect();
        let list = BlockList::new(rules.clone());
        for probe in probes {
            let addr = IpAddr::V4(Ipv4Addr::from(probe & 0xff0f_00ff));
            let naive = rules.iter().find(|r| {
                let (lo, hi) = r.interval();
                (lo..=hi).contains(&point(addr))
            });
            prop_assert_eq!(list.check(addr), naive);
        }
    }
}
