//! `connect` and `listen` against each other and against peers written here
//! with std sockets: bytes intact, the half-close table, events, exit codes.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use crate::common::*;

const BIG: usize = 64 << 20;

/// Both ends with --allow-half-open send a whole file each way at once,
/// through splice(2) or, with `splice` false, through the chunk channels.
fn round_trip_with(listen_addr: &str, size: usize, splice: bool) {
    let dir = tempfile::tempdir().unwrap();
    let a = random_bytes(size, 1);
    let b = random_bytes(size, 2);
    let fa = write_file(dir.path(), "a", &a);
    let fb = write_file(dir.path(), "b", &b);
    let out_a = dir.path().join("out_a");
    let out_b = dir.path().join("out_b");
    let mut cmd = wirecat();
    cmd.args(["listen", listen_addr, "--allow-half-open"]);
    if !splice {
        cmd.env("WIRECAT_NO_SPLICE", "1");
    }
    let mut server = Server::spawn(
        cmd,
        std::fs::File::open(&fa).unwrap().into(),
        std::fs::File::create(&out_a).unwrap().into(),
        Stdio::inherit(),
    );
    let target = if listen_addr.contains('/') {
        listen_addr.to_string()
    } else {
        server.addr.clone()
    };
    let mut cmd = wirecat();
    cmd.args(["connect", &target, "--allow-half-open"]);
    if !splice {
        cmd.env("WIRECAT_NO_SPLICE", "1");
    }
    let mut client = cmd
        .stdin(std::fs::File::open(&fb).unwrap())
        .stdout(std::fs::File::create(&out_b).unwrap())
        .spawn()
        .unwrap();
    assert!(wait_child(&mut client).success());
    assert!(server.wait().success());
    assert_eq!(
        sha256_file(&out_a),
        sha256(&b),
        "listen received what connect sent"
    );
    assert_eq!(
        sha256_file(&out_b),
        sha256(&a),
        "connect received what listen sent"
    );
}

fn round_trip(listen_addr: &str, size: usize) {
    round_trip_with(listen_addr, size, true);
}

#[test]
fn round_trip_64mib_each_way_without_splice() {
    round_trip_with("127.0.0.1:0", BIG, false);
}

#[test]
fn round_trip_through_pipes_on_stdio() {
    // stdin and stdout as pipes (the `cmd | wirecat | cmd` case) rather than files.
    let data = random_bytes(16 << 20, 9);
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "f", &data);
    let server = Server::start(
        &["listen", "127.0.0.1:0", "--recv-only"],
        Stdio::null(),
        Stdio::piped(),
        Stdio::null(),
    );
    let child = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "cat {} | {} connect {} | cat",
            f.display(),
            bin().display(),
            server.addr
        ))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = server;
    let got = server.stdout_to_end();
    assert!(server.wait().success());
    assert!(output_within(child).status.success());
    assert_eq!(sha256(&got), sha256(&data));
}

#[test]
fn round_trip_64mib_each_way_tcp_v4() {
    round_trip("127.0.0.1:0", BIG);
}

#[test]
fn round_trip_64mib_each_way_tcp_v6() {
    if !have_ipv6() {
        eprintln!("skipping: no IPv6 loopback");
        return;
    }
    round_trip("[::1]:0", BIG);
}

#[test]
fn round_trip_64mib_each_way_unix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    round_trip(path.to_str().unwrap(), BIG);
    assert!(!path.exists(), "the socket file is removed on exit");
}

/// A peer that reads until EOF, then answers with what it got, then closes.
fn reply_after_eof_peer() -> (u16, std::thread::JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = accept_within(&l);
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        s.write_all(b"got:").unwrap();
        s.write_all(&got).unwrap();
        got
    });
    (port, t)
}

#[test]
fn stdin_eof_sends_fin_and_keeps_reading_until_peer_fin() {
    for half_open in [false, true] {
        let (port, peer) = reply_after_eof_peer();
        let mut cmd = assert_cmd();
        cmd.args(["connect", "127.0.0.1", &port.to_string()]);
        if half_open {
            cmd.arg("--allow-half-open");
        }
        cmd.write_stdin("abc").assert().success().stdout("got:abc");
        assert_eq!(peer.join().unwrap(), b"abc");
    }
}

