//! The command line: one `Args` struct per command, shared flag groups
//! flattened in, doc comments as the help text.
//!
//! Flags carry the names of the Node `net` options they stand for
//! (`--allow-half-open` is `allowHalfOpen`), so a Node user finds them by
//! name; SPEC.md's tables are the source of every flag here.

// The doc comments are clap's plain-text help: `[v6]:port` is an address
// form, not a link.
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::net::blocklist::RuleArg;
use crate::net::resolve::Resolve;
use crate::progress::ProgressWhen;

mod habits;
mod tls;
mod values;

pub use habits::{habit_hint, usage_line};
pub use tls::{ClientTlsFlags, ServerTlsFlags, TargetTlsArgs};
use values::{parse_command, parse_keepalive};
pub use values::{parse_escapes, parse_ms, parse_secs};

/// A command-line networking tool with the semantics of Node's `net` module.
///
/// Data goes to stdout, events (`-v`, `--json`) to stderr.
#[derive(Debug, Parser)]
#[command(name = "wirecat", version, about, propagate_version = true)]
// The exit-code line is written from the one table of exit codes.
#[command(after_help = crate::exit::help_line())]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// [`Cli`] from `argv`, as `Cli::try_parse_from`, but quicker to start
/// where it can be: `wirecat isip`, which scripts run once per input,
/// builds only its own subcommand (building all of them was a third of
/// its start-up), and the parser's tree is not taken apart at the end
/// (the process exits soon; that was another tenth).
pub fn try_parse(argv: &[String]) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let mut cmd = match argv.get(1).map(String::as_str) {
        Some("isip") => isip_only(),
        _ => Cli::command(),
    };
    let parsed = cmd
        .try_get_matches_from_mut(argv)
        .and_then(|m| Cli::from_arg_matches(&m));
    std::mem::forget(cmd);
    parsed
}

/// The parser of [`Cli`] with only `isip` in it (a test holds its help to
/// the full parser's).
fn isip_only() -> clap::Command {
    clap::Command::new("wirecat")
        .version(env!("CARGO_PKG_VERSION"))
        .about("A command-line networking tool with the semantics of Node's `net` module.")
        .propagate_version(true)
        .after_help(crate::exit::help_line())
        .subcommand_required(true)
        .subcommand(IsipArgs::augment_args(clap::Command::new("isip").about(
            "Classify strings as IPv4 / IPv6 / not an IP (net.isIP), or filter by rules",
        )))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open one connection and bridge it to stdin/stdout (net.connect)
    #[command(visible_alias = "c")]
    Connect(ConnectArgs),
    /// Accept a connection (or many with -k) and bridge it to stdin/stdout (server.listen)
    #[command(visible_alias = "l")]
    Listen(ListenArgs),
    /// Echo server: every connection receives its own bytes back (c.pipe(c))
    Echo(EchoArgs),
    /// Relay: accept on LISTEN, connect each connection to TARGET, copy both ways
    Pipe(Box<PipeArgs>),
    /// Classify strings as IPv4 / IPv6 / not an IP (net.isIP), or filter by rules
    Isip(IsipArgs),
    /// Write shell completions and man pages (for packagers)
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// How events reach stderr.
#[derive(Debug, Clone, Args)]
pub struct EventArgs {
    /// Print Node's events (lookup, connect, end, close, …) on stderr for people
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print events on stderr as one JSON object per line
    #[arg(long)]
    pub json: bool,
    /// Show progress on stderr (bytes, rates, ETA; servers: connections and bytes), and a
    /// summary line when done: `auto` (the default when given) only on a terminal, `always`
    /// even when stderr is not one
    #[arg(long, value_name = "WHEN", num_args = 0..=1, require_equals = true,
          default_missing_value = "auto")]
    pub progress: Option<ProgressWhen>,
}

// Spelt as `--progress=WHEN` takes them; the type is the progress line's.
impl ValueEnum for ProgressWhen {
    fn value_variants<'a>() -> &'a [ProgressWhen] {
        &[ProgressWhen::Auto, ProgressWhen::Always]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            ProgressWhen::Auto => "auto",
            ProgressWhen::Always => "always",
        }))
    }
}

