//! The scripting forms and the less common endpoints and flags: `--wait`,
//! `-z`, `--send/--expect`, `--crlf`, `--hex`, `--reset`, `--resolve`,
//! Happy Eyeballs, local address/port, abstract sockets, systemd activation.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::os::fd::AsRawFd;
use std::process::Stdio;

use crate::common::*;

/// A peer that echoes everything until EOF, then closes.
fn echo_peer() -> (u16, std::thread::JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = accept_within(&l);
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    all.extend_from_slice(&buf[..n]);
                    let _ = s.write_all(&buf[..n]);
                }
            }
        }
        all
    });
    (port, t)
}

#[test]
fn send_and_expect_for_one_line_smoke_tests() {
    let (port, peer) = echo_peer();
    assert_cmd()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--send",
            "PING 42\n",
            "--expect",
            r"PING \d+",
        ])
        .assert()
        .success();
    peer.join().unwrap();
    let (port, peer) = echo_peer();
    let out = assert_cmd()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--send",
            "hello",
            "--expect",
            "nope",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("before /nope/ was seen"));
    peer.join().unwrap();
}

#[test]
fn crlf_turns_lf_into_crlf_on_the_way_out() {
    let (port, peer) = echo_peer();
    assert_cmd()
        .args(["connect", &format!("127.0.0.1:{port}"), "--crlf"])
        .write_stdin("a\nb\n")
        .assert()
        .success()
        .stdout("a\r\nb\r\n");
    assert_eq!(peer.join().unwrap(), b"a\r\nb\r\n");
}

#[test]
fn hex_shows_received_bytes_as_a_dump() {
    let (port, peer) = echo_peer();
    assert_cmd()
        .args(["connect", &format!("127.0.0.1:{port}"), "--hex"])
        .write_stdin("hello\n")
        .assert()
        .success()
        .stdout("00000000  68 65 6c 6c 6f 0a                                 |hello.|\n");
    peer.join().unwrap();
}

#[test]
fn zero_io_scan_lists_open_ports_only() {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (pa, pb) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    let out = assert_cmd()
        .args(["connect", "-z", "127.0.0.1", &format!("{pa},{closed},{pb}")])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("127.0.0.1 {pa} open\n127.0.0.1 {pb} open\n")
    );
    assert_cmd()
        .args(["connect", "-z", "127.0.0.1", &closed.to_string()])
        .assert()
        .code(1)
        .stdout("");
}

#[test]
fn wait_retries_until_the_port_opens_and_times_out_with_4() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert_cmd()
        .args(["connect", &format!("127.0.0.1:{port}"), "--wait", "0.3"])
        .assert()
        .code(4);
    // Start the listener only after the client has begun waiting.
    let mut client = wirecat()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--wait",
            "20",
            "--send",
            "late",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let (mut s, _) = accept_within(&l);
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    drop(s);
    assert_eq!(got, b"late");
    assert!(wait_child(&mut client).success());
}

#[test]
fn reset_closes_with_rst() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut client = wirecat()
        .args(["connect", &format!("127.0.0.1:{port}"), "--reset"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (mut s, _) = accept_within(&l);
    s.set_read_timeout(Some(LIMIT)).unwrap();
    let mut stdin = client.stdin.take().unwrap();
    stdin.write_all(b"x").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).unwrap(), 1);
    // Our stdin ends: wirecat ends its side with RST, not FIN.
    drop(stdin);
    assert!(wait_child(&mut client).success());
    let err = s.read(&mut buf).expect_err("got a FIN, wanted a RST");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
}

#[test]
fn resolve_overrides_lookup_and_happy_eyeballs_falls_back() {
    let (port, peer) = echo_peer();
    // ::1 refuses (nothing listens there on this port), 127.0.0.1 answers.
    let out = assert_cmd()
        .args([
            "connect",
            "svc.test",
            &port.to_string(),
            "--resolve",
            "svc.test:::1",
            "--resolve",
            "svc.test:127.0.0.1",
            "--json",
            "--send",
            "hi",
        ])
        .assert()
        .success()
        .stdout("hi")
        .get_output()
        .clone();
    peer.join().unwrap();
    let ev = events(&out.stderr);
    let lookup = find(&ev, "lookup");
    assert_eq!(lookup["host"], "svc.test");
    assert_eq!(lookup["address"], "::1");
    assert_eq!(lookup["family"], 6);
    let attempts: Vec<&serde_json::Value> = ev
        .iter()
        .filter(|e| e["event"] == "connectionAttempt")
        .collect();
    assert_eq!(attempts.len(), 2, "{ev:#?}");
    assert_eq!(attempts[0]["ip"], "::1");
    assert_eq!(attempts[1]["ip"], "127.0.0.1");
    let failed = find(&ev, "connectionAttemptFailed");
    assert_eq!(failed["ip"], "::1");
    assert_eq!(failed["code"], "ECONNREFUSED");
    assert_eq!(find(&ev, "connect")["remoteAddress"], "127.0.0.1");
    // The fallback follows a failed attempt that really ran: the refusal
    // of ::1 on this port comes after its attempt and before the connect.
    assert_eq!(failed["port"], port, "{failed}");
    let at = |name: &str| ev.iter().position(|e| e["event"] == name).unwrap();
    assert!(
        at("connectionAttempt") < at("connectionAttemptFailed")
            && at("connectionAttemptFailed") < at("connect"),
        "{ev:#?}"
    );
}

