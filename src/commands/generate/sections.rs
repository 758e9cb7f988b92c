//! The man pages' sections that clap does not know: EXAMPLES, ENDPOINTS,
//! HALF-CLOSE, EXIT STATUS, ENVIRONMENT and SEE ALSO, the README's
//! sections of the same names, written once here as plain text and
//! rendered to roff. Each command's page has its own EXAMPLES and the
//! shared sections that apply to it; wirecat(1) has them all.

use std::fmt::Write;

/// A piece of a section.
enum Block {
    /// A paragraph, filled.
    Para(&'static str),
    /// Lines shown as written (commands, indented).
    Code(&'static str),
    /// A tagged paragraph: a term, then what it means.
    Item(&'static str, &'static str),
    /// An exit code and its meaning, from the one table in `exit.rs`.
    ExitCode(Exit),
}

use crate::exit::Exit;
use Block::{Code, ExitCode, Item, Para};

struct Section {
    title: &'static str,
    blocks: Vec<Block>,
}

/// The sections of the page of `command` (`None`: wirecat(1) itself),
/// rendered; `pages` are the names of every page generated, for SEE ALSO.
pub(super) fn render(command: Option<&str>, pages: &[String]) -> String {
    let mut out = String::new();
    for section in sections(command) {
        let _ = writeln!(out, ".SH \"{}\"", section.title);
        for block in &section.blocks {
            render_block(&mut out, block);
        }
    }
    let _ = writeln!(out, ".SH \"SEE ALSO\"\n{}", see_also(command, pages));
    out
}

fn render_block(out: &mut String, block: &Block) {
    match block {
        Para(text) => {
            let _ = writeln!(out, ".PP\n{}", escape(text));
        }
        Code(text) => {
            out.push_str(".PP\n.RS 4\n.nf\n");
            for line in text.lines() {
                let _ = writeln!(out, "{}", escape(line));
            }
            out.push_str(".fi\n.RE\n");
        }
        Item(term, text) => {
            let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", escape(term), escape(text));
        }
        ExitCode(exit) => {
            let term = exit.code().to_string();
            let _ = writeln!(out, ".TP\n\\fB{term}\\fR\n{}", escape(exit.meaning()));
        }
    }
}

/// Text as roff reads it literally: backslashes and hyphens escaped, and
/// a line that starts with a control character kept from being a request.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        if !out.is_empty() {
            out.push('\n');
        }
        if line.starts_with('.') || line.starts_with('\'') {
            out.push_str("\\&");
        }
        for c in line.chars() {
            match c {
                '\\' => out.push_str("\\e"),
                '-' => out.push_str("\\-"),
                c => out.push(c),
            }
        }
    }
    out
}

fn sections(command: Option<&str>) -> Vec<Section> {
    let sockets = !matches!(command, Some("isip"));
    let mut out = vec![Section {
        title: "EXAMPLES",
        blocks: examples(command),
    }];
    if sockets {
        out.push(Section {
            title: "ENDPOINTS",
            blocks: endpoints(),
        });
        out.push(Section {
            title: "HALF-CLOSE",
            blocks: half_close(),
        });
    }
    out.push(Section {
        title: "EXIT STATUS",
        blocks: exit_status(command),
    });
    out.push(Section {
        title: "ENVIRONMENT",
        blocks: environment(command),
    });
    out
}

