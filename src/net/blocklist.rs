//! Address rules with the semantics of Node's `net.BlockList`.
//!
//! One engine serves `--allow`/`--deny` on the servers, `--deny` on `connect`
//! and `isip --in`. A rule is an address, a range `START-END` or a subnet
//! `NET/PREFIX` (Node's `addAddress`, `addRange`, `addSubnet`), IPv4 or IPv6,
//! given on the command line or one a line in an `@FILE`.
//!
//! Node compares an IPv4 address with an IPv6 one only through the
//! IPv4-mapped form `::ffff:a.b.c.d` (`node_sockaddr.cc`): `::ffff:10.1.2.3`
//! matches the rule `10.0.0.0/8`, `10.1.2.3` matches `::ffff:10.0.0.0/104`,
//! and `::/0` matches every IPv4 address. So every rule becomes an interval of
//! one 128-bit space in which IPv4 lives at `::ffff:0:0/96`. One quirk is kept
//! for fidelity: an IPv6 range whose ends are not both IPv4-mapped never
//! matches an address written as IPv4, because Node finds the two "not
//! comparable". The intervals are flattened into a sorted step function, so a
//! check is one binary search however many rules there are; `isip --in` runs
//! it once per line of multi-GB logs.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::str::FromStr;

use super::ip;

/// One rule, as Node's `BlockList` methods take them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `addAddress`: one address.
    Address(IpAddr),
    /// `addRange`: every address from start to end, both included.
    Range(IpAddr, IpAddr),
    /// `addSubnet`: a network and its prefix length.
    Subnet(IpAddr, u8),
}

/// A rule that did not parse, with the rule's text and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// Where the rule came from (`rules.txt:3`), when it came from a file.
    pub origin: Option<String>,
    pub rule: String,
    pub why: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(origin) = &self.origin {
            write!(f, "{origin}: ")?;
        }
        write!(f, "bad rule {:?}: {}", self.rule, self.why)
    }
}

impl std::error::Error for RuleError {}

/// A bad rule is a usage error (exit 2), whichever command met it.
impl From<RuleError> for crate::exit::Error {
    fn from(e: RuleError) -> crate::exit::Error {
        let what = match &e.origin {
            Some(origin) => format!("{origin}: bad rule {:?}", e.rule),
            None => format!("bad rule {:?}", e.rule),
        };
        crate::exit::Error::usage(what, e.why)
    }
}

fn bad(rule: &str, why: impl Into<String>) -> RuleError {
    RuleError {
        origin: None,
        rule: rule.to_string(),
        why: why.into(),
    }
}

/// An address of a rule: Node's grammar, but no `%zone` (a rule names
/// addresses, not interfaces, and a zone may contain the range's `-`).
fn rule_address(rule: &str, text: &str) -> Result<IpAddr, RuleError> {
    if let Some((_, zone)) = text.split_once('%') {
        return Err(bad(
            rule,
            format!("zone %{zone} does not belong in a rule; drop it"),
        ));
    }
    ip::parse_ip(text.as_bytes()).ok_or_else(|| {
        let why = if text.is_empty() {
            "an address is missing".to_string()
        } else {
            format!("{text:?} is not an IPv4 or IPv6 address")
        };
        bad(rule, why)
    })
}

/// The IPv4 address an IPv6 address maps (`::ffff:a.b.c.d`), if it is one.
fn mapped_ipv4(addr: &Ipv6Addr) -> Option<Ipv4Addr> {
    match addr.segments() {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => {
            Some(Ipv4Addr::from(u32::from(hi) << 16 | u32::from(lo)))
        }
        _ => None,
    }
}

