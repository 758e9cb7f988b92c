//! `wirecat echo` (and the accept loop every server shares) against the real
//! binary on real sockets: concurrency, half-close, banner, limits,
//! shutdown, EMFILE, `--workers`; plus `listen --exec`.
//!
//! On Linux plain echo servers run on the io_uring engine by default and on
//! tokio with `WIRECAT_NO_URING=1`: the tests of behaviour run on both
//! paths ([`on_both_paths`]), and each checks from the `listening` event
//! that the path it asked for is the one serving.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use crate::common::{self, named, random_bytes, sha256, within, Server, LIMIT as DEADLINE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The two ways `echo` serves plain connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// The default on Linux.
    Uring,
    /// `WIRECAT_NO_URING=1`.
    Tokio,
}

impl Path {
    fn env(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Path::Uring => &[],
            Path::Tokio => &[("WIRECAT_NO_URING", "1")],
        }
    }

    /// The `listening` event's `engine`.
    fn engine(self) -> &'static str {
        match self {
            Path::Uring if cfg!(target_os = "linux") => "io_uring",
            _ => "tokio",
        }
    }
}

/// `wirecat echo ARGS --json` on `path` (through `sh -c 'PREFIX; exec …'`
/// with a prefix), checked to be served by that path.
fn echo_on(path: Path, shell_prefix: Option<&str>, args: &[&str]) -> Server {
    let mut all = vec!["echo"];
    all.extend_from_slice(args);
    let server = Server::json_env(shell_prefix, path.env(), &all);
    let listening = server.wait_event("listening", |e| e["event"] == "listening");
    assert_eq!(listening["engine"], path.engine(), "{listening}");
    server
}

/// A test body `fn NAME(path: Path)` run once on each path, as
/// `NAME::io_uring` and `NAME::tokio`.
macro_rules! on_both_paths {
    ($(#[$doc:meta])* fn $name:ident($path:ident: Path) $body:block) => {
        $(#[$doc])*
        mod $name {
            use super::*;

            fn run($path: Path) $body

            #[test]
            fn io_uring() {
                run(Path::Uring)
            }

            #[test]
            fn tokio() {
                run(Path::Tokio)
            }
        }
    };
}

/// Run `fut` on a two-thread runtime (for bodies on both paths).
fn block_on<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

fn connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s
}

/// Send `data`, half-close, read everything back.
fn round_trip(s: &mut TcpStream, data: &[u8]) -> Vec<u8> {
    s.write_all(data).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    back
}

/// Writes and reads at once, so neither side's buffers fill up.
async fn echo_client(addr: String, data: Vec<u8>) -> Vec<u8> {
    let s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        wr.write_all(&data).await.unwrap();
        wr.shutdown().await.unwrap();
    });
    let mut back = Vec::new();
    rd.read_to_end(&mut back).await.unwrap();
    writer.await.unwrap();
    back
}

#[test]
fn listening_event_names_the_engine() {
    for path in [Path::Uring, Path::Tokio] {
        echo_on(path, None, &["127.0.0.1:0"]);
    }
    // What the engine does not do stays on tokio.
    for flags in [&["--timeout", "1000"][..], &["--once"], &["--tls"]] {
        let mut args = vec!["127.0.0.1:0"];
        args.extend_from_slice(flags);
        let server = Server::json(&[&["echo"][..], &args].concat());
        let listening = server.wait_event("listening", |e| e["event"] == "listening");
        assert_eq!(listening["engine"], "tokio", "{flags:?}");
    }
}

on_both_paths! {
    fn echo_returns_every_byte_to_200_concurrent_clients(path: Path) {
        let server = echo_on(path, None, &["127.0.0.1:0"]);
        block_on(async {
            let mut clients = tokio::task::JoinSet::new();
            for i in 0..200u64 {
                let size = (random_bytes(4, i)[..4]
                    .iter()
                    .fold(0usize, |a, b| a * 256 + *b as usize))
                    % (1 << 20);
                let data = random_bytes(size, 1000 + i);
                let addr = server.addr.clone();
                clients.spawn(async move { (echo_client(addr, data.clone()).await == data, size) });
            }
            let mut total = 0;
            within("200 echo clients", async {
                while let Some(r) = clients.join_next().await {
                    let (same, size) = r.unwrap();
                    assert!(same, "a client of {size} bytes got different bytes back");
                    total += size;
                }
            })
            .await;
            assert!(total > 50 << 20, "payloads too small: {total}");
        });
        let closes = named(&server.events(), "close")
            .into_iter()
            .filter(|e| e["conn"].is_u64())
            .count();
        assert!(closes <= 200);
    }
}

on_both_paths! {
    fn client_half_close_gets_everything_back_then_eof(path: Path) {
        let server = echo_on(path, None, &["127.0.0.1:0"]);
        let data = random_bytes(300_000, 7);
        let mut s = connect(&server);
        assert_eq!(round_trip(&mut s, &data), data);
        let close = server.wait_event("close", |e| e["event"] == "close" && e["conn"] == 1);
        assert_eq!(close["bytesRead"], 300_000);
        assert_eq!(close["bytesWritten"], 300_000);
        assert_eq!(close["hadError"], false);
        assert!(close["durationMs"].is_u64());
        let events = server.events();
        let end = events.iter().position(|e| e["event"] == "end" && e["conn"] == 1);
        let closed = events.iter().position(|e| e["event"] == "close" && e["conn"] == 1);
        assert!(end.is_some() && end < closed, "end before close: {events:#?}");
    }
}

