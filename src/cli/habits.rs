//! nc, ncat and curl habits: a flag clap does not know, given where nc or
//! ncat would take it, gets one line naming the wirecat way instead of
//! clap's generic "unexpected argument" (still a usage error, exit 2).
//!
//! Only what clap refused is looked at, so a flag that means something
//! here (`listen -k`, `isip -q`) never reaches this table.
//!
//! Every other usage error clap finds is put on one line too, in the shape
//! of wirecat's own errors: `wirecat: <what> (hint: <clap's tip>; usage: …)`.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// The one-line hint for a command line clap refused, if it is a habit we
/// know; `argv` is the whole command line, the program first.
pub fn habit_hint(err: &clap::Error, argv: &[String]) -> Option<String> {
    let command = argv
        .get(1)
        .map(String::as_str)
        .and_then(command_name)
        .unwrap_or("");
    match err.kind() {
        ErrorKind::UnknownArgument => {
            let flag = context(err, ContextKind::InvalidArg)?;
            let flag = flag.split('=').next().unwrap_or(&flag).to_string();
            let line = match command {
                "" => top_level(&flag, &argv[1..]),
                _ => in_command(command, &flag, value_after(argv, &flag))?,
            };
            Some(format!("wirecat: {line}"))
        }
        // `wirecat host 80`: nc's form, without the command. A typo of a
        // command name keeps clap's own "similar subcommand" tip.
        ErrorKind::InvalidSubcommand
            if context(err, ContextKind::SuggestedSubcommand).is_none() =>
        {
            let first = context(err, ContextKind::InvalidSubcommand)?;
            let rest = argv[1..].join(" ");
            Some(format!(
                "wirecat: {first:?} is not a command (nc's `nc HOST PORT` form); use `wirecat connect {rest}`"
            ))
        }
        _ => None,
    }
}

/// Clap's usage error on one line: its message (the first paragraph, items
/// joined), then its tips and the usage line as the hint. None for what is
/// not an error (`--help`, `--version`) or is answered with the help text
/// (`wirecat` alone).
pub fn usage_line(err: &clap::Error) -> Option<String> {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    let text = err.render().to_string();
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .collect();
    let message = message.join(" ");
    let mut hints: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .map(String::from)
        .collect();
    hints.extend(
        text.lines()
            .find_map(|l| l.strip_prefix("Usage: "))
            .map(|u| format!("usage: {u}")),
    );
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    Some(match hints.is_empty() {
        true => format!("wirecat: {message}"),
        false => format!("wirecat: {message} (hint: {})", hints.join("; ")),
    })
}

/// The command a first word names (aliases included).
fn command_name(word: &str) -> Option<&'static str> {
    Some(match word {
        "connect" | "c" => "connect",
        "listen" | "l" => "listen",
        "echo" => "echo",
        "pipe" => "pipe",
        "isip" => "isip",
        _ => return None,
    })
}

fn context(err: &clap::Error, kind: ContextKind) -> Option<String> {
    match err.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        _ => None,
    }
}

/// The value given to `flag`: the next word, or what follows it in the same
/// word (`-w3`, `--idle-timeout=5`).
fn value_after(argv: &[String], flag: &str) -> String {
    let at = argv.iter().position(|a| a.starts_with(flag));
    let Some(at) = at else {
        return "N".to_string();
    };
    let attached = argv[at][flag.len()..].trim_start_matches('=');
    if !attached.is_empty() {
        return attached.to_string();
    }
    argv.get(at + 1)
        .filter(|v| !v.starts_with('-'))
        .cloned()
        .unwrap_or_else(|| "N".to_string())
}

/// A flag before any command: nc's `nc -l PORT` or `nc -v HOST PORT`.
fn top_level(flag: &str, args: &[String]) -> String {
    let listens = args.iter().any(|a| {
        a == "--listen" || (a.starts_with('-') && !a.starts_with("--") && a.contains('l'))
    });
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if listens {
        let port = words.last().copied().unwrap_or("PORT");
        let keep = if args
            .iter()
            .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('k'))
        {
            "-k "
        } else {
            ""
        };
        return format!("-l is nc's listen flag; use `wirecat listen {keep}{port}`");
    }
    if flag.starts_with("--") {
        return format!(
            "{flag} before a command; flags go after it: `wirecat connect|listen|echo|pipe|isip {flag} …`"
        );
    }
    format!(
        "{flag} before a command is nc's form; use `wirecat connect [FLAGS] {}` (flags after the command)",
        words.join(" ")
    )
}

