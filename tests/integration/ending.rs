//! Ending the conversation the way scripts need: `--linger` (nc's `-q`)
//! bounds the wait for the peer after stdin's end, `--no-shutdown`
//! (ncat's) holds our FIN back so a server that closes on FIN still
//! answers. Against peers that never end (plain, Unix, TLS, on every copy
//! path) and against redis-server, the case the flag exists for.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::common::certs::Ca;
use crate::common::*;

/// The copy paths of a one-connection bridge: the two threads (splice(2)
/// or rustls) and the chunk channels.
const PATHS: [bool; 2] = [false, true];

fn on_path(cmd: &mut Command, channels: bool) -> &mut Command {
    if channels {
        cmd.env("WIRECAT_NO_SPLICE", "1");
    }
    cmd
}

/// What a peer saw: when our FIN came (after the connection opened), and
/// everything before it.
struct Seen {
    fin_after: Option<Duration>,
    got: Vec<u8>,
}

/// Read until EOF (or `LIMIT`), noting when it came.
fn read_until_fin(mut rd: impl Read, opened: Instant) -> Seen {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match rd.read(&mut buf) {
            Ok(0) => {
                return Seen {
                    fin_after: Some(opened.elapsed()),
                    got,
                }
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {
                return Seen {
                    fin_after: None,
                    got,
                }
            }
        }
    }
}

/// A TCP peer that says `hello` and never ends its side: it reads until
/// our FIN, then holds the connection open until `release` fires.
fn holding_peer() -> (u16, mpsc::Sender<()>, JoinHandle<Seen>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (release, held) = mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        let (mut s, _) = accept_within(&l);
        let opened = Instant::now();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        s.write_all(b"hello\n").unwrap();
        let seen = read_until_fin(&s, opened);
        let _ = held.recv_timeout(LIMIT);
        seen
    });
    (port, release, t)
}

fn linger_client(target: &str, channels: bool, extra: &[&str]) -> Output {
    let mut cmd = wirecat();
    on_path(&mut cmd, channels)
        .args(["connect", target, "--json"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"hi\n").unwrap();
    output_within(child)
}

#[test]
fn linger_closes_after_the_peer_had_its_time_and_exits_0() {
    for channels in PATHS {
        let (port, release, peer) = holding_peer();
        let started = Instant::now();
        let out = linger_client(
            &format!("127.0.0.1:{port}"),
            channels,
            &["--linger", "300ms"],
        );
        let took = started.elapsed();
        release.send(()).unwrap();
        let seen = peer.join().unwrap();
        let ctx = format!(
            "channels={channels}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_exit(&out, 0, &ctx);
        assert_eq!(out.stdout, b"hello\n", "{ctx}");
        assert_eq!(seen.got, b"hi\n", "{ctx}");
        // Our FIN went at stdin's end, as without --linger.
        assert!(
            seen.fin_after.unwrap() < Duration::from_millis(250),
            "{ctx}"
        );
        assert!(took >= Duration::from_millis(300), "{took:?} {ctx}");
        assert!(took < Duration::from_secs(10), "{took:?} {ctx}");
        let ev = events(&out.stderr);
        let close = find(&ev, "close");
        assert_eq!(close["hadError"], false, "{ctx}");
        assert_eq!(close["bytesRead"], 6, "{ctx}");
        assert_eq!(close["bytesWritten"], 3, "{ctx}");
        assert!(named(&ev, "end").is_empty(), "the peer never ended: {ctx}");
    }
}

/// Without `--linger` the same peer keeps the client waiting: what the
/// linger test measures is the flag.
#[test]
fn without_linger_a_peer_that_never_ends_keeps_the_client() {
    let (port, release, peer) = holding_peer();
    let mut child = wirecat()
        .args(["connect", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let still = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    release.send(()).unwrap();
    peer.join().unwrap();
    assert!(still, "connect ended on its own");
}

#[test]
fn linger_bounds_a_unix_socket_peer_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("held.sock");
    let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let (release, held) = mpsc::channel::<()>();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        s.write_all(b"hello\n").unwrap();
        let seen = read_until_fin(&s, Instant::now());
        let _ = held.recv_timeout(LIMIT);
        seen
    });
    // A bare number is seconds, as nc's -q takes it.
    let out = linger_client(path.to_str().unwrap(), false, &["--linger", "0.2"]);
    release.send(()).unwrap();
    assert_exit(&out, 0, String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, b"hello\n");
    assert_eq!(peer.join().unwrap().got, b"hi\n");
}

/// A TLS peer that says `hello` and never ends its side.
fn holding_tls_peer(dir: &Path) -> (u16, PathBuf, mpsc::Sender<()>, mpsc::Receiver<Vec<u8>>) {
    let ca = Ca::new("wirecat linger CA");
    let ca_pem = ca.write(dir, "ca");
    let (release, held) = mpsc::channel::<()>();
    let (got_tx, got_rx) = mpsc::channel();
    let (port, _peer) = crate::tls::rustls_peer(&ca.leaf(&["localhost"]), move |mut s| {
        s.write_all(b"hello\n").unwrap();
        s.flush().unwrap();
        // Until our close_notify, then held open until the client is gone.
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = s.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
        got_tx.send(got).unwrap();
        let _ = held.recv_timeout(LIMIT);
    });
    (port, ca_pem, release, got_rx)
}

#[test]
fn linger_closes_a_tls_connection_on_both_paths() {
    for channels in PATHS {
        let dir = tempfile::tempdir().unwrap();
        let (port, ca, release, peer) = holding_tls_peer(dir.path());
        let target = format!("tls://localhost:{port}");
        let out = linger_client(
            &target,
            channels,
            &["--ca", ca.to_str().unwrap(), "--linger", "300ms"],
        );
        release.send(()).unwrap();
        let ctx = format!(
            "channels={channels}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_exit(&out, 0, &ctx);
        assert_eq!(out.stdout, b"hello\n", "{ctx}");
        assert_eq!(peer.recv_timeout(LIMIT).unwrap(), b"hi\n", "{ctx}");
    }
}

/// A peer that answers only if the client has not ended its side by the
/// time it looks (as servers that close on FIN do): it reads `PING\n`,
/// waits 300 ms, and replies `PONG\n` and ends unless a FIN came.
fn closes_on_fin_peer() -> (u16, JoinHandle<Seen>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = accept_within(&l);
        let opened = Instant::now();
        let mut ping = [0u8; 5];
        s.set_read_timeout(Some(LIMIT)).unwrap();
        s.read_exact(&mut ping).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut one = [0u8; 1];
        if let Ok(0) = s.read(&mut one) {
            return Seen {
                fin_after: Some(opened.elapsed()),
                got: ping.to_vec(),
            };
        }
        s.write_all(b"PONG\n").unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut seen = read_until_fin(&s, opened);
        seen.got.splice(0..0, ping);
        seen
    });
    (port, t)
}