#[test]
fn local_address_and_port_are_used() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let local_port = TcpListener::bind("127.0.0.2:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut client = wirecat()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--local-address",
            "127.0.0.2",
            "--local-port",
            &local_port.to_string(),
            "--send",
            "",
        ])
        .spawn()
        .unwrap();
    let (s, from) = accept_within(&l);
    assert_eq!(from.ip().to_string(), "127.0.0.2");
    assert_eq!(from.port(), local_port);
    drop(s);
    assert!(wait_child(&mut client).success());
}

#[test]
fn abstract_unix_socket_round_trip() {
    let name = format!("unix:@wirecat-test-{}", std::process::id());
    // --recv-only: the server's empty stdin must not FIN before we have sent.
    let mut server = Server::start(
        &["listen", &name, "--recv-only"],
        Stdio::null(),
        Stdio::piped(),
        Stdio::null(),
    );
    assert_eq!(server.addr, name);
    assert_cmd()
        .args(["connect", &name])
        .write_stdin("abstract")
        .assert()
        .success();
    let got = server.stdout_to_end();
    assert_eq!(got, b"abstract");
    assert!(server.wait().success());
}

#[test]
fn named_pipes_are_a_clear_error_here() {
    let out = assert_cmd()
        .args(["connect", r"\\.\pipe\wirecat"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Windows named pipes are not supported on Linux"));
    assert_cmd()
        .args(["listen", "npipe:wirecat"])
        .assert()
        .code(2);
}

#[test]
fn systemd_socket_activation() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let fd = l.as_raw_fd();
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "LISTEN_PID=$$ LISTEN_FDS=1 exec {} listen fd:systemd --json",
            bin().display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // At fd 3, as systemd passes it.
    pass_fd(&mut cmd, fd, 3);
    let child = cmd.spawn().unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"activated").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let out = output_within(child);
    assert_exit(&out, 0, "");
    assert_eq!(out.stdout, b"activated");
    assert_eq!(find(&events(&out.stderr), "listening")["port"], addr.port());
}

#[test]
fn systemd_without_activation_is_exit_5() {
    let out = assert_cmd()
        .args(["listen", "fd:systemd"])
        .assert()
        .code(5)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("LISTEN_PID"));
}

#[test]
fn progress_draws_only_when_asked_and_forced_off_a_terminal() {
    let data = random_bytes(4 << 20, 21);
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "f", &data);
    for (flag, drawn) in [("--progress=always", true), ("--progress", false)] {
        let (port, peer) = echo_peer();
        let child = wirecat()
            .args(["connect", &format!("127.0.0.1:{port}"), flag, "--send-only"])
            .stdin(std::fs::File::open(&f).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = output_within(child);
        assert!(out.status.success());
        assert_eq!(peer.join().unwrap().len(), data.len());
        let err = String::from_utf8_lossy(&out.stderr);
        // stdin is a regular file: a bar with the total and an ETA.
        assert_eq!(err.contains("/4.00 MiB"), drawn, "{flag}: {err:?}");
        assert_eq!(err.contains("eta"), drawn, "{flag}: {err:?}");
    }
}

