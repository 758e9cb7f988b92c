//! `wirecat pipe` against the real binary on real sockets: TCP and Unix
//! both ways with 64 MiB each way, many connections at once, half-close
//! passed through, an unreachable target and a target that resets, a
//! target that does not read (bounded memory), and a target that is the
//! listener itself.

use std::time::Duration;

use crate::common::{
    self, exchange, kernel_hold_through_a_relay, named, stalls_then_delivers, within, Server,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

const BIG: usize = 64 << 20;

/// One accepted connection on a test-side target: both ways at once.
async fn target_exchange<S>(s: S) -> ([u8; 32], [u8; 32])
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    exchange(s, 2, BIG).await
}

async fn check_big_both_ways<C>(client: C, target: tokio::task::JoinHandle<([u8; 32], [u8; 32])>)
where
    C: AsyncRead + AsyncWrite + Send + 'static,
{
    let (client_sent, client_got) = within("client", exchange(client, 1, BIG)).await;
    let (target_sent, target_got) = within("target", target).await.unwrap();
    assert_eq!(client_sent, target_got, "client → target bytes differ");
    assert_eq!(target_sent, client_got, "target → client bytes differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipe_tcp_to_tcp_moves_64_mib_each_way_intact() {
    let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    let server = Server::json(&["pipe", "127.0.0.1:0", &taddr]);
    let t = tokio::spawn(async move { target_exchange(target.accept().await.unwrap().0).await });
    check_big_both_ways(TcpStream::connect(&server.addr).await.unwrap(), t).await;
    let close = server.wait_event("close", |e| e["event"] == "close" && e["side"] == "client");
    assert_eq!(close["bytesRead"], BIG as u64);
    assert_eq!(close["bytesWritten"], BIG as u64);
    assert_eq!(close["hadError"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipe_tcp_to_unix_moves_64_mib_each_way_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("target.sock");
    let target = UnixListener::bind(&path).unwrap();
    let server = Server::json(&["pipe", "127.0.0.1:0", path.to_str().unwrap()]);
    let t = tokio::spawn(async move { target_exchange(target.accept().await.unwrap().0).await });
    check_big_both_ways(TcpStream::connect(&server.addr).await.unwrap(), t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipe_unix_to_tcp_moves_64_mib_each_way_intact() {
    let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipe.sock");
    let server = Server::json(&["pipe", path.to_str().unwrap(), &taddr]);
    let t = tokio::spawn(async move { target_exchange(target.accept().await.unwrap().0).await });
    check_big_both_ways(UnixStream::connect(&path).await.unwrap(), t).await;
    drop(server);
}

/// A test-side echo target.
async fn echo_target() -> String {
    let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = target.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        loop {
            let (s, _) = target.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut rd, mut wr) = s.into_split();
                tokio::io::copy(&mut rd, &mut wr).await.unwrap();
                wr.shutdown().await.unwrap();
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipe_relays_100_concurrent_connections_with_random_sizes() {
    let taddr = echo_target().await;
    let server = Server::json(&["pipe", "127.0.0.1:0", &taddr]);
    let mut clients = tokio::task::JoinSet::new();
    for i in 0..100u64 {
        let size = (i as usize * 7919 * 131) % (2 << 20);
        let addr = server.addr.clone();
        clients.spawn(async move {
            let (sent, got) = exchange(TcpStream::connect(addr).await.unwrap(), i, size).await;
            assert_eq!(sent, got, "connection {i} of {size} bytes");
        });
    }
    within("100 relayed clients", async {
        while let Some(r) = clients.join_next().await {
            r.unwrap();
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_fin_reaches_a_target_that_replies_only_after_eof() {
    let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    let server = Server::json(&["pipe", "127.0.0.1:0", &taddr]);
    tokio::spawn(async move {
        let (mut s, _) = target.accept().await.unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).await.unwrap();
        s.write_all(format!("got {} bytes", all.len()).as_bytes())
            .await
            .unwrap();
    });
    let mut c = TcpStream::connect(&server.addr).await.unwrap();
    c.write_all(&[7u8; 12345]).await.unwrap();
    c.shutdown().await.unwrap();
    let mut reply = String::new();
    within("reply after EOF", c.read_to_string(&mut reply))
        .await
        .unwrap();
    assert_eq!(reply, "got 12345 bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_fin_reaches_the_client_which_can_still_send() {
    let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    let server = Server::json(&["pipe", "127.0.0.1:0", &taddr]);
    let t = tokio::spawn(async move {
        let (mut s, _) = target.accept().await.unwrap();
        s.write_all(b"bye from target").await.unwrap();
        s.shutdown().await.unwrap();
        let mut after = Vec::new();
        s.read_to_end(&mut after).await.unwrap();
        after
    });
    let mut c = TcpStream::connect(&server.addr).await.unwrap();
    let mut first = Vec::new();
    within("target's FIN", c.read_to_end(&mut first))
        .await
        .unwrap();
    assert_eq!(first, b"bye from target");
    c.write_all(b"client after EOF").await.unwrap();
    c.shutdown().await.unwrap();
    assert_eq!(within("target", t).await.unwrap(), b"client after EOF");
    server.wait_event("close", |e| e["event"] == "close" && e["side"] == "client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_down_closes_the_client_and_the_server_keeps_serving() {
    let spare = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taddr = spare.local_addr().unwrap().to_string();
    drop(spare);
    let server = Server::json(&["pipe", "127.0.0.1:0", &taddr]);
    let mut c = TcpStream::connect(&server.addr).await.unwrap();
    let mut buf = Vec::new();
    let _ = within("client closed", c.read_to_end(&mut buf)).await;
    assert!(buf.is_empty());
    let err = server.wait_event("error", |e| e["event"] == "error" && e["conn"] == 1);
    assert_eq!(err["side"], "target");
    assert_eq!(err["code"], "ECONNREFUSED");

    // Bring the target up on that port: the same server now relays.
    let Ok(target) = TcpListener::bind(&taddr).await else {
        return; // the port was taken meanwhile; the first half stands
    };
    tokio::spawn(async move {
        let (mut s, _) = target.accept().await.unwrap();
        s.write_all(b"up now").await.unwrap();
    });
    let mut c = TcpStream::connect(&server.addr).await.unwrap();
    let mut got = Vec::new();
    within("relay after recovery", c.read_to_end(&mut got))
        .await
        .unwrap();
    assert_eq!(got, b"up now");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_reset_mid_stream_reaches_the_client_and_the_server_keeps_serving() {
    let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    let server = Server::json(&["pipe", "127.0.0.1:0", &taddr]);
    tokio::spawn(async move {
        // First connection: read a little, then reset. Later ones: echo.
        let (mut s, _) = target.accept().await.unwrap();
        let mut buf = [0u8; 1000];
        s.read_exact(&mut buf).await.unwrap();
        socket2::SockRef::from(&s)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(s);
        loop {
            let (s, _) = target.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut rd, mut wr) = s.into_split();
                let _ = tokio::io::copy(&mut rd, &mut wr).await;
                let _ = wr.shutdown().await;
            });
        }
    });
    let c = TcpStream::connect(&server.addr).await.unwrap();
    let (mut rd, mut wr) = c.into_split();
    tokio::spawn(async move {
        let block = vec![1u8; 64 << 10];
        while wr.write_all(&block).await.is_ok() {}
    });
    let mut sink = Vec::new();
    let ended = within("client sees the break", rd.read_to_end(&mut sink)).await;
    if let Err(e) = ended {
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
    }
    let err = server.wait_event("error", |e| e["event"] == "error" && e["conn"] == 1);
    assert_eq!(err["side"], "target");
    let closes = server.wait_event("close", |e| e["event"] == "close" && e["side"] == "client");
    assert_eq!(closes["hadError"], true);
    assert_eq!(named(&server.events(), "close").len(), 2);

    let (sent, got) = within(
        "next connection",
        exchange(TcpStream::connect(&server.addr).await.unwrap(), 9, 100_000),
    )
    .await;
    assert_eq!(sent, got);
}

#[test]
fn a_target_that_is_the_listener_itself_is_refused_before_binding() {
    let spare = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = spare.local_addr().unwrap().port().to_string();
    drop(spare);
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("relay.sock");
    let sock = sock.to_str().unwrap();
    for (listen, target) in [
        (port.clone(), format!("localhost:{port}")),
        (format!("127.0.0.1:{port}"), format!("127.0.0.1:{port}")),
        (sock.to_string(), format!("unix:{sock}")),
    ] {
        let out = common::assert_cmd()
            .args(["pipe", &listen, &target])
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "pipe {listen} {target}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("TARGET is the address pipe listens on"),
            "{stderr}"
        );
    }
    assert!(!std::path::Path::new(sock).exists(), "no socket file left");
}

/// A target that does not read stops the client (its writes stall) once
/// the buffers on the way are full; the relay keeps no queue of its own,
/// and every byte arrives once the target reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_does_not_read_slows_the_client_and_the_relay_stays_small() {
    let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    let server = Server::json(&["pipe", "127.0.0.1:0", &taddr]);
    let mut c = TcpStream::connect(&server.addr).await.unwrap();
    let (held, _) = target.accept().await.unwrap();
    let bound = kernel_hold_through_a_relay();
    within(
        "stall and delivery",
        stalls_then_delivers(&mut c, held, server.child.id(), bound),
    )
    .await;
}

/// A target that resets while both directions move is a reset for the
/// client every time, never a clean EOF: the relay's reading direction
/// may see only a 0-byte read (its twin's write took the ECONNRESET), and
/// it must not pass that on as a FIN. The client's own read may race the
/// same way, so what it got is judged by its socket's state: a FIN leaves
/// it in CLOSE_WAIT (it never ended its side), a reset CLOSED.
#[test]
fn target_reset_is_a_reset_for_the_client_every_time() {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    const RUNS: u64 = 20;
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    let server = Server::json(&["pipe", "127.0.0.1:0", &taddr]);
    std::thread::spawn(move || {
        for _ in 0..RUNS {
            let (mut s, _) = common::accept_within(&target);
            // Both ways: send some back while the client streams in.
            let _ = s.write_all(&[7u8; 64 << 10]);
            let mut buf = vec![0u8; 256 << 10];
            let _ = s.read_exact(&mut buf);
            socket2::SockRef::from(&s)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
        }
    });
    for run in 1..=RUNS {
        let mut c = std::net::TcpStream::connect(&server.addr).unwrap();
        c.set_read_timeout(Some(common::LIMIT)).unwrap();
        let mut w = c.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            let block = vec![1u8; 64 << 10];
            for _ in 0..256 {
                if w.write_all(&block).is_err() {
                    break;
                }
            }
        });
        let ended = c.read_to_end(&mut Vec::new());
        let reset = match &ended {
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            Ok(_) => wirecat::sys::eof_was_reset(c.as_raw_fd(), false),
        };
        writer.join().unwrap();
        assert!(reset, "run {run}: the client saw a clean end ({ended:?})");
        let err = server.wait_event("error", |e| e["event"] == "error" && e["conn"] == run);
        assert_eq!(err["side"], "target", "run {run}");
        assert_eq!(err["code"], "ECONNRESET", "run {run}: {err}");
    }
}

/// SIGHUP is SIGTERM: the relay stops accepting and removes its Unix
/// socket file; a relayed connection still open is carried to its end;
/// the exit code is SIGTERM's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_drains_and_removes_the_unix_socket() {
    common::sighup_default();
    let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("p.sock");
    let mut server = Server::json(&["pipe", sock.to_str().unwrap(), &taddr]);
    let mut c = UnixStream::connect(&sock).await.unwrap();
    let (mut t, _) = within("target accept", target.accept()).await.unwrap();
    server.signal(libc::SIGHUP);
    let gone = sock.clone();
    tokio::task::spawn_blocking(move || common::wait_gone(&gone))
        .await
        .unwrap();
    c.write_all(b"through").await.unwrap();
    c.shutdown().await.unwrap();
    let mut got = Vec::new();
    within("target reads", t.read_to_end(&mut got))
        .await
        .unwrap();
    assert_eq!(got, b"through");
    t.write_all(b"back").await.unwrap();
    drop(t);
    let mut back = Vec::new();
    within("client reads", c.read_to_end(&mut back))
        .await
        .unwrap();
    assert_eq!(back, b"back");
    let status = tokio::task::spawn_blocking(move || server.wait_exit(common::LIMIT))
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

/// A port nobody listens on (bound, then closed).
fn refused_port() -> String {
    let spare = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    spare.local_addr().unwrap().to_string()
}

/// Connect to `server`, and read until it closes the connection.
async fn closed_at_once(server: &Server) {
    let mut c = TcpStream::connect(&server.addr).await.unwrap();
    let mut buf = Vec::new();
    let _ = within("client closed", c.read_to_end(&mut buf)).await;
    assert!(buf.is_empty());
}

/// SIGTERM, wait for the exit, and the lines the server wrote on stderr
/// (but its notice that it drains a connection whose task was still
/// finishing when the signal came).
fn stopped_stderr(mut server: Server) -> Vec<String> {
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(common::LIMIT).code(), Some(0));
    server
        .stderr_text()
        .lines()
        .filter(|l| !l.starts_with("wirecat: draining "))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_target_is_one_line_on_stderr_without_v() {
    let taddr = refused_port();
    let server = Server::quiet(&["pipe", "127.0.0.1:0", &taddr]);
    closed_at_once(&server).await;
    closed_at_once(&server).await;
    assert_eq!(
        stopped_stderr(server),
        [1, 2].map(|n| format!(
            "wirecat: pipe: conn {n}: target {taddr}: ECONNREFUSED (connection refused)"
        ))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_failing_tls_verification_is_one_line_on_stderr_without_v() {
    // A self-signed TLS echo server, which the relay has no reason to trust.
    let target = Server::quiet(&["echo", "--tls", "127.0.0.1:0"]);
    let server = Server::quiet(&["pipe", "127.0.0.1:0", &target.addr, "--target-tls"]);
    closed_at_once(&server).await;
    assert_eq!(
        stopped_stderr(server),
        [format!(
            "wirecat: pipe: conn 1: target {}: TLS handshake failed: \
             DEPTH_ZERO_SELF_SIGNED_CERT (self-signed certificate)",
            target.addr
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_failing_connections_prints_a_bounded_number_of_lines() {
    const FLOOD: u64 = 200;
    let server = Server::quiet(&["pipe", "127.0.0.1:0", &refused_port()]);
    let started = std::time::Instant::now();
    for _ in 0..FLOOD {
        closed_at_once(&server).await;
    }
    let windows = started.elapsed().as_secs() + 2;
    let lines = stopped_stderr(server);
    let (shown, summaries): (Vec<_>, Vec<_>) = lines.iter().partition(|l| l.contains(": target "));
    assert!(
        shown.len() as u64 <= 10 * windows,
        "{} lines in under {windows} s",
        shown.len()
    );
    // Every failure is accounted for: shown, or counted in a summary.
    let held_back: u64 = summaries
        .iter()
        .map(|l| {
            let rest = l.strip_prefix("wirecat: pipe: ").expect(l);
            assert!(rest.contains(" more connection errors not shown"), "{l}");
            rest.split(' ').next().unwrap().parse::<u64>().expect(l)
        })
        .sum();
    assert_eq!(shown.len() as u64 + held_back, FLOOD, "{lines:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_resetting_mid_stream_is_one_line_on_stderr_without_v() {
    let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    let server = Server::quiet(&["pipe", "127.0.0.1:0", &taddr]);
    tokio::spawn(async move {
        let (mut s, _) = target.accept().await.unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).await.unwrap();
        socket2::SockRef::from(&s)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
    });
    let mut c = TcpStream::connect(&server.addr).await.unwrap();
    c.write_all(b"hello").await.unwrap();
    let _ = within("client sees the break", c.read_to_end(&mut Vec::new())).await;
    let lines = stopped_stderr(server);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("wirecat: pipe: conn 1: target: ECONNRESET"),
        "{lines:#?}"
    );
}

/// A test-side TCP target, and the pipe to it with `args`.
fn pipe_to_own_target(args: &[&str]) -> (std::net::TcpListener, Server) {
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    let mut all = vec!["pipe", "127.0.0.1:0", &taddr];
    all.extend_from_slice(args);
    let server = Server::json(&all);
    (target, server)
}

/// A client through the pipe, and the target's end of its pair.
fn pair(
    server: &Server,
    target: &std::net::TcpListener,
) -> (std::net::TcpStream, std::net::TcpStream) {
    let c = std::net::TcpStream::connect(&server.addr).unwrap();
    c.set_read_timeout(Some(common::LIMIT)).unwrap();
    let (t, _) = common::accept_within(target);
    t.set_read_timeout(Some(common::LIMIT)).unwrap();
    (c, t)
}

/// The second signal ends open pairs and keeps their books: an `error`
/// ECONNABORTED and both `close` events with the bytes that moved, and
/// the server's final totals are the clients' sums.
#[test]
fn second_sigint_keeps_the_books_of_forced_pairs() {
    use std::io::{Read, Write};
    let (target, mut server) = pipe_to_own_target(&[]);
    let mut pairs = Vec::new();
    for (up, down) in [(10usize, 40usize), (300, 7)] {
        let (mut c, mut t) = pair(&server, &target);
        c.write_all(&vec![1; up]).unwrap();
        t.read_exact(&mut vec![0; up]).unwrap();
        t.write_all(&vec![2; down]).unwrap();
        c.read_exact(&mut vec![0; down]).unwrap();
        pairs.push((c, t));
    }
    server.force_stop();
    server.assert_forced_books(&["client", "target"], &[(1, 10, 40), (2, 300, 7)]);
    let events = server.events();
    for conn in [1, 2] {
        let target_close = events
            .iter()
            .find(|e| e["event"] == "close" && e["conn"] == conn && e["side"] == "target")
            .unwrap();
        let (read, written) = if conn == 1 { (40, 10) } else { (7, 300) };
        assert_eq!(target_close["bytesRead"], read, "{target_close}");
        assert_eq!(target_close["bytesWritten"], written, "{target_close}");
    }
}

/// `--timeout` ends, it does not destroy: after the `timeout` event both
/// peers get a FIN (nothing is reset), the reply the client had not read
/// yet arrives whole, and what each peer still sends (which can no longer
/// be passed on) is counted in that side's bytesRead until its FIN; then
/// clean `close` events.
#[test]
fn timeout_ends_both_sides_with_a_fin_and_counts_what_they_still_send() {
    use std::io::{Read, Write};
    let (target, server) = pipe_to_own_target(&["--timeout", "300"]);
    let (mut c, mut t) = pair(&server, &target);
    c.write_all(b"ping").unwrap();
    t.read_exact(&mut [0u8; 4]).unwrap();
    let reply = common::random_bytes(64 * 1024, 3);
    t.write_all(&reply).unwrap();
    server.wait_event("timeout", |e| e["event"] == "timeout" && e["conn"] == 1);
    let mut rest = Vec::new();
    t.read_to_end(&mut rest).expect("the target gets a FIN");
    assert!(rest.is_empty());
    t.write_all(b"late from target").unwrap();
    t.shutdown(std::net::Shutdown::Write).unwrap();
    c.write_all(b"late").unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back)
        .expect("the client gets a FIN, not a reset");
    assert!(
        back == reply,
        "{} bytes of the reply of {}",
        back.len(),
        reply.len()
    );
    let close =
        |side: &str| server.wait_event("close", |e| e["event"] == "close" && e["side"] == side);
    let (client, tclose) = (close("client"), close("target"));
    assert_eq!(client["hadError"], false, "{client}");
    assert_eq!(client["bytesRead"], 8, "{client}");
    assert_eq!(client["bytesWritten"], reply.len(), "{client}");
    assert_eq!(tclose["bytesRead"], reply.len() + 16, "{tclose}");
    assert_eq!(tclose["bytesWritten"], 4, "{tclose}");
}

/// Peers that never answer the timeout FINs cannot hold the pair: another
/// silent `--timeout` and it is closed.
#[test]
fn timeout_grace_of_silent_peers_is_bounded() {
    use std::io::Read;
    let (target, server) = pipe_to_own_target(&["--timeout", "200"]);
    let (mut c, mut t) = pair(&server, &target);
    let mut rest = Vec::new();
    t.read_to_end(&mut rest).unwrap();
    c.read_to_end(&mut rest).unwrap();
    let start = std::time::Instant::now();
    let close = server.wait_event("close", |e| e["event"] == "close" && e["side"] == "client");
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(close["hadError"], false, "{close}");
    assert_eq!(named(&server.events(), "timeout").len(), 1);
}