on_both_paths! {
    /// A client that resets: `error` ECONNRESET and `close` with hadError.
    fn client_reset_closes_with_had_error(path: Path) {
        let server = echo_on(path, None, &["127.0.0.1:0"]);
        let mut s = connect(&server);
        s.write_all(b"abc").unwrap();
        let mut back = [0u8; 3];
        s.read_exact(&mut back).unwrap();
        socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).unwrap();
        drop(s);
        let close = server.wait_event("close", |e| e["event"] == "close" && e["conn"] == 1);
        assert_eq!(close["hadError"], true);
        assert_eq!(close["bytesRead"], 3);
        assert_eq!(close["bytesWritten"], 3);
        let error = server.wait_event("error", |e| e["event"] == "error" && e["conn"] == 1);
        assert_eq!(error["code"], "ECONNRESET");
    }
}

/// `--reset`: everything is still echoed, then the connection closes with
/// RST instead of FIN, so the client's next read is ECONNRESET, not EOF.
/// The RST waits until the client has acknowledged the whole echo (a
/// zero-linger close threw away the queued tail of it); that wait runs on
/// the tokio engine, so `--reset` picks it, also where io_uring would serve.
#[test]
fn reset_echoes_everything_then_closes_with_rst() {
    const SIZE: usize = 16 << 20;
    for path in [Path::Uring, Path::Tokio] {
        let server = Server::json_env(None, path.env(), &["echo", "--reset", "127.0.0.1:0"]);
        let listening = server.wait_event("listening", |e| e["event"] == "listening");
        assert_eq!(listening["engine"], "tokio", "{listening}");
        let s = connect(&server);
        let data = random_bytes(SIZE, 11);
        let (got, end) = std::thread::scope(|t| {
            let mut wr = s.try_clone().unwrap();
            let data = &data;
            t.spawn(move || {
                wr.write_all(data).unwrap();
                wr.shutdown(Shutdown::Write).unwrap();
            });
            let mut rd = s.try_clone().unwrap();
            let mut got = Vec::with_capacity(SIZE);
            let mut buf = vec![0u8; 1 << 20];
            let end = loop {
                match rd.read(&mut buf) {
                    Ok(0) => break Ok(()),
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) => break Err(e.kind()),
                }
            };
            (got, end)
        });
        assert_eq!(got.len(), SIZE, "{path:?}: the whole echo arrives first");
        assert!(got == data, "{path:?}");
        assert_eq!(
            end,
            Err(std::io::ErrorKind::ConnectionReset),
            "{path:?}: a reset, not EOF"
        );
    }
}

/// Send `data` from a thread while reading it back here, `pause` after
/// each read of at most `chunk` bytes (a slow reader).
fn echo_through(s: &TcpStream, data: &[u8], chunk: usize, pause: Duration) -> Vec<u8> {
    std::thread::scope(|t| {
        let mut wr = s.try_clone().unwrap();
        t.spawn(move || wr.write_all(data).unwrap());
        let mut rd = s.try_clone().unwrap();
        let mut back = vec![0; data.len()];
        let mut got = 0;
        while got < data.len() {
            let end = got.saturating_add(chunk).min(data.len());
            got += rd.read(&mut back[got..end]).unwrap();
            std::thread::sleep(pause);
        }
        back
    })
}

on_both_paths! {
    /// On tokio, large reads switch a connection to splice(2) and small
    /// ones back to read(2)/write(2); on io_uring, sizes cross the ring's
    /// buffer size: every size, both ways on one connection, comes back
    /// whole and in order.
    fn messages_crossing_the_splice_switch_both_ways_echo_intact(path: Path) {
        let server = echo_on(path, None, &["127.0.0.1:0"]);
        let s = connect(&server);
        let sizes = [1, 65_536, 100, 20_000, 3, 8_192, 8_191, 16_384, 16_385, 1 << 20, 5, 70_000, 64];
        for (i, size) in sizes.into_iter().enumerate() {
            let data = random_bytes(size, 50 + i as u64);
            let back = echo_through(&s, &data, usize::MAX, Duration::ZERO);
            assert!(back == data, "message {i} of {size} bytes came back different");
        }
    }
}

on_both_paths! {
    /// A client that reads slower than it writes: the server's socket
    /// fills, the bytes wait and nothing is lost or reordered.
    fn slow_reader_gets_every_byte_back_in_order(path: Path) {
        let server = echo_on(path, None, &["127.0.0.1:0"]);
        let mut s = connect(&server);
        let data = random_bytes(6 << 20, 77);
        let back = echo_through(&s, &data, 64 << 10, Duration::from_millis(1));
        assert!(back == data, "6 MiB came back different");
        s.shutdown(Shutdown::Write).unwrap();
        assert_eq!(s.read(&mut [0; 1]).unwrap(), 0);
        let close = server.wait_event("close", |e| e["event"] == "close" && e["conn"] == 1);
        assert_eq!(close["bytesRead"], 6 << 20);
        assert_eq!(close["bytesWritten"], 6 << 20);
    }
}

