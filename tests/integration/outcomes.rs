//! Bytes and outcomes are never misreported (the trust issue, part 1):
//! the peer's FIN while stdin still holds bytes is Node's `writeAfterFIN`
//! (EPIPE, exit 1), a reset is never a clean end, `bytesWritten` is what
//! the peer received, and `--timeout` ends our side without dropping the
//! peer's reply. The races behind these show in a fraction of runs, so
//! each scenario runs [`RUNS`] times on every copy path.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use crate::common::*;
use serde_json::Value;

/// Runs of each racy scenario per path (half with stdin a file, half a
/// pipe): a race hit in 10 % of runs escapes 40 runs with probability
/// 0.9^40 ≈ 1.5 %. A run takes 20-100 ms.
const RUNS: usize = 40;

/// How stdin meets the socket: splice(2) threads or chunk channels.
#[derive(Clone, Copy, Debug)]
enum Path {
    Splice,
    Channels,
}

const PATHS: [Path; 2] = [Path::Splice, Path::Channels];

/// What stdin is: a regular file, or a pipe fed by a thread of ours.
#[derive(Clone, Copy, Debug)]
enum Input {
    File,
    Pipe,
}

/// More than loopback's buffers can hold, so stdin is never done first.
const STREAM: usize = 48 << 20;

/// `wirecat connect 127.0.0.1 PORT --json ARGS` on `path` with stdin of
/// `input` (STREAM bytes), stdout and stderr piped.
fn client(path: Path, input: Input, port: u16, args: &[&str], dir: &std::path::Path) -> Child {
    let mut cmd = connect_cmd(path, port, args);
    let stdin: Stdio = match input {
        Input::File => {
            let f = dir.join("stdin");
            if !f.exists() {
                write_file(dir, "stdin", &random_bytes(STREAM, 7));
            }
            std::fs::File::open(f).unwrap().into()
        }
        Input::Pipe => Stdio::piped(),
    };
    let mut child = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(mut w) = child.stdin.take() {
        std::thread::spawn(move || {
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..STREAM >> 20 {
                if w.write_all(&chunk).is_err() {
                    return;
                }
            }
        });
    }
    child
}

/// `wirecat connect 127.0.0.1 PORT --json ARGS` on `path`.
fn connect_cmd(path: Path, port: u16, args: &[&str]) -> std::process::Command {
    let mut cmd = wirecat();
    cmd.args(["connect", "127.0.0.1", &port.to_string(), "--json"])
        .args(args);
    if let Path::Channels = path {
        cmd.env("WIRECAT_NO_SPLICE", "1");
    }
    cmd
}

/// A listener whose connections get a 4 KiB receive window: most of what
/// is sent to them waits in the sender's queue until they read.
fn small_window_listener() -> TcpListener {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let addr: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    sock.bind(&addr.into()).unwrap();
    sock.listen(1).unwrap();
    sock.into()
}

/// Read `s` to its end: the bytes, and how it ended (FIN, or the error).
fn read_to_the_end(s: &mut std::net::TcpStream) -> (usize, Result<(), std::io::ErrorKind>) {
    let mut got = 0;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (got, Ok(())),
            Ok(n) => got += n,
            Err(e) => return (got, Err(e.kind())),
        }
    }
}

fn close_event(events: &[Value]) -> &Value {
    find(events, "close")
}

/// The peer ends its side at once and reads nothing until we are gone;
/// then it takes everything the kernel accepted from us.
fn fin_while_stdin_streams(path: Path, input: Input, dir: &std::path::Path) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let child = client(path, input, l.local_addr().unwrap().port(), &[], dir);
    let (mut s, _) = accept_within(&l);
    s.shutdown(Shutdown::Write).unwrap();
    let out = output_within(child);
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    let ev = events(&out.stderr);
    let ctx = format!(
        "{path:?} {input:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{ctx}");
    let err = find(&ev, "error");
    assert_eq!(err["code"], "EPIPE", "{ctx}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("ended by the other party"),
        "{ctx}"
    );
    let close = close_event(&ev);
    assert_eq!(close["hadError"], true, "{ctx}");
    assert_eq!(
        close["bytesWritten"].as_u64().unwrap(),
        got.len() as u64,
        "bytesWritten is what the peer received; {ctx}"
    );
    assert!(got.len() < STREAM, "{ctx}");
}

/// `scenario` [`RUNS`] times on each path, half with stdin a file, half a pipe.
fn on_every_path(scenario: fn(Path, Input, &std::path::Path)) {
    let dir = tempfile::tempdir().unwrap();
    for path in PATHS {
        for input in [Input::File, Input::Pipe] {
            for _ in 0..RUNS / 2 {
                scenario(path, input, dir.path());
            }
        }
    }
}

