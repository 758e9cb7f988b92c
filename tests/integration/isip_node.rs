//! Differential tests against the `node` on this machine: the same large,
//! seeded corpus goes to `wirecat isip` (through stdin, as users feed logs)
//! and to Node's `net.isIP`, and the same random rules and addresses go to
//! our `BlockList` and to Node's. Zero disagreements are allowed. In CI
//! (`CI` set; .ci/run installs node) a missing `node` fails them; elsewhere
//! they pass after printing why they did not run.

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wirecat::net::blocklist::{BlockList, Rule};

use crate::common::have;

/// Runs `program` with `input` on stdin and returns its stdout.
fn pipe_through(mut cmd: Command, input: Vec<u8>) -> Vec<u8> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out.stdout
}

fn v4(rng: &mut StdRng) -> String {
    let mut parts = [0u8; 4];
    rng.fill(&mut parts);
    if rng.gen_bool(0.2) {
        parts[rng.gen_range(0..4)] = *[0u8, 255, 9, 10, 99, 100].get(rng.gen_range(0..6)).unwrap();
    }
    format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], parts[3])
}

fn group(rng: &mut StdRng) -> String {
    let g: u16 = rng.gen();
    match rng.gen_range(0..4) {
        0 => format!("{g:x}"),
        1 => format!("{g:X}"),
        2 => format!("{g:04x}"),
        _ => format!("{:x}", g & 0xf),
    }
}

/// IPv6 in every shape Node's regex knows: full, `::` anywhere, IPv4 tail,
/// zones.
fn v6(rng: &mut StdRng) -> String {
    let tail_v4 = rng.gen_bool(0.2);
    let total = if tail_v4 { 6 } else { 8 };
    let groups: Vec<String> = (0..total).map(|_| group(rng)).collect();
    let mut s = if rng.gen_bool(0.7) {
        let a = rng.gen_range(0..=total);
        let b = rng.gen_range(a..=total);
        let b = if b == a && a < total && rng.gen_bool(0.8) {
            a + 1
        } else {
            b
        };
        format!("{}::{}", groups[..a].join(":"), groups[b..].join(":"))
    } else {
        groups.join(":")
    };
    if tail_v4 {
        if !s.ends_with(':') {
            s.push(':');
        }
        s.push_str(&v4(rng));
    }
    if rng.gen_bool(0.1) {
        let zones = ["eth0", "1", "en0.1", "a-b", "x:y", "lo", ""];
        s.push('%');
        s.push_str(zones[rng.gen_range(0..zones.len())]);
    }
    s
}

/// A valid form bent slightly: one byte dropped, doubled, swapped or
/// replaced, or a frame people often add (ports, brackets, dots, spaces).
fn near_miss(rng: &mut StdRng) -> Vec<u8> {
    let base = if rng.gen_bool(0.5) { v4(rng) } else { v6(rng) };
    let mut s = base.into_bytes();
    let alphabet = b"0123456789abcdefABCDEFg:.%-/ []x\t\xc3\xa9\xff";
    match rng.gen_range(0..8) {
        0 if !s.is_empty() => {
            s.remove(rng.gen_range(0..s.len()));
        }
        1 if !s.is_empty() => {
            let i = rng.gen_range(0..s.len());
            s.insert(i, s[i]);
        }
        2 if !s.is_empty() => {
            let i = rng.gen_range(0..s.len());
            s[i] = alphabet[rng.gen_range(0..alphabet.len())];
        }
        3 => s.insert(0, b'0'),
        4 => s.extend_from_slice(b":80"),
        5 => {
            s.insert(0, b'[');
            s.push(b']');
        }
        6 => s.push(b'.'),
        _ => s.push(b' '),
    }
    s
}

fn noise(rng: &mut StdRng) -> Vec<u8> {
    let alphabet = b"0123456789abcdefABCDEF:.%-xz \xc3\xa9\x80";
    let n = rng.gen_range(0..24);
    (0..n)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
        .collect()
}