/// `hogs` clients each send `size` bytes (64 KiB at a time, so bytes keep
/// arriving while the server stops reading them) and read nothing while 50
/// others have 20 echoes each; then every hog reads all its bytes back.
fn non_readers_beside_50_others(path: Path, hogs: usize, size: usize) {
    let server = echo_on(path, Some("ulimit -n 4096"), &["127.0.0.1:0"]);
    let data = random_bytes(size, 99);
    std::thread::scope(|t| {
        let mut pairs = Vec::new();
        for _ in 0..hogs {
            // Small socket buffers on the client's side, so the bytes wait
            // in the server rather than in the kernel.
            let sock =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            sock.set_recv_buffer_size(32 << 10).unwrap();
            sock.set_send_buffer_size(32 << 10).unwrap();
            let addr: std::net::SocketAddr = server.addr.parse().unwrap();
            sock.connect(&addr.into()).unwrap();
            let hog: TcpStream = sock.into();
            hog.set_read_timeout(Some(DEADLINE)).unwrap();
            let mut wr = hog.try_clone().unwrap();
            let sent = &data;
            let writer = t.spawn(move || {
                for part in sent.chunks(64 << 10) {
                    wr.write_all(part).unwrap();
                }
                wr.shutdown(Shutdown::Write).unwrap();
            });
            pairs.push((hog, writer));
        }
        // Let the hogs take every buffer they can.
        std::thread::sleep(Duration::from_millis(500));
        block_on(async {
            let mut clients = tokio::task::JoinSet::new();
            for i in 0..50u64 {
                let addr = server.addr.clone();
                clients.spawn(async move {
                    for round in 0..20u64 {
                        let data = random_bytes(20_000, i * 100 + round);
                        let s = tokio::net::TcpStream::connect(&addr).await.unwrap();
                        let (mut rd, mut wr) = s.into_split();
                        wr.write_all(&data).await.unwrap();
                        let mut back = vec![0; data.len()];
                        rd.read_exact(&mut back).await.unwrap();
                        assert!(back == data, "client {i} round {round}");
                    }
                });
            }
            within("50 clients beside non-readers", async {
                while let Some(r) = clients.join_next().await {
                    r.unwrap();
                }
            })
            .await;
        });
        for (i, (mut hog, writer)) in pairs.into_iter().enumerate() {
            let mut back = Vec::with_capacity(size);
            hog.read_to_end(&mut back).unwrap();
            writer.join().unwrap();
            let first = back.iter().zip(&data).position(|(a, b)| a != b);
            assert!(
                back == data,
                "non-reader {i} got different bytes back: {} of {size}, first difference at {first:?}",
                back.len()
            );
        }
    });
}

on_both_paths! {
    /// One client sends 64 MiB and reads nothing: it may hold only a few of
    /// the server's buffers, so 50 others keep getting their echoes.
    fn a_client_that_never_reads_does_not_starve_50_others(path: Path) {
        non_readers_beside_50_others(path, 1, 64 << 20);
    }
}

/// Forty clients that do not read, each with more bytes in flight than its
/// share of the engine's 256 buffers: none may take the ring's last buffers
/// from the 50 that do read. (The engine's own hazard: the tokio path has
/// no shared buffers.)
#[test]
fn forty_clients_that_never_read_do_not_starve_50_others_on_the_ring() {
    non_readers_beside_50_others(Path::Uring, 40, 4 << 20);
}

on_both_paths! {
    /// More clients at once than the engine's buffer ring has buffers
    /// (256), each first sending 64 KiB unread (four buffers' worth), then
    /// the rest of a random payload while reading: every one gets back
    /// bytes with the same SHA-256.
    fn more_clients_than_ring_buffers_get_their_own_bytes_back(path: Path) {
        let server = echo_on(path, Some("ulimit -n 4096"), &["127.0.0.1:0"]);
        block_on(async {
            let mut clients = tokio::task::JoinSet::new();
            for i in 0..400u64 {
                let addr = server.addr.clone();
                clients.spawn(async move {
                    let size = 65_536 + (i as usize * 7_919) % 200_000;
                    let data = random_bytes(size, 7000 + i);
                    let s = tokio::net::TcpStream::connect(addr).await.unwrap();
                    let (mut rd, mut wr) = s.into_split();
                    wr.write_all(&data[..65_536]).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let rest = data[65_536..].to_vec();
                    let writer = tokio::spawn(async move {
                        wr.write_all(&rest).await.unwrap();
                        wr.shutdown().await.unwrap();
                    });
                    let mut back = Vec::new();
                    rd.read_to_end(&mut back).await.unwrap();
                    writer.await.unwrap();
                    assert_eq!(sha256(&back), sha256(&data), "client {i} ({size} bytes)");
                });
            }
            within("400 clients over 256 buffers", async {
                while let Some(r) = clients.join_next().await {
                    r.unwrap();
                }
            })
            .await;
        });
    }
}

on_both_paths! {
    fn banner_is_sent_first_with_escapes_understood(path: Path) {
        let server = echo_on(path, None, &["127.0.0.1:0", "--banner", r"hello\tthere\r\n"]);
        let mut s = connect(&server);
        assert_eq!(round_trip(&mut s, b"ping"), b"hello\tthere\r\nping");
        let close = server.wait_event("close", |e| e["event"] == "close" && e["conn"] == 1);
        assert_eq!(close["bytesRead"], 4);
        assert_eq!(close["bytesWritten"], 17);
    }
}