/// Socket options of every command that opens sockets.
#[derive(Debug, Clone, Args)]
pub struct SocketArgs {
    /// keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1
    #[arg(long, value_name = "MS", num_args = 0..=1, require_equals = true,
          default_missing_value = "0", value_parser = parse_keepalive)]
    pub keepalive: Option<Duration>,
    /// noDelay: disable Nagle's algorithm (TCP_NODELAY)
    #[arg(long)]
    pub nodelay: bool,
    /// setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4
    #[arg(long, value_name = "MS", value_parser = parse_ms)]
    pub timeout: Option<Duration>,
    /// family: only IPv4
    #[arg(short = '4', conflicts_with_all = ["ipv6", "family"])]
    pub ipv4: bool,
    /// family: only IPv6
    #[arg(short = '6', conflicts_with = "family")]
    pub ipv6: bool,
    /// family: 0 (any), 4 or 6
    #[arg(long, value_name = "0|4|6")]
    pub family: Option<Family>,
}

/// `--family`: Node's `family` option, written as Node writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Family {
    #[value(name = "0")]
    Any,
    #[value(name = "4")]
    V4,
    #[value(name = "6")]
    V6,
}

/// How one connection meets stdin and stdout (`connect`, `listen`): the
/// half-close rule, which directions flow, and what is done to the bytes.
#[derive(Debug, Clone, Args)]
pub struct StdioArgs {
    /// allowHalfOpen: after the peer's FIN, keep sending stdin until its EOF
    #[arg(long)]
    pub allow_half_open: bool,
    /// readable=false: read nothing from stdin and never half-close
    #[arg(long, conflicts_with = "send_only")]
    pub recv_only: bool,
    /// writable=false: send stdin, discard what arrives
    #[arg(long)]
    pub send_only: bool,
    /// Turn LF into CRLF on the way out (telnet habit)
    #[arg(long, conflicts_with = "recv_only")]
    pub crlf: bool,
    /// Show received bytes as a hex dump on stdout
    #[arg(long, conflicts_with = "send_only")]
    pub hex: bool,
    /// After stdin's EOF, give the peer at most SECS (or 500ms, 2m) to end its side, then close; exit 0 (nc's -q)
    #[arg(long, value_name = "SECS", value_parser = parse_secs, conflicts_with = "recv_only")]
    pub linger: Option<Duration>,
    /// Send no FIN at stdin's EOF: end only at the peer's FIN, --linger or --timeout (ncat's --no-shutdown)
    #[arg(long, conflicts_with = "recv_only")]
    pub no_shutdown: bool,
    #[command(flatten)]
    pub end: ResetArgs,
}

/// `resetAndDestroy()`, for the commands that end their own connections
/// (`connect`, `listen`, `echo`; `pipe` passes each side's ending on).
#[derive(Debug, Clone, Args)]
pub struct ResetArgs {
    /// resetAndDestroy(): close with RST instead of FIN
    #[arg(long)]
    pub reset: bool,
}

/// Client-side options: how to reach the target.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// localAddress: the address to connect from
    #[arg(long, value_name = "ADDR")]
    pub local_address: Option<std::net::IpAddr>,
    /// localPort: the port to connect from
    #[arg(long, value_name = "PORT")]
    pub local_port: Option<u16>,
    /// lookup: answer HOST with ADDR instead of asking DNS; HOST:PORT:ADDR (curl's form) only for that port (repeatable; ADDR may be a list: A,B)
    #[arg(long, value_name = "HOST[:PORT]:ADDR")]
    pub resolve: Vec<Resolve>,
    /// autoSelectFamily=false: try addresses one at a time, no Happy Eyeballs
    #[arg(long)]
    pub no_auto_select_family: bool,
    /// autoSelectFamilyAttemptTimeout: milliseconds (or 1s, …) before the next address is tried
    #[arg(long, value_name = "MS", default_value = "250", value_parser = parse_ms)]
    pub attempt_timeout: Duration,
    /// Give up connecting after MS milliseconds (or 500ms, 5s, 2m; exit 4)
    #[arg(long, value_name = "MS", value_parser = parse_ms)]
    pub connect_timeout: Option<Duration>,
    /// Reach TCP targets through a proxy: socks5://, socks5h:// (the proxy resolves), socks4://, socks4a:// or http:// (CONNECT), as curl spells them; [USER:PASS@]HOST[:PORT], port 1080 by default
    #[arg(long, value_name = "URL")]
    pub proxy: Option<crate::net::proxy::Proxy>,
    /// Credentials for --proxy (instead of USER:PASS@ in its URL; never shown in events)
    #[arg(long, value_name = "USER:PASS", requires = "proxy")]
    pub proxy_user: Option<String>,
}