#[test]
fn peer_fin_while_stdin_streams_is_epipe_and_bytes_written_is_exact() {
    on_every_path(fin_while_stdin_streams);
}

/// The README's receive-a-file recipe done wrong (`listen < /dev/null`)
/// no longer ends with both sides saying 0: the sender fails, naming the fix.
#[test]
fn receiver_with_empty_stdin_makes_the_sender_fail_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(STREAM, 3);
    let file = write_file(dir.path(), "big", &data);
    let got = dir.path().join("got");
    let mut server = Server::start(
        &["listen", "127.0.0.1:0"],
        Stdio::null(),
        std::fs::File::create(&got).unwrap().into(),
        Stdio::null(),
    );
    let out = output_within(
        wirecat()
            .args(["connect", &server.addr])
            .stdin(std::fs::File::open(&file).unwrap())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(
        server.wait().success(),
        "the receiver got all that was sent"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_exit(&out, 1, "");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("EPIPE"), "{stderr}");
    assert!(stderr.contains("--recv-only"), "{stderr}");
    assert!(std::fs::metadata(&got).unwrap().len() < STREAM as u64);

    // The recipe done right: the receiver never half-closes.
    let mut server = Server::start(
        &["listen", "127.0.0.1:0", "--recv-only"],
        Stdio::null(),
        std::fs::File::create(&got).unwrap().into(),
        Stdio::null(),
    );
    let st = wait_child(
        &mut wirecat()
            .args(["connect", &server.addr])
            .stdin(std::fs::File::open(&file).unwrap())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(st.success());
    assert!(server.wait().success());
    assert_eq!(sha256_file(&got), sha256(&data));
}

/// A pseudo-terminal's (master, slave), both close-on-exec from the
/// start: openpty(3) opens them inheritable, and the tests share a process,
/// so another test's child could keep the terminal open.
fn pty() -> (std::fs::File, std::fs::File) {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let open = |path: &std::path::Path| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let master = open("/dev/ptmx".as_ref());
    // SAFETY: `master` is an open pseudo-terminal master.
    assert_eq!(unsafe { libc::unlockpt(master.as_raw_fd()) }, 0);
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: ptsname_r writes at most `name.len()` bytes, NUL included.
    let r = unsafe { libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) };
    assert_eq!(r, 0);
    // SAFETY: ptsname_r succeeded, so `name` holds a NUL-terminated path.
    let name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) };
    let slave = open(name.to_str().unwrap().as_ref());
    (master, slave)
}

/// A terminal with nothing typed holds nothing: the peer's FIN is a clean end.
#[test]
fn peer_fin_with_an_idle_terminal_on_stdin_exits_0() {
    for path in PATHS {
        let (master, slave) = pty();
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut cmd = wirecat();
        cmd.args(["connect", &l.local_addr().unwrap().to_string(), "--json"]);
        if let Path::Channels = path {
            cmd.env("WIRECAT_NO_SPLICE", "1");
        }
        let child = cmd
            .stdin(slave)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (mut s, _) = accept_within(&l);
        s.write_all(b"bye").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let out = output_within(child);
        drop(master);
        assert_exit(&out, 0, format_args!("{path:?}"));
        assert_eq!(out.stdout, b"bye");
        assert_eq!(close_event(&events(&out.stderr))["hadError"], false);
    }
}

/// The peer takes a little of the stream, then resets. Whichever of our
/// two directions the kernel tells, the outcome is ECONNRESET, never `end`.
fn reset_while_stdin_streams(path: Path, input: Input, dir: &std::path::Path) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let child = client(path, input, l.local_addr().unwrap().port(), &[], dir);
    let (mut s, _) = accept_within(&l);
    let mut buf = vec![0u8; 1 << 20];
    s.read_exact(&mut buf).unwrap();
    socket2::SockRef::from(&s)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(s);
    let out = output_within(child);
    let ev = events(&out.stderr);
    let ctx = format!(
        "{path:?} {input:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{ctx}");
    assert!(named(&ev, "end").is_empty(), "a reset is not an end: {ctx}");
    assert_eq!(find(&ev, "error")["code"], "ECONNRESET", "{ctx}");
    assert_eq!(close_event(&ev)["hadError"], true, "{ctx}");
}

#[test]
fn peer_reset_while_stdin_streams_is_econnreset_on_every_path() {
    on_every_path(reset_while_stdin_streams);
}