on_both_paths! {
    fn max_connections_2_drops_a_third_client(path: Path) {
        let server = echo_on(path, None, &["127.0.0.1:0", "--max-connections", "2"]);
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut s = connect(&server);
            s.write_all(b"x").unwrap();
            let mut b = [0u8; 1];
            s.read_exact(&mut b).unwrap();
            held.push(s);
        }
        let mut third = connect(&server);
        let local_port = third.local_addr().unwrap().port();
        let mut buf = [0u8; 8];
        // Closed at once: EOF (or a reset), never an echo.
        let n = third.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0);
        let drop = server.wait_event("drop", |e| e["event"] == "drop");
        assert_eq!(drop["remotePort"], local_port);
        assert_eq!(drop["remoteAddress"], "127.0.0.1");
        assert_eq!(drop["localAddress"], "127.0.0.1");
        // The two held connections still echo.
        for s in &mut held {
            assert_eq!(round_trip(s, b"still"), b"still");
        }
    }
}

on_both_paths! {
    /// `--allow`/`--deny` refuse before a byte moves, with the rule named.
    fn deny_drops_a_refused_client_with_the_rule(path: Path) {
        let server = echo_on(path, None, &["127.0.0.1:0", "--deny", "127.0.0.0/8"]);
        let mut s = connect(&server);
        let n = s.read(&mut [0u8; 8]).unwrap_or(0);
        assert_eq!(n, 0);
        let drop = server.wait_event("drop", |e| e["event"] == "drop");
        assert_eq!(drop["rule"], "deny 127.0.0.0/8");
    }
}

#[test]
fn once_serves_one_connection_then_exits_0() {
    let mut server = Server::json(&["echo", "127.0.0.1:0", "--once"]);
    let mut s = connect(&server);
    assert_eq!(round_trip(&mut s, b"only one"), b"only one");
    assert_eq!(server.wait_exit(DEADLINE).code(), Some(0));
    assert!(TcpStream::connect(&server.addr).is_err());
}

#[test]
fn idle_timeout_emits_timeout_and_ends_the_connection() {
    let server = Server::json(&["echo", "127.0.0.1:0", "--timeout", "200"]);
    let mut s = connect(&server);
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    assert!(back.is_empty());
    server.wait_event("timeout", |e| e["event"] == "timeout" && e["conn"] == 1);
}

on_both_paths! {
    fn sigint_lets_open_connections_finish_exits_130_and_removes_the_socket_file(path: Path) {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("echo.sock");
        let mut server = echo_on(path, None, &[sock.to_str().unwrap()]);
        let mut client = std::os::unix::net::UnixStream::connect(&sock).unwrap();
        client.set_read_timeout(Some(DEADLINE)).unwrap();
        client.write_all(b"before").unwrap();
        let mut b = [0u8; 6];
        client.read_exact(&mut b).unwrap();
        server.wait_event("connection", |e| e["event"] == "connection");

        server.signal(libc::SIGINT);
        let start = std::time::Instant::now();
        while sock.exists() {
            assert!(start.elapsed() < DEADLINE, "socket file not removed");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(server.running(), "exited with a connection still open");
        client.write_all(b" and after").unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b" and after");
        assert_eq!(server.wait_exit(DEADLINE).signal(), Some(libc::SIGINT));
        let close = server.wait_event("server close", |e| {
            e["event"] == "close" && e.get("conn").is_none()
        });
        assert_eq!(close["connections"], 1);
        assert_eq!(close["bytesRead"], 16);
    }
}

on_both_paths! {
    /// An abstract socket (`unix:@NAME`): no file, same echo.
    fn abstract_socket_echoes(path: Path) {
        let name = format!("wirecat-echo-test-{}-{path:?}", std::process::id());
        let server = echo_on(path, None, &[&format!("unix:@{name}")]);
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let mut c = std::os::unix::net::UnixStream::connect_addr(&addr).unwrap();
        c.set_read_timeout(Some(DEADLINE)).unwrap();
        c.write_all(b"abstract").unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back).unwrap();
        assert_eq!(back, b"abstract");
        let close = server.wait_event("close", |e| e["event"] == "close" && e["conn"] == 1);
        assert_eq!(close["bytesRead"], 8);
    }
}

on_both_paths! {
    fn second_sigint_ends_open_connections_at_once(path: Path) {
        let mut server = echo_on(path, None, &["127.0.0.1:0"]);
        let mut client = connect(&server);
        client.write_all(b"hi").unwrap();
        let mut b = [0u8; 2];
        client.read_exact(&mut b).unwrap();
        server.signal(libc::SIGINT);
        // Wait until the accept loop has stopped (the port refuses), then again.
        let start = std::time::Instant::now();
        while TcpStream::connect(&server.addr).is_ok() {
            assert!(start.elapsed() < DEADLINE);
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(server.running());
        server.signal(libc::SIGINT);
        assert_eq!(
            server.wait_exit(Duration::from_secs(5)).signal(),
            Some(libc::SIGINT)
        );
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest);
        assert!(rest.is_empty());
    }
}