#[test]
fn peer_fin_ends_our_side_by_default_even_with_stdin_open() {
    let mut server = Server::start(
        &["listen", "127.0.0.1:0"],
        Stdio::piped(),
        Stdio::piped(),
        Stdio::null(),
    );
    let _stdin_held_open = server.child.stdin.take().unwrap();
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.write_all(b"bye").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "our FIN follows the peer's");
    assert!(server.wait().success());
    let out = server.stdout_to_end();
    assert_eq!(out, b"bye", "pending bytes are written before exit");
}

#[test]
fn peer_fin_with_allow_half_open_keeps_sending_stdin() {
    let mut server = Server::start(
        &["listen", "127.0.0.1:0", "--allow-half-open"],
        Stdio::piped(),
        Stdio::piped(),
        Stdio::null(),
    );
    let mut stdin = server.child.stdin.take().unwrap();
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.write_all(b"ping").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    // Wait until the server has printed our bytes: our FIN was seen by then.
    let mut out = server.child.stdout.take().unwrap();
    let mut got = [0u8; 4];
    out.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
    stdin.write_all(b"still sending after your FIN").unwrap();
    drop(stdin);
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"still sending after your FIN");
    assert!(server.wait().success());
}

#[test]
fn peer_reset_is_econnreset_exit_1() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let peer = std::thread::spawn(move || {
        let (s, _) = accept_within(&l);
        let sock = socket2::SockRef::from(&s);
        sock.set_linger(Some(Duration::ZERO)).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        drop(s);
    });
    let child = wirecat()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--json",
            "--recv-only",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = output_within(child);
    peer.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let ev = events(&out.stderr);
    assert_eq!(find(&ev, "error")["code"], "ECONNRESET");
    assert_eq!(find(&ev, "close")["hadError"], true);
}

#[test]
fn idle_timeout_emits_timeout_and_exits_4() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = accept_within(&l);
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut v = Vec::new();
        s.read_to_end(&mut v).unwrap();
    });
    let child = wirecat()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--timeout",
            "300",
            "--json",
            "--recv-only",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = output_within(child);
    assert_eq!(out.status.code(), Some(4));
    let ev = events(&out.stderr);
    find(&ev, "timeout");
    peer.join().expect("the peer saw our FIN after the timeout");
}

#[test]
fn recv_only_receives_a_whole_file_without_half_closing() {
    let data = random_bytes(5 << 20, 7);
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "f", &data);
    let mut server = Server::start(
        &["listen", "127.0.0.1:0"],
        std::fs::File::open(&f).unwrap().into(),
        Stdio::null(),
        Stdio::null(),
    );
    let out = assert_cmd()
        .args(["connect", &server.addr, "--recv-only"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(sha256(&out), sha256(&data));
    assert!(server.wait().success());
}

#[test]
fn send_only_discards_what_arrives() {
    let (port, peer) = reply_after_eof_peer();
    assert_cmd()
        .args(["connect", &format!("127.0.0.1:{port}"), "--send-only"])
        .write_stdin("xyz")
        .assert()
        .success()
        .stdout("");
    assert_eq!(peer.join().unwrap(), b"xyz");
}

#[test]
fn refused_exits_1_with_one_line() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = assert_cmd()
        .args(["connect", &format!("127.0.0.1:{port}")])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("wirecat: cannot connect to 127.0.0.1:"),
        "{err}"
    );
    assert!(err.contains("ECONNREFUSED"), "{err}");
}

#[test]
fn bad_endpoint_exits_2_and_suggests() {
    let out = assert_cmd()
        .args(["connect", "::1:80"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("did you mean [::1]:80?"), "{err}");
    assert_eq!(err.lines().count(), 1);
    assert_cmd().args(["listen", "host:99999"]).assert().code(2);
    assert_cmd()
        .args(["connect", "--bogus-flag", "1"])
        .assert()
        .code(2);
}

#[test]
fn port_in_use_exits_5() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let out = assert_cmd()
        .args(["listen", &addr])
        .assert()
        .code(5)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("EADDRINUSE"), "{err}");
}

#[test]
fn unresolvable_host_exits_6() {
    let out = assert_cmd()
        .args(["connect", "no-such-host.invalid", "80"])
        .assert()
        .code(6)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("ENOTFOUND"));
}

#[test]
fn connect_timeout_to_a_full_backlog_exits_4() {
    // A listener that never accepts, with its queue filled: further SYNs are dropped.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(
        &"127.0.0.1:0"
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    sock.listen(0).unwrap();
    let addr = sock.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        if s.connect_timeout(&addr.into(), Duration::from_millis(200))
            .is_err()
        {
            break;
        }
        fillers.push(s);
    }
    let out = assert_cmd()
        .args(["connect", &addr.to_string(), "--connect-timeout", "300"])
        .assert()
        .code(4)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("ETIMEDOUT"));
}