/// Options of every server (`listen`, `echo`, `pipe`).
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// backlog: length of the pending-connection queue
    #[arg(long, value_name = "N", default_value_t = 511)]
    pub backlog: i32,
    /// ipv6Only: do not accept IPv4 on an IPv6 socket
    #[arg(long)]
    pub ipv6_only: bool,
    /// exclusive: no SO_REUSEPORT sharing (SO_REUSEADDR is always set)
    #[arg(long)]
    pub exclusive: bool,
    /// readableAll: make the Unix socket readable by everyone
    #[arg(long)]
    pub readable_all: bool,
    /// writableAll: make the Unix socket writable by everyone
    #[arg(long)]
    pub writable_all: bool,
    /// maxConnections: close connections over N at once (a `drop` event)
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Write the bound address to PATH (atomically) once accepting
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
    /// Run N accept loops on N threads (SO_REUSEPORT), the multi-task server [default: 1, as Node]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,
    /// BlockList: admit only peers inside RULE (address, START-END, NET/PREFIX, @FILE of one or more; repeatable)
    #[arg(long, value_name = "RULE", value_parser = crate::net::blocklist::allow_rule)]
    pub allow: Vec<RuleArg>,
    /// BlockList: close peers inside RULE before reading or writing a byte (repeatable)
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<RuleArg>,
}

/// What a child given the connection (`--exec`) makes meaningless: the
/// child, not wirecat, reads and writes the bytes and ends the connection.
const NOT_WITH_EXEC: [&str; 10] = [
    "allow_half_open",
    "linger",
    "no_shutdown",
    "recv_only",
    "send_only",
    "crlf",
    "hex",
    "reset",
    "timeout",
    "progress",
];

/// What `-z` (connect, then close at once) makes meaningless.
const NOT_WITH_ZERO_IO: [&str; 21] = [
    "wait",
    "send",
    "expect",
    "allow_half_open",
    "recv_only",
    "send_only",
    "crlf",
    "hex",
    "reset",
    "timeout",
    "progress",
    "tls",
    "servername",
    "insecure",
    "ca",
    "cert",
    "key",
    "alpn",
    "key_password_file",
    "tls_min",
    "tls_max",
];

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// host:port, [v6]:port, tcp://, tls://, a Unix socket path, unix:@name, a port alone, or fd:N / fd:systemd (an inherited connection)
    pub target: String,
    /// The port, when TARGET is a host name alone (the `nc HOST PORT` habit); a list or range with -z
    pub port: Option<String>,
    /// Retry for up to SECS seconds (or 500ms, 2m) until the name resolves and the target accepts (wait-for-port)
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub wait: Option<Duration>,
    /// Only check which ports are open (PORT may be a list or range: 22,80,8000-8010)
    #[arg(short = 'z', long = "zero-io", conflicts_with_all = NOT_WITH_ZERO_IO)]
    pub zero_io: bool,
    /// Send TEXT instead of stdin (escapes \r \n \t \0 \e \\ \xHH are understood, as for echo --banner)
    #[arg(long, value_name = "TEXT", value_parser = parse_escapes, conflicts_with = "recv_only")]
    pub send: Option<Bytes>,
    /// Succeed once received data matches REGEX (exit 1 if the connection ends first)
    #[arg(long, value_name = "REGEX")]
    pub expect: Option<String>,
    /// Outbound BlockList: never connect to an address inside RULE (repeatable, or @FILE)
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<RuleArg>,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub socket: SocketArgs,
    #[command(flatten)]
    pub stdio: StdioArgs,
    #[command(flatten)]
    pub tls: ClientTlsFlags,
    #[command(flatten)]
    pub events: EventArgs,
}