fn examples(command: Option<&str>) -> Vec<Block> {
    match command {
        Some("connect") => vec![
            Para("Talk to a server; stdin's EOF sends FIN, and the reply still arrives."),
            Code(
                "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | wirecat connect example.com 80\n\
                 wirecat connect tls://example.com:443 --alpn http/1.1\n\
                 wirecat connect /tmp/app.sock\n\
                 wirecat connect --recv-only host 9000 > file",
            ),
            Para("Scripting: wait for a port, scan ports, a one-line smoke test."),
            Code(
                "wirecat connect --wait 30 localhost:5432 --send ''\n\
                 wirecat connect -z localhost 22,80,8000-8010\n\
                 wirecat connect localhost:6379 --send 'PING\\r\\n' --expect PONG",
            ),
            Para("TLS: trust exactly the certificate a server made at start, or check by CA."),
            Code(
                "wirecat connect --pin-sha256 1A:47:...:2B localhost 8443\n\
                 wirecat connect --ca ca.pem tls://localhost:8443",
            ),
            Para("A connection its parent made, passed as fd 3, bridged to stdin/stdout."),
            Code("wirecat connect fd:3"),
        ],
        Some("listen") => vec![
            Para("Receive a file (--recv-only: stdin is never read, so the whole file arrives); send one."),
            Code(
                "wirecat listen --recv-only 9000 > received.bin\n\
                 wirecat listen 9000 < file.bin",
            ),
            Para("Many clients, the address written to ./addr once the server accepts."),
            Code("wirecat listen -k 127.0.0.1:0 --ready-file addr -v"),
            Para("Hand each connection, unread, to a child; TLS with a certificate made at start."),
            Code(
                "wirecat listen -k 7000 --exec cat\n\
                 wirecat listen --tls 8443",
            ),
            Para("Socket activation, one wirecat per connection (systemd Accept=yes)."),
            Code("systemd-socket-activate -l 127.0.0.1:7000 -a wirecat listen fd:systemd"),
        ],
        Some("echo") => vec![
            Para("An echo server; with a banner, a connection limit and two accept loops; over TLS."),
            Code(
                "wirecat echo 8124\n\
                 wirecat echo 8124 --banner 'hello\\r\\n' --max-connections 1000 --workers 2\n\
                 wirecat echo --tls --cert srv.pem --key srv.key 7443",
            ),
            Para("systemd Accept=yes as systemd-socket-activate runs it, and inetd's way (the connection as stdin and stdout): one wirecat per connection."),
            Code(
                "systemd-socket-activate -l 127.0.0.1:7000 -a wirecat echo fd:systemd\n\
                 systemd-socket-activate -l 127.0.0.1:7000 -a --inetd wirecat echo fd:0",
            ),
        ],
        Some("pipe") => vec![
            Para("A port forwarder; expose a TCP service on a Unix socket."),
            Code(
                "wirecat pipe 8080 backend.internal:80\n\
                 wirecat pipe /tmp/db.sock 127.0.0.1:5432",
            ),
            Para("Terminate TLS in front of a plain service; originate TLS towards a TLS one."),
            Code(
                "wirecat pipe --tls --cert srv.pem --key srv.key 443 127.0.0.1:8080\n\
                 wirecat pipe 8080 tls://api.example.com:443",
            ),
        ],
        Some("isip") => vec![
            Para("Classify (4, 6 or 0 per input), or filter lines by rules."),
            Code(
                "wirecat isip 1.2.3.4 ::1 nope\n\
                 wirecat isip --in 10.0.0.0/8 --in @blocked.txt < access.log",
            ),
        ],
        _ => vec![
            Para("One example per command; each command's page has more."),
            Code(
                "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | wirecat connect example.com 80\n\
                 wirecat listen --recv-only 9000 > received.bin\n\
                 wirecat echo 8124\n\
                 wirecat pipe 8080 backend.internal:80\n\
                 wirecat isip 1.2.3.4 ::1 nope",
            ),
            Para("wirecat help COMMAND (or wirecat COMMAND --help) lists a command's flags."),
        ],
    }
}

fn endpoints() -> Vec<Block> {
    vec![
        Item("PORT", "a port: localhost when connecting, every interface when listening (:: dual-stack where IPv6 exists, else 0.0.0.0); port 0 when listening picks a free one"),
        Item("HOST:PORT, [IPv6]:PORT, HOST PORT", "a host name or address and a port (HOST PORT as two words on connect); tcp:// and tls:// prefixes, tls:// turning TLS on"),
        Item("PATH, unix:PATH", "a Unix socket: any argument with a / is a path"),
        Item("unix:@NAME", "a Linux abstract socket"),
        Item("\\\\.\\pipe\\NAME, npipe:NAME", "a Windows named pipe: not served yet (a clear error naming the platform)"),
        Item("fd:N, fd:systemd", "an inherited socket (fd:systemd: fd 3 when LISTEN_PID is this process and LISTEN_FDS is at least 1). A listening or only bound socket is accepted on, as one the server bound itself. A connected one (systemd Accept=yes, or inetd's, which is fd:0: not listening, and with a peer) is served as the one connection: listen bridges it, echo echoes it, pipe relays it, then the command exits, with or without -k; connect fd:N bridges it too, and refuses a listening socket (exit 2). A pipe TARGET cannot be fd:."),
        Para("A malformed endpoint is exit 2 with a suggestion where one can be guessed: wirecat connect ::1:80 says did you mean [::1]:80?"),
    ]
}