/// A flag a command does not take: the wirecat way, if it is a habit.
fn in_command(command: &str, flag: &str, value: String) -> Option<String> {
    let server = matches!(command, "listen" | "echo" | "pipe");
    let why = match (command, flag) {
        ("connect", "-w") => format!(
            "-w is nc's connect timeout; use `--connect-timeout {value}s` (and `--timeout {value}s` for idle; `--wait {value}` retries until the target accepts)"
        ),
        (_, "-w") if server => format!("-w is nc's timeout; use `--timeout {value}s` (idle)"),
        (_, "-q") => format!(
            "-q is nc's quit-after-EOF; use `--linger {value}` (wirecat sends FIN at stdin's EOF, then gives the peer that long to end)"
        ),
        (_, "-N") => {
            "-N is nc's shutdown-after-EOF, which wirecat does by default (FIN at stdin's EOF); drop it (`--no-shutdown` holds the FIN back)".into()
        }
        (_, "-u" | "--udp") => {
            format!("{flag} is nc's UDP flag; wirecat speaks TCP, TLS and Unix stream sockets only")
        }
        (_, "-x" | "-X") => format!(
            "{flag} is nc's proxy flag; use `--proxy socks5h://HOST:PORT` (socks5://, socks4://, socks4a://, or http:// for CONNECT), on connect and on pipe's target; for ncat's -x FILE hex dump use `--hex > FILE`"
        ),
        (_, "--proxy") => "--proxy is for connect and for pipe's target".into(),
        ("connect", "-e" | "--exec") => {
            "-e runs a program for each accepted connection: use `wirecat listen PORT --exec CMD`".into()
        }
        ("connect", "-c" | "--sh-exec") => {
            "-c runs a shell command for each accepted connection: use `wirecat listen PORT --sh-exec CMD`".into()
        }
        ("connect", "-k" | "--keep-open") => {
            "-k keeps a server open: use `wirecat listen -k PORT`; to retry connecting, `--wait SECS`".into()
        }
        ("connect", "-l" | "--listen") => "-l is nc's listen flag; use `wirecat listen PORT`".into(),
        ("connect", "-p" | "--source-port") => {
            format!("{flag} is nc's source port; use `--local-port {value}` (the target's port goes after the host)")
        }
        ("connect", "-s" | "--source") => format!("{flag} is nc's source address; use `--local-address {value}`"),
        (_, "-p") if server => format!("-p is nc's listen port; give it as the address: `wirecat {command} {value}`"),
        (_, "-s") if server => format!("-s is nc's listen address; give it as the address: `wirecat {command} {value}:PORT`"),
        (_, "-l" | "--listen") if server => format!("-l is not needed: `wirecat {command}` listens"),
        (_, "-z") if server => "-z is connect's port check: `wirecat connect -z HOST PORTS`".into(),
        (_, "-n" | "--nodns") => format!("{flag} is nc's no-DNS flag; an IP address is never looked up here; drop it"),
        (_, "-C") => "-C is nc's CRLF flag; use `--crlf`".into(),
        (_, "-t" | "--telnet") => format!("{flag} is nc's telnet negotiation, which wirecat does not do; `--crlf` sends CRLF line ends"),
        (_, "-d") => "-d is nc's no-stdin flag; use `--recv-only`".into(),
        (_, "-i" | "--idle-timeout") => format!("{flag} is ncat's idle timeout; use `--timeout {value}s`"),
        (_, "-U" | "--unixsock") => format!("{flag}: give the socket's path as the address (`/tmp/app.sock` or `unix:PATH`)"),
        (_, "-o" | "--output" | "--hex-dump") => format!("{flag}: redirect stdout instead (`> FILE`; `--hex` for a dump)"),
        (_, "--ssl") => "--ssl is ncat's; use `--tls`".into(),
        (_, "--ssl-cert") => "--ssl-cert is ncat's; use `--cert`".into(),
        (_, "--ssl-key") => "--ssl-key is ncat's; use `--key`".into(),
        (_, "--ssl-trustfile") => "--ssl-trustfile is ncat's; use `--ca`".into(),
        (_, "--ssl-alpn") => "--ssl-alpn is ncat's; use `--alpn`".into(),
        (_, "--ssl-servername") => "--ssl-servername is ncat's; use `--servername`".into(),
        (_, "--ssl-verify") => "--ssl-verify is ncat's; with --tls wirecat always verifies (unless --insecure)".into(),
        (_, "--max-conns") => format!("--max-conns is ncat's; use `--max-connections {value}`"),
        (_, "-m") if server => format!("-m is ncat's connection limit; use `--max-connections {value}`"),
        ("pipe", "--servername" | "--insecure" | "--pin-sha256") => format!(
            "the LISTEN side is a TLS server, and {flag} is for a client; for the connection to TARGET use --target-{}",
            &flag[2..]
        ),
        ("listen" | "echo", "--servername" | "--insecure" | "--pin-sha256") => {
            format!("{flag} is a TLS client's flag (`wirecat connect`); {command} is a TLS server")
        }
        ("connect", "--sni" | "--require-client-cert") => {
            format!("{flag} is a TLS server's flag (`listen`, `echo`, `pipe`); connect is a client")
        }
        ("echo", "--hex" | "--crlf" | "--recv-only" | "--send-only" | "--allow-half-open") => format!(
            "{flag} is for connect and listen; echo sends every byte back as it came and ends after the client's FIN"
        ),
        ("pipe", "--hex" | "--crlf" | "--recv-only" | "--send-only" | "--allow-half-open" | "--reset") => format!(
            "{flag} is for connect and listen; pipe passes bytes, FIN and resets through unchanged"
        ),
        _ => return None,
    };
    Some(why)
}