#[test]
fn no_shutdown_holds_the_fin_so_a_server_that_closes_on_fin_answers() {
    for (flags, answered) in [
        (&[][..], false),
        (&["--no-shutdown", "--linger", "5s"][..], true),
    ] {
        let (port, peer) = closes_on_fin_peer();
        let out = output_within(
            wirecat()
                .args(["connect", &format!("127.0.0.1:{port}"), "--json"])
                .args(["--send", r"PING\n"])
                .args(flags)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let seen = peer.join().unwrap();
        let ctx = format!("{flags:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_exit(&out, 0, &ctx);
        assert_eq!(seen.got, b"PING\n", "{ctx}");
        if answered {
            assert_eq!(out.stdout, b"PONG\n", "{ctx}");
            // The FIN went only after the peer's (the linger never ran out).
            assert!(find(&events(&out.stderr), "end").is_object(), "{ctx}");
        } else {
            assert_eq!(out.stdout, b"", "{ctx}");
            assert!(
                seen.fin_after.unwrap() < Duration::from_millis(300),
                "{ctx}"
            );
        }
    }
}

/// `--no-shutdown` with stdin: the FIN waits for `--linger` when the peer
/// never ends, then goes, and the exit is 0; with `--timeout` instead it
/// is the timeout (exit 4).
#[test]
fn no_shutdown_fin_goes_at_the_linger_or_the_timeout() {
    for flags in [["--linger", "400ms"], ["--timeout", "400ms"]] {
        let (port, release, peer) = holding_peer();
        let out = linger_client(
            &format!("127.0.0.1:{port}"),
            false,
            &[&["--no-shutdown"][..], &flags[..]].concat(),
        );
        release.send(()).unwrap();
        let seen = peer.join().unwrap();
        let ctx = format!("{flags:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_exit(&out, if flags[0] == "--linger" { 0 } else { 4 }, &ctx);
        assert_eq!(out.stdout, b"hello\n", "{ctx}");
        assert_eq!(seen.got, b"hi\n", "{ctx}");
        let fin = seen.fin_after.expect("a FIN in the end");
        // The peer's clock starts at its accept, a little after ours.
        assert!(
            fin >= Duration::from_millis(350),
            "FIN after {fin:?}: {ctx}"
        );
    }
}

/// The case `--no-shutdown` is for, against the real server: redis closes
/// a client at its FIN, so a blocking command sent with a FIN behind it
/// gets no answer; held back, the answer (and QUIT's) arrives, and redis's
/// own close ends the connection.
#[test]
fn no_shutdown_gets_redis_to_answer_a_blocking_command() {
    if !have("redis-server") {
        eprintln!("skipped: no redis-server");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("redis.sock");
    let mut redis = Command::new("redis-server")
        .args(["--port", "0", "--save", "", "--appendonly", "no"])
        .arg("--unixsocket")
        .arg(&sock)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + LIMIT;
    while !sock.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let ask = |flags: &[&str]| {
        let out = assert_cmd()
            .args(["connect", sock.to_str().unwrap()])
            .args(["--send", r"BLPOP nothing 0.3\r\nQUIT\r\n"])
            .args(flags)
            .timeout(LIMIT)
            .output()
            .unwrap();
        assert_exit(&out, 0, String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let with_fin = ask(&[]);
    let held = ask(&["--no-shutdown"]);
    let _ = redis.kill();
    let _ = redis.wait();
    assert_eq!(with_fin, b"", "redis answered after our FIN");
    assert_eq!(held, b"*-1\r\n+OK\r\n");
}

#[test]
fn linger_and_no_shutdown_are_refused_where_they_mean_nothing() {
    for args in [
        &["echo", "127.0.0.1:0", "--linger", "1"][..],
        &["pipe", "127.0.0.1:0", "127.0.0.1:1", "--no-shutdown"],
        &["connect", "127.0.0.1", "1", "--recv-only", "--linger", "1"],
        &["connect", "127.0.0.1", "1", "--recv-only", "--no-shutdown"],
        &["connect", "127.0.0.1", "1", "--linger", "soon"],
    ] {
        let out = assert_cmd().args(args).timeout(LIMIT).output().unwrap();
        assert_exit(&out, 2, format!("{args:?}"));
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}