on_both_paths! {
    /// A client that never reads holds a send in flight: the second signal
    /// still ends it at once.
    fn second_sigint_ends_a_connection_blocked_on_send(path: Path) {
        let mut server = echo_on(path, None, &["127.0.0.1:0"]);
        let client = connect(&server);
        let mut wr = client.try_clone().unwrap();
        std::thread::spawn(move || {
            let chunk = vec![7u8; 1 << 16];
            while wr.write_all(&chunk).is_ok() {}
        });
        std::thread::sleep(Duration::from_millis(300));
        server.signal(libc::SIGINT);
        std::thread::sleep(Duration::from_millis(100));
        assert!(server.running());
        server.signal(libc::SIGINT);
        assert_eq!(
            server.wait_exit(Duration::from_secs(5)).signal(),
            Some(libc::SIGINT)
        );
    }
}

on_both_paths! {
    fn sigterm_exits_0(path: Path) {
        let mut server = echo_on(path, None, &["127.0.0.1:0"]);
        server.signal(libc::SIGTERM);
        assert_eq!(server.wait_exit(DEADLINE).code(), Some(0));
    }
}

on_both_paths! {
    fn emfile_keeps_serving_what_it_can_and_recovers(path: Path) {
        let server = echo_on(path, Some("ulimit -n 64"), &["127.0.0.1:0"]);
        block_on(async {
            let mut clients = tokio::task::JoinSet::new();
            let mut held = Vec::new();
            // Hold 200 connections open at once: more than 64 descriptors.
            for _ in 0..200 {
                held.push(tokio::net::TcpStream::connect(&server.addr).await.unwrap());
            }
            server.wait_event("EMFILE", |e| e["event"] == "error" && e["code"] == "EMFILE");
            for (i, s) in held.into_iter().enumerate() {
                clients.spawn(async move {
                    let (mut rd, mut wr) = s.into_split();
                    let msg = format!("client {i}");
                    wr.write_all(msg.as_bytes()).await.unwrap();
                    wr.shutdown().await.unwrap();
                    let mut back = Vec::new();
                    rd.read_to_end(&mut back).await.unwrap();
                    assert_eq!(back, msg.as_bytes());
                });
            }
            within("200 clients through EMFILE", async {
                while let Some(r) = clients.join_next().await {
                    r.unwrap();
                }
            })
            .await;
            let back = echo_client(server.addr.clone(), b"recovered".to_vec()).await;
            assert_eq!(back, b"recovered");
        });
    }
}

on_both_paths! {
    /// Large messages would go through a pipe (splice(2), on the tokio
    /// path); with no descriptor left for one, they are read and written
    /// instead, whole.
    fn large_messages_echo_whole_with_no_descriptor_left_for_a_pipe(path: Path) {
        let server = echo_on(path, Some("ulimit -n 64"), &["127.0.0.1:0"]);
        block_on(async {
            let mut held = Vec::new();
            for _ in 0..100 {
                held.push(tokio::net::TcpStream::connect(&server.addr).await.unwrap());
            }
            server.wait_event("EMFILE", |e| e["event"] == "error" && e["code"] == "EMFILE");
            let mut clients = tokio::task::JoinSet::new();
            for (i, s) in held.into_iter().enumerate() {
                clients.spawn(async move {
                    let data = random_bytes(300_000, 500 + i as u64);
                    let (mut rd, mut wr) = s.into_split();
                    let sent = data.clone();
                    let writer = tokio::spawn(async move {
                        for part in sent.chunks(30_000) {
                            wr.write_all(part).await.unwrap();
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        wr.shutdown().await.unwrap();
                    });
                    let mut back = Vec::new();
                    rd.read_to_end(&mut back).await.unwrap();
                    writer.await.unwrap();
                    assert!(back == data, "client {i} got different bytes back");
                });
            }
            within("100 clients of 300 KB through EMFILE", async {
                while let Some(r) = clients.join_next().await {
                    r.unwrap();
                }
            })
            .await;
        });
    }
}

on_both_paths! {
    fn workers_4_accept_on_four_loops_and_echo(path: Path) {
        let mut server = echo_on(path, None, &["127.0.0.1:0", "--workers", "4"]);
        block_on(async {
            let mut clients = tokio::task::JoinSet::new();
            for i in 0..64u64 {
                let data = random_bytes(10_000 + i as usize, i);
                let addr = server.addr.clone();
                clients.spawn(async move { echo_client(addr, data.clone()).await == data });
            }
            within("workers", async {
                while let Some(r) = clients.join_next().await {
                    assert!(r.unwrap());
                }
            })
            .await;
        });
        server.signal(libc::SIGTERM);
        assert_eq!(server.wait_exit(DEADLINE).code(), Some(0));
        let close = server.wait_event("server close", |e| {
            e["event"] == "close" && e.get("conn").is_none()
        });
        assert_eq!(close["connections"], 64);
    }
}

#[test]
fn exec_cat_echoes_through_the_child_which_sees_eof_on_half_close() {
    let server = Server::json(&["listen", "127.0.0.1:0", "-k", "--exec", "cat"]);
    for _ in 0..2 {
        let mut s = connect(&server);
        // read_to_end returns only once cat has seen EOF and exited.
        assert_eq!(round_trip(&mut s, b"through cat\n"), b"through cat\n");
    }
    let close = server.wait_event("close", |e| e["event"] == "close" && e["conn"] == 2);
    assert_eq!(close["exitCode"], 0);
}

#[test]
fn sh_exec_runs_a_shell_command_line() {
    let server = Server::json(&["listen", "127.0.0.1:0", "--sh-exec", "wc -c | tr -d ' '"]);
    let mut s = connect(&server);
    assert_eq!(round_trip(&mut s, b"12345"), b"5\n");
}

on_both_paths! {
    /// SIGHUP is SIGTERM: the socket file goes at once, the open
    /// connection is served to its end, and the exit code is SIGTERM's.
    fn sighup_drains_and_removes_the_unix_socket(path: Path) {
        common::sighup_default();
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("e.sock");
        let mut server = echo_on(path, None, &[sock.to_str().unwrap()]);
        let mut c = std::os::unix::net::UnixStream::connect(&sock).unwrap();
        c.set_read_timeout(Some(DEADLINE)).unwrap();
        server.wait_event("connection", |e| e["event"] == "connection");
        server.signal(libc::SIGHUP);
        common::wait_gone(&sock);
        c.write_all(b"after the hangup").unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back).unwrap();
        assert_eq!(back, b"after the hangup");
        assert_eq!(server.wait_exit(DEADLINE).code(), Some(0));
    }
}