/// An address as a point of the one 128-bit space: IPv4 as IPv4-mapped.
fn point(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// An address as Node orders it against an address of the other family.
fn comparable(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => mapped_ipv4(&v6).map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for Rule {
    type Err = RuleError;

    fn from_str(rule: &str) -> Result<Rule, RuleError> {
        if let Some((net, prefix)) = rule.split_once('/') {
            let net = rule_address(rule, net)?;
            let max = if net.is_ipv4() { 32 } else { 128 };
            let family = if net.is_ipv4() { "IPv4" } else { "IPv6" };
            let prefix: u8 = match prefix.parse() {
                Ok(p) if p <= max && prefix.bytes().all(|b| b.is_ascii_digit()) => p,
                _ if prefix.is_empty() => {
                    return Err(bad(rule, "the prefix length is missing after /"))
                }
                _ => return Err(bad(rule, format!("prefix must be 0-{max} for {family}"))),
            };
            return Ok(Rule::Subnet(net, prefix));
        }
        if let Some((start, end)) = rule.split_once('-') {
            let start = rule_address(rule, start)?;
            let end = rule_address(rule, end)?;
            let mixed = start.is_ipv4() != end.is_ipv4();
            if mixed && comparable(start).is_ipv4() != comparable(end).is_ipv4() {
                return Err(bad(
                    rule,
                    "start and end are of different families; an IPv4 address only \
                     orders against an IPv4-mapped IPv6 one (::ffff:a.b.c.d)",
                ));
            }
            if point(start) > point(end) {
                return Err(bad(rule, "start must come before end"));
            }
            return Ok(Rule::Range(start, end));
        }
        Ok(Rule::Address(rule_address(rule, rule)?))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Address(a) => write!(f, "{a}"),
            Rule::Range(a, b) => write!(f, "{a}-{b}"),
            Rule::Subnet(a, p) => write!(f, "{a}/{p}"),
        }
    }
}

impl Rule {
    /// The interval of the 128-bit space the rule covers.
    fn interval(&self) -> (u128, u128) {
        match *self {
            Rule::Address(a) => (point(a), point(a)),
            Rule::Range(a, b) => (point(a), point(b)),
            Rule::Subnet(net, prefix) => {
                let bits = if net.is_ipv4() {
                    96 + u32::from(prefix)
                } else {
                    u32::from(prefix)
                };
                let host = u128::MAX.checked_shr(bits).unwrap_or(0);
                // An IPv4 prefix counts from bit 96, so it keeps the mapped
                // `::ffff:` above it; `::/0` covers IPv4 too, as in Node.
                let base = point(net) & !host;
                (base, base | host)
            }
        }
    }

    /// Whether Node can order an address written as IPv4 against this rule.
    fn applies_to_ipv4_written(&self) -> bool {
        match *self {
            Rule::Range(a, b) => comparable(a).is_ipv4() && comparable(b).is_ipv4(),
            _ => true,
        }
    }
}

/// A step function over the 128-bit space: from `starts[i]` up to the next
/// start, the first rule (by index) covering the addresses is `owners[i]`.
#[derive(Debug, Clone, Default)]
struct Steps {
    starts: Vec<u128>,
    owners: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl Steps {
    fn build(intervals: impl Iterator<Item = (u128, u128, u32)>) -> Steps {
        // (position, rule, opens); a close at `hi + 1` cannot overflow past
        // u128::MAX, and an interval reaching it simply never closes.
        let mut events: Vec<(u128, u32, bool)> = Vec::new();
        for (lo, hi, idx) in intervals {
            events.push((lo, idx, true));
            if let Some(after) = hi.checked_add(1) {
                events.push((after, idx, false));
            }
        }
        events.sort_unstable();
        let mut active = std::collections::BTreeSet::new();
        let mut steps = Steps {
            starts: vec![0],
            owners: vec![NONE],
        };
        let mut i = 0;
        while i < events.len() {
            let at = events[i].0;
            while i < events.len() && events[i].0 == at {
                let (_, idx, opens) = events[i];
                if opens {
                    active.insert(idx);
                } else {
                    active.remove(&idx);
                }
                i += 1;
            }
            let owner = active.first().copied().unwrap_or(NONE);
            if *steps.owners.last().unwrap() == owner {
                continue;
            }
            if *steps.starts.last().unwrap() == at {
                steps.owners.pop();
                steps.starts.pop();
                if steps.owners.last() == Some(&owner) {
                    continue;
                }
            }
            steps.starts.push(at);
            steps.owners.push(owner);
        }
        steps
    }

    fn owner(&self, x: u128) -> Option<u32> {
        let i = self.starts.partition_point(|&s| s <= x).checked_sub(1)?;
        let owner = self.owners[i];
        (owner != NONE).then_some(owner)
    }
}

/// Node's `net.BlockList`: rules, and which of them an address falls in.
#[derive(Debug, Clone, Default)]
pub struct BlockList {
    rules: Vec<Rule>,
    /// For addresses written as IPv6 (IPv4-mapped ones included).
    v6_written: Steps,
    /// For addresses written as IPv4.
    v4_written: Steps,
}

impl BlockList {
    pub fn new(rules: Vec<Rule>) -> BlockList {
        let all = rules.iter().enumerate().map(|(i, r)| {
            let (lo, hi) = r.interval();
            (lo, hi, i as u32)
        });
        let v6_written = Steps::build(all.clone());
        let v4_written =
            Steps::build(all.filter(|&(_, _, i)| rules[i as usize].applies_to_ipv4_written()));
        BlockList {
            rules,
            v6_written,
            v4_written,
        }
    }

    /// Rules from command-line values: each a rule or `@FILE`.
    pub fn from_args<S: AsRef<str>>(values: &[S]) -> Result<BlockList, RuleError> {
        let mut rules = Vec::new();
        for value in values {
            let value = value.as_ref();
            match value.strip_prefix('@') {
                Some(path) => rules.extend(load_rules(Path::new(path))?),
                None => rules.push(value.parse()?),
            }
        }
        Ok(BlockList::new(rules))
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// `blockList.check(address)`: the first rule (in the order given) that
    /// covers the address, so callers can name it.
    pub fn check(&self, addr: IpAddr) -> Option<&Rule> {
        let steps = if addr.is_ipv4() {
            &self.v4_written
        } else {
            &self.v6_written
        };
        steps.owner(point(addr)).map(|i| &self.rules[i as usize])
    }
}

/// One `--allow`/`--deny` value as clap parses it: a rule, or `@FILE` of them,
/// so a bad rule is a usage error before anything starts.
#[derive(Debug, Clone)]
pub struct RuleArg(pub Vec<Rule>);

impl FromStr for RuleArg {
    type Err = RuleError;

    fn from_str(s: &str) -> Result<RuleArg, RuleError> {
        match s.strip_prefix('@') {
            Some(path) => load_rules(Path::new(path)).map(RuleArg),
            None => s.parse().map(|r| RuleArg(vec![r])),
        }
    }
}

/// An `--allow` value, parsed as [`RuleArg`]; an `@FILE` with no rule in
/// it (empty, or only comments and blank lines) is refused: an allow-list
/// without rules would admit nobody, which is never what a server is
/// started for, and admitting everyone would open it to all (a file
/// emptied by a failed generation step must not do that).
pub fn allow_rule(s: &str) -> Result<RuleArg, String> {
    let arg: RuleArg = s.parse().map_err(|e: RuleError| e.to_string())?;
    if arg.0.is_empty() {
        return Err(format!(
            "--allow {s} has no rules (the file is empty or only comments); \
             an allow-list without rules would admit nobody: add rules to it, \
             or leave --allow out to admit every peer"
        ));
    }
    Ok(arg)
}

/// A server's `--allow`/`--deny` rules: deny wins; with any `--allow` rule,
/// an address that none of them covers is refused too.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    pub allow: BlockList,
    pub deny: BlockList,
}

impl Admission {
    /// `None` when neither flag was given (every peer is admitted for free).
    pub fn from_rules(allow: &[RuleArg], deny: &[RuleArg]) -> Option<Admission> {
        if allow.is_empty() && deny.is_empty() {
            return None;
        }
        let list = |args: &[RuleArg]| {
            BlockList::new(args.iter().flat_map(|a| a.0.iter().cloned()).collect())
        };
        Some(Admission {
            allow: list(allow),
            deny: list(deny),
        })
    }

    /// Why `addr` is refused (`deny RULE`, `not in --allow`), or `None`.
    pub fn refuse(&self, addr: IpAddr) -> Option<String> {
        if let Some(rule) = self.deny.check(addr) {
            return Some(format!("deny {rule}"));
        }
        if !self.allow.is_empty() && self.allow.check(addr).is_none() {
            return Some("not in --allow".to_string());
        }
        None
    }
}

/// Rules from a file: one a line, `#` starts a comment, blank lines are
/// skipped, CRLF line ends and a leading byte-order mark are taken; an
/// error names `file:line`.
pub fn load_rules(path: &Path) -> Result<Vec<Rule>, RuleError> {
    let text = std::fs::read_to_string(path).map_err(|e| RuleError {
        origin: None,
        rule: format!("@{}", path.display()),
        why: format!("cannot read the file: {e}"),
    })?;
    parse_rules(&text, &path.display().to_string())
}

/// The lines of a rules file; `origin` names the file in errors.
pub fn parse_rules(text: &str, origin: &str) -> Result<Vec<Rule>, RuleError> {
    let mut rules = Vec::new();
    // A byte-order mark (a file saved by Notepad) is not part of line 1.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let rule = line.parse().map_err(|e: RuleError| RuleError {
            origin: Some(format!("{origin}:{}", n + 1)),
            ..e
        })?;
        rules.push(rule);
    }
    Ok(rules)
}

#[cfg(test)]
mod admission_tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn deny_wins_and_allow_denies_the_rest() {
        let a = Admission::from_rules(
            &["127.0.0.0/8".parse().unwrap()],
            &["127.0.0.2".parse().unwrap()],
        )
        .unwrap();
        assert_eq!(a.refuse(ip("127.0.0.1")), None);
        assert_eq!(a.refuse(ip("127.0.0.2")).as_deref(), Some("deny 127.0.0.2"));
        assert_eq!(a.refuse(ip("10.0.0.1")).as_deref(), Some("not in --allow"));
        assert_eq!(
            a.refuse(ip("::ffff:127.0.0.2")).as_deref(),
            Some("deny 127.0.0.2")
        );
        assert!(Admission::from_rules(&[], &[]).is_none());
    }
}

#[cfg(test)]
mod tests;
