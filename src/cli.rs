//! The command line: one `Args` struct per command, shared flag groups
//! flattened in, doc comments as the help text.
//!
//! Flags carry the names of the Node `net` options they stand for
//! (`--allow-half-open` is `allowHalfOpen`), so a Node user finds them by
//! name; SPEC.md's tables are the source of every flag here.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::net::blocklist::RuleArg;
use crate::net::resolve::Resolve;
use crate::net::tls::Sha256Pin;

/// A command-line networking tool with the semantics of Node's `net` module.
///
/// Data goes to stdout, events (`-v`, `--json`) to stderr.
#[derive(Debug, Parser)]
#[command(name = "wirecat", version, about, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 ok, 1 connection failed/broke, 2 usage, 3 TLS, \
4 timeout, 5 could not listen, 6 name resolution, 130 SIGINT, 143 SIGTERM or SIGHUP (see wirecat(1): EXIT STATUS)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
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
          default_missing_value = "auto", value_parser = ["auto", "always"])]
    pub progress: Option<String>,
}

impl EventArgs {
    /// Whether progress should be drawn, given where stderr goes.
    pub fn progress_wanted(&self) -> bool {
        use std::io::IsTerminal;
        match self.progress.as_deref() {
            Some("always") => true,
            Some(_) => std::io::stderr().is_terminal(),
            None => false,
        }
    }
}

/// Socket options shared by every command that opens sockets.
#[derive(Debug, Clone, Args)]
pub struct SocketArgs {
    /// allowHalfOpen: after the peer's FIN, keep sending stdin until its EOF
    #[arg(long)]
    pub allow_half_open: bool,
    /// keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay), TCP_KEEPCNT=10, TCP_KEEPINTVL=1
    #[arg(long, value_name = "MS", num_args = 0..=1, require_equals = true, default_missing_value = "0")]
    pub keepalive: Option<u64>,
    /// noDelay: disable Nagle's algorithm (TCP_NODELAY)
    #[arg(long)]
    pub nodelay: bool,
    /// setTimeout(): idle timeout in milliseconds; emit `timeout`, end the connection, exit 4
    #[arg(long, value_name = "MS", value_parser = parse_ms)]
    pub timeout: Option<Duration>,
    /// family: only IPv4
    #[arg(short = '4', conflicts_with_all = ["ipv6", "family"])]
    pub ipv4: bool,
    /// family: only IPv6
    #[arg(short = '6', conflicts_with = "family")]
    pub ipv6: bool,
    /// family: 0 (any), 4 or 6
    #[arg(long, value_name = "0|4|6", value_parser = ["0", "4", "6"])]
    pub family: Option<String>,
    /// readable=false: read nothing from stdin and never half-close
    #[arg(long, conflicts_with = "send_only")]
    pub recv_only: bool,
    /// writable=false: send stdin, discard what arrives
    #[arg(long)]
    pub send_only: bool,
    /// resetAndDestroy(): close with RST instead of FIN
    #[arg(long)]
    pub reset: bool,
    /// Turn LF into CRLF on the way out (telnet habit)
    #[arg(long)]
    pub crlf: bool,
    /// Show received bytes as a hex dump on stdout
    #[arg(long)]
    pub hex: bool,
}

impl SocketArgs {
    /// The address family asked for: 0 (any), 4 or 6.
    pub fn family(&self) -> u8 {
        if self.ipv4 {
            4
        } else if self.ipv6 {
            6
        } else {
            self.family.as_deref().map_or(0, |f| f.parse().unwrap_or(0))
        }
    }
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
    /// lookup: answer HOST with ADDR instead of asking DNS (repeatable, like curl's --resolve)
    #[arg(long, value_name = "HOST:ADDR")]
    pub resolve: Vec<Resolve>,
    /// autoSelectFamily=false: try addresses one at a time, no Happy Eyeballs
    #[arg(long)]
    pub no_auto_select_family: bool,
    /// autoSelectFamilyAttemptTimeout: ms before the next address is tried
    #[arg(long, value_name = "MS", default_value = "250", value_parser = parse_ms)]
    pub attempt_timeout: Duration,
    /// Give up connecting after MS milliseconds (exit 4)
    #[arg(long, value_name = "MS", value_parser = parse_ms)]
    pub connect_timeout: Option<Duration>,
}