#[test]
fn json_events_for_a_full_connect_and_close() {
    let (port, peer) = reply_after_eof_peer();
    let out = assert_cmd()
        .args(["connect", "localhost", &port.to_string(), "--json", "-4"])
        .write_stdin("hello")
        .assert()
        .success()
        .get_output()
        .clone();
    peer.join().unwrap();
    let ev = events(&out.stderr);
    let names: Vec<&str> = ev.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "lookup",
            "connectionAttempt",
            "connect",
            "ready",
            "end",
            "close",
            "exit"
        ],
        "{ev:#?}"
    );
    assert_eq!(find(&ev, "exit")["exitCode"], 0);
    let lookup = find(&ev, "lookup");
    assert_eq!(lookup["host"], "localhost");
    assert_eq!(lookup["address"], "127.0.0.1");
    assert_eq!(lookup["family"], 4);
    let c = find(&ev, "connect");
    assert_eq!(c["remoteAddress"], "127.0.0.1");
    assert_eq!(c["remotePort"], port);
    assert_eq!(c["remoteFamily"], "IPv4");
    assert_eq!(c["localAddress"], "127.0.0.1");
    assert!(c["localPort"].as_u64().unwrap() > 0);
    assert_eq!(c["localFamily"], "IPv4");
    let close = find(&ev, "close");
    assert_eq!(close["hadError"], false);
    assert_eq!(close["bytesWritten"], 5);
    assert_eq!(close["bytesRead"], 9);
    assert!(close["durationMs"].is_u64());
    assert!(ev.iter().all(|e| e["time"].is_u64()));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "got:hello",
        "stdout carries only data"
    );
}

#[test]
fn json_events_for_listen_connection_and_close() {
    let mut server = Server::start(
        &["listen", "127.0.0.1:0", "--json"],
        Stdio::null(),
        Stdio::null(),
        Stdio::piped(),
    );
    let mut s = TcpStream::connect(&server.addr).unwrap();
    let local = s.local_addr().unwrap();
    s.write_all(b"12345").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut v = Vec::new();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.read_to_end(&mut v).unwrap();
    assert!(server.wait().success());
    let ev = server.stderr_events();
    let l = find(&ev, "listening");
    assert_eq!(l["address"], "127.0.0.1");
    assert_eq!(l["port"], server.port());
    assert_eq!(l["family"], "IPv4");
    let c = find(&ev, "connection");
    assert_eq!(c["conn"], 1);
    assert_eq!(c["remoteAddress"], "127.0.0.1");
    assert_eq!(c["remotePort"], local.port());
    let close = find(&ev, "close");
    assert_eq!(close["conn"], 1);
    assert_eq!(close["bytesRead"], 5);
    assert_eq!(close["hadError"], false);
}

#[test]
fn max_connections_drops_the_second_with_an_event() {
    let mut server = Server::start(
        &[
            "listen",
            "-k",
            "127.0.0.1:0",
            "--max-connections",
            "1",
            "--json",
            "--recv-only",
        ],
        Stdio::null(),
        Stdio::null(),
        Stdio::piped(),
    );
    let mut first = TcpStream::connect(&server.addr).unwrap();
    first.write_all(b"x").unwrap();
    let mut second = TcpStream::connect(&server.addr).unwrap();
    let second_local = second.local_addr().unwrap();
    second.set_read_timeout(Some(LIMIT)).unwrap();
    let mut buf = [0u8; 1];
    let n = second.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the dropped connection is closed at once");
    drop(first);
    // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    assert!(server.wait().success());
    let ev = server.stderr_events();
    let d = find(&ev, "drop");
    assert_eq!(d["remotePort"], second_local.port());
    assert_eq!(d["remoteAddress"], "127.0.0.1");
    assert_eq!(d["localAddress"], "127.0.0.1");
    assert_eq!(d["localPort"], server.port());
    assert_eq!(d["localFamily"], "IPv4");
    assert_eq!(d["remoteFamily"], "IPv4");
}