fn corpus(n: usize) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(0x1515);
    let mut out = Vec::new();
    for _ in 0..n {
        let line = match rng.gen_range(0..10) {
            0..=2 => v4(&mut rng).into_bytes(),
            3..=5 => v6(&mut rng).into_bytes(),
            6..=8 => near_miss(&mut rng),
            _ => noise(&mut rng),
        };
        debug_assert!(!line.contains(&b'\n') && !line.contains(&b'\r'));
        out.extend_from_slice(&line);
        out.push(b'\n');
    }
    out
}

/// Node's side: every line of stdin (split on LF, as `isip` reads) to
/// `net.isIP`.
const NODE_ISIP: &str = r#"
const net = require('net');
const lines = require('fs').readFileSync(0).toString('utf8').split('\n');
lines.pop();
process.stdout.write(lines.map((l) => net.isIP(l)).join('\n') + '\n');
"#;

#[test]
fn isip_agrees_with_node_on_a_large_corpus() {
    if !have("node") {
        return;
    }
    const N: usize = 150_000;
    let input = corpus(N);
    let mut ours = Command::new(assert_cmd::cargo::cargo_bin("wirecat"));
    ours.arg("isip");
    let ours = pipe_through(ours, input.clone());
    let mut node = Command::new("node");
    node.args(["-e", NODE_ISIP]);
    let theirs = pipe_through(node, input.clone());
    let ours = String::from_utf8(ours).unwrap();
    let theirs = String::from_utf8(theirs).unwrap();
    assert_eq!(ours.lines().count(), N);
    assert_eq!(theirs.lines().count(), N);
    let inputs: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    let disagreements: Vec<String> = ours
        .lines()
        .zip(theirs.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| {
            format!(
                "{:?}: wirecat {a}, node {b}",
                String::from_utf8_lossy(inputs[i])
            )
        })
        .collect();
    let families = ["0", "4", "6"].map(|f| ours.lines().filter(|l| *l == f).count());
    eprintln!("corpus of {N}: {families:?} classified 0/4/6");
    assert!(
        families.iter().all(|&n| n > N / 10),
        "corpus too lopsided: {families:?}"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first: {:#?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(20)]
    );
}

fn random_v4_addr(rng: &mut StdRng) -> IpAddr {
    // A few /16s, so that rules and addresses meet often.
    let nets = [[10u8, 0], [10, 1], [192, 168], [0, 0], [255, 255]];
    let net = nets[rng.gen_range(0..nets.len())];
    IpAddr::from([net[0], net[1], rng.gen_range(0..4), rng.gen()])
}

fn random_v6_addr(rng: &mut StdRng) -> IpAddr {
    match rng.gen_range(0..4) {
        0 => match random_v4_addr(rng) {
            IpAddr::V4(a) => IpAddr::V6(a.to_ipv6_mapped()),
            v6 => v6,
        },
        1 => IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, rng.gen_range(0..4), rng.gen()]),
        2 => IpAddr::from([0, 0, 0, 0, 0, 0, rng.gen_range(0..4), rng.gen()]),
        _ => IpAddr::from([0xfe80, 0, 0, 0, 0, 0, 0, rng.gen_range(0..4)]),
    }
}

fn random_addr(rng: &mut StdRng) -> IpAddr {
    if rng.gen_bool(0.5) {
        random_v4_addr(rng)
    } else {
        random_v6_addr(rng)
    }
}

fn random_rule(rng: &mut StdRng) -> Rule {
    loop {
        let a = random_addr(rng);
        let rule = match rng.gen_range(0..3) {
            0 => Rule::Address(a),
            1 => {
                let max = if a.is_ipv4() { 32 } else { 128 };
                let edges = [0, max, max - 1, max - 8, max - 10, max - 16];
                let p = if rng.gen_bool(0.5) {
                    edges[rng.gen_range(0..edges.len())]
                } else {
                    rng.gen_range(0..=max)
                };
                Rule::Subnet(a, p)
            }
            _ => {
                let b = if a.is_ipv4() {
                    random_v4_addr(rng)
                } else {
                    random_v6_addr(rng)
                };
                Rule::Range(a, b)
            }
        };
        // Keep only rules our parser accepts (Node rejects the same ranges).
        if let Ok(rule) = rule.to_string().parse::<Rule>() {
            return rule;
        }
    }
}