/// Wait until `needle` shows up on a child's stderr; everything read so far.
fn stderr_shows(err: std::process::ChildStderr, needle: &str) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut err = err;
        let mut buf = [0u8; 4096];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + LIMIT;
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.extend_from_slice(&chunk),
            Err(_) => panic!(
                "{needle:?} not on stderr: {:?}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// Send `data` to `addr`, half-close, and return what comes back.
fn send_and_collect(addr: &str, data: &[u8]) -> Vec<u8> {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    let mut w = s.try_clone().unwrap();
    let data = data.to_vec();
    let t = std::thread::spawn(move || {
        w.write_all(&data).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    t.join().unwrap();
    got
}

/// The servers' live line: open and total connections and bytes each way,
/// for `echo` and for `pipe` (whose received bytes are what clients send).
#[test]
fn echo_and_pipe_draw_a_live_server_line_with_progress_always() {
    let data = random_bytes(1 << 20, 22);
    let mut echo = Server::start(
        &["echo", "--progress=always", "127.0.0.1:0"],
        Stdio::null(),
        Stdio::null(),
        Stdio::piped(),
    );
    assert_eq!(send_and_collect(&echo.addr, &data), data);
    let err = echo.child.stderr.take().unwrap();
    stderr_shows(err, "0 open, 1 total, received 1.00 MiB, sent 1.00 MiB");

    let mut pipe = Server::start(
        &["pipe", "--progress=always", "127.0.0.1:0", &echo.addr],
        Stdio::null(),
        Stdio::null(),
        Stdio::piped(),
    );
    assert_eq!(send_and_collect(&pipe.addr, &data), data);
    assert_eq!(send_and_collect(&pipe.addr, &data), data);
    let err = pipe.child.stderr.take().unwrap();
    stderr_shows(err, "0 open, 2 total, received 2.00 MiB, sent 2.00 MiB");
}

#[test]
fn workers_share_an_inherited_socket() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let fd = l.as_raw_fd();
    let child = pass_fd(&mut wirecat(), fd, fd)
        .args(["echo", &format!("fd:{fd}"), "--workers", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.write_all(b"shared").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"shared");
    // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = output_within(child);
    assert_exit(&out, 0, "");
}

// ---------------------------------------------------------------------------
// Every flag takes effect or is refused; nc habits; durations; --send escapes

/// Whether `help` lists the long flag `flag`.
fn help_lists(help: &str, flag: &str) -> bool {
    help.lines().any(|l| {
        let l = l.trim_start();
        let l = l.split_once(", ").map_or(l, |(_, long)| long);
        l.strip_prefix(flag)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '<', '[', '=']))
    })
}

/// A flag a command would ignore is not in its `--help` and is refused
/// with exit 2 (never accepted and run without effect); flags that make
/// each other meaningless (`--exec` with what the child does itself, `-z`
/// with the data flags) are refused together.
#[test]
fn flags_a_command_would_ignore_are_refused_and_left_out_of_its_help() {
    let stdio = [
        "--hex",
        "--crlf",
        "--recv-only",
        "--send-only",
        "--allow-half-open",
    ];
    let mut absent: Vec<(&str, &str)> = Vec::new();
    absent.extend(stdio.iter().map(|f| ("echo", *f)));
    absent.extend(["--insecure", "--servername", "--pin-sha256"].map(|f| ("echo", f)));
    absent.extend(stdio.iter().map(|f| ("pipe", *f)));
    absent.extend(["--reset", "--insecure", "--servername", "--pin-sha256"].map(|f| ("pipe", f)));
    absent.extend(["--sni", "--require-client-cert"].map(|f| ("connect", f)));
    absent.extend(["--insecure", "--servername", "--pin-sha256"].map(|f| ("listen", f)));
    let positional = |cmd: &str| match cmd {
        "pipe" => vec!["127.0.0.1:0", "127.0.0.1:1"],
        "connect" => vec!["127.0.0.1:1"],
        _ => vec!["127.0.0.1:0"],
    };
    let value = |flag: &str| match flag {
        "--servername" => Some("x.test"),
        "--sni" => Some("a=b,c"),
        "--pin-sha256" => Some("AB:CD"),
        _ => None,
    };
    for (cmd, flag) in &absent {
        let help = assert_cmd().args([cmd, "--help"]).output().unwrap().stdout;
        let help = String::from_utf8(help).unwrap();
        assert!(help_lists(&help, "--json"), "{cmd} --help: {help}");
        assert!(!help_lists(&help, flag), "{cmd} --help lists {flag}");
        let mut args = vec![*cmd, flag];
        args.extend(value(flag));
        args.extend(positional(cmd));
        let out = assert_cmd()
            .args(&args)
            .timeout(std::time::Duration::from_secs(5))
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(
            err.starts_with("wirecat: ") && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    }
    let exec_excludes = [
        "--hex",
        "--crlf",
        "--recv-only",
        "--send-only",
        "--allow-half-open",
        "--reset",
        "--progress",
    ];
    for flag in exec_excludes.iter().chain(&["--timeout=5"]) {
        for exec in ["--exec", "--sh-exec"] {
            assert_cmd()
                .args(["listen", "127.0.0.1:0", exec, "cat", flag])
                .timeout(std::time::Duration::from_secs(5))
                .assert()
                .code(2);
        }
    }
    // Flags that cancel each other, and one-loop servers given N loops.
    for args in [
        &["connect", "127.0.0.1:1", "--recv-only", "--send", "x"][..],
        &["connect", "127.0.0.1:1", "--recv-only", "--crlf"],
        &["connect", "127.0.0.1:1", "--send-only", "--hex"],
        &["listen", "127.0.0.1:0", "--workers", "2"],
        &["echo", "127.0.0.1:0", "--once", "--workers", "2"],
        &[
            "pipe",
            "127.0.0.1:0",
            "127.0.0.1:1",
            "--once",
            "--workers",
            "2",
        ],
    ] {
        assert_cmd()
            .args(args)
            .timeout(std::time::Duration::from_secs(5))
            .assert()
            .code(2);
    }
    for extra in [
        &["--send", "x"][..],
        &["--expect", "x"],
        &["--wait", "1"],
        &["--tls"],
        &["--hex"],
        &["--timeout", "5"],
    ] {
        let out = assert_cmd()
            .args(["connect", "-z", "127.0.0.1", "1"])
            .args(extra)
            .assert()
            .code(2);
        // clap's own usage errors are one line too, with its usage as the hint.
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("wirecat: the argument '--zero-io' cannot be used with"),
            "{err}"
        );
        assert!(err.contains("(hint: usage: wirecat connect"), "{err}");
    }
}