#[test]
fn listen_keep_open_sends_stdin_to_every_connection() {
    let mut server = Server::start(
        &["listen", "-k", "127.0.0.1:0"],
        Stdio::piped(),
        Stdio::piped(),
        Stdio::null(),
    );
    let mut a = TcpStream::connect(&server.addr).unwrap();
    let mut b = TcpStream::connect(&server.addr).unwrap();
    for s in [&mut a, &mut b] {
        s.set_read_timeout(Some(LIMIT)).unwrap();
    }
    a.write_all(b"A").unwrap();
    b.write_all(b"B").unwrap();
    let mut out = server.child.stdout.take().unwrap();
    let mut got = [0u8; 2];
    out.read_exact(&mut got).unwrap();
    got.sort();
    assert_eq!(&got, b"AB", "data from every connection reaches stdout");
    let mut stdin = server.child.stdin.take().unwrap();
    stdin.write_all(b"to all").unwrap();
    drop(stdin);
    for s in [&mut a, &mut b] {
        let mut v = Vec::new();
        s.read_to_end(&mut v).unwrap();
        assert_eq!(
            v, b"to all",
            "stdin goes to every open connection, then FIN"
        );
    }
    drop((a, b));
    // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGINT) };
    assert_eq!(server.wait().signal(), Some(libc::SIGINT));
}

#[test]
fn sigint_exits_130_and_removes_the_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sock");
    let mut server = Server::start(
        &["listen", path.to_str().unwrap()],
        Stdio::piped(),
        Stdio::null(),
        Stdio::null(),
    );
    assert!(path.exists());
    // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGINT) };
    assert_eq!(server.wait().signal(), Some(libc::SIGINT));
    assert!(!path.exists());
}

#[test]
fn sigterm_exits_143_and_removes_the_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sock");
    let mut server = Server::start(
        &["listen", path.to_str().unwrap()],
        Stdio::piped(),
        Stdio::null(),
        Stdio::null(),
    );
    // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    assert_eq!(server.wait().signal(), Some(libc::SIGTERM));
    assert!(!path.exists());
}

#[test]
fn stale_unix_socket_is_eaddrinuse_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let out = assert_cmd()
        .args(["listen", path.to_str().unwrap()])
        .assert()
        .code(5)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("EADDRINUSE") && err.contains("stale"), "{err}");
}

#[test]
fn closed_stdout_ends_quietly_with_0() {
    let data = random_bytes(8 << 20, 3);
    let dir = tempfile::tempdir().unwrap();
    let f = write_file(dir.path(), "f", &data);
    let server = Server::start(
        &["listen", "127.0.0.1:0"],
        std::fs::File::open(&f).unwrap().into(),
        Stdio::null(),
        Stdio::null(),
    );
    let child = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} connect {} --recv-only 2>err | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}; cat err",
            bin().display(),
            server.addr
        ))
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = output_within(child);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "0\n",
        "exit 0 and nothing on stderr"
    );
}

#[test]
fn listen_on_inherited_fd() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&l);
    let child = pass_fd(&mut wirecat(), fd, fd)
        .args(["listen", &format!("fd:{fd}")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"via fd").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let out = output_within(child);
    assert!(out.status.success());
    assert_eq!(out.stdout, b"via fd");
}

#[test]
fn ipv6_only_refuses_ipv4_and_dual_stack_accepts_it() {
    if !have_ipv6() {
        eprintln!("skipping: no IPv6");
        return;
    }
    let server = Server::start(
        &["listen", "0", "--ipv6-only"],
        Stdio::piped(),
        Stdio::null(),
        Stdio::null(),
    );
    let port = server.port();
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "v6-only refuses IPv4"
    );
    drop(server);
    let mut server = Server::start(
        &["listen", "0"],
        Stdio::null(),
        Stdio::piped(),
        Stdio::null(),
    );
    let mut s = TcpStream::connect(("127.0.0.1", server.port())).expect("dual stack takes IPv4");
    s.write_all(b"v4").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert!(server.wait().success());
}