/// The `error` events of a server that are not accept errors: those of
/// accept loops that could not start.
fn loop_errors(events: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    named(events, "error")
        .into_iter()
        .filter(|e| e["syscall"] != "accept" && e.get("code").is_some())
        .collect()
}

/// What a server under a `ulimit` did.
#[derive(Debug)]
enum Outcome {
    /// Exited or hung before it was ready (the ready file itself, or the
    /// runtime's own threads).
    NotReady(String),
    /// Echoed a client, and exited 0 on SIGTERM.
    Served,
    /// Ran without echoing the client (every accept failing, say), and
    /// exited 0 on SIGTERM.
    Starved,
    /// No accept loop started: exit 5, with this errno.
    LoopFailed(String),
}

/// `wirecat echo` under `ulimit ARG`, probed with one client, then SIGTERM.
fn under_limit(path: Path, ulimit: &str) -> (Outcome, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let (ready, events) = (dir.path().join("ready"), dir.path().join("events"));
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit {ulimit}; exec \"$0\" \"$@\""))
        .arg(common::bin())
        .args(["echo", "127.0.0.1:0", "--json", "--ready-file"])
        .arg(&ready)
        .env_clear()
        // glibc's own fatal errors to stderr, not the terminal.
        .env("LIBC_FATAL_STDERR_", "1")
        .envs(path.env().iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&events).unwrap())
        .spawn()
        .unwrap();
    // Lines that are not events (a panic's) are left out.
    let read_events = || {
        let text = std::fs::read_to_string(&events).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect::<Vec<serde_json::Value>>()
    };
    let start = std::time::Instant::now();
    let addr = loop {
        if let Some(text) = std::fs::read_to_string(&ready)
            .ok()
            .filter(|t| t.ends_with('\n'))
        {
            break text.trim().to_string();
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (Outcome::NotReady(status.to_string()), read_events());
        }
        if start.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            let _ = child.wait();
            return (Outcome::NotReady("hung".into()), read_events());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let echoed = probe(&addr);
    // SAFETY: kill(2) on our own child, not yet reaped (harmless if it
    // has exited: the zombie is still ours).
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = common::wait_child(&mut child);
    let raw = std::fs::read_to_string(&events).unwrap_or_default();
    let events = read_events();
    let outcome = match (echoed, status.code()) {
        // In a narrow window of limits the allocator itself gives up and
        // the process aborts, in glibc ("Fatal glibc error: failed to
        // register TLS destructor": a thread's malloc arena cannot be had)
        // or in Rust's handler for a failed allocation: out of memory,
        // where no error can be returned to report.
        (false, _) if raw.contains("Fatal glibc error") || raw.contains("memory allocation of") => {
            Outcome::NotReady("aborted: out of memory".into())
        }
        (true, Some(0)) => Outcome::Served,
        (false, Some(0)) => Outcome::Starved,
        (false, Some(5)) => match loop_errors(&events).first() {
            Some(e) => Outcome::LoopFailed(e["code"].as_str().unwrap_or("").to_string()),
            None => panic!("{ulimit}: exit 5 without its error event: {events:#?}"),
        },
        _ => panic!("{ulimit}: echoed {echoed}, {status}: {events:#?}"),
    };
    if !matches!(outcome, Outcome::LoopFailed(_)) {
        assert!(
            loop_errors(&events).is_empty(),
            "{ulimit}: {outcome:?}: {events:#?}"
        );
    }
    (outcome, events)
}

/// Whether the server at `addr` echoes a client within 2 s: one whose
/// accept loops failed has closed its listening socket (refused or reset).
fn probe(addr: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    let mut back = Vec::new();
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let sent = s
        .write_all(b"probe")
        .and_then(|()| s.shutdown(Shutdown::Write));
    sent.is_ok() && s.read_to_end(&mut back).is_ok() && back == b"probe"
}