#[derive(Debug, Args)]
// One connection is served by one accept loop.
#[command(mut_arg("workers", |a| a.requires("keep_open")))]
pub struct ListenArgs {
    /// Where to listen: a port, host:port, [v6]:port, a Unix socket path, unix:@name, fd:N, fd:systemd (a listening socket, or one inherited connection)
    #[arg(default_value = "0")]
    pub address: String,
    /// Keep serving after the first connection (stdin goes to every open connection)
    #[arg(short = 'k', long)]
    pub keep_open: bool,
    /// pauseOnConnect: hand each connection, unread, to CMD as its stdin/stdout (no shell); with --tls, CMD gets the plaintext
    #[arg(short = 'e', long, value_name = "CMD", conflicts_with = "sh_exec",
          conflicts_with_all = NOT_WITH_EXEC, value_parser = parse_command)]
    pub exec: Option<String>,
    /// As --exec, but CMD is run by /bin/sh -c
    #[arg(short = 'c', long, value_name = "CMD", conflicts_with_all = NOT_WITH_EXEC,
          value_parser = parse_command)]
    pub sh_exec: Option<String>,
    /// Relay each client's bytes to every other client (and to stdout; stdin goes to all), dropping a client that does not read (ncat's --broker; implies -k)
    #[arg(long, conflicts_with_all = ["exec", "sh_exec"])]
    pub broker: bool,
    /// --broker in lines, each prefixed with its sender's name (userN), joins and leaves announced (ncat's --chat)
    #[arg(long, conflicts_with_all = ["exec", "sh_exec"])]
    pub chat: bool,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub socket: SocketArgs,
    #[command(flatten)]
    pub stdio: StdioArgs,
    #[command(flatten)]
    pub tls: ServerTlsFlags,
    #[command(flatten)]
    pub events: EventArgs,
}

#[derive(Debug, Args)]
pub struct EchoArgs {
    /// Where to listen (as for `listen`)
    #[arg(default_value = "0")]
    pub address: String,
    /// Serve one connection, then exit
    #[arg(long, conflicts_with = "workers")]
    pub once: bool,
    /// Send TEXT to each connection first (escapes \r \n \t \0 \e \\ \xHH are understood)
    #[arg(long, value_name = "TEXT", value_parser = parse_escapes)]
    pub banner: Option<Bytes>,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub socket: SocketArgs,
    #[command(flatten)]
    pub end: ResetArgs,
    #[command(flatten)]
    pub tls: ServerTlsFlags,
    #[command(flatten)]
    pub events: EventArgs,
}

#[derive(Debug, Args)]
pub struct PipeArgs {
    /// Where to accept connections
    pub listen: String,
    /// Where to connect each accepted connection
    pub target: String,
    /// Serve one connection, then exit
    #[arg(long, conflicts_with = "workers")]
    pub once: bool,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub socket: SocketArgs,
    // The LISTEN side: --tls (or tls:// LISTEN) terminates TLS from clients.
    #[command(flatten)]
    pub tls: ServerTlsFlags,
    #[command(flatten)]
    pub target_tls: TargetTlsArgs,
    #[command(flatten)]
    pub events: EventArgs,
}

#[derive(Debug, Args)]
pub struct IsipArgs {
    /// Strings to classify; with none, lines are read from stdin
    pub input: Vec<String>,
    /// isIPv4: print true/false
    #[arg(long, conflicts_with = "v6")]
    pub v4: bool,
    /// isIPv6: print true/false
    #[arg(long)]
    pub v6: bool,
    /// Print nothing; answer by exit code
    #[arg(short, long)]
    pub quiet: bool,
    /// Print one JSON object per input
    #[arg(long)]
    pub json: bool,
    /// Print the inputs that are IPs inside RULE (address, START-END, NET/PREFIX, @FILE; repeatable)
    #[arg(long = "in", value_name = "RULE")]
    pub rules: Vec<String>,
    /// With --in, print the inputs that are not inside the rules
    #[arg(long, requires = "rules")]
    pub invert: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write completions/ and man/ into
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}

#[cfg(test)]
mod fast_parse {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn isip_alone_parses_and_helps_as_the_full_parser() {
        let mut full = Cli::command();
        let mut alone = isip_only();
        let want = full
            .find_subcommand_mut("isip")
            .unwrap()
            .render_long_help()
            .to_string();
        let got = alone
            .find_subcommand_mut("isip")
            .unwrap()
            .render_long_help()
            .to_string();
        assert_eq!(got, want);
        let argv: Vec<String> = ["wirecat", "isip", "--v4", "1.2.3.4"]
            .map(String::from)
            .into();
        let cli = try_parse(&argv).unwrap();
        assert!(matches!(cli.command, Command::Isip(_)));
        let argv: Vec<String> = ["wirecat", "isip", "--nope"].map(String::from).into();
        assert_eq!(
            try_parse(&argv).unwrap_err().kind(),
            clap::error::ErrorKind::UnknownArgument
        );
    }
}