/// Node's side: one `BlockList` per rule; for each address, the indices of
/// the rules that match, so a disagreement names the rule.
const NODE_BLOCKLIST: &str = r#"
const net = require('net');
const { rules, addrs } = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const fam = (a) => (net.isIPv4(a) ? 'ipv4' : 'ipv6');
const lists = rules.map((r) => {
  const b = new net.BlockList();
  if (r.kind === 'address') b.addAddress(r.a, fam(r.a));
  else if (r.kind === 'subnet') b.addSubnet(r.a, r.prefix, fam(r.a));
  else b.addRange(r.a, r.b, fam(r.a));
  return b;
});
const out = addrs.map((a) => lists.flatMap((b, i) => (b.check(a, fam(a)) ? [i] : [])));
process.stdout.write(JSON.stringify(out));
"#;

#[test]
fn blocklist_agrees_with_node() {
    if !have("node") {
        return;
    }
    let mut rng = StdRng::seed_from_u64(7);
    let rules: Vec<Rule> = (0..200).map(|_| random_rule(&mut rng)).collect();
    let addrs: Vec<IpAddr> = (0..2000).map(|_| random_addr(&mut rng)).collect();
    let json_rules: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| match r {
            Rule::Address(a) => serde_json::json!({"kind": "address", "a": a.to_string()}),
            Rule::Subnet(a, p) => {
                serde_json::json!({"kind": "subnet", "a": a.to_string(), "prefix": p})
            }
            Rule::Range(a, b) => {
                serde_json::json!({"kind": "range", "a": a.to_string(), "b": b.to_string()})
            }
        })
        .collect();
    // Node's addRange takes one family for both ends, so mixed-family ranges
    // (which we accept when the IPv6 end is IPv4-mapped) stay out of this
    // comparison; the unit tests pin them.
    let keep: Vec<usize> = (0..rules.len())
        .filter(|&i| match rules[i] {
            Rule::Range(a, b) => a.is_ipv4() == b.is_ipv4(),
            _ => true,
        })
        .collect();
    let json_rules: Vec<&serde_json::Value> = keep.iter().map(|&i| &json_rules[i]).collect();
    let input = serde_json::json!({
        "rules": json_rules,
        "addrs": addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
    });
    let mut node = Command::new("node");
    node.args(["-e", NODE_BLOCKLIST]);
    let out = pipe_through(node, input.to_string().into_bytes());
    let theirs: Vec<Vec<usize>> = serde_json::from_slice(&out).unwrap();
    let kept: Vec<Rule> = keep.iter().map(|&i| rules[i].clone()).collect();
    let singles: Vec<BlockList> = kept
        .iter()
        .map(|r| BlockList::new(vec![r.clone()]))
        .collect();
    let all = BlockList::new(kept.clone());
    let mut disagreements = Vec::new();
    let mut matches = 0;
    for (addr, theirs) in addrs.iter().zip(&theirs) {
        for (k, single) in singles.iter().enumerate() {
            let ours = single.check(*addr).is_some();
            let node = theirs.contains(&k);
            matches += usize::from(ours);
            if ours != node {
                disagreements.push(format!(
                    "{addr} vs {}: wirecat {ours}, node {node}",
                    kept[k]
                ));
            }
        }
        // The whole list answers "any rule matches", and names the first.
        let first = theirs.first().map(|&k| &kept[k]);
        assert_eq!(all.check(*addr), first, "{addr}");
    }
    eprintln!(
        "{matches} matching (rule, address) pairs of {}",
        keep.len() * addrs.len()
    );
    assert!(
        matches > 1000,
        "too few matches to mean anything: {matches}"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first: {:#?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(20)]
    );
}