/// Run `wirecat echo` under each `ulimit` of `limits`: whatever the
/// limit, a ready server serves, or fails with exit 5 and one of
/// `errnos` (never `EIO`, never exit 0 having served nobody because its
/// loop did not start); at least one limit makes the loop fail.
fn sweep(path: Path, limits: impl Iterator<Item = String>, errnos: &[&str]) {
    let mut outcomes = Vec::new();
    for limit in limits {
        let (outcome, events) = under_limit(path, &limit);
        let eio = named(&events, "error")
            .into_iter()
            .any(|e| e["code"] == "EIO");
        assert!(!eio, "{limit}: {events:#?}");
        match &outcome {
            Outcome::LoopFailed(code) => {
                assert!(errnos.contains(&code.as_str()), "{limit}: {events:#?}");
            }
            Outcome::NotReady(how) => assert_ne!(how, "exit status: 0", "{limit}: {events:#?}"),
            Outcome::Served | Outcome::Starved => {}
        }
        outcomes.push((limit, outcome));
    }
    eprintln!("{outcomes:?}");
    let failed = outcomes
        .iter()
        .any(|(_, o)| matches!(o, Outcome::LoopFailed(_)));
    assert!(failed, "no limit made the accept loop fail: {outcomes:?}");
    assert!(
        matches!(outcomes.last(), Some((_, Outcome::Served))),
        "{outcomes:?}"
    );
}

on_both_paths! {
    /// Descriptors: with a few more than binding takes, the accept loop's
    /// runtime or ring finds none (EMFILE).
    fn an_accept_loop_without_descriptors_fails_with_exit_5_and_emfile(path: Path) {
        sweep(path, (10..=18).map(|n| format!("-n {n}")), &["EMFILE"]);
    }
}

on_both_paths! {
    /// Memory (`ulimit -v`): the accept loop's thread (EAGAIN) or ring
    /// (ENOMEM) cannot be had. Below the sweep's floor the runtime's own
    /// threads fail before the server is ready (a panic inside tokio):
    /// reported as `NotReady`, not asserted.
    fn an_accept_loop_without_memory_fails_with_exit_5_and_its_errno(path: Path) {
        let mib = (16..32).chain((32..=48).step_by(4));
        sweep(path, mib.map(|m| format!("-v {}", m << 10)), &["EAGAIN", "ENOMEM"]);
    }
}

