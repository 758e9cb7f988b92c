//! `listen --broker` and `--chat`: every client's bytes reach every other
//! client, a client that never reads is dropped instead of stalling the
//! rest, and chat frames lines with their sender, with ncat as the client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::*;

const CLIENTS: usize = 50;
const BULK: usize = 12 << 20;
/// Readers that stay for the bulk part (the rest leave after the hellos).
const STAY: usize = 3;

fn wait_connections(server: &Server, n: usize) {
    poll_until_events(server, |ev| {
        ev.iter().filter(|e| e["event"] == "connection").count() >= n
    });
}

fn poll_until_events(server: &Server, done: impl Fn(&[serde_json::Value]) -> bool) {
    let start = Instant::now();
    while !done(&server.events()) {
        assert!(start.elapsed() < LIMIT, "events: {:#?}", server.events());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A client whose receive buffer is tiny and that never reads.
fn silent_client(addr: SocketAddr) -> TcpStream {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&addr.into()).unwrap();
    sock.into()
}

#[test]
fn broker_relays_every_client_to_the_others_and_drops_one_that_never_reads() {
    let server = Server::json(&["listen", "127.0.0.1:0", "--broker"]);
    let addr: SocketAddr = server.addr.parse().unwrap();
    let silent = silent_client(addr);
    wait_connections(&server, 1);
    let clients: Vec<TcpStream> = (1..CLIENTS)
        .map(|_| {
            let c = TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(LIMIT)).unwrap();
            c
        })
        .collect();
    wait_connections(&server, CLIENTS);
    let bulk = random_bytes(BULK, 77);
    // Every client but the silent one says hello and reads the other 48
    // hellos; then all but STAY readers leave, and those read the
    // sender's bulk, checksummed, while the silent client is dropped.
    let (said_tx, said_rx) = mpsc::channel::<()>();
    let mut readers = Vec::new();
    let mut sender = None;
    for (i, mut c) in clients.into_iter().enumerate() {
        // One write, so that the line arrives in one piece.
        c.write_all(format!("hello {i}\n").as_bytes()).unwrap();
        if i == 0 {
            sender = Some(c);
            continue;
        }
        let said = said_tx.clone();
        readers.push(std::thread::spawn(move || {
            let mut r = BufReader::new(c);
            let mut hellos = Vec::new();
            for _ in 0..CLIENTS - 2 {
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                hellos.push(line);
            }
            said.send(()).unwrap();
            if i > STAY {
                return (i, hellos, None);
            }
            let mut got = vec![0u8; BULK];
            r.read_exact(&mut got).unwrap();
            (i, hellos, Some(sha256(&got)))
        }));
    }
    for _ in 0..CLIENTS - 2 {
        if said_rx.recv_timeout(LIMIT).is_err() {
            panic!("no hellos: {:#?}", server.events());
        }
    }
    let left = CLIENTS - 2 - STAY;
    poll_until_events(&server, |ev| {
        ev.iter().filter(|e| e["event"] == "close").count() >= left
    });
    // Paced, so that the readers keep up on a loaded machine while the
    // silent client's queue fills.
    let mut sender = sender.unwrap();
    for piece in bulk.chunks(64 << 10) {
        if let Err(e) = sender.write_all(piece) {
            let raw = std::fs::read_to_string(server.path("events")).unwrap();
            let tail: Vec<&str> = raw
                .lines()
                .filter(|l| !l.contains("\"connection\""))
                .collect();
            panic!("sender: {e}; server said: {tail:#?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let want = sha256(&bulk);
    for r in readers {
        let (i, hellos, sum) = r.join().unwrap();
        let mut from: Vec<usize> = hellos
            .iter()
            .map(|l| l.trim().strip_prefix("hello ").unwrap().parse().unwrap())
            .collect();
        from.sort();
        let others: Vec<usize> = (0..CLIENTS - 1).filter(|&j| j != i).collect();
        assert_eq!(from, others, "client {i}");
        if let Some(sum) = sum {
            assert_eq!(sum, want, "client {i}");
        }
    }
    let dropped = server.wait_event("drop", |e| e["event"] == "drop");
    assert_eq!(dropped["conn"], 1, "{dropped}");
    assert!(
        dropped["reason"].as_str().unwrap().contains("slow reader"),
        "{dropped}"
    );
    let closed = server.wait_event("close of the dropped client", |e| {
        e["event"] == "close" && e["conn"] == 1
    });
    assert_eq!(closed["hadError"], true);
    // Nobody else was dropped.
    let drops = server
        .events()
        .iter()
        .filter(|e| e["event"] == "drop")
        .count();
    assert_eq!(drops, 1);
    drop(silent);
}

/// An ncat client with piped stdin and stdout.
fn ncat(port: u16) -> Child {
    Command::new("ncat")
        .args(["127.0.0.1", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Lines from a child's stdout, on a thread.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn next(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(LIMIT).expect("a line within the limit")
}

#[test]
fn chat_frames_lines_with_their_sender_for_ncat_clients() {
    if !have("ncat") {
        eprintln!("skipped: no ncat");
        return;
    }
    let server = Server::json(&["listen", "127.0.0.1:0", "--chat"]);
    let port = server.port();
    let mut a = ncat(port);
    let a_lines = lines_of(&mut a);
    assert_eq!(next(&a_lines), "<announce> already connected: nobody.");
    let mut b = ncat(port);
    let b_lines = lines_of(&mut b);
    assert_eq!(next(&b_lines), "<announce> already connected: <user1>.");
    let joined = next(&a_lines);
    assert!(
        joined.starts_with("<announce> 127.0.0.1:")
            && joined.ends_with(" is connected as <user2>."),
        "{joined}"
    );
    // A line in two writes arrives whole, once, with its sender's name.
    let mut a_in = a.stdin.take().unwrap();
    a_in.write_all(b"hello ").unwrap();
    a_in.flush().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    a_in.write_all(b"from a\n").unwrap();
    assert_eq!(next(&b_lines), "<user1> hello from a");
    b.stdin.take().unwrap().write_all(b"and b\n").unwrap();
    assert_eq!(next(&a_lines), "<user2> and b");
    let _ = b.kill();
    let _ = b.wait();
    assert_eq!(next(&a_lines), "<announce> <user2> is disconnected.");
    drop(a_in);
    let _ = a.kill();
    let _ = a.wait();
}

#[test]
fn broker_refuses_what_it_cannot_do() {
    for args in [
        &["listen", "--broker", "--exec", "cat", "127.0.0.1:0"][..],
        &["listen", "--chat", "--sh-exec", "cat", "127.0.0.1:0"],
        &["echo", "--broker", "127.0.0.1:0"],
        &["listen", "--exec", "cat", "--linger", "1", "127.0.0.1:0"],
    ] {
        let out = assert_cmd().args(args).timeout(LIMIT).output().unwrap();
        assert_exit(
            &out,
            2,
            format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr)),
        );
    }
}

/// A client that ends its side has left the broker: it gets our FIN even
/// with `--allow-half-open` (found by the random-argv run: the connection
/// stayed open and SIGTERM's drain never ended). The first SIGTERM ends
/// every client's input too, so the drain finishes.
#[test]
fn a_client_that_ends_leaves_and_sigterm_ends_every_client() {
    let mut server = Server::json(&["listen", "127.0.0.1:0", "--broker", "--allow-half-open"]);
    let addr: SocketAddr = server.addr.parse().unwrap();
    let mut leaving = TcpStream::connect(addr).unwrap();
    let mut staying = TcpStream::connect(addr).unwrap();
    for c in [&leaving, &staying] {
        c.set_read_timeout(Some(LIMIT)).unwrap();
    }
    wait_connections(&server, 2);
    leaving.write_all(b"bye\n").unwrap();
    leaving.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    leaving.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"", "our FIN, nothing else");
    let mut got = [0u8; 4];
    staying.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"bye\n");
    server.signal(libc::SIGTERM);
    let mut rest = Vec::new();
    staying.read_to_end(&mut rest).unwrap();
    drop(staying);
    assert_eq!(server.wait_exit(LIMIT).code(), Some(0));
}