/// `--reset` closes with RST once stdin has ended, but only after the peer
/// has acknowledged every byte: a zero-linger close throws away what is
/// still queued, and the tail of the stream never arrived (exit 0 all the
/// same). The peer reads everything, then meets the reset.
fn reset_after_stdin_ends(path: Path, input: Input, dir: &std::path::Path) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let child = client(
        path,
        input,
        l.local_addr().unwrap().port(),
        &["--reset"],
        dir,
    );
    let (mut s, _) = accept_within(&l);
    let (got, end) = read_to_the_end(&mut s);
    let out = output_within(child);
    let ctx = format!(
        "{path:?} {input:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{ctx}");
    assert_eq!(got, STREAM, "every byte arrives before the RST; {ctx}");
    assert_eq!(end, Err(std::io::ErrorKind::ConnectionReset), "{ctx}");
    let close = close_event(&events(&out.stderr)).clone();
    assert_eq!(close["bytesWritten"].as_u64(), Some(STREAM as u64), "{ctx}");
}

#[test]
fn reset_after_stdin_ends_delivers_every_byte_first() {
    let dir = tempfile::tempdir().unwrap();
    for path in PATHS {
        for input in [Input::File, Input::Pipe] {
            for _ in 0..2 {
                reset_after_stdin_ends(path, input, dir.path());
            }
        }
    }
}

/// A peer that acknowledges nothing more (a closed window) cannot get the
/// bytes still queued before the RST: that is an error naming how many,
/// not exit 0, and it comes within about a second.
#[test]
fn reset_to_a_peer_that_takes_nothing_more_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "stdin", &random_bytes(100_000, 5));
    for path in PATHS {
        let l = small_window_listener();
        let child = connect_cmd(path, l.local_addr().unwrap().port(), &["--reset"])
            .stdin(std::fs::File::open(&file).unwrap())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Accepted, never read.
        let (_s, _) = accept_within(&l);
        let out = output_within(child);
        let ev = events(&out.stderr);
        let ctx = format!("{path:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{ctx}");
        let err = find(&ev, "error");
        assert_eq!(err["code"], "ETIMEDOUT", "{ctx}");
        assert!(
            err["message"]
                .as_str()
                .unwrap()
                .contains("not acknowledged"),
            "{ctx}"
        );
        assert_eq!(close_event(&ev)["hadError"], true, "{ctx}");
    }
}

