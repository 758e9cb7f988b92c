//! The bounded random-argv run: the real binary, N command lines built
//! from the real flag names (read from the clap definitions, so a new flag
//! is fuzzed the day it is added) and values meant to hurt (overflowing
//! durations, bad escapes, long and control-laden paths, empty strings,
//! huge numbers). Each run must end within a bound with an exit code of
//! the SPEC's table, no panic text, and stderr lines that are each one
//! `wirecat: ` line (or one JSON object). Servers are stopped with SIGTERM
//! once ready (after one client) and must then end too.
//!
//! Everything stays on 127.0.0.1 (closed ports, port 0) and in a temporary
//! directory; stdin is /dev/null. `WIRECAT_ARGV_RUNS` (default 400, about 5 s) and
//! `WIRECAT_ARGV_SEED` (default: the clock) choose the run; a failure
//! prints the seed, the run and its argv. bench/argv-fuzz.sh runs more.

use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use clap::CommandFactory;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::common::wirecat;

/// A run that has not ended by then (or a server not ended this long after
/// its SIGTERM) is a hang.
const BOUND: Duration = Duration::from_secs(6);

/// The exit codes of SPEC.md's table (143 and 130 as codes or signals).
const CODES: [i32; 9] = [0, 1, 2, 3, 4, 5, 6, 130, 143];

/// Every address but loopback (127/8, ::1; IPv4-mapped ones match the
/// IPv4 rules), as `--deny` rules.
const LEAVES_LOOPBACK: [&str; 3] = [
    "0.0.0.0-126.255.255.255",
    "128.0.0.0-255.255.255.255",
    "::2-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
];

/// One flag of a command, as clap defines it.
struct Flag {
    long: String,
    value: Option<String>,
    optional_value: bool,
    choices: Vec<String>,
}

/// Every command's long flags, from the clap definitions.
fn flags_of(command: &str) -> Vec<Flag> {
    let cli = wirecat::cli::Cli::command();
    let sub = cli.find_subcommand(command).expect("a command");
    sub.get_arguments()
        .filter(|a| !a.is_positional())
        .filter_map(|a| {
            let long = a.get_long()?.to_string();
            if matches!(long.as_str(), "ready-file" | "progress" | "help") {
                return None;
            }
            let takes = a.get_action().takes_values();
            let range = a.get_num_args();
            Some(Flag {
                long,
                value: takes.then(|| {
                    a.get_value_names()
                        .and_then(|v| v.first().map(|s| s.to_string()))
                        .unwrap_or_default()
                }),
                optional_value: takes && range.is_some_and(|r| r.min_values() == 0),
                choices: a
                    .get_possible_values()
                    .iter()
                    .map(|p| p.get_name().to_string())
                    .collect(),
            })
        })
        .collect()
}

