//! `--allow`/`--deny` on real sockets: the server binds 127.0.0.1 and the
//! clients connect from 127.0.0.2 / 127.0.0.3 to hit the rules.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;

use crate::common::*;

fn connect_from(local: &str, to: &str) -> TcpStream {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&format!("{local}:0").parse::<SocketAddr>().unwrap().into())
        .unwrap();
    sock.connect(&to.parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let s: TcpStream = sock.into();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s
}

fn closed_without_a_byte(mut s: TcpStream) {
    let _ = s.write_all(b"let me in");
    let mut buf = [0u8; 16];
    match s.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("a refused peer got {n} bytes"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
}

#[test]
fn denied_and_not_allowed_peers_are_dropped_with_the_rule() {
    let mut server = Server::start(
        &[
            "listen",
            "-k",
            "127.0.0.1:0",
            "--allow",
            "127.0.0.0/29",
            "--deny",
            "127.0.0.2",
            "--json",
        ],
        Stdio::piped(),
        Stdio::piped(),
        Stdio::piped(),
    );
    let mut stdin = server.child.stdin.take().unwrap();
    closed_without_a_byte(connect_from("127.0.0.2", &server.addr));
    closed_without_a_byte(connect_from("127.0.0.9", &server.addr));
    let mut ok = connect_from("127.0.0.3", &server.addr);
    ok.write_all(b"admitted").unwrap();
    let mut out = server.child.stdout.take().unwrap();
    let mut got = [0u8; 8];
    out.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"admitted");
    stdin.write_all(b"welcome").unwrap();
    drop(stdin);
    let mut v = Vec::new();
    ok.read_to_end(&mut v).unwrap();
    assert_eq!(v, b"welcome");
    drop(ok);
    // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    assert!(server.wait().success());
    let ev = server.stderr_events();
    let drops: Vec<_> = ev.iter().filter(|e| e["event"] == "drop").collect();
    assert_eq!(drops.len(), 2, "{ev:#?}");
    assert_eq!(drops[0]["remoteAddress"], "127.0.0.2");
    assert_eq!(drops[0]["rule"], "deny 127.0.0.2");
    assert_eq!(drops[1]["remoteAddress"], "127.0.0.9");
    assert_eq!(drops[1]["rule"], "not in --allow");
    let conns: Vec<_> = ev.iter().filter(|e| e["event"] == "connection").collect();
    assert_eq!(conns.len(), 1, "refused peers are not connections");
    assert_eq!(conns[0]["remoteAddress"], "127.0.0.3");
}

#[test]
fn single_listen_serves_the_first_admitted_peer() {
    let mut server = Server::start(
        &["listen", "127.0.0.1:0", "--deny", "127.0.0.2"],
        Stdio::null(),
        Stdio::piped(),
        Stdio::null(),
    );
    closed_without_a_byte(connect_from("127.0.0.2", &server.addr));
    let mut ok = connect_from("127.0.0.1", &server.addr);
    ok.write_all(b"me").unwrap();
    ok.shutdown(std::net::Shutdown::Write).unwrap();
    let got = server.stdout_to_end();
    assert_eq!(got, b"me");
    assert!(server.wait().success());
}

#[test]
fn connect_refuses_a_denied_destination() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let out = assert_cmd()
        .args([
            "connect",
            "127.0.0.1",
            &port.to_string(),
            "--deny",
            "127.0.0.0/8",
            "--json",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let ev = events(&out.stderr);
    assert_eq!(find(&ev, "error")["code"], "ERR_IP_BLOCKED");
    assert!(find(&ev, "error")["message"]
        .as_str()
        .unwrap()
        .contains("127.0.0.0/8"));
    l.set_nonblocking(true).unwrap();
    assert!(l.accept().is_err(), "no connection was made");
}

#[test]
fn a_bad_rule_is_a_usage_error_naming_it() {
    let out = assert_cmd()
        .args(["listen", "0", "--deny", "10.0.0.0/33"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("10.0.0.0/33") && err.contains("prefix"),
        "{err}"
    );
}

/// An `--allow @FILE` whose file has no rule (empty, or only comments) is
/// refused at start on every server, on both echo engines: an allow-list
/// without rules used to admit every peer.
#[test]
fn an_allow_file_without_rules_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write_file(dir.path(), "empty.rules", b"");
    let comments = write_file(
        dir.path(),
        "comments.rules",
        b"# nobody yet\n\n   # still nobody\n",
    );
    // Alone, and beside a rule (still a mistake worth stopping for).
    let beside: [&[&str]; 2] = [&[], &["--allow", "127.0.0.1"]];
    for (file, others) in [&empty, &comments].into_iter().zip(beside) {
        let allow = format!("@{}", file.display());
        for (env, args) in [
            (None, &["listen", "-k", "127.0.0.1:0"][..]),
            (None, &["listen", "127.0.0.1:0"][..]),
            (None, &["echo", "127.0.0.1:0"][..]),
            (Some("1"), &["echo", "127.0.0.1:0"][..]),
            (None, &["pipe", "127.0.0.1:0", "127.0.0.1:9"][..]),
        ] {
            let mut cmd = assert_cmd();
            if let Some(v) = env {
                cmd.env("WIRECAT_NO_URING", v);
            }
            let out = cmd
                .args(args)
                .args(["--allow", &allow])
                .args(others)
                .timeout(std::time::Duration::from_secs(10))
                .assert()
                .code(2)
                .get_output()
                .clone();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(&format!("--allow {allow} has no rules")),
                "{args:?}: {err}"
            );
        }
    }
}