/// `--reset` when the peer's FIN ends our side (stdin open and quiet,
/// nothing unsent) also waits for what went out to be acknowledged before
/// the RST: a peer that reads late still gets every byte (it got the 4 KiB
/// its window held, with exit 0, before).
#[test]
fn reset_after_the_peers_fin_delivers_what_went_out() {
    const SIZE: usize = 100_000;
    for path in PATHS {
        // A small window: most of stdin waits in our send queue.
        let l = small_window_listener();
        let mut child = connect_cmd(path, l.local_addr().unwrap().port(), &["--reset"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // stdin stays open and quiet after its bytes.
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&random_bytes(SIZE, 9)).unwrap();
        let (mut s, _) = accept_within(&l);
        // Time for all of stdin to be written into the socket; then our FIN.
        std::thread::sleep(Duration::from_millis(300));
        s.shutdown(Shutdown::Write).unwrap();
        // Read nothing until after wirecat has seen that stdin holds
        // nothing more (200 ms) and is waiting to close.
        std::thread::sleep(Duration::from_millis(700));
        let (got, end) = read_to_the_end(&mut s);
        let out = output_within(child);
        drop(stdin);
        let ctx = format!("{path:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_exit(&out, 0, &ctx);
        assert_eq!(got, SIZE, "every byte before the RST; {ctx}");
        assert_eq!(end, Err(std::io::ErrorKind::ConnectionReset), "{ctx}");
    }
}

/// After `--timeout`, our FIN; a peer that answers it gets its reply
/// delivered and counted, then `end`, and the exit is still 4.
#[test]
fn timeout_ends_our_side_and_delivers_the_reply_to_our_fin() {
    for path in PATHS {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut cmd = wirecat();
        cmd.args(["connect", &l.local_addr().unwrap().to_string()])
            .args(["--json", "--timeout", "300"]);
        if let Path::Channels = path {
            cmd.env("WIRECAT_NO_SPLICE", "1");
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _stdin_held_open = child.stdin.take();
        let (mut s, _) = accept_within(&l);
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
        s.write_all(b"late reply").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let out = output_within(child);
        let ev = events(&out.stderr);
        let ctx = format!("{path:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(4), "{ctx}");
        assert_eq!(out.stdout, b"late reply", "{ctx}");
        let names: Vec<&str> = ev.iter().map(|e| e["event"].as_str().unwrap()).collect();
        let at = |n: &str| names.iter().position(|e| *e == n).unwrap_or(usize::MAX);
        assert!(at("timeout") < at("end"), "{ctx}");
        assert!(at("end") < at("close"), "{ctx}");
        assert_eq!(close_event(&ev)["bytesRead"], 10, "{ctx}");
    }
}

/// A peer that never answers our timeout FIN cannot hold us: another
/// silent `--timeout` and we are gone, exit 4.
#[test]
fn timeout_grace_is_bounded_by_another_silent_timeout() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut child = wirecat()
        .args(["connect", &l.local_addr().unwrap().to_string()])
        .args(["--json", "--timeout", "200"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin_held_open = child.stdin.take();
    let (_s, _) = accept_within(&l);
    let started = std::time::Instant::now();
    let out: Output = output_within(child);
    assert_eq!(out.status.code(), Some(4));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(named(&events(&out.stderr), "end").is_empty());
}

/// The event names of a `--json` run, in order.
fn names(ev: &[Value]) -> Vec<&str> {
    ev.iter().map(|e| e["event"].as_str().unwrap()).collect()
}

fn json_connect(args: &[&str]) -> Output {
    output_within(
        wirecat()
            .args(["connect", "--json"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

/// A failed connect closes like Node's socket: one `error`, then `close`
/// with hadError, and the last line is `exit` with the code (no second
/// `error` repeating the first).
#[test]
fn failed_connects_are_one_error_then_close_then_exit() {
    let dir = tempfile::tempdir().unwrap();
    let spare = TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = spare.local_addr().unwrap().to_string();
    drop(spare);
    let missing = dir.path().join("no.sock");
    let cases: [(Vec<&str>, &str, i32); 3] = [
        (vec![&refused], "ECONNREFUSED", 1),
        (vec![missing.to_str().unwrap()], "ENOENT", 1),
        // A name whose only address is of the wrong family: no resolver needed.
        (
            vec!["x.test", "80", "--resolve", "x.test:127.0.0.1", "-6"],
            "ENOTFOUND",
            6,
        ),
    ];
    for (args, code, exit) in cases {
        let out = json_connect(&args);
        let ev = events(&out.stderr);
        let ctx = format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(exit), "{ctx}");
        assert_eq!(named(&ev, "error").len(), 1, "{ctx}");
        assert_eq!(find(&ev, "error")["code"], code, "{ctx}");
        let n = names(&ev);
        let at = |e: &str| n.iter().position(|x| *x == e).unwrap();
        assert!(at("error") < at("close"), "{ctx}");
        assert_eq!(n.last(), Some(&"exit"), "{ctx}");
        assert_eq!(find(&ev, "close")["hadError"], true, "{ctx}");
        assert_eq!(find(&ev, "exit")["exitCode"], exit, "{ctx}");
        if code == "ENOTFOUND" {
            assert_eq!(find(&ev, "lookup")["code"], "ENOTFOUND", "{ctx}");
        }
    }
}

/// With no resolver reachable (a network namespace of our own with no
/// route to any), a lookup fails with EAI_AGAIN, not ENOTFOUND: a script
/// can retry the one and not the other.
#[test]
fn an_unreachable_resolver_is_eai_again_not_enotfound() {
    let ok = std::process::Command::new("unshare")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: cannot make a network namespace (unshare -n)");
        return;
    }
    let out = output_within(
        scrubbed_in_netns(&["connect", "--json", "wirecat-test.example", "80"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let ev = events(&out.stderr);
    let ctx = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(6), "{ctx}");
    assert_eq!(find(&ev, "lookup")["code"], "EAI_AGAIN", "{ctx}");
    assert_eq!(find(&ev, "error")["code"], "EAI_AGAIN", "{ctx}");
    assert_eq!(named(&ev, "error").len(), 1, "{ctx}");
}

fn scrubbed_in_netns(args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new("unshare");
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["-n", "--"])
        .arg(bin())
        .args(args);
    c
}

/// One-shot `listen` ends with the server's `close` and its totals, as
/// `-k` does, then `exit`.
#[test]
fn one_shot_listen_emits_its_server_close_with_totals() {
    let mut server = Server::start(
        &["listen", "127.0.0.1:0", "--json", "--recv-only"],
        Stdio::null(),
        Stdio::null(),
        Stdio::piped(),
    );
    let mut s = std::net::TcpStream::connect(&server.addr).unwrap();
    s.write_all(b"12345").unwrap();
    drop(s);
    assert!(server.wait().success());
    let ev = server.stderr_events();
    let n = names(&ev);
    assert_eq!(&n[n.len() - 2..], ["close", "exit"], "{n:?}");
    let server_close = &ev[ev.len() - 2];
    assert_eq!(server_close["connections"], 1);
    assert_eq!(server_close["bytesRead"], 5);
    assert!(server_close.get("conn").is_none());
}