fn half_close() -> Vec<Block> {
    vec![
        Para("By default (Node's allowHalfOpen false); --allow-half-open where it differs:"),
        Item("stdin reaches EOF", "send FIN; keep copying the socket to stdout until the peer's FIN; exit 0"),
        Item("the peer sends FIN (end), stdin at its end or with nothing waiting", "write what is pending, send FIN, stop reading stdin, exit 0; with --allow-half-open keep sending stdin until its EOF, then FIN, exit 0"),
        Item("the peer sends FIN while stdin still holds bytes", "Node's writeAfterFIN: error EPIPE (This socket has been ended by the other party), close hadError=true, exit 1, with a hint (--allow-half-open on the sender, or --recv-only on the receiver); with --allow-half-open keep sending stdin until its EOF, then FIN, exit 0"),
        Item("the peer resets", "error ECONNRESET, close hadError=true, exit 1 (on every copy path; never an end)"),
        Item("idle for --timeout", "timeout event, then end(): FIN, and what the peer still sends is delivered and counted until its FIN (end) or until it is silent for another --timeout; exit 4"),
        Para("Stdin still holds bytes when a read would return some: a regular file not read to its end, bytes queued in a pipe or socket, a piece read and not yet sent. A pipe whose writer is open but quiet gets 200 ms to show more; a terminal with nothing typed holds nothing. Exit 0 means all of stdin reached the peer."),
        Item("--linger DURATION (nc's -q)", "after stdin's EOF and our FIN, the peer has DURATION to end its side; then the connection closes and wirecat exits 0. A bare number is seconds (--linger 1, --linger 500ms)"),
        Item("--no-shutdown (ncat's)", "stdin's EOF sends no FIN, so a server that closes on FIN (redis BLPOP) still answers; our FIN goes at the peer's FIN, at the --linger's end (exit 0) or at --timeout (exit 4). It uses the chunk path, not splice(2) or the TLS threads"),
        Para("--recv-only never reads stdin and never half-closes (it ends when the peer ends); --send-only discards what arrives. For a full exchange both ways at once give --allow-half-open to both ends."),
        Para("Which to use (each delivers whole files, exit 0 on both sides):"),
        Code(
            "wirecat listen --recv-only 9000 > got          # receive; the sender:\n\
             wirecat connect host 9000 < file\n\
             wirecat connect --recv-only host 9000 > got    # fetch; the listener:\n\
             wirecat listen 9000 < file\n\
             wirecat listen --allow-half-open 9000 < a > got_b    # both ways at once\n\
             wirecat connect --allow-half-open host 9000 < b > got_a",
        ),
    ]
}

fn exit_status(command: Option<&str>) -> Vec<Block> {
    if command == Some("isip") {
        return vec![
            Item("0", "every input passed"),
            Item("1", "some input did not pass"),
            Item("2", "usage error: bad flag, bad rule, unreadable @FILE"),
        ];
    }
    let mut out: Vec<Block> = Exit::all().map(ExitCode).collect();
    out.push(Para("Errors are one line on stderr: wirecat: <what failed>: <ERRNO (text)>, and a hint where one helps."));
    out
}

fn environment(command: Option<&str>) -> Vec<Block> {
    let mut out = Vec::new();
    if matches!(command, None | Some("connect" | "listen")) {
        out.push(Item("WIRECAT_NO_SPLICE", "when set, stdin and stdout are bridged through bounded chunks instead of splice(2) (plain) or two rustls threads (TLS)"));
    }
    if matches!(command, None | Some("echo")) {
        out.push(Item("WIRECAT_NO_URING", "when set, a plain echo server runs on the tokio engine instead of io_uring (the listening event's engine field says which)"));
    }
    if matches!(command, None | Some("listen" | "echo" | "pipe")) {
        out.push(Item("COMPUTERNAME", "Windows only: the computer's name, one of the names of a self-signed certificate (as the host name is on Unix)"));
    }
    if command != Some("isip") {
        out.push(Item("LISTEN_PID, LISTEN_FDS", "systemd socket activation, read for fd:systemd: LISTEN_PID must be this process and LISTEN_FDS at least 1; the socket is fd 3. Both (and LISTEN_FDNAMES) are removed once read"));
    }
    if matches!(command, None | Some("listen")) {
        out.push(Item(
            "WIRECAT_REMOTE",
            "set for the child of --exec and --sh-exec: the peer's address",
        ));
    }
    if out.is_empty() {
        out.push(Para(
            "No environment variable changes what this command does.",
        ));
    }
    out
}

/// The other pages that exist (wirecat(1) and each command's), in roff.
fn see_also(command: Option<&str>, pages: &[String]) -> String {
    let own = match command {
        Some(c) => format!("wirecat-{c}"),
        None => "wirecat".into(),
    };
    let names: Vec<String> = pages
        .iter()
        .filter(|p| **p != own)
        .map(|p| format!("\\fB{}\\fR(1)", escape(p)))
        .collect();
    names.join(", ")
}
