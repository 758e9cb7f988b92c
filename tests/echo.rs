//! `wirecat echo` (and the accept loop every server shares) against the real
//! binary on real sockets: concurrency, half-close, banner, limits,
//! shutdown, EMFILE, `--workers`; plus `listen --exec`.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use common::{named, random_bytes, within, Server, LIMIT as DEADLINE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_returns_every_byte_to_200_concurrent_clients() {
    let server = Server::json(&["echo", "127.0.0.1:0"]);
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
    let closes = named(&server.events(), "close")
        .into_iter()
        .filter(|e| e["conn"].is_u64())
        .count();
    assert!(total > 50 << 20, "payloads too small: {total}");
    assert!(closes <= 200);
}

#[test]
fn client_half_close_gets_everything_back_then_eof() {
    let server = Server::json(&["echo", "127.0.0.1:0"]);
    let data = random_bytes(300_000, 7);
    let mut s = connect(&server);
    assert_eq!(round_trip(&mut s, &data), data);
    let close = server.wait_event("close", |e| e["event"] == "close" && e["conn"] == 1);
    assert_eq!(close["bytesRead"], 300_000);
    assert_eq!(close["bytesWritten"], 300_000);
    assert_eq!(close["hadError"], false);
    assert!(close["durationMs"].is_u64());
}

/// `--reset`: everything is still echoed, then the connection closes with
/// RST instead of FIN, so the client's next read is ECONNRESET, not EOF.
#[test]
fn reset_echoes_then_closes_with_rst() {
    let server = Server::json(&["echo", "--reset", "127.0.0.1:0"]);
    let mut s = connect(&server);
    s.write_all(b"abc").unwrap();
    let mut back = [0u8; 3];
    s.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"abc");
    s.shutdown(Shutdown::Write).unwrap();
    let err = s.read(&mut [0u8; 16]).expect_err("a reset, not EOF");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
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

/// On Linux large reads switch a connection to splice(2) and small ones
/// back to read(2)/write(2): every size, crossing the switch both ways on
/// one connection, comes back whole and in order.
#[test]
fn messages_crossing_the_splice_switch_both_ways_echo_intact() {
    let server = Server::json(&["echo", "127.0.0.1:0"]);
    let s = connect(&server);
    let sizes = [
        1,
        65_536,
        100,
        20_000,
        3,
        8_192,
        8_191,
        1 << 20,
        5,
        70_000,
        64,
    ];
    for (i, size) in sizes.into_iter().enumerate() {
        let data = random_bytes(size, 50 + i as u64);
        let back = echo_through(&s, &data, usize::MAX, Duration::ZERO);
        assert!(
            back == data,
            "message {i} of {size} bytes came back different"
        );
    }
}

/// A client that reads slower than it writes: the server's socket fills,
/// the bytes wait (in a pipe, on Linux) and nothing is lost or reordered.
#[test]
fn slow_reader_gets_every_byte_back_in_order() {
    let server = Server::json(&["echo", "127.0.0.1:0"]);
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

#[test]
fn banner_is_sent_first_with_escapes_understood() {
    let server = Server::json(&["echo", "127.0.0.1:0", "--banner", r"hello\tthere\r\n"]);
    let mut s = connect(&server);
    assert_eq!(round_trip(&mut s, b"ping"), b"hello\tthere\r\nping");
}

#[test]
fn max_connections_2_drops_a_third_client() {
    let server = Server::json(&["echo", "127.0.0.1:0", "--max-connections", "2"]);
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

#[test]
fn sigint_lets_open_connections_finish_exits_130_and_removes_the_socket_file() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("echo.sock");
    let mut server = Server::json(&["echo", sock.to_str().unwrap()]);
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
    assert_eq!(server.wait_exit(DEADLINE).code(), Some(130));
    let close = server.wait_event("server close", |e| {
        e["event"] == "close" && e.get("conn").is_none()
    });
    assert_eq!(close["connections"], 1);
    assert_eq!(close["bytesRead"], 16);
}

#[test]
fn second_sigint_ends_open_connections_at_once() {
    let mut server = Server::json(&["echo", "127.0.0.1:0"]);
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
    assert_eq!(server.wait_exit(Duration::from_secs(5)).code(), Some(130));
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    assert!(rest.is_empty());
}

#[test]
fn sigterm_exits_0() {
    let mut server = Server::json(&["echo", "127.0.0.1:0"]);
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(DEADLINE).code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emfile_keeps_serving_what_it_can_and_recovers() {
    let server = Server::json_in(Some("ulimit -n 64"), &["echo", "127.0.0.1:0"]);
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
}

/// Large messages would go through a pipe (splice(2), on Linux); with no
/// descriptor left for one, they are read and written instead, whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_messages_echo_whole_with_no_descriptor_left_for_a_pipe() {
    let server = Server::json_in(Some("ulimit -n 64"), &["echo", "127.0.0.1:0"]);
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_4_accept_on_four_loops_and_echo() {
    let mut server = Server::json(&["echo", "127.0.0.1:0", "--workers", "4"]);
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
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(DEADLINE).code(), Some(0));
    let close = server.wait_event("server close", |e| {
        e["event"] == "close" && e.get("conn").is_none()
    });
    assert_eq!(close["connections"], 64);
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