/// A program that cannot be started: one that does not exist (ENOENT) and
/// a file without the execute bit (EACCES), with the line each gets.
fn unstartable(dir: &std::path::Path) -> [(String, &'static str); 2] {
    let plain = dir.join("not-executable.sh");
    std::fs::write(&plain, "#!/bin/sh\necho never\n").unwrap();
    let missing = dir.join("no-such-program").to_str().unwrap().to_owned();
    [
        (missing, "ENOENT (no such file or directory)"),
        (
            plain.to_str().unwrap().to_owned(),
            "EACCES (permission denied)",
        ),
    ]
}

/// Connect and read until the server closes the connection.
fn closed_by_server(server: &Server) {
    let mut s = connect(server);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn exec_that_cannot_start_is_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    for (program, why) in unstartable(dir.path()) {
        let mut server = Server::quiet(&["listen", "127.0.0.1:0", "--exec", &program]);
        closed_by_server(&server);
        assert_eq!(server.wait_exit(DEADLINE).code(), Some(1), "{program}");
        assert_eq!(
            server.stderr_text(),
            format!("wirecat: exec {program}: {why}\n")
        );
    }
}

#[test]
fn exec_that_cannot_start_under_k_is_a_line_per_connection_and_serving_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    for (program, why) in unstartable(dir.path()) {
        let mut server = Server::quiet(&["listen", "127.0.0.1:0", "-k", "--exec", &program]);
        closed_by_server(&server);
        closed_by_server(&server);
        assert!(server.running(), "-k keeps serving after {program}");
        server.signal(libc::SIGTERM);
        assert_eq!(server.wait_exit(DEADLINE).code(), Some(0));
        // The second child's task may still be ending when SIGTERM comes.
        let text = server.stderr_text();
        let lines: String = text
            .lines()
            .filter(|l| !l.starts_with("wirecat: draining "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            lines,
            format!(
                "wirecat: listen: conn 1: exec {program}: {why}\n\
                 wirecat: listen: conn 2: exec {program}: {why}\n"
            )
        );
    }
}

/// Wait until `server`'s stderr has a line containing `text`.
fn wait_stderr(server: &Server, text: &str) -> String {
    let start = std::time::Instant::now();
    loop {
        let all = server.stderr_text();
        if let Some(line) = all.lines().find(|l| l.contains(text)) {
            return line.to_owned();
        }
        assert!(start.elapsed() < DEADLINE, "no {text:?} on stderr: {all:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn first_sigint_with_open_connections_says_it_drains_them_and_how_to_force() {
    // echo (io_uring engine) and listen -k (the tokio accept loop).
    for args in [
        &["echo", "127.0.0.1:0"][..],
        &["listen", "-k", "127.0.0.1:0"],
    ] {
        let mut server = Server::quiet(args);
        let mut clients: Vec<TcpStream> = (0..2).map(|_| connect(&server)).collect();
        for c in &mut clients {
            if args[0] == "echo" {
                c.write_all(b"x").unwrap();
            }
            // An echo, or listen's FIN after its empty stdin: the
            // connection has been accepted and counted.
            let mut byte = [0u8; 1];
            let _ = c.read(&mut byte).unwrap();
        }
        server.signal(libc::SIGINT);
        let line = wait_stderr(&server, "draining");
        assert_eq!(
            line, "wirecat: draining 2 open connections; ^C again ends them now",
            "{args:?}"
        );
        assert!(server.running(), "{args:?} waits for its connections");
        drop(clients);
        assert_eq!(
            server.wait_exit(DEADLINE).signal(),
            Some(libc::SIGINT),
            "{args:?}"
        );
        assert_eq!(server.stderr_text().lines().count(), 1, "{args:?}");
    }
}

on_both_paths! {
    /// A client that resets while its echo is still flowing back, 20
    /// times: every connection's `close` has hadError and its `error` is
    /// ECONNRESET, whichever of echo's recv and send meets the reset.
    fn a_reset_mid_echo_is_an_error_every_time(path: Path) {
        const RUNS: u64 = 20;
        let server = echo_on(path, None, &["127.0.0.1:0"]);
        for _ in 0..RUNS {
            let mut s = connect(&server);
            // A megabyte (the buffers hold it all, so the write returns),
            // a little of it read back: the server is still sending the
            // rest when the reset comes.
            s.write_all(&vec![5u8; 1 << 20]).unwrap();
            let mut some = vec![0u8; 64 << 10];
            s.read_exact(&mut some).unwrap();
            socket2::SockRef::from(&s)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            drop(s);
        }
        for id in 1..=RUNS {
            let close = server.wait_event("close", |e| e["event"] == "close" && e["conn"] == id);
            assert_eq!(close["hadError"], true, "conn {id}: {close}");
            let err = server.wait_event("error", |e| e["event"] == "error" && e["conn"] == id);
            assert_eq!(err["code"], "ECONNRESET", "conn {id}: {err}");
        }
        assert!(
            named(&server.events(), "end").is_empty(),
            "a reset is not an end"
        );
    }
}

on_both_paths! {
    /// The second signal ends open connections and keeps their books: each
    /// gets an `error` ECONNABORTED and a `close` with the bytes it moved,
    /// and the server's final totals are their sum.
    fn second_sigint_keeps_the_books_of_forced_connections(path: Path) {
        let mut server = echo_on(path, None, &["127.0.0.1:0"]);
        let mut clients = Vec::new();
        for (i, len) in [100usize, 2500].into_iter().enumerate() {
            let mut c = connect(&server);
            let data = random_bytes(len, i as u64);
            c.write_all(&data).unwrap();
            let mut back = vec![0; len];
            c.read_exact(&mut back).unwrap();
            assert_eq!(back, data);
            server.wait_event("connection", |e| e["event"] == "connection" && e["conn"] == i + 1);
            clients.push(c);
        }
        server.force_stop();
        server.assert_forced_books(&[], &[(1, 100, 100), (2, 2500, 2500)]);
    }
}

/// `--timeout` ends, it does not destroy: after the `timeout` event our
/// FIN; a client that has not read its echo yet, then sends more and its
/// FIN, gets every byte echoed before the timeout and a FIN (no reset).
/// What it sent after our FIN cannot be echoed: it is counted in
/// bytesRead, then `end` and a clean `close`.
#[test]
fn timeout_ends_with_a_fin_and_counts_what_the_client_still_sends() {
    let server = Server::json(&["echo", "127.0.0.1:0", "--timeout", "300"]);
    let mut c = connect(&server);
    let data = random_bytes(64 * 1024, 7);
    c.write_all(&data).unwrap();
    server.wait_event("timeout", |e| e["event"] == "timeout" && e["conn"] == 1);
    // Our FIN has gone (or goes now); the client still talks.
    let late = vec![b'x'; 1000];
    c.write_all(&late).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back).expect("a FIN, not a reset");
    assert!(
        back == data,
        "{} bytes echoed of {}",
        back.len(),
        data.len()
    );
    let close = server.wait_event("close", |e| e["event"] == "close" && e["conn"] == 1);
    assert_eq!(close["hadError"], false, "{close}");
    assert_eq!(close["bytesRead"], data.len() + late.len(), "{close}");
    assert_eq!(close["bytesWritten"], data.len(), "{close}");
    let events = server.events();
    let at = |name: &str| {
        events
            .iter()
            .position(|e| e["event"] == name && e["conn"] == 1)
            .unwrap_or_else(|| panic!("no {name}: {events:#?}"))
    };
    assert!(
        at("timeout") < at("end") && at("end") < at("close"),
        "{events:#?}"
    );
}

/// A client that never answers our timeout FIN cannot hold the connection:
/// another silent `--timeout` and it is closed (no `end`).
#[test]
fn timeout_grace_of_a_silent_client_is_bounded() {
    let server = Server::json(&["echo", "127.0.0.1:0", "--timeout", "200"]);
    let mut c = connect(&server);
    c.write_all(b"hi").unwrap();
    let mut b = [0u8; 2];
    c.read_exact(&mut b).unwrap();
    // Our FIN, then nothing from us: the server gives up after the grace.
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    let start = std::time::Instant::now();
    let close = server.wait_event("close", |e| e["event"] == "close" && e["conn"] == 1);
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(close["hadError"], false, "{close}");
    assert_eq!(close["bytesRead"], 2, "{close}");
    let events = server.events();
    assert!(named(&events, "end").is_empty(), "{events:#?}");
    assert_eq!(named(&events, "timeout").len(), 1, "{events:#?}");
    drop(c);
}