/// nc/ncat habits get one line naming the wirecat way, exit 2; a typo of a
/// command keeps clap's own tip, and a flag that means something here (isip
/// -q, listen -k) is not caught.
#[test]
fn nc_habits_get_one_line_naming_the_wirecat_way() {
    let table: &[(&[&str], &str)] = &[
        (&["-l", "9000"], "use `wirecat listen 9000`"),
        (&["-lvp", "9000"], "use `wirecat listen 9000`"),
        (&["-lk", "9000"], "use `wirecat listen -k 9000`"),
        (
            &["example.test", "80"],
            "use `wirecat connect example.test 80`",
        ),
        (
            &["-v", "example.test", "80"],
            "use `wirecat connect [FLAGS] example.test 80`",
        ),
        (&["--json", "connect", "h", "80"], "flags go after it"),
        (&["connect", "-w", "3", "h", "80"], "--connect-timeout 3s"),
        (&["connect", "-w3", "h", "80"], "--connect-timeout 3s"),
        (&["connect", "-q", "1", "h", "80"], "--linger 1"),
        (&["connect", "-N", "h", "80"], "FIN at stdin's EOF"),
        (&["connect", "-u", "h", "80"], "TCP, TLS and Unix"),
        (
            &["connect", "-x", "proxy:1080", "h", "80"],
            "--proxy socks5h://HOST:PORT",
        ),
        (
            &["connect", "-e", "cat", "h", "80"],
            "wirecat listen PORT --exec CMD",
        ),
        (
            &["connect", "-c", "cat", "h", "80"],
            "wirecat listen PORT --sh-exec CMD",
        ),
        (&["connect", "-k", "h", "80"], "wirecat listen -k PORT"),
        (&["connect", "-l", "9000"], "wirecat listen PORT"),
        (&["connect", "-p", "5000", "h", "80"], "--local-port 5000"),
        (
            &["connect", "-s", "127.0.0.2", "h", "80"],
            "--local-address 127.0.0.2",
        ),
        (&["connect", "-n", "127.0.0.1", "80"], "never looked up"),
        (&["connect", "-C", "h", "80"], "--crlf"),
        (&["connect", "--ssl", "h", "443"], "--tls"),
        (&["connect", "--ssl-verify", "h", "443"], "always verifies"),
        (
            &["connect", "--sni", "a=b,c", "h", "443"],
            "TLS server's flag",
        ),
        (&["listen", "-p", "9000"], "`wirecat listen 9000`"),
        (&["listen", "-l", "9000"], "not needed"),
        (&["listen", "-w", "5", "9000"], "--timeout 5s"),
        (
            &["listen", "--servername", "x", "9000"],
            "TLS client's flag",
        ),
        (
            &["listen", "--max-conns", "5", "9000"],
            "--max-connections 5",
        ),
        (&["echo", "--hex"], "echo sends every byte back"),
        (
            &["pipe", "--reset", "0", "h:1"],
            "passes bytes, FIN and resets through",
        ),
        (
            &["pipe", "--servername", "x", "0", "h:1"],
            "--target-servername",
        ),
    ];
    for (args, wanted) in table {
        let out = assert_cmd()
            .args(*args)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("wirecat: "), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(wanted), "{args:?}: {err}");
    }
    let out = assert_cmd().args(["conect", "h", "80"]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("similar subcommand") || err.contains("'connect'"),
        "{err}"
    );
    let out = assert_cmd()
        .args(["connect", "--wiat", "3", "h", "80"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("'--wait'"), "clap's tip for a typo: {err}");
    assert_cmd()
        .args(["isip", "-q", "1.2.3.4"])
        .assert()
        .code(0);
}