/// Values meant to hurt, by what the flag takes.
fn value_for(rng: &mut StdRng, flag: &Flag, dir: &Path) -> Vec<u8> {
    if !flag.choices.is_empty() && rng.gen_bool(0.7) {
        return flag.choices.choose(rng).unwrap().clone().into_bytes();
    }
    let name = flag.value.as_deref().unwrap_or("");
    let pick = |rng: &mut StdRng, v: &[&str]| v.choose(rng).unwrap().as_bytes().to_vec();
    let good_durations = ["0", "1", "250", "100ms", "0.2", "1s", "32767s", "1h"];
    let durations = [
        "0",
        "1",
        "250",
        "100ms",
        "0.2",
        "1s",
        "2",
        "inf",
        "-inf",
        "nan",
        "1e300",
        "1e20",
        "18446744073709551615",
        "-1",
        "",
        "5x",
        "1.5",
        "32767s",
        "32768s",
        "0x10",
        " 1",
    ];
    let numbers = [
        "0",
        "1",
        "2",
        "65535",
        "65536",
        "-1",
        "2147483647",
        "2147483648",
        "1024",
        "1025",
        "",
        "x",
        "18446744073709551616",
    ];
    let good = rng.gen_bool(0.6);
    // --wait legitimately retries until its deadline: keep that short.
    if flag.long == "wait" {
        return pick(
            rng,
            &["0", "1", "0.3", "200ms", "inf", "nan", "1e300", "-1", ""],
        );
    }
    match name {
        "MS" | "SECS" if good => pick(rng, &good_durations),
        "MS" | "SECS" => pick(rng, &durations),
        "N" | "PORT" | "0|4|6" if good => pick(rng, &["0", "1", "2", "4", "6", "511"]),
        "N" | "PORT" | "0|4|6" => pick(rng, &numbers),
        "TEXT" => pick(
            rng,
            &[
                r"hi\r\n", r"\xZZ", r"\x4", r"\", r"\\", r"\0\e\t", "", r"\x41\x", "é\\xé1",
            ],
        ),
        "REGEX" => pick(rng, &["x", "(", "[", "a{99999999}", "", ".*", r"\"]),
        "RULE" => {
            let rules = dir.join("rules");
            let rules = format!("@{}", rules.display());
            let mut v = pick(
                rng,
                &[
                    "127.0.0.1",
                    "10.0.0.0/33",
                    "1.2.3.4-1.2.3.1",
                    "::1/129",
                    "",
                    "@",
                    "x",
                    "::ffff:1.2.3.4/96",
                    "0.0.0.0/0",
                    "@/nonexistent",
                ],
            );
            if rng.gen_bool(0.2) {
                v = rules.into_bytes();
            }
            v
        }
        "ADDR" => pick(rng, &["127.0.0.1", "::1", "0.0.0.0", "x", "", "1.2.3.4.5"]),
        "HOST[:PORT]:ADDR" => pick(rng, &["localhost:127.0.0.1", "a:1:[::1]", ":", "h:x", ""]),
        "FILE" | "PATH" => {
            let junk = dir.join("junk");
            let mut v = pick(
                rng,
                &["/nonexistent/x", "/dev/null", "", "/", "/proc/self/mem"],
            );
            if rng.gen_bool(0.3) {
                v = junk.as_os_str().as_bytes().to_vec();
            }
            v
        }
        // A shell's own complaint (`sh: 1: x: not found`) is the child's
        // stderr, not ours: --sh-exec gets commands that start.
        "CMD" if flag.long == "sh-exec" => pick(rng, &["cat", "true", "", " ", "exit 3"]),
        "CMD" => pick(rng, &["cat", "true", "", " ", "/nonexistent"]),
        "FP" => pick(rng, &["AB:CD", "", "zz", &"A".repeat(64)]),
        _ => {
            let long = "p".repeat(300);
            pick(
                rng,
                &["h2", "", "x", &long, "a\nb", "localhost=/x,/y", "=", ","],
            )
        }
    }
}

/// A positional argument: endpoints good and bad, on loopback only.
fn positional(rng: &mut StdRng, server: bool, dir: &Path) -> Vec<u8> {
    let sock = dir.join(format!("s{}.sock", rng.gen::<u16>()));
    let long = format!("{}/{}", dir.display(), "l".repeat(120));
    let choices: Vec<Vec<u8>> = vec![
        if server { "127.0.0.1:0" } else { "127.0.0.1:1" }.into(),
        if server { "0" } else { "1" }.into(),
        "[::1]:1".into(),
        "localhost:1".into(),
        "tls://127.0.0.1:1".into(),
        sock.as_os_str().as_bytes().to_vec(),
        format!("unix:@wirecat-fuzz-{}", rng.gen::<u32>()).into(),
        "fd:0".into(),
        "fd:99".into(),
        "fd:systemd".into(),
        "::1:80".into(),
        "[::1".into(),
        "".into(),
        "host:99999".into(),
        "http://x:1".into(),
        "npipe:x".into(),
        long.into(),
        b"/tmp/\xff\n".to_vec(),
        "127.0.0.1:1-3".into(),
        "1,2,3".into(),
        "1.2.3.4".into(),
        "-".into(),
    ];
    // Mostly what parses, so that runs get past the parser.
    let valid = match server {
        true => 4,
        false => 6,
    };
    match rng.gen_bool(0.6) {
        true => [&choices[..2], &choices[5..7]].concat()[..valid.min(4)]
            .choose(rng)
            .unwrap()
            .clone(),
        false => choices.choose(rng).unwrap().clone(),
    }
}

/// One random command line (without the program), and whether it is a
/// server that must be stopped.
fn argv(rng: &mut StdRng, dir: &Path) -> (Vec<Vec<u8>>, bool) {
    let command = *["connect", "listen", "echo", "pipe", "isip", "c", "l"]
        .choose(rng)
        .unwrap();
    let full = match command {
        "c" => "connect",
        "l" => "listen",
        c => c,
    };
    let server = matches!(full, "listen" | "echo" | "pipe");
    let mut args = vec![command.as_bytes().to_vec()];
    let positionals = match full {
        "pipe" => 2,
        "connect" => rng.gen_range(1..=2),
        "isip" => rng.gen_range(0..=3),
        _ => rng.gen_range(0..=1),
    };
    for _ in 0..positionals {
        args.push(positional(rng, server, dir));
    }
    let flags = flags_of(full);
    for _ in 0..rng.gen_range(0..=4) {
        let flag = flags.choose(rng).unwrap();
        let mut word = format!("--{}", flag.long).into_bytes();
        if flag.value.is_some() && !(flag.optional_value && rng.gen_bool(0.3)) {
            word.push(b'=');
            word.extend(value_for(rng, flag, dir));
        }
        args.insert(rng.gen_range(1..=args.len()), word);
    }
    // A word such as `1` is a host for getaddrinfo (0.0.0.1), and a
    // machine may have a proxy that accepts any outbound connection: the
    // outbound BlockList keeps every client on loopback, and its wait is
    // bounded, as a script would bound it.
    if full == "connect" {
        for rule in LEAVES_LOOPBACK {
            args.push(format!("--deny={rule}").into_bytes());
        }
        if !args.iter().any(|a| a.starts_with(b"--connect-timeout")) {
            args.push(b"--connect-timeout=2000".to_vec());
        }
        // `--no-shutdown` waits for the peer's FIN by design, and a
        // connection from port N to port N on loopback is connected to
        // itself (TCP's simultaneous open), whose FIN never comes: bounded
        // by the linger, as a script would bound it.
        if args.iter().any(|a| a == b"--no-shutdown")
            && !args
                .iter()
                .any(|a| a.starts_with(b"--linger") || a.starts_with(b"--timeout"))
        {
            args.push(b"--linger=1".to_vec());
        }
    }
    if rng.gen_bool(0.1) {
        args.push(
            ["-z", "-4", "-6", "-k", "-v", "-q", "-e"]
                .choose(rng)
                .unwrap()
                .as_bytes()
                .to_vec(),
        );
    }
    (args, server)
}

/// The exit code of one run, or what was wrong with it.
fn check(status: ExitStatus, stderr: &[u8], stopped: bool) -> Result<i32, String> {
    let code = match (status.code(), status.signal()) {
        (Some(c), _) => c,
        // 130 and 143 are SIGINT and SIGTERM re-raised; only ours is sent.
        (None, Some(libc::SIGTERM)) if stopped => 143,
        (_, sig) => return Err(format!("killed by signal {sig:?}")),
    };
    if !CODES.contains(&code) {
        return Err(format!("exit code {code} is not in the SPEC's table"));
    }
    let text = String::from_utf8_lossy(stderr);
    if text.contains("panicked") || text.contains("RUST_BACKTRACE") {
        return Err("panic text on stderr".into());
    }
    if let Some(line) = text
        .lines()
        .find(|l| !(l.starts_with("wirecat: ") || l.starts_with('{')))
    {
        return Err(format!(
            "a stderr line that is not one wirecat line: {line:?}"
        ));
    }
    Ok(code)
}

/// Wait for `child` until `deadline`; None if it is still running then.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A client for a ready server: connect, say something, half-close, read
/// a little (bounded), close.
fn poke(addr: &str) {
    let Ok(addr) = addr.parse::<std::net::SocketAddr>() else {
        return;
    };
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
    let _ = s.write_all(b"hostile\n");
    let _ = s.shutdown(std::net::Shutdown::Write);
    let _ = s.read(&mut [0u8; 256]);
}

/// Run one command line: its exit code (143 for our SIGTERM), or what
/// was wrong with it.
fn run_one(args: &[Vec<u8>], server: bool, dir: &Path) -> Result<i32, String> {
    let ready = dir.join("ready");
    let _ = std::fs::remove_file(&ready);
    let stderr_path = dir.join("stderr");
    let mut cmd = wirecat();
    for a in args {
        cmd.arg(std::ffi::OsStr::from_bytes(a));
    }
    if server {
        cmd.arg("--ready-file").arg(&ready);
    }
    let mut child = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + BOUND;
    let mut stopped = false;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if server && !stopped {
            if let Ok(addr) = std::fs::read_to_string(&ready) {
                if !addr.trim().is_empty() {
                    poke(addr.trim());
                    // SAFETY: kill(2) takes no pointers; our own child.
                    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
                    stopped = true;
                    break wait_until(&mut child, Instant::now() + BOUND);
                }
            }
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        let what = if stopped { "after SIGTERM" } else { "" };
        return Err(format!("still running {what} after {BOUND:?}"));
    };
    let stderr = std::fs::read(&stderr_path).unwrap_or_default();
    check(status, &stderr, stopped).map_err(|why| {
        format!(
            "{why}; {status}; stderr: {:?}",
            String::from_utf8_lossy(&stderr)
        )
    })
}

/// The argv as a shell would take it (for the failure message).
fn shell_words(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| format!("$'{}'", a.escape_ascii().to_string().replace('\'', "\\'")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn random_command_lines_end_in_time_with_a_spec_exit_code_and_one_line_errors() {
    let runs: usize = std::env::var("WIRECAT_ARGV_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400);
    let seed: u64 = std::env::var("WIRECAT_ARGV_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junk"), b"\x00\xff-----BEGIN\n").unwrap();
    std::fs::write(dir.path().join("rules"), b"# none\n").unwrap();
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut codes = std::collections::BTreeMap::new();
    for run in 0..runs {
        let (args, server) = argv(&mut rng, dir.path());
        match run_one(&args, server, dir.path()) {
            Ok(code) => *codes.entry(code).or_insert(0) += 1,
            Err(why) => failures.push(format!("run {run}: wirecat {}: {why}", shell_words(&args))),
        }
    }
    eprintln!(
        "random argv: {runs} runs, seed {seed}, {:.1}s, exit codes {codes:?}, {} failures",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "seed {seed} (WIRECAT_ARGV_SEED={seed} WIRECAT_ARGV_RUNS={runs} to repeat):\n{}",
        failures.join("\n")
    );
}