/// TLS options (client and server).
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// Speak TLS (also implied by tls://)
    #[arg(long)]
    pub tls: bool,
    /// Client: SNI server name (default: the host, when it is a name)
    #[arg(long, value_name = "NAME")]
    pub servername: Option<String>,
    /// Trust anchors (PEM); server: the CA for client certificates
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Client: do not verify the server's certificate (warned every time)
    #[arg(long)]
    pub insecure: bool,
    /// Client: trust exactly the certificate with this SHA-256 fingerprint (AB:CD:…, colons
    /// optional, as a self-signed server prints it and `openssl x509 -fingerprint -sha256`
    /// shows it) instead of a CA; implies --tls
    #[arg(long, value_name = "FP", conflicts_with_all = ["insecure", "ca"])]
    pub pin_sha256: Option<Sha256Pin>,
    /// Certificate chain (PEM)
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// ALPN protocol to offer or accept (repeatable)
    #[arg(long, value_name = "PROTO")]
    pub alpn: Vec<String>,
    /// Lowest TLS version allowed
    #[arg(long, value_name = "1.2|1.3", value_parser = ["1.2", "1.3"])]
    pub tls_min: Option<String>,
    /// Highest TLS version allowed (1.2 to test or reach old peers)
    #[arg(long, value_name = "1.2|1.3", value_parser = ["1.2", "1.3"])]
    pub tls_max: Option<String>,
    /// Password of an encrypted PKCS#8 --key (first line of FILE)
    #[arg(long, value_name = "FILE")]
    pub key_password_file: Option<PathBuf>,
    /// Server: serve CERT/KEY to clients asking for NAME (repeatable; --cert/--key is the default)
    #[arg(long, value_name = "NAME=CERT,KEY")]
    pub sni: Vec<SniCert>,
    /// Server: refuse clients without a certificate issued by --ca (mutual TLS)
    #[arg(long, requires = "ca")]
    pub require_client_cert: bool,
    /// Give up a TLS handshake not finished after MS milliseconds (so a silent client cannot hold a slot)
    #[arg(long, value_name = "MS", default_value = "10000", value_parser = parse_ms)]
    pub handshake_timeout: Duration,
}