/// Wait (bounded) until `path` holds a whole line: a ready file's address.
fn ready_line(path: &std::path::Path, child: &mut std::process::Child) -> String {
    let start = std::time::Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if text.ends_with('\n') {
                return text;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("exited before it was ready: {status}");
        }
        assert!(start.elapsed() < LIMIT, "not ready within {LIMIT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ready_file_never_writes_through_a_symlink_at_its_temporary_name() {
    let dir = tempfile::tempdir().unwrap();
    let victim = write_file(dir.path(), "victim", b"precious\n");
    let ready = dir.path().join("ready");
    // The shell plants symlinks at the names the temporary file had
    // (`PATH.<pid>.tmp`, its pid being wirecat's after exec), then execs.
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ln -s "$1" "$2.$$.tmp"; ln -s "$1" "$2.tmp"; exec "$0" listen 127.0.0.1:0 --ready-file "$2""#)
        .arg(bin())
        .arg(&victim)
        .arg(&ready)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = ready_line(&ready, &mut child);
    assert!(line.starts_with("127.0.0.1:"), "{line:?}");
    assert!(
        !std::fs::symlink_metadata(&ready).unwrap().is_symlink(),
        "the ready file is a file of its own"
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
    let _ = child.kill();
    let _ = child.wait();
}

/// `listen -k PATH` with the `--ready-file` in `dir`.
fn unix_server(dir: &std::path::Path, path: &std::path::Path) -> std::process::Child {
    let ready = dir.join("ready");
    let _ = std::fs::remove_file(&ready);
    let mut child = wirecat()
        .args(["listen", "-k", path.to_str().unwrap(), "--ready-file"])
        .arg(&ready)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    ready_line(&ready, &mut child);
    child
}

#[test]
fn at_exit_only_our_own_socket_file_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    // A planted file in our socket's place.
    let mut child = unix_server(dir.path(), &path);
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, b"not yours").unwrap();
    // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(wait_child(&mut child).code(), Some(0));
    assert_eq!(std::fs::read(&path).unwrap(), b"not yours");
    std::fs::remove_file(&path).unwrap();
    // Another server's socket in its place.
    let mut child = unix_server(dir.path(), &path);
    std::fs::remove_file(&path).unwrap();
    let other = std::os::unix::net::UnixListener::bind(&path).unwrap();
    // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(wait_child(&mut child).code(), Some(0));
    assert!(
        path.exists(),
        "the other server's socket file is still there"
    );
    std::os::unix::net::UnixStream::connect(&path).expect("and it still answers");
    drop(other);
    // Our own socket, untouched, is removed.
    std::fs::remove_file(&path).unwrap();
    let mut child = unix_server(dir.path(), &path);
    // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(wait_child(&mut child).code(), Some(0));
    assert!(!path.exists());
}

fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn readable_all_and_writable_all_set_the_socket_mode_at_bind() {
    let dir = tempfile::tempdir().unwrap();
    for (flags, want) in [
        (&[][..], 0o700),
        (&["--readable-all"][..], 0o744),
        (&["--writable-all"][..], 0o722),
        (&["--readable-all", "--writable-all"][..], 0o766),
    ] {
        let path = dir.path().join("m.sock");
        let ready = dir.path().join("ready");
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(r#"umask 077; exec "$0" "$@""#)
            .arg(bin())
            .args(["listen", path.to_str().unwrap(), "--ready-file"])
            .arg(&ready)
            .args(flags)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        ready_line(&ready, &mut child);
        assert_eq!(mode_of(&path), want, "{flags:?}: {:o}", mode_of(&path));
        // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        assert_eq!(wait_child(&mut child).signal(), Some(libc::SIGTERM));
        assert!(!path.exists());
        std::fs::remove_file(&ready).unwrap();
    }
}

/// The race of a chmod after bind: a thread swaps a symlink to a victim
/// file in for the socket the moment it appears (renameat2 with
/// RENAME_EXCHANGE, which fails until the socket exists: one system call a
/// try, no gap between seeing the socket and swapping it), while wirecat
/// starts again and again with `--readable-all --writable-all`. The
/// victim's mode must never change.
#[test]
fn readable_all_never_changes_the_mode_of_a_symlink_swapped_in() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let victim = write_file(dir.path(), "victim", b"secret");
    std::fs::set_permissions(&victim, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let (path, link) = (dir.path().join("r.sock"), dir.path().join("link"));
    let (armed, stop) = (
        std::sync::Arc::new(AtomicBool::new(false)),
        std::sync::Arc::new(AtomicBool::new(false)),
    );
    let swaps = std::sync::Arc::new(AtomicUsize::new(0));
    let swapper = {
        let c = |p: &std::path::Path| std::ffi::CString::new(p.as_os_str().as_encoded_bytes());
        let (from, to) = (c(&link).unwrap(), c(&path).unwrap());
        let (armed, stop, swaps) = (armed.clone(), stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if !armed.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                    continue;
                }
                // SAFETY: two NUL-terminated paths that outlive the call.
                let r = unsafe {
                    libc::renameat2(
                        libc::AT_FDCWD,
                        from.as_ptr(),
                        libc::AT_FDCWD,
                        to.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                if r == 0 {
                    armed.store(false, Ordering::Release);
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let start = std::time::Instant::now();
    let mut tries = 0;
    while tries < 200 && start.elapsed() < Duration::from_secs(60) {
        tries += 1;
        let ready = dir.path().join("ready");
        for p in [&path, &link, &ready] {
            let _ = std::fs::remove_file(p);
        }
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        armed.store(true, Ordering::Release);
        let mut child = wirecat()
            .args([
                "listen",
                path.to_str().unwrap(),
                "--readable-all",
                "--writable-all",
            ])
            .arg("--ready-file")
            .arg(&ready)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let waited = std::time::Instant::now();
        while !ready.exists() && child.try_wait().unwrap().is_none() && waited.elapsed() < LIMIT {
            std::thread::sleep(Duration::from_millis(1));
        }
        armed.store(false, Ordering::Release);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(
            mode_of(&victim),
            0o600,
            "try {tries}: the victim was chmod-ed"
        );
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    eprintln!("{tries} tries, {} swaps", swaps.load(Ordering::Relaxed));
    assert!(swaps.load(Ordering::Relaxed) > 0, "the race was never run");
}

/// SIGHUP (the terminal closed) ends a server as SIGTERM does: `listen -k`
/// drains and exits 0, one-connection `listen` exits 143; each removes its
/// Unix socket file.
#[test]
fn sighup_is_sigterm_and_removes_the_unix_socket() {
    sighup_default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sock");
    for (keep, want) in [
        (true, (Some(0), None)),
        (false, (None, Some(libc::SIGTERM))),
    ] {
        for sig in [libc::SIGTERM, libc::SIGHUP] {
            let mut args = vec!["listen", path.to_str().unwrap()];
            if keep {
                args.push("-k");
            }
            let mut server = Server::start(&args, Stdio::piped(), Stdio::null(), Stdio::null());
            assert!(path.exists());
            server.signal(sig);
            let status = server.wait_exit(LIMIT);
            assert_eq!(
                (status.code(), status.signal()),
                want,
                "-k {keep}, signal {sig}: {status}"
            );
            assert!(!path.exists(), "-k {keep}, signal {sig}: socket file left");
        }
    }
}

/// Started with SIGHUP ignored (`nohup wirecat …`), a server leaves it
/// ignored: the terminal closing does not end it.
#[test]
fn sighup_ignored_at_start_stays_ignored() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.sock");
    let mut cmd = wirecat();
    cmd.args(["listen", "-k", path.to_str().unwrap()]);
    // SAFETY: signal(2) is async-signal-safe, as pre_exec requires.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut server = Server::spawn(cmd, Stdio::piped(), Stdio::piped(), Stdio::null());
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let ignored = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
        .unwrap();
    assert_eq!(ignored & 1, 1, "SIGHUP (bit 0) is still ignored: {status}");
    server.signal(libc::SIGHUP);
    let mut c = std::os::unix::net::UnixStream::connect(&path).expect("still serving");
    c.write_all(b"still here").unwrap();
    drop(c);
    let mut got = [0u8; 10];
    server
        .child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut got)
        .unwrap();
    assert_eq!(&got, b"still here");
    assert!(server.running());
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(LIMIT).code(), Some(0));
}

/// `listen -k`: the second SIGINT ends open connections and keeps their
/// books: an `error` ECONNABORTED and a `close` with the bytes each moved
/// (from the client to stdout, from stdin to the client), and the final
/// totals are their sum.
#[test]
fn keep_open_second_sigint_keeps_the_books_of_forced_connections() {
    let mut server = Server::json_piped_stdin(&["listen", "-k", "127.0.0.1:0"]);
    let mut stdin = server.child.stdin.take().unwrap();
    let mut clients = Vec::new();
    for (i, len) in [10usize, 20].into_iter().enumerate() {
        let mut c = TcpStream::connect(&server.addr).unwrap();
        c.set_read_timeout(Some(LIMIT)).unwrap();
        server.wait_event("connection", |e| {
            e["event"] == "connection" && e["conn"] == i + 1
        });
        c.write_all(&vec![b'a' + i as u8; len]).unwrap();
        clients.push(c);
    }
    server.wait_stdout_len(30);
    stdin.write_all(b"hello\n").unwrap();
    for c in &mut clients {
        let mut got = [0u8; 6];
        c.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello\n");
    }
    server.force_stop();
    server.assert_forced_books(&[], &[(1, 10, 6), (2, 20, 6)]);
    drop(stdin);
}