/// `--send` decodes the escapes `--banner` does: the README's redis smoke
/// test sends CR LF, not a backslash.
#[test]
fn send_decodes_the_escapes_banner_does() {
    let (port, peer) = echo_peer();
    assert_cmd()
        .args(["connect", &format!("127.0.0.1:{port}")])
        .args(["--send", r"PING\r\n\x41\t\\\0", "--expect", "PING\r\n"])
        .assert()
        .success();
    assert_eq!(peer.join().unwrap(), b"PING\r\nA\t\\\0");
}

/// `connect -z '[::1]' PORT` takes the host as `connect '[::1]' PORT` does.
#[test]
fn zero_io_takes_a_bracketed_ipv6_host() {
    if !have_ipv6() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    let l = TcpListener::bind("[::1]:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    for args in [vec!["[::1]", port.as_str()], vec!["::1", &port]] {
        let out = assert_cmd()
            .args(["connect", "-z"])
            .args(&args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("::1 {port} open\n")
        );
    }
    let both = format!("[::1]:{port}");
    assert_cmd()
        .args(["connect", "-z", &both])
        .assert()
        .success();
}

/// `--wait` retries a name that does not resolve (a compose service that
/// appears late) until its deadline, then exits 6 as a lookup failure.
#[test]
fn wait_retries_name_resolution_until_its_deadline() {
    let started = std::time::Instant::now();
    let out = assert_cmd()
        .args([
            "connect",
            "wirecat-late.invalid",
            "80",
            "--wait",
            "1",
            "--json",
        ])
        .assert()
        .code(6)
        .get_output()
        .clone();
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(950),
        "gave up after {took:?}"
    );
    let lookups = events(&out.stderr)
        .iter()
        .filter(|e| e["code"] == "ENOTFOUND" || e["code"] == "EAI_AGAIN")
        .count();
    assert!(
        lookups >= 3,
        "{lookups} lookups in {took:?}: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--wait 1.0 s"), "{err}");
}

/// Every duration flag takes `500ms`, `5s`, `2m`; a bare number keeps its
/// unit (milliseconds; seconds for `--wait`); a bad one is clap's usage
/// error, exit 2.
#[test]
fn durations_take_units_and_bad_ones_are_usage_errors() {
    // Idle 1s (not 1 ms) on a peer that says nothing: timeout, exit 4.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let holder = std::thread::spawn(move || {
        let (mut s, _) = accept_within(&l);
        let _ = s.read(&mut [0u8; 1]);
    });
    let started = std::time::Instant::now();
    assert_cmd()
        .args(["connect", &addr, "--recv-only", "--timeout", "1s"])
        .assert()
        .code(4);
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(950),
        "timed out after {took:?}"
    );
    holder.join().unwrap();
    let (port, peer) = echo_peer();
    assert_cmd()
        .args(["connect", &format!("127.0.0.1:{port}"), "--send", "x"])
        .args(["--connect-timeout", "2s", "--attempt-timeout", "100ms"])
        .args([
            "--handshake-timeout",
            "1m",
            "--keepalive=30s",
            "--wait",
            "500ms",
        ])
        .assert()
        .success()
        .stdout("x");
    peer.join().unwrap();
    for bad in [
        &["--timeout", "5x"][..],
        &["--connect-timeout", "1.5"],
        &["--wait", "5sec"],
        &["--handshake-timeout", "soon"],
        &["--keepalive=1y"],
    ] {
        let out = assert_cmd()
            .args(["connect", "127.0.0.1:1"])
            .args(bad)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("invalid value") && err.contains("5s"),
            "{bad:?}: {err}"
        );
    }
}

/// curl's `--resolve HOST:PORT:ADDR` answers HOST only for PORT.
#[test]
fn resolve_host_port_addr_answers_only_for_that_port() {
    let (port, peer) = echo_peer();
    let host = "wirecat-api.invalid";
    assert_cmd()
        .args(["connect", host, &port.to_string(), "--send", "hi"])
        .args(["--resolve", &format!("{host}:{port}:127.0.0.1")])
        .assert()
        .success()
        .stdout("hi");
    peer.join().unwrap();
    assert_cmd()
        .args(["connect", host, &port.to_string(), "--send", "hi"])
        .args(["--resolve", &format!("{host}:1:127.0.0.1")])
        .assert()
        .code(6);
    assert_cmd()
        .args([
            "connect",
            host,
            "80",
            "--resolve",
            &format!("{host}:70000:127.0.0.1"),
        ])
        .assert()
        .code(2);
}

/// The line `--progress` leaves when it ends, from everything on stderr.
fn progress_summary(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let at = text.rfind("wirecat: ").expect("a summary line");
    text[at..].trim_end().to_owned()
}

/// A child's stderr, collected in the background.
struct Collected {
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    reader: std::thread::JoinHandle<()>,
}

