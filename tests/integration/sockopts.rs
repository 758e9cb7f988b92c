//! The socket options really reach the kernel: the tests take a duplicate of
//! wirecat's own socket with pidfd_getfd(2) and read the options back with
//! getsockopt(2).

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;

/// A duplicate of the first TCP socket of process `pid` that matches `pick`.
fn socket_of(pid: u32, pick: impl Fn(&socket2::Socket) -> bool) -> socket2::Socket {
    // SAFETY: pidfd_open takes no pointers; a failure is a negative result.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::c_int, 0) };
    assert!(
        pidfd >= 0,
        "pidfd_open: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: pidfd_open just returned this descriptor; nothing else owns it.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    let start = Instant::now();
    loop {
        for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
        {
            let link = std::fs::read_link(entry.path()).unwrap_or_default();
            if !link.to_string_lossy().starts_with("socket:") {
                continue;
            }
            let target: i32 = entry.file_name().to_string_lossy().parse().unwrap();
            // SAFETY: pidfd_getfd takes no pointers; a failure is a negative result.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target, 0) };
            assert!(fd >= 0, "pidfd_getfd: {}", std::io::Error::last_os_error());
            // SAFETY: pidfd_getfd just made this descriptor; nothing else owns it.
            let sock = unsafe { socket2::Socket::from_raw_fd(fd as i32) };
            if sock.domain().ok() != Some(socket2::Domain::UNIX) && pick(&sock) {
                return sock;
            }
        }
        assert!(
            start.elapsed() < LIMIT,
            "no matching socket in process {pid}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn is_connected(s: &socket2::Socket) -> bool {
    s.peer_addr().is_ok()
}

#[test]
fn keepalive_and_nodelay_are_set_as_node_sets_them() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut child = wirecat()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--keepalive=5000",
            "--nodelay",
            "--recv-only",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (peer, _) = accept_within(&l);
    let s = socket_of(child.id(), is_connected);
    assert!(s.nodelay().unwrap(), "TCP_NODELAY");
    assert!(s.keepalive().unwrap(), "SO_KEEPALIVE");
    assert_eq!(
        s.keepalive_time().unwrap(),
        Duration::from_secs(5),
        "TCP_KEEPIDLE"
    );
    assert_eq!(
        s.keepalive_interval().unwrap(),
        Duration::from_secs(1),
        "TCP_KEEPINTVL"
    );
    assert_eq!(s.keepalive_retries().unwrap(), 10, "TCP_KEEPCNT");
    drop(peer);
    assert!(wait_child(&mut child).success());
}

#[test]
fn without_flags_nothing_is_changed() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut child = wirecat()
        .args(["connect", &format!("127.0.0.1:{port}"), "--recv-only"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (peer, _) = accept_within(&l);
    let s = socket_of(child.id(), is_connected);
    assert!(!s.nodelay().unwrap());
    assert!(!s.keepalive().unwrap());
    drop(peer);
    assert!(wait_child(&mut child).success());
}

#[test]
fn accepted_sockets_get_the_options_and_ipv6_only_is_set() {
    if !have_ipv6() {
        eprintln!("skipping: no IPv6");
        return;
    }
    let mut server = Server::start(
        &[
            "listen",
            "[::1]:0",
            "--ipv6-only",
            "--nodelay",
            "--keepalive=2000",
            "--recv-only",
            "--json",
        ],
        Stdio::null(),
        Stdio::null(),
        Stdio::piped(),
    );
    let listener = socket_of(server.child.id(), |s| !is_connected(s));
    assert!(listener.only_v6().unwrap(), "IPV6_V6ONLY");
    assert!(
        listener.reuse_address().unwrap(),
        "SO_REUSEADDR is always set"
    );
    let c = TcpStream::connect(&server.addr).unwrap();
    // The `connection` event comes after the options were applied.
    let mut err = BufReader::new(server.child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains(r#""event":"connection""#) {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "no connection event");
    }
    let s = socket_of(server.child.id(), is_connected);
    assert!(s.nodelay().unwrap());
    assert_eq!(s.keepalive_time().unwrap(), Duration::from_secs(2));
    drop(c);
    assert!(server.wait().success());
}

/// The backlog `ss` shows for the listening socket at `local` (a listener's
/// Send-Q column, the token just before its local address).
fn ss_backlog(ss_args: &str, local: &str) -> u32 {
    let out = std::process::Command::new("ss")
        .arg(ss_args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|t| t.contains(&local))
        .unwrap_or_else(|| panic!("no listener at {local} in `ss {ss_args}`:\n{text}"));
    let at = line.iter().position(|t| *t == local).unwrap();
    line[at - 1].parse().unwrap()
}

#[test]
fn backlog_reaches_the_kernel_on_tcp_and_unix_sockets() {
    if !have("ss") {
        return;
    }
    let tcp = Server::quiet(&["listen", "127.0.0.1:0", "--backlog", "7"]);
    assert_eq!(ss_backlog("-ltn", &tcp.addr), 7, "TCP");
    // 128 too: it was once taken for std's own and not asked for again.
    for backlog in ["7", "128"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sock");
        let path = path.to_str().unwrap();
        let _unix = Server::quiet(&["listen", path, "--backlog", backlog]);
        assert_eq!(
            ss_backlog("-lx", path).to_string(),
            backlog,
            "Unix socket, --backlog {backlog}"
        );
    }
}