impl Default for TlsArgs {
    /// TLS off, every option at its command-line default; what `pipe`'s
    /// target side and the tests start from.
    fn default() -> TlsArgs {
        TlsArgs {
            tls: false,
            servername: None,
            ca: None,
            insecure: false,
            pin_sha256: None,
            cert: None,
            key: None,
            alpn: Vec::new(),
            tls_min: None,
            tls_max: None,
            key_password_file: None,
            sni: Vec::new(),
            require_client_cert: false,
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// One `--sni NAME=CERT,KEY`: the certificate chain and key served to
/// clients whose SNI is NAME (EdgerOS `server.addcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SniCert {
    pub name: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl std::str::FromStr for SniCert {
    type Err = String;

    fn from_str(s: &str) -> Result<SniCert, String> {
        let expected = "expected NAME=CERT,KEY (e.g. example.com=example.pem,example.key)";
        let (name, files) = s
            .split_once('=')
            .ok_or_else(|| format!("{expected}, got {s:?}"))?;
        // A path may not contain ',' here: with two commas we cannot tell
        // which one separates the files, so say so rather than guess.
        let (cert, key) = match files.split(',').collect::<Vec<_>>()[..] {
            [cert, key] if !cert.is_empty() && !key.is_empty() => (cert, key),
            _ => return Err(format!("{expected}, got {s:?}")),
        };
        if name.is_empty() {
            return Err(format!("{expected}: the server name is empty"));
        }
        Ok(SniCert {
            name: name.to_ascii_lowercase(),
            cert: PathBuf::from(cert),
            key: PathBuf::from(key),
        })
    }
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

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// host:port, [v6]:port, tcp://, tls://, a Unix socket path, unix:@name, a port alone, or fd:N / fd:systemd (an inherited connection)
    pub target: String,
    /// The port, when TARGET is a host name alone (the `nc HOST PORT` habit); a list or range with -z
    pub port: Option<String>,
    /// Retry for up to SECS seconds until the target accepts (wait-for-port)
    #[arg(long, value_name = "SECS")]
    pub wait: Option<f64>,
    /// Only check which ports are open (PORT may be a list or range: 22,80,8000-8010)
    #[arg(short = 'z', long = "zero-io")]
    pub zero_io: bool,
    /// Send TEXT instead of stdin
    #[arg(long, value_name = "TEXT")]
    pub send: Option<String>,
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
    pub tls: TlsArgs,
    #[command(flatten)]
    pub events: EventArgs,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where to listen: a port, host:port, [v6]:port, a Unix socket path, unix:@name, fd:N, fd:systemd (a listening socket, or one inherited connection)
    #[arg(default_value = "0")]
    pub address: String,
    /// Keep serving after the first connection (stdin goes to every open connection)
    #[arg(short = 'k', long)]
    pub keep_open: bool,
    /// pauseOnConnect: hand each connection, unread, to CMD as its stdin/stdout (no shell)
    #[arg(short = 'e', long, value_name = "CMD", conflicts_with = "sh_exec")]
    pub exec: Option<String>,
    /// As --exec, but CMD is run by /bin/sh -c
    #[arg(short = 'c', long, value_name = "CMD")]
    pub sh_exec: Option<String>,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub socket: SocketArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub events: EventArgs,
}

#[derive(Debug, Args)]
pub struct EchoArgs {
    /// Where to listen (as for `listen`)
    #[arg(default_value = "0")]
    pub address: String,
    /// Serve one connection, then exit
    #[arg(long)]
    pub once: bool,
    /// Send TEXT to each connection first (escapes such as \r\n, \t, \\ and \xHH are understood)
    #[arg(long, value_name = "TEXT")]
    pub banner: Option<String>,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub socket: SocketArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
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
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub socket: SocketArgs,
    // The LISTEN side: --tls (or tls:// LISTEN) terminates TLS from clients.
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub target_tls: TargetTlsArgs,
    #[command(flatten)]
    pub events: EventArgs,
}

/// `pipe`'s TARGET side: TLS originated towards the target. Any of these
/// (or tls:// TARGET) turns it on; `--handshake-timeout` bounds both sides.
#[derive(Debug, Clone, Args)]
pub struct TargetTlsArgs {
    /// Speak TLS to TARGET (also implied by tls:// TARGET and by any --target-* flag)
    #[arg(long)]
    pub target_tls: bool,
    /// Trust anchors (PEM) for the target's certificate (default: the system's roots)
    #[arg(long, value_name = "FILE")]
    pub target_ca: Option<PathBuf>,
    /// SNI server name sent to the target and checked in its certificate (default: TARGET's host)
    #[arg(long, value_name = "NAME")]
    pub target_servername: Option<String>,
    /// Do not verify the target's certificate (warned every time)
    #[arg(long)]
    pub target_insecure: bool,
    /// Trust exactly the target certificate with this SHA-256 fingerprint (as --pin-sha256)
    #[arg(long, value_name = "FP", conflicts_with_all = ["target_insecure", "target_ca"])]
    pub target_pin_sha256: Option<Sha256Pin>,
    /// Client certificate chain (PEM) presented to the target
    #[arg(long, value_name = "FILE", requires = "target_key")]
    pub target_cert: Option<PathBuf>,
    /// Private key of --target-cert (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE", requires = "target_cert")]
    pub target_key: Option<PathBuf>,
    /// ALPN protocol to offer the target (repeatable)
    #[arg(long, value_name = "PROTO")]
    pub target_alpn: Vec<String>,
    /// Lowest TLS version allowed towards the target
    #[arg(long, value_name = "1.2|1.3", value_parser = ["1.2", "1.3"])]
    pub target_tls_min: Option<String>,
    /// Highest TLS version allowed towards the target
    #[arg(long, value_name = "1.2|1.3", value_parser = ["1.2", "1.3"])]
    pub target_tls_max: Option<String>,
    /// Password of an encrypted PKCS#8 --target-key (first line of FILE)
    #[arg(long, value_name = "FILE", requires = "target_key")]
    pub target_key_password_file: Option<PathBuf>,
}

impl TargetTlsArgs {
    /// The client-side [`TlsArgs`] these flags stand for, bounded by the
    /// shared `--handshake-timeout`.
    pub fn client_args(&self, handshake_timeout: Duration) -> TlsArgs {
        let asked = self.target_tls
            || self.target_ca.is_some()
            || self.target_servername.is_some()
            || self.target_insecure
            || self.target_pin_sha256.is_some()
            || self.target_cert.is_some()
            || !self.target_alpn.is_empty()
            || self.target_tls_min.is_some()
            || self.target_tls_max.is_some();
        TlsArgs {
            tls: asked,
            servername: self.target_servername.clone(),
            ca: self.target_ca.clone(),
            insecure: self.target_insecure,
            pin_sha256: self.target_pin_sha256.clone(),
            cert: self.target_cert.clone(),
            key: self.target_key.clone(),
            alpn: self.target_alpn.clone(),
            tls_min: self.target_tls_min.clone(),
            tls_max: self.target_tls_max.clone(),
            key_password_file: self.target_key_password_file.clone(),
            handshake_timeout,
            ..TlsArgs::default()
        }
    }
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

/// Milliseconds as a `Duration`, with a message aimed at people.
pub fn parse_ms(s: &str) -> Result<Duration, String> {
    s.parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("expected a whole number of milliseconds, got {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn sni_flag_splits_name_cert_and_key() {
        let sni: SniCert = "A.Example=a.pem,a.key".parse().unwrap();
        assert_eq!(sni.name, "a.example");
        assert_eq!(sni.cert, PathBuf::from("a.pem"));
        assert_eq!(sni.key, PathBuf::from("a.key"));
        for bad in [
            "a.example",
            "a.example=a.pem",
            "=a.pem,a.key",
            "a=x,y,z",
            "a=,k",
        ] {
            assert!(bad.parse::<SniCert>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