impl Collected {
    fn new(mut err: std::process::ChildStderr) -> Collected {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Collected { seen, reader }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Wait (bounded) until the text shows `needle`.
    fn wait_for(&self, needle: &str) -> String {
        let start = std::time::Instant::now();
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                start.elapsed() < LIMIT,
                "{needle:?} not on stderr: {text:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Everything, once the child has closed its stderr.
    fn finish(self) -> Vec<u8> {
        self.reader.join().unwrap();
        std::sync::Arc::try_unwrap(self.seen)
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

/// `--progress=always` with stderr to a pipe: each side ends with one
/// summary line whose byte counts are exact, and the receiving side's live
/// line shows its receive rate (the sender pauses halfway until it does).
#[test]
fn progress_leaves_a_summary_with_exact_bytes_and_the_receiver_shows_its_rate() {
    let data = random_bytes((3 << 20) + 5, 23);
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out");
    let mut receiver = Server::start(
        &["listen", "--recv-only", "--progress=always", "127.0.0.1:0"],
        Stdio::null(),
        std::fs::File::create(&out_path).unwrap().into(),
        Stdio::piped(),
    );
    let receiver_err = Collected::new(receiver.child.stderr.take().unwrap());
    let mut sender = wirecat()
        .args(["connect", &receiver.addr, "--progress=always"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = sender.stdin.take().unwrap();
    input.write_all(&data[..1 << 20]).unwrap();
    let text = receiver_err.wait_for("received 1.00 MiB (");
    let live = text.rsplit("received 1.00 MiB (").next().unwrap();
    assert!(live.split(')').next().unwrap().ends_with("B/s"), "{text:?}");
    input.write_all(&data[1 << 20..]).unwrap();
    drop(input);
    let sent = output_within(sender);
    assert_exit(&sent, 0, "");
    assert!(receiver.wait().success());
    let received_stderr = receiver_err.finish();
    assert_eq!(std::fs::read(&out_path).unwrap(), data);

    let n = data.len();
    let summary = progress_summary(&sent.stderr);
    assert!(
        summary.starts_with(&format!(
            "wirecat: sent {n} bytes (3.00 MiB), received 0 bytes (0 B) in "
        )),
        "{summary:?}"
    );
    assert!(summary.ends_with(" received)"), "{summary:?}");
    let summary = progress_summary(&received_stderr);
    assert!(
        summary.starts_with(&format!(
            "wirecat: sent 0 bytes (0 B), received {n} bytes (3.00 MiB) in "
        )),
        "{summary:?}"
    );
}

/// The peer's end of a connection handed to wirecat as an inherited fd.
trait Peer: Read + Write + Send {
    /// Our FIN.
    fn finish(&self);
}

impl Peer for std::net::TcpStream {
    fn finish(&self) {
        self.shutdown(Shutdown::Write).unwrap();
    }
}

impl Peer for std::os::unix::net::UnixStream {
    fn finish(&self) {
        self.shutdown(Shutdown::Write).unwrap();
    }
}

/// A connected pair, as inetd would hold one: wirecat's end as a
/// descriptor, ours as a blocking stream with timeouts. TCP on loopback
/// (`tcp`) or a Unix socketpair.
fn connected_pair(tcp: bool) -> (std::os::fd::OwnedFd, Box<dyn Peer>) {
    if tcp {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (theirs, _) = accept_within(&l);
        ours.set_read_timeout(Some(LIMIT)).unwrap();
        (theirs.into(), Box::new(ours))
    } else {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        ours.set_read_timeout(Some(LIMIT)).unwrap();
        (theirs.into(), Box::new(ours))
    }
}

/// `wirecat ARGS` with `fd` inherited as fd 3 (as inetd and systemd pass
/// it), stdin from `input`, stdout and stderr piped. Our copy of `fd` is
/// closed once the child has it, so its close is the connection's close.
fn spawn_with_fd3(args: &[&str], fd: std::os::fd::OwnedFd, input: &[u8]) -> std::process::Child {
    let raw = fd.as_raw_fd();
    let mut cmd = wirecat();
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    pass_fd(&mut cmd, raw, 3);
    let mut child = cmd.spawn().unwrap();
    drop(fd);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    drop(stdin);
    child
}

/// Read until EOF (bounded by the stream's read timeout).
fn read_all(peer: &mut dyn Peer) -> Vec<u8> {
    let mut got = Vec::new();
    peer.read_to_end(&mut got).unwrap();
    got
}

/// `listen fd:3` and `connect fd:3` on an inherited *connected* socket
/// (inetd, systemd `Accept=yes`) bridge it to stdin/stdout: bytes both
/// ways, the `connection` (or `connect`) event with its addresses, exit 0.
#[test]
fn an_inherited_connection_is_bridged_by_listen_and_connect() {
    for tcp in [true, false] {
        for (cmd, event) in [("listen", "connection"), ("connect", "connect")] {
            let (fd, mut peer) = connected_pair(tcp);
            let child = spawn_with_fd3(&[cmd, "fd:3", "--json"], fd, b"from stdin");
            peer.write_all(b"from the peer").unwrap();
            // wirecat sends stdin, then its FIN; ours follows, so no byte is lost.
            assert_eq!(read_all(&mut *peer), b"from stdin", "{cmd} tcp={tcp}");
            peer.finish();
            let out = output_within(child);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_exit(&out, 0, format_args!("{cmd} tcp={tcp}"));
            assert_eq!(out.stdout, b"from the peer", "{cmd} tcp={tcp}");
            let evs = events(&out.stderr);
            assert!(named(&evs, "listening").is_empty(), "{err}");
            let ev = find(&evs, event);
            if tcp {
                assert_eq!(ev["remoteAddress"], "127.0.0.1", "{err}");
            }
            let close = named(&evs, "close");
            assert_eq!(close[0]["bytesRead"], 13, "{err}");
            assert_eq!(close[0]["bytesWritten"], 10, "{err}");
        }
    }
}

/// `echo fd:3`, `listen -k fd:3` and `pipe fd:3 TARGET` serve the inherited
/// connection as their only one and exit with its outcome (0), the
/// server's `close` counting one connection.
#[test]
fn servers_serve_an_inherited_connection_then_exit() {
    for tcp in [true, false] {
        // The default engine: io_uring for a listening socket, but an
        // inherited connection is served on the tokio loop.
        let (fd, mut peer) = connected_pair(tcp);
        let child = spawn_with_fd3(&["echo", "fd:3", "--json"], fd, b"");
        peer.write_all(b"echo me").unwrap();
        peer.finish();
        assert_eq!(read_all(&mut *peer), b"echo me", "echo tcp={tcp}");
        let out = output_within(child);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_exit(&out, 0, "echo");
        let evs = events(&out.stderr);
        assert_eq!(
            named(&evs, "close").last().unwrap()["connections"],
            1,
            "{err}"
        );

        let (fd, mut peer) = connected_pair(tcp);
        let child = spawn_with_fd3(&["listen", "-k", "fd:3", "--json"], fd, b"");
        peer.write_all(b"kept").unwrap();
        peer.finish();
        let _ = read_all(&mut *peer);
        let out = output_within(child);
        assert_exit(&out, 0, "");
        assert_eq!(out.stdout, b"kept");

        let (fd, mut peer) = connected_pair(tcp);
        let child = spawn_with_fd3(&["listen", "fd:3", "--exec", "cat"], fd, b"");
        peer.write_all(b"to the child").unwrap();
        peer.finish();
        assert_eq!(read_all(&mut *peer), b"to the child", "exec tcp={tcp}");
        let out = output_within(child);
        assert_exit(&out, 0, "");

        let (port, target) = echo_peer();
        let (fd, mut peer) = connected_pair(tcp);
        let to = format!("127.0.0.1:{port}");
        let child = spawn_with_fd3(&["pipe", "fd:3", &to, "--json"], fd, b"");
        peer.write_all(b"relayed").unwrap();
        peer.finish();
        assert_eq!(read_all(&mut *peer), b"relayed", "pipe tcp={tcp}");
        let out = output_within(child);
        assert_exit(&out, 0, "");
        assert_eq!(target.join().unwrap(), b"relayed");
    }
}

/// `connect fd:N` needs a connected socket: a listening one is a usage
/// error that names `listen`; and a relay's TARGET cannot be inherited.
#[test]
fn connect_fd_refuses_a_listening_socket_and_pipe_an_inherited_target() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let child = spawn_with_fd3(&["connect", "fd:3"], l.into(), b"");
    let out = output_within(child);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_exit(&out, 2, "");
    assert!(err.contains("not a connected socket"), "{err}");
    assert!(err.contains("wirecat listen fd:3"), "{err}");
    assert_cmd()
        .args(["pipe", "0", "fd:3"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("inherited socket"));
}

/// `systemd-socket-activate -a -l 127.0.0.1:PORT wirecat ARGS`: it accepts
/// each connection itself and starts wirecat with it as fd 3 (LISTEN_FDS=1),
/// as systemd does for `Accept=yes`. Returns it once it listens, with its
/// stderr lines (its own and wirecat's) as they come. It cannot bind port
/// 0, so a free port is picked and the start retried if it was taken since.
fn socket_activate(
    flags: &[&str],
    args: &[&str],
    input: &[u8],
) -> (std::process::Child, u16, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = std::process::Command::new("systemd-socket-activate");
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args(["-a", "-l", &format!("127.0.0.1:{port}")])
            .args(flags)
            .arg(bin())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let err = std::io::BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        loop {
            match rx.recv_timeout(LIMIT) {
                Ok(l) if l.starts_with("Listening on") => return (child, port, rx),
                Ok(_) => continue,
                // Exited (the port was taken meanwhile): another port.
                Err(_) => break,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("systemd-socket-activate did not start");
}

/// Lines from `rx` until one contains `needle` (bounded); all of them.
fn lines_until(rx: &std::sync::mpsc::Receiver<String>, needle: &str) -> Vec<String> {
    let mut seen = Vec::new();
    while let Ok(l) = rx.recv_timeout(LIMIT) {
        let hit = l.contains(needle);
        seen.push(l);
        if hit {
            return seen;
        }
    }
    panic!("no line with {needle:?} in {seen:#?}");
}

/// systemd `Accept=yes` as `systemd-socket-activate -a` runs it: `listen
/// fd:systemd` bridges the connection it is given (bytes both ways, its
/// `connection` event, exit 0), `echo fd:systemd` echoes it and exits 0.
#[test]
fn systemd_accept_yes_serves_the_connection_it_passes() {
    if !have("systemd-socket-activate") {
        return;
    }
    let (mut activate, port, rx) =
        socket_activate(&[], &["listen", "fd:systemd", "--json"], b"to the client");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.write_all(b"to the server").unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"to the client");
    s.shutdown(Shutdown::Write).unwrap();
    let seen = lines_until(&rx, "died with code").join("\n");
    assert!(seen.contains("died with code 0"), "{seen}");
    assert!(seen.contains(r#""event":"connection""#), "{seen}");
    let _ = activate.kill();
    let out = output_within(activate);
    assert_eq!(out.stdout, b"to the server");

    // And inetd's way (`--inetd`): the connection is stdin and stdout, fd:0.
    for (flags, ep) in [(&[][..], "fd:systemd"), (&["--inetd"][..], "fd:0")] {
        echo_twice(flags, ep);
    }
}

/// Two connections through `systemd-socket-activate -a FLAGS wirecat echo EP`,
/// each echoed by a wirecat of its own that exits 0.
fn echo_twice(flags: &[&str], ep: &str) {
    let (mut activate, port, rx) = socket_activate(flags, &["echo", ep], b"");
    for round in 0..2 {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        s.write_all(b"echoed once per connection").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"echoed once per connection", "{ep} round {round}");
        let seen = lines_until(&rx, "died with code").join("\n");
        assert!(seen.contains("died with code 0"), "{seen}");
    }
    let _ = activate.kill();
    let _ = activate.wait();
}

/// `--allow`/`--deny` apply to an inherited connection too: refused, it
/// is `listen`'s failure (exit 1, one line), and a server's `drop` event
/// and a clean end with no connection served.
#[test]
fn an_inherited_connection_outside_allow_is_refused() {
    let (fd, _peer) = connected_pair(true);
    let child = spawn_with_fd3(&["listen", "fd:3", "--allow", "10.0.0.0/8"], fd, b"");
    let out = output_within(child);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_exit(&out, 1, "");
    assert!(err.contains("refused by --allow/--deny"), "{err}");

    let (fd, _peer) = connected_pair(true);
    let args = ["echo", "fd:3", "--allow", "10.0.0.0/8", "--json"];
    let out = output_within(spawn_with_fd3(&args, fd, b""));
    let evs = events(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{evs:?}");
    assert_eq!(find(&evs, "drop")["rule"], "not in --allow");
    assert_eq!(named(&evs, "close").last().unwrap()["connections"], 0);
}

/// A shell sees wirecat stopped by SIGINT as 130 and by SIGTERM as 143, in
/// `$?` after `wait`, for a transfer (`listen`) and for a server (`echo`,
/// where SIGTERM drains and exits 0).
#[test]
fn a_shell_sees_130_after_sigint_and_143_after_sigterm() {
    let script = r#"
        dir=$(mktemp -d) || exit 97
        "$1" "$2" 127.0.0.1:0 --ready-file "$dir/ready" </dev/null >/dev/null 2>&1 &
        pid=$!
        i=0
        while [ ! -s "$dir/ready" ]; do
            sleep 0.05; i=$((i + 1)); [ $i -gt 600 ] && exit 98
        done
        kill -"$3" $pid
        wait $pid
        echo "status=$?"
        rm -rf "$dir"
    "#;
    for (command, signal, status) in [
        ("listen", "INT", 130),
        ("listen", "TERM", 143),
        ("echo", "INT", 130),
        ("echo", "TERM", 0),
    ] {
        let child = std::process::Command::new("sh")
            .args(["-c", script, "sh"])
            .arg(bin())
            .args([command, signal])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = output_within(child);
        let said = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            said.trim(),
            format!("status={status}"),
            "{command} SIG{signal}: {err}"
        );
    }
}
