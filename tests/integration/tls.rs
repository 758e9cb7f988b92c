//! TLS on the wire, against the real binary: wirecat against itself, against
//! `openssl s_server`/`s_client` and curl, and against TLS peers written
//! here with rustls, so the half-close rows (close_notify, truncation) can
//! be driven byte by byte. Certificates are made with rcgen per test.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::common::certs::{Ca, Leaf, LeafOptions};
use crate::common::*;
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::{ServerConnection, StreamOwned};
use serde_json::Value;

/// A CA and a server certificate for `localhost` and 127.0.0.1, as files.
struct Pki {
    dir: tempfile::TempDir,
    ca: Ca,
    ca_pem: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("wirecat test CA");
        let ca_pem = ca.write(dir.path(), "ca");
        let (cert, key) = ca
            .leaf(&["localhost", "127.0.0.1"])
            .write(dir.path(), "server");
        Pki {
            dir,
            ca,
            ca_pem,
            cert,
            key,
        }
    }

    /// Another leaf from the same CA, written as `<stem>.pem`/`<stem>.key`.
    fn leaf(&self, names: &[&str], stem: &str) -> (PathBuf, PathBuf) {
        self.ca.leaf(names).write(self.dir.path(), stem)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// How a one-connection command meets stdin/stdout under TLS: rustls on
/// two blocking threads (the default), or the async path through chunk
/// channels (`WIRECAT_NO_SPLICE`, also what `--crlf`/`--hex` use).
#[derive(Clone, Copy, Debug)]
enum Via {
    Threads,
    Async,
}

const PATHS: [Via; 2] = [Via::Threads, Via::Async];

impl Via {
    fn apply(self, cmd: &mut Command) -> &mut Command {
        if let Via::Async = self {
            cmd.env("WIRECAT_NO_SPLICE", "1");
        }
        cmd
    }
}

/// `wirecat listen --tls --cert --key ARGS… 127.0.0.1:0 --json`, stderr piped.
fn tls_server(pki: &Pki, args: &[&str], stdin: Stdio, stdout: Stdio) -> Server {
    tls_server_on(Via::Threads, pki, args, stdin, stdout)
}

fn tls_server_on(path: Via, pki: &Pki, args: &[&str], stdin: Stdio, stdout: Stdio) -> Server {
    let mut all = vec![
        "listen",
        "--tls",
        "--cert",
        s(&pki.cert),
        "--key",
        s(&pki.key),
        "--json",
    ];
    all.extend_from_slice(args);
    all.push("127.0.0.1:0");
    let mut cmd = wirecat();
    path.apply(cmd.args(&all));
    Server::spawn(cmd, stdin, stdout, Stdio::piped())
}

/// `wirecat connect --json ARGS…` with `stdin`, collected within the limit.
fn client(args: &[&str], stdin: &[u8]) -> Output {
    client_on(Via::Threads, args, stdin)
}

fn client_on(path: Via, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = path
        .apply(&mut wirecat())
        .arg("connect")
        .arg("--json")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    output_within(child)
}

/// `wirecat connect tls://localhost:PORT --ca CA ARGS…` on `via`, stdin
/// and stdout piped, stderr as given (`--json` among ARGS to parse it).
fn tls_client(via: Via, port: u16, pki: &Pki, args: &[&str], stderr: Stdio) -> Child {
    via.apply(&mut wirecat())
        .args(["connect", &format!("tls://localhost:{port}")])
        .args(["--ca", s(&pki.ca_pem)])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// SIGTERM a server (it drains open connections), and collect its output.
fn terminate(server: &mut Server) -> Output {
    let out = server.child.stdout.take();
    let err = server.child.stderr.take();
    let collect = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut v);
            }
            v
        })
    };
    let t_out = collect(out.map(|o| Box::new(o) as Box<dyn Read + Send>));
    let t_err = collect(err.map(|e| Box::new(e) as Box<dyn Read + Send>));
    // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let status = server.wait();
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

/// Wait for a server that exits by itself and collect its stderr events.
fn server_events(server: &mut Server) -> (Option<i32>, Vec<Value>) {
    let mut err = server.child.stderr.take().unwrap();
    let t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = server.wait();
    (status.code(), events(&t.join().unwrap()))
}

fn all<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

/// Bytes from a child's pipe, arriving in the background, waited for with
/// a bound.
struct Incoming {
    rx: mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl Incoming {
    fn new(mut r: impl Read + Send + 'static) -> Incoming {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Incoming {
            rx,
            seen: Vec::new(),
        }
    }

    /// Wait until `needle` has arrived; everything seen so far.
    fn wait_for(&mut self, needle: &[u8]) -> &[u8] {
        let deadline = std::time::Instant::now() + LIMIT;
        while !self.seen.windows(needle.len()).any(|w| w == needle) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(chunk) => self.seen.extend_from_slice(&chunk),
                Err(_) => panic!(
                    "{:?} did not arrive; got {:?}",
                    String::from_utf8_lossy(needle),
                    String::from_utf8_lossy(&self.seen)
                ),
            }
        }
        &self.seen
    }

    /// Wait for the next bytes.
    fn more(&mut self) {
        match self.rx.recv_timeout(LIMIT) {
            Ok(chunk) => self.seen.extend_from_slice(&chunk),
            Err(_) => panic!("nothing more arrived"),
        }
    }

    /// Everything until the pipe closes.
    fn rest(mut self) -> Vec<u8> {
        let deadline = std::time::Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(chunk) => self.seen.extend_from_slice(&chunk),
                Err(mpsc::RecvTimeoutError::Disconnected) => return self.seen,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the pipe did not close"),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// wirecat ↔ wirecat

/// Both ends with --allow-half-open send 64 MiB each way at once over TLS;
/// the checksums match and both sides report the protocol asked for.
fn round_trip(extra_server_args: &[&str], protocol: &str, path: Via) {
    const BIG: usize = 64 << 20;
    let pki = Pki::new();
    let dir = pki.dir.path();
    let (a, b) = (random_bytes(BIG, 11), random_bytes(BIG, 12));
    let (fa, fb) = (write_file(dir, "a", &a), write_file(dir, "b", &b));
    let (out_a, out_b) = (dir.join("out_a"), dir.join("out_b"));
    let mut args = vec!["--allow-half-open"];
    args.extend_from_slice(extra_server_args);
    let mut server = tls_server_on(
        path,
        &pki,
        &args,
        std::fs::File::open(&fa).unwrap().into(),
        std::fs::File::create(&out_a).unwrap().into(),
    );
    let target = format!("tls://localhost:{}", server.port());
    let child = path
        .apply(&mut wirecat())
        .args(["connect", &target, "--allow-half-open", "--json"])
        .args(["--ca", s(&pki.ca_pem)])
        .stdin(std::fs::File::open(&fb).unwrap())
        .stdout(std::fs::File::create(&out_b).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = output_within(child);
    assert_exit(&out, 0, "");
    let (code, sev) = server_events(&mut server);
    assert_eq!(code, Some(0));
    assert_eq!(
        sha256_file(&out_a),
        sha256(&b),
        "listen got what connect sent"
    );
    assert_eq!(
        sha256_file(&out_b),
        sha256(&a),
        "connect got what listen sent"
    );

    let cev = events(&out.stderr);
    let secure = find(&cev, "secureConnect");
    assert_eq!(secure["protocol"], protocol);
    assert_eq!(secure["authorized"], true);
    assert_eq!(secure["servername"], "localhost");
    assert_eq!(secure["subject"]["CN"], "localhost");
    assert_eq!(find(&sev, "secureConnect")["protocol"], protocol);
    assert_eq!(find(&sev, "secureConnect")["conn"], 1);
    assert_eq!(find(&cev, "close")["bytesWritten"], BIG as u64);
    assert_eq!(find(&cev, "close")["bytesRead"], BIG as u64);
}

#[test]
fn round_trip_64mib_each_way_tls13() {
    round_trip(&[], "TLSv1.3", Via::Threads);
}

#[test]
fn round_trip_64mib_each_way_tls12() {
    round_trip(&["--tls-max", "1.2"], "TLSv1.2", Via::Threads);
}

#[test]
fn round_trip_64mib_each_way_tls13_async_path() {
    round_trip(&[], "TLSv1.3", Via::Async);
}

#[test]
fn round_trip_64mib_each_way_tls12_async_path() {
    round_trip(&["--tls-max", "1.2"], "TLSv1.2", Via::Async);
}

#[test]
fn connect_events_come_in_node_order() {
    let pki = Pki::new();
    let mut server = tls_server(&pki, &[], Stdio::null(), Stdio::null());
    let out = client(
        &[
            &format!("tls://localhost:{}", server.port()),
            "--ca",
            s(&pki.ca_pem),
        ],
        b"",
    );
    assert!(out.status.success());
    let names: Vec<String> = events(&out.stderr)
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .filter(|n| !n.starts_with("connectionAttempt") && n != "lookup")
        .collect();
    assert_eq!(
        names,
        ["connect", "secureConnect", "ready", "end", "close", "exit"]
    );
    server.wait();
}

#[test]
fn tls_over_a_unix_socket_with_servername() {
    let pki = Pki::new();
    let path = pki.dir.path().join("tls.sock");
    let mut server = Server::start(
        &[
            "listen",
            "--tls",
            "--cert",
            s(&pki.cert),
            "--key",
            s(&pki.key),
            s(&path),
        ],
        Stdio::piped(),
        Stdio::piped(),
        Stdio::null(),
    );
    let mut server_in = server.child.stdin.take().unwrap();
    server_in.write_all(b"over unix").unwrap();
    drop(server_in);
    let out = client(
        &[
            s(&path),
            "--tls",
            "--servername",
            "localhost",
            "--ca",
            s(&pki.ca_pem),
            "--recv-only",
        ],
        b"",
    );
    assert_exit(&out, 0, "");
    assert_eq!(out.stdout, b"over unix");
    assert_eq!(
        find(&events(&out.stderr), "secureConnect")["authorized"],
        true
    );
    server.wait();

    let refused = client(&[s(&path), "--tls"], b"");
    assert_eq!(
        refused.status.code(),
        Some(2),
        "a path names no host to verify"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--servername"));
}

// ---------------------------------------------------------------------------
// Interoperability

/// `openssl s_server` on a port of its choosing; the port from its
/// `ACCEPT` line.
fn s_server(args: &[&str]) -> (Child, u16, Incoming) {
    let mut child = Command::new("openssl")
        .args(["s_server", "-accept", "127.0.0.1:0", "-naccept", "1"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = Incoming::new(child.stdout.take().unwrap());
    out.wait_for(b"ACCEPT ");
    // The whole line: `ACCEPT 127.0.0.1:PORT`.
    let port = loop {
        let seen = String::from_utf8_lossy(&out.seen).to_string();
        let line = &seen[seen.find("ACCEPT ").unwrap()..];
        if let Some((line, _)) = line.split_once('\n') {
            break line.trim().rsplit(':').next().unwrap().parse().unwrap();
        }
        out.more();
    };
    (child, port, out)
}

#[test]
fn wirecat_client_against_openssl_s_server() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let (mut server, port, mut server_out) =
        s_server(&["-cert", s(&pki.cert), "-key", s(&pki.key)]);
    let mut client = wirecat()
        .args(["connect", &format!("tls://localhost:{port}"), "--json"])
        .args(["--ca", s(&pki.ca_pem)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut client_in = client.stdin.take().unwrap();
    let mut client_out = Incoming::new(client.stdout.take().unwrap());
    client_in.write_all(b"hello from wirecat\n").unwrap();
    server_out.wait_for(b"hello from wirecat\n");
    let mut server_in = server.stdin.take().unwrap();
    server_in.write_all(b"hello from s_server\n").unwrap();
    client_out.wait_for(b"hello from s_server\n");
    // Our stdin's EOF is close_notify + FIN; s_server ends too.
    drop(client_in);
    let out = output_within(client);
    assert_exit(&out, 0, "");
    let ev = events(&out.stderr);
    assert_eq!(find(&ev, "secureConnect")["protocol"], "TLSv1.3");
    assert_eq!(find(&ev, "secureConnect")["authorized"], true);
    drop(server_in);
    wait_child(&mut server);
}

#[test]
fn openssl_s_client_with_servername_against_wirecat_listen() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    let mut server = tls_server(&pki, &[], Stdio::piped(), Stdio::piped());
    let mut server_in = server.child.stdin.take().unwrap();
    let mut server_out = Incoming::new(server.child.stdout.take().unwrap());
    let mut s_client = Command::new("openssl")
        .args(["s_client", "-connect", &server.addr])
        .args(["-servername", "localhost", "-CAfile", s(&pki.ca_pem)])
        .arg("-verify_return_error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut c_in = s_client.stdin.take().unwrap();
    let mut c_out = Incoming::new(s_client.stdout.take().unwrap());
    c_out.wait_for(b"Verify return code: 0 (ok)");
    c_in.write_all(b"hello from s_client\n").unwrap();
    server_out.wait_for(b"hello from s_client\n");
    server_in.write_all(b"hello from wirecat\n").unwrap();
    c_out.wait_for(b"hello from wirecat\n");
    drop(c_in);
    wait_child(&mut s_client);
    let (code, ev) = server_events(&mut server);
    assert_eq!(code, Some(0), "s_client's close_notify ends the connection");
    let secure = find(&ev, "secureConnect");
    assert_eq!(secure["servername"], "localhost");
    assert_eq!(secure["conn"], 1);
    assert_eq!(server_out.rest(), b"hello from s_client\n");
}

#[test]
fn curl_gets_a_canned_http_response_through_listen_tls() {
    if !have("curl") {
        return;
    }
    let pki = Pki::new();
    let body = "hello over https\n";
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let dir = pki.dir.path();
    let canned = write_file(dir, "response", response.as_bytes());
    let request = dir.join("request");
    let mut server = tls_server(
        &pki,
        &[],
        std::fs::File::open(&canned).unwrap().into(),
        std::fs::File::create(&request).unwrap().into(),
    );
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(["--cacert", s(&pki.ca_pem)])
        .arg(format!("https://localhost:{}/canned", server.port()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = output_within(out);
    assert_exit(&out, 0, "");
    assert_eq!(String::from_utf8_lossy(&out.stdout), body);
    let (code, _) = server_events(&mut server);
    assert_eq!(code, Some(0));
    let req = std::fs::read_to_string(&request).unwrap();
    assert!(req.starts_with("GET /canned HTTP/1.1\r\n"), "{req:?}");
}

#[test]
fn self_signed_fingerprint_is_what_openssl_sees() {
    if !have("openssl") {
        return;
    }
    let mut server = Server::start(
        &["listen", "--tls", "--json", "127.0.0.1:0"],
        Stdio::null(),
        Stdio::null(),
        Stdio::piped(),
    );
    let s_client = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &server.addr,
            "-servername",
            "localhost",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pem = output_within(s_client).stdout;
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    x509.stdin.take().unwrap().write_all(&pem).unwrap();
    let seen = String::from_utf8(output_within(x509).stdout).unwrap();
    let seen = seen.trim().rsplit('=').next().unwrap().to_uppercase();

    let (_, ev) = server_events(&mut server);
    let listening = find(&ev, "listening");
    assert_eq!(listening["fingerprint256"], seen.as_str());
    assert!(listening["selfSigned"]
        .as_array()
        .unwrap()
        .contains(&Value::from("localhost")));
}

#[test]
fn self_signed_fingerprint_is_a_notice_with_v() {
    let mut server = Server::start(
        &["listen", "--tls", "-v", "127.0.0.1:0"],
        Stdio::piped(),
        Stdio::null(),
        Stdio::piped(),
    );
    let out = terminate(&mut server);
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.lines()
            .any(|l| l.contains("self-signed certificate for localhost")
                && l.contains("SHA-256 fingerprint")),
        "{text}"
    );
}

/// The fingerprint a self-signed server announces on stderr without `-v`.
fn announced_fingerprint(server: &Server) -> String {
    let start = std::time::Instant::now();
    loop {
        let text = server.stderr_text();
        if let Some(line) = text
            .lines()
            .find(|l| l.contains("self-signed certificate for"))
        {
            let fp = line.split("SHA-256 fingerprint ").nth(1).expect(line);
            return fp.split(' ').next().unwrap().to_owned();
        }
        assert!(
            start.elapsed() < LIMIT,
            "no fingerprint on stderr: {text:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The SHA-256 fingerprint of the certificate served at `addr`, as
/// `openssl s_client -showcerts | openssl x509 -fingerprint -sha256` sees it.
fn openssl_fingerprint(addr: &str) -> String {
    let s_client = Command::new("openssl")
        .args(["s_client", "-showcerts", "-connect", addr])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pem = output_within(s_client).stdout;
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    x509.stdin.take().unwrap().write_all(&pem).unwrap();
    let seen = String::from_utf8(output_within(x509).stdout).unwrap();
    seen.trim().rsplit('=').next().unwrap().to_owned()
}

#[test]
fn a_self_signed_echo_is_announced_without_v_and_a_pinned_connect_is_served() {
    let echo = Server::quiet(&["echo", "--tls", "127.0.0.1:0"]);
    let fp = announced_fingerprint(&echo);
    assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
    if have("openssl") {
        assert_eq!(openssl_fingerprint(&echo.addr), fp);
    }
    // As printed, and as a user may type it: no colons, lower case.
    for pin in [fp.clone(), fp.replace(':', "").to_lowercase()] {
        let out = assert_cmd()
            .args(["connect", &echo.addr, "--pin-sha256", &pin])
            .write_stdin("pinned hello")
            .output()
            .unwrap();
        assert_exit(&out, 0, "");
        assert_eq!(out.stdout, b"pinned hello");
        assert!(out.stderr.is_empty(), "{out:?}");
    }
}

#[test]
fn a_pinned_connect_to_a_self_signed_listen_succeeds() {
    let mut server = Server::quiet(&["listen", "--tls", "127.0.0.1:0"]);
    let fp = announced_fingerprint(&server);
    let out = assert_cmd()
        .args(["connect", &format!("tls://{}", server.addr)])
        .args(["--pin-sha256", &fp])
        .write_stdin("")
        .output()
        .unwrap();
    assert_exit(&out, 0, "");
    assert_eq!(server.wait_exit(LIMIT).code(), Some(0));
}

#[test]
fn a_wrong_pin_exits_3_naming_both_fingerprints() {
    let echo = Server::quiet(&["echo", "--tls", "127.0.0.1:0"]);
    let fp = announced_fingerprint(&echo);
    let wrong = format!(
        "{}{}",
        if fp.starts_with("00") { "11" } else { "00" },
        &fp[2..]
    );
    let out = assert_cmd()
        .args(["connect", &echo.addr, "--pin-sha256", &wrong])
        .write_stdin("never sent")
        .output()
        .unwrap();
    assert_exit(&out, 3, "");
    assert!(out.stdout.is_empty());
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("ERR_TLS_CERT_PIN_MISMATCH"), "{text}");
    assert!(
        text.contains(&format!("fingerprint {fp} is not the pinned {wrong}")),
        "{text}"
    );
}

#[test]
fn pipe_target_pin_trusts_a_self_signed_target() {
    let echo = Server::quiet(&["echo", "--tls", "127.0.0.1:0"]);
    let fp = announced_fingerprint(&echo);
    let pipe = Server::quiet(&[
        "pipe",
        "127.0.0.1:0",
        &echo.addr,
        "--target-pin-sha256",
        &fp,
    ]);
    let mut c = TcpStream::connect(&pipe.addr).unwrap();
    c.set_read_timeout(Some(LIMIT)).unwrap();
    c.write_all(b"through a pinned target").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"through a pinned target");
    assert_eq!(pipe.stderr_text(), "");
}

// ---------------------------------------------------------------------------
// SNI, mutual TLS, ALPN

#[test]
fn sni_serves_each_name_its_certificate_and_unknown_names_the_default() {
    let pki = Pki::new();
    let (a_cert, a_key) = pki.leaf(&["a.test"], "a");
    let (b_cert, b_key) = pki.leaf(&["b.test"], "b");
    let sni_a = format!("a.test={},{}", s(&a_cert), s(&a_key));
    let sni_b = format!("b.test={},{}", s(&b_cert), s(&b_key));
    let mut server = tls_server(
        &pki,
        &["-k", "--sni", &sni_a, "--sni", &sni_b],
        Stdio::null(),
        Stdio::null(),
    );
    let target = format!("tls://127.0.0.1:{}", server.port());
    let subject = |args: &[&str]| {
        let mut all = vec![target.as_str(), "--recv-only"];
        all.extend_from_slice(args);
        let out = client(&all, b"");
        assert_exit(&out, 0, "");
        find(&events(&out.stderr), "secureConnect")["subject"]["CN"].clone()
    };
    let ca = s(&pki.ca_pem);
    assert_eq!(subject(&["--ca", ca, "--servername", "a.test"]), "a.test");
    assert_eq!(subject(&["--ca", ca, "--servername", "b.test"]), "b.test");
    // An unknown name gets the default certificate (not valid for it).
    assert_eq!(
        subject(&["--insecure", "--servername", "c.test"]),
        "localhost"
    );
    // No SNI at all (an IP address): the default, verified by IP.
    assert_eq!(subject(&["--ca", ca]), "localhost");
    let out = terminate(&mut server);
    let names: Vec<Value> = all(&events(&out.stderr), "secureConnect")
        .iter()
        .map(|e| e["servername"].clone())
        .collect();
    assert_eq!(
        names,
        [
            Value::from("a.test"),
            Value::from("b.test"),
            Value::from("c.test"),
            Value::Bool(false)
        ]
    );
}

#[test]
fn mutual_tls_accepts_good_clients_and_refuses_others_while_serving() {
    let pki = Pki::new();
    let (good_cert, good_key) = pki.leaf(&["client.test"], "client");
    let other_ca = Ca::new("some other CA");
    let (bad_cert, bad_key) = other_ca
        .leaf(&["client.test"])
        .write(pki.dir.path(), "other");
    let mut server = tls_server(
        &pki,
        &["-k", "--ca", s(&pki.ca_pem), "--require-client-cert"],
        Stdio::null(),
        Stdio::null(),
    );
    let target = format!("tls://localhost:{}", server.port());
    let ca = s(&pki.ca_pem);
    // --recv-only: with TLS 1.3 the server judges our certificate after our
    // side of the handshake is done, and its alert is what we read next.
    let base = [target.as_str(), "--ca", ca, "--recv-only"];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        client(&args, b"")
    };

    let none = run(&[]);
    assert_exit(&none, 3, "");
    assert_eq!(
        find(&events(&none.stderr), "error")["code"],
        "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"
    );
    let other = run(&["--cert", s(&bad_cert), "--key", s(&bad_key)]);
    assert_eq!(other.status.code(), Some(3));
    let good = run(&["--cert", s(&good_cert), "--key", s(&good_key)]);
    assert_exit(&good, 0, "");

    let out = terminate(&mut server);
    let ev = events(&out.stderr);
    let errors = all(&ev, "error");
    assert_eq!(errors.len(), 2, "{ev:#?}");
    assert_eq!(errors[0]["conn"], 1);
    assert_eq!(
        errors[0]["code"],
        "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"
    );
    assert_eq!(errors[1]["conn"], 2);
    assert_eq!(errors[1]["code"], "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    let secure = find(&ev, "secureConnect");
    assert_eq!(secure["conn"], 3, "the server kept serving");
    assert_eq!(secure["authorized"], true);
    assert_eq!(secure["subject"]["CN"], "client.test");
}

#[test]
fn alpn_is_negotiated_and_reported_on_both_sides() {
    let pki = Pki::new();
    let mut server = tls_server(
        &pki,
        &["--alpn", "h2", "--alpn", "http/1.1"],
        Stdio::null(),
        Stdio::null(),
    );
    let out = client(
        &[
            &format!("tls://localhost:{}", server.port()),
            "--ca",
            s(&pki.ca_pem),
            "--alpn",
            "http/1.1",
            "--recv-only",
        ],
        b"",
    );
    assert!(out.status.success());
    assert_eq!(
        find(&events(&out.stderr), "secureConnect")["alpnProtocol"],
        "http/1.1"
    );
    let (_, ev) = server_events(&mut server);
    assert_eq!(find(&ev, "secureConnect")["alpnProtocol"], "http/1.1");
}

// ---------------------------------------------------------------------------
// Verification failures: exit 3, Node's code in the error event

/// A TLS server written here with plain rustls (so it can serve what
/// wirecat itself refuses to serve, such as an expired certificate); it
/// runs `talk` on the one connection it accepts.
pub(crate) fn rustls_peer<F>(leaf: &Leaf, talk: F) -> (u16, JoinHandle<()>)
where
    F: FnOnce(StreamOwned<ServerConnection, TcpStream>) + Send + 'static,
{
    rustls_peer_suites(leaf, |_| true, talk)
}

/// [`rustls_peer`] that agrees only to the cipher suites `suites` keeps.
fn rustls_peer_suites<F>(
    leaf: &Leaf,
    suites: fn(&rustls::SupportedCipherSuite) -> bool,
    talk: F,
) -> (u16, JoinHandle<()>)
where
    F: FnOnce(StreamOwned<ServerConnection, TcpStream>) + Send + 'static,
{
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.cipher_suites.retain(suites);
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.cert_der.clone()],
            PrivatePkcs8KeyDer::from(leaf.key_pkcs8.clone()).into(),
        )
        .unwrap();
    // No session tickets: rustls would write them at the peer's first
    // read, and a client that has already reset (`--reset`) would make
    // that write, not the read of its data, fail. Without tickets a small
    // record right after the handshake is also the case that once lost
    // data to Nagle under `--reset`.
    let mut config = config;
    config.send_tls13_tickets = 0;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (tcp, _) = l.accept().unwrap();
        tcp.set_read_timeout(Some(LIMIT)).unwrap();
        let conn = ServerConnection::new(Arc::new(config)).unwrap();
        talk(StreamOwned::new(conn, tcp));
    });
    (port, t)
}

/// The handshake fails on our side: let the peer read until it ends.
fn refused(mut s: StreamOwned<ServerConnection, TcpStream>) {
    let _ = s.read_to_end(&mut Vec::new());
}

fn verification_fails(leaf: &Leaf, ca: &Path, host: &str, code: &str) {
    let (tx, rx) = mpsc::channel();
    let (port, peer) = rustls_peer(leaf, move |mut s| {
        let e = s.read_to_end(&mut Vec::new()).unwrap_err();
        tx.send(wirecat::net::tls::tls_error_code(&e)).unwrap();
    });
    let out = client(
        &[&format!("tls://{host}:{port}"), "--ca", s(ca)],
        b"never sent",
    );
    peer.join().unwrap();
    assert_exit(&out, 3, "");
    let ev = events(&out.stderr);
    assert_eq!(find(&ev, "error")["code"], code);
    assert!(all(&ev, "secureConnect").is_empty());
    assert!(out.stdout.is_empty());
    let heard = rx.recv().unwrap();
    assert!(
        heard.starts_with("ERR_SSL_"),
        "the server hears our alert, got {heard}"
    );
}

#[test]
fn wrong_host_name_is_altname_invalid_exit_3() {
    let pki = Pki::new();
    verification_fails(
        &pki.ca.leaf(&["elsewhere.test"]),
        &pki.ca_pem,
        "localhost",
        "ERR_TLS_CERT_ALTNAME_INVALID",
    );
}

/// What Node's `tls.connect` says when `servername` is not in the
/// certificate served at `port` (trusting `ca`).
fn node_altname_message(port: u16, ca: &Path, servername: &str) -> String {
    let script = format!(
        "const tls = require('tls'), fs = require('fs');\n\
         const c = tls.connect({{port: {port}, host: '127.0.0.1', servername: {servername:?},\n\
           ca: fs.readFileSync({ca:?})}});\n\
         c.on('error', e => {{ console.log(e.code + ' ' + e.message); c.destroy(); }});",
        ca = s(ca)
    );
    let node = Command::new("node")
        .args(["-e", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    String::from_utf8(output_within(node).stdout)
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn a_name_mismatch_is_reported_in_nodes_words() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf(&["api.test", "127.0.0.1"], "api");
    let mut all = vec![
        "listen",
        "-k",
        "--tls",
        "--cert",
        s(&cert),
        "--key",
        s(&key),
    ];
    all.push("127.0.0.1:0");
    let server = Server::quiet(&all);
    let cases = [
        (
            "x",
            "Host: x. is not in the cert's altnames: DNS:api.test, IP Address:127.0.0.1",
        ),
        (
            "127.0.0.2",
            "IP: 127.0.0.2 is not in the cert's list: 127.0.0.1",
        ),
    ];
    for (name, reason) in cases {
        let out = assert_cmd()
            .args(["connect", &format!("tls://{}", server.addr)])
            .args(["--ca", s(&pki.ca_pem), "--servername", name])
            .write_stdin("")
            .output()
            .unwrap();
        assert_exit(&out, 3, "");
        let text = String::from_utf8_lossy(&out.stderr);
        let message = format!("Hostname/IP does not match certificate's altnames: {reason}");
        assert!(
            text.contains(&format!("ERR_TLS_CERT_ALTNAME_INVALID ({message})")),
            "{text}"
        );
        if have("node") && name == "x" {
            let port = server.port();
            assert_eq!(
                node_altname_message(port, &pki.ca_pem, name),
                format!("ERR_TLS_CERT_ALTNAME_INVALID {message}")
            );
        }
    }
}

#[test]
fn unknown_ca_is_unable_to_verify_leaf_signature_exit_3() {
    let pki = Pki::new();
    let stranger = Ca::new("stranger CA");
    verification_fails(
        &stranger.leaf(&["localhost"]),
        &pki.ca_pem,
        "localhost",
        "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    );
}

#[test]
fn expired_certificate_is_cert_has_expired_exit_3() {
    let pki = Pki::new();
    verification_fails(
        &pki.ca.leaf_with(&["localhost"], LeafOptions::expired()),
        &pki.ca_pem,
        "localhost",
        "CERT_HAS_EXPIRED",
    );
}

#[test]
fn verification_failure_is_one_line_without_json() {
    let pki = Pki::new();
    let (port, peer) = rustls_peer(&pki.ca.leaf(&["elsewhere.test"]), refused);
    let out = assert_cmd()
        .args(["connect", &format!("tls://localhost:{port}")])
        .args(["--ca", s(&pki.ca_pem)])
        .write_stdin("")
        .output()
        .unwrap();
    peer.join().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("wirecat: TLS handshake with tls://localhost:"),
        "{text}"
    );
    assert!(text.contains("ERR_TLS_CERT_ALTNAME_INVALID"), "{text}");
}

#[test]
fn insecure_connects_anyway_and_warns() {
    let stranger = Ca::new("stranger CA");
    let (port, peer) = rustls_peer(&stranger.leaf(&["elsewhere.test"]), |mut s| {
        s.write_all(b"unverified hello").unwrap();
        s.conn.send_close_notify();
        s.flush().unwrap();
        let _ = s.read_to_end(&mut Vec::new());
    });
    let out = assert_cmd()
        .args(["connect", &format!("tls://localhost:{port}"), "--insecure"])
        .write_stdin("")
        .output()
        .unwrap();
    peer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"unverified hello");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("warning: --insecure"), "{text}");
}

#[test]
fn single_listen_exits_3_when_the_handshake_fails() {
    let mut server = Server::start(
        &["listen", "--tls", "--json", "127.0.0.1:0"],
        Stdio::piped(),
        Stdio::null(),
        Stdio::piped(),
    );
    // The self-signed certificate is not trusted without --insecure.
    let out = client(&[&format!("tls://127.0.0.1:{}", server.port())], b"");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        find(&events(&out.stderr), "error")["code"],
        "DEPTH_ZERO_SELF_SIGNED_CERT"
    );
    let (code, ev) = server_events(&mut server);
    assert_eq!(code, Some(3));
    let err = find(&ev, "error");
    assert_eq!(err["conn"], 1);
    assert!(
        err["code"].as_str().unwrap().starts_with("ERR_SSL_"),
        "{err}"
    );
}

#[test]
fn silent_client_is_cut_off_by_the_handshake_timeout_and_k_keeps_serving() {
    let pki = Pki::new();
    let mut server = tls_server(
        &pki,
        // Long enough for the served client's own handshake on a loaded
        // machine (300 ms once cut it off too).
        &["-k", "--handshake-timeout", "1500"],
        Stdio::null(),
        Stdio::null(),
    );
    let mut silent = TcpStream::connect(&server.addr).unwrap();
    silent.set_read_timeout(Some(LIMIT)).unwrap();
    // Another client is served while the silent one holds its slot.
    let out = client(
        &[
            &format!("tls://localhost:{}", server.port()),
            "--ca",
            s(&pki.ca_pem),
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rest = Vec::new();
    let _ = silent.read_to_end(&mut rest);
    assert!(rest.is_empty(), "the silent client is closed, unanswered");
    let ev = events(&terminate(&mut server).stderr);
    let err = find(&ev, "error");
    assert_eq!(err["conn"], 1);
    assert_eq!(err["code"], "ERR_TLS_HANDSHAKE_TIMEOUT");
    assert_eq!(find(&ev, "secureConnect")["conn"], 2);
}

// ---------------------------------------------------------------------------
// Half-close over TLS: the rows of the spec's table

/// A peer that reads until our close_notify, checks our FIN followed it,
/// then answers and closes with close_notify + FIN.
fn reply_after_close_notify_peer(pki: &Pki) -> (u16, JoinHandle<Vec<u8>>) {
    let (tx, rx) = mpsc::channel();
    let (port, t) = rustls_peer(&pki.ca.leaf(&["localhost"]), move |mut s| {
        let mut got = Vec::new();
        s.read_to_end(&mut got)
            .expect("a clean end: close_notify before FIN");
        let n = s.sock.read(&mut [0u8; 16]).unwrap();
        assert_eq!(n, 0, "a FIN follows the close_notify");
        s.write_all(b"got:").unwrap();
        s.write_all(&got).unwrap();
        s.conn.send_close_notify();
        s.flush().unwrap();
        s.sock.shutdown(Shutdown::Write).unwrap();
        tx.send(got).unwrap();
    });
    let t = std::thread::spawn(move || {
        t.join().unwrap();
        rx.recv().unwrap()
    });
    (port, t)
}

#[test]
fn stdin_eof_sends_close_notify_and_fin_and_keeps_reading() {
    for (half_open, path) in [false, true]
        .into_iter()
        .flat_map(|h| PATHS.map(|p| (h, p)))
    {
        let pki = Pki::new();
        let (port, peer) = reply_after_close_notify_peer(&pki);
        let target = format!("tls://localhost:{port}");
        let mut args = vec![target.as_str(), "--ca", s(&pki.ca_pem)];
        if half_open {
            args.push("--allow-half-open");
        }
        let out = client_on(path, &args, b"abc");
        assert_exit(&out, 0, format_args!("{path:?}"));
        assert_eq!(
            out.stdout, b"got:abc",
            "{path:?}: the peer could still reply"
        );
        assert_eq!(peer.join().unwrap(), b"abc");
        let ev = events(&out.stderr);
        assert_eq!(find(&ev, "close")["hadError"], false);
        find(&ev, "end");
    }
}

#[test]
fn peer_close_notify_ends_our_side_by_default_even_with_stdin_open() {
    for via in PATHS {
        peer_close_notify_ends_our_side(via);
    }
}

fn peer_close_notify_ends_our_side(via: Via) {
    let pki = Pki::new();
    let (port, peer) = rustls_peer(&pki.ca.leaf(&["localhost"]), |mut s| {
        s.write_all(b"bye").unwrap();
        s.conn.send_close_notify();
        s.flush().unwrap();
        s.sock.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest)
            .expect("our side ends with close_notify");
        assert!(rest.is_empty(), "nothing after the peer's end");
    });
    let mut child = tls_client(via, port, &pki, &["--json"], Stdio::piped());
    let _stdin_held_open = child.stdin.take().unwrap();
    let out = output_within(child);
    peer.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{via:?}");
    assert_eq!(out.stdout, b"bye", "{via:?}");
    find(&events(&out.stderr), "end");
}

#[test]
fn peer_close_notify_with_allow_half_open_keeps_sending_stdin() {
    for via in PATHS {
        half_open_after_close_notify(via);
    }
}

fn half_open_after_close_notify(via: Via) {
    let pki = Pki::new();
    let (port, peer) = rustls_peer(&pki.ca.leaf(&["localhost"]), |mut s| {
        s.write_all(b"ping").unwrap();
        s.conn.send_close_notify();
        s.flush().unwrap();
        s.sock.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).expect("a clean end");
        assert_eq!(rest, b"still sending after your close_notify");
    });
    let mut child = tls_client(via, port, &pki, &["--allow-half-open"], Stdio::inherit());
    let mut stdin = child.stdin.take().unwrap();
    let mut out = Incoming::new(child.stdout.take().unwrap());
    out.wait_for(b"ping");
    stdin
        .write_all(b"still sending after your close_notify")
        .unwrap();
    drop(stdin);
    assert!(wait_child(&mut child).success(), "{via:?}");
    peer.join().unwrap();
}

/// `--reset` over TLS: at stdin's EOF the connection closes with RST, with
/// no close_notify or FIN first, so the peer's read after the data fails.
#[test]
fn reset_over_tls_closes_with_rst_and_no_close_notify() {
    for via in PATHS {
        let pki = Pki::new();
        let (tx, rx) = mpsc::channel();
        let (port, peer) = rustls_peer(&pki.ca.leaf(&["localhost"]), move |mut s| {
            let mut got = [0u8; 3];
            s.read_exact(&mut got).unwrap();
            let rest = s.read(&mut [0u8; 16]);
            tx.send((got, rest.map_err(|e| e.kind()))).unwrap();
        });
        let out = client_on(
            via,
            &[
                &format!("tls://localhost:{port}"),
                "--ca",
                s(&pki.ca_pem),
                "--reset",
            ],
            b"abc",
        );
        peer.join().unwrap();
        assert_exit(&out, 0, format_args!("{via:?}"));
        let (got, rest) = rx.recv().unwrap();
        assert_eq!(&got, b"abc", "{via:?}");
        assert!(rest.is_err(), "{via:?}: a reset, not a clean end: {rest:?}");
    }
}

/// `--reset` after stdin's end delivers every byte written before the RST,
/// also to a server that sends no session tickets (`openssl s_server
/// -num_tickets 0`). There the small record right after the handshake waits
/// (Nagle) for the ACK of our Finished, which the peer delays, and a
/// zero-linger close used to throw it away: the peer saw the reset and
/// none of the data, every time.
#[test]
fn reset_over_tls_delivers_everything_to_a_server_without_tickets() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new();
    for via in PATHS {
        for _ in 0..3 {
            let (mut server, port, server_out) = s_server(&[
                "-cert",
                s(&pki.cert),
                "-key",
                s(&pki.key),
                "-num_tickets",
                "0",
            ]);
            let out = client_on(
                via,
                &[
                    &format!("tls://localhost:{port}"),
                    "--ca",
                    s(&pki.ca_pem),
                    "--reset",
                ],
                b"sent before the reset\n",
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{via:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // One connection (-naccept 1): s_server exits once it is gone.
            wait_child(&mut server);
            let seen = String::from_utf8_lossy(&server_out.rest()).to_string();
            assert!(
                seen.contains("sent before the reset\n"),
                "{via:?}: s_server got: {seen:?}"
            );
        }
    }
}

/// After a bulk burst the receiving side coalesces wake-ups (SO_RCVLOWAT);
/// a small message that follows must still be delivered, not wait for
/// more bytes that never come.
#[test]
fn a_small_message_after_a_bulk_burst_is_delivered() {
    for via in PATHS {
        small_after_bulk(via);
    }
}

fn small_after_bulk(via: Via) {
    const BULK: usize = 4 << 20;
    let pki = Pki::new();
    let (port, peer) = rustls_peer(&pki.ca.leaf(&["localhost"]), |mut s| {
        s.write_all(&vec![b'x'; BULK]).unwrap();
        s.flush().unwrap();
        let mut go = [0u8; 2];
        s.read_exact(&mut go).unwrap();
        s.write_all(b"ping").unwrap();
        s.flush().unwrap();
        let mut pong = [0u8; 4];
        s.read_exact(&mut pong).unwrap();
        assert_eq!(&pong, b"pong");
        s.conn.send_close_notify();
        s.flush().unwrap();
        s.sock.shutdown(Shutdown::Write).unwrap();
        let _ = s.read_to_end(&mut Vec::new());
    });
    let mut child = tls_client(via, port, &pki, &[], Stdio::inherit());
    let mut stdin = child.stdin.take().unwrap();
    let mut out = Incoming::new(child.stdout.take().unwrap());
    while out.seen.len() < BULK {
        out.more();
    }
    stdin.write_all(b"go").unwrap();
    while out.seen.len() < BULK + 4 {
        out.more();
    }
    assert_eq!(&out.seen[BULK..], b"ping", "{via:?}");
    stdin.write_all(b"pong").unwrap();
    drop(stdin);
    assert!(wait_child(&mut child).success(), "{via:?}");
    peer.join().unwrap();
}

/// A peer's KeyUpdate mid-stream, asking for ours back: the data after it
/// arrives, and what we send afterwards (rustls sends our KeyUpdate first,
/// with our next record) reaches the peer under the new keys.
#[test]
fn key_update_from_the_peer_mid_stream_both_ways() {
    for via in PATHS {
        key_update_both_ways(via);
    }
}

fn key_update_both_ways(via: Via) {
    let pki = Pki::new();
    let (tx, rx) = mpsc::channel();
    let (port, peer) = rustls_peer(&pki.ca.leaf(&["localhost"]), move |mut s| {
        s.write_all(b"one,").unwrap();
        s.flush().unwrap();
        s.conn.refresh_traffic_keys().unwrap();
        s.write_all(b"two").unwrap();
        s.conn.send_close_notify();
        s.flush().unwrap();
        s.sock.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).expect("a clean end");
        tx.send(got).unwrap();
    });
    let mut child = tls_client(via, port, &pki, &["--allow-half-open"], Stdio::inherit());
    let mut stdin = child.stdin.take().unwrap();
    let mut out = Incoming::new(child.stdout.take().unwrap());
    assert_eq!(out.wait_for(b"one,two"), b"one,two", "{via:?}");
    stdin.write_all(b"after the key update").unwrap();
    drop(stdin);
    assert!(wait_child(&mut child).success(), "{via:?}");
    peer.join().unwrap();
    assert_eq!(rx.recv().unwrap(), b"after the key update", "{via:?}");
}

#[test]
fn truncation_without_close_notify_is_econnreset_exit_1() {
    for via in PATHS {
        truncation_on_the_client_side(via);
    }
}

fn truncation_on_the_client_side(via: Via) {
    let pki = Pki::new();
    let (port, peer) = rustls_peer(&pki.ca.leaf(&["localhost"]), |mut s| {
        s.write_all(b"partial").unwrap();
        s.flush().unwrap();
        // A FIN with no close_notify: an attacker could have cut here.
        s.sock.shutdown(Shutdown::Write).unwrap();
        let _ = s.sock.read_to_end(&mut Vec::new());
    });
    let out = client_on(
        via,
        &[
            &format!("tls://localhost:{port}"),
            "--ca",
            s(&pki.ca_pem),
            "--recv-only",
        ],
        b"",
    );
    peer.join().unwrap();
    assert_exit(&out, 1, format_args!("{via:?}"));
    assert_eq!(
        out.stdout, b"partial",
        "{via:?}: what arrived before is delivered"
    );
    let ev = events(&out.stderr);
    let err = find(&ev, "error");
    assert_eq!(err["code"], "ECONNRESET");
    assert!(
        err["message"].as_str().unwrap().contains("close_notify"),
        "{err}"
    );
    assert_eq!(find(&ev, "close")["hadError"], true);
    assert!(all(&ev, "end").is_empty(), "a truncation is not an end");
}

#[test]
fn truncation_on_the_server_side_is_exit_1() {
    let pki = Pki::new();
    let mut server = tls_server(&pki, &[], Stdio::piped(), Stdio::piped());
    let _stdin_held_open = server.child.stdin.take().unwrap();
    let config = wirecat::net::tls::client_config(&wirecat::net::tls::ClientTlsOptions {
        enabled: true,
        ca: Some(pki.ca_pem.clone()),
        ..Default::default()
    })
    .unwrap();
    let tcp = TcpStream::connect(&server.addr).unwrap();
    let conn = rustls::ClientConnection::new(config, "localhost".try_into().unwrap()).unwrap();
    let mut tls = StreamOwned::new(conn, tcp);
    tls.write_all(b"cut").unwrap();
    tls.flush().unwrap();
    tls.sock.shutdown(Shutdown::Write).unwrap();
    let mut stdout = Incoming::new(server.child.stdout.take().unwrap());
    let (code, ev) = server_events(&mut server);
    assert_eq!(code, Some(1));
    assert_eq!(find(&ev, "error")["code"], "ECONNRESET");
    assert_eq!(stdout.wait_for(b"cut"), b"cut");
}

// The trust rows over TLS, on both paths: the peer's close_notify while
// stdin streams is EPIPE with exact counts, a reset is never an end, and
// --timeout delivers the reply to our close_notify.

/// More than loopback's buffers hold, so stdin is never done first.
const STREAM: usize = 48 << 20;

fn streaming_client(via: Via, port: u16, pki: &Pki, file: &Path, args: &[&str]) -> Child {
    via.apply(&mut wirecat())
        .args(["connect", &format!("tls://localhost:{port}")])
        .args(["--ca", s(&pki.ca_pem), "--json"])
        .args(args)
        .stdin(std::fs::File::open(file).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn handshake(s: &mut StreamOwned<ServerConnection, TcpStream>) {
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).unwrap();
    }
}

#[test]
fn peer_close_notify_while_stdin_streams_is_epipe_counted_exactly() {
    let pki = Pki::new();
    let file = write_file(pki.dir.path(), "big", &random_bytes(STREAM, 5));
    // Each record overhead there is: TLS 1.3, TLS 1.2 AES-GCM and ChaCha20.
    type Suites = fn(&rustls::SupportedCipherSuite) -> bool;
    let cases: [(Suites, &str); 3] = [
        (|s| s.version() == &rustls::version::TLS13, "TLSv1.3"),
        (|s| tls12_suite(s, "GCM"), "GCM"),
        (|s| tls12_suite(s, "CHACHA20"), "CHACHA20"),
    ];
    for (via, (suites, named)) in PATHS.into_iter().flat_map(|v| cases.map(|c| (v, c))) {
        // Half the runs take a megabyte first, so the stop comes while
        // input streams (a piece or a record cut short on a full socket).
        for run in 0..10 {
            let (exited_tx, exited_rx) = mpsc::channel::<()>();
            let (got_tx, got_rx) = mpsc::channel::<usize>();
            let (port, peer) =
                rustls_peer_suites(&pki.ca.leaf(&["localhost"]), suites, move |mut s| {
                    handshake(&mut s);
                    let mut first = vec![0u8; (run % 2) << 20];
                    s.read_exact(&mut first).unwrap();
                    s.conn.send_close_notify();
                    s.conn.complete_io(&mut s.sock).unwrap();
                    s.sock.shutdown(Shutdown::Write).unwrap();
                    // Read nothing until the client is gone, then all it sent
                    // (it failed, so it ends with a FIN and no close_notify).
                    let _ = exited_rx.recv_timeout(LIMIT);
                    let mut got = Vec::new();
                    let _ = s.read_to_end(&mut got);
                    got_tx.send(got.len() + first.len()).unwrap();
                });
            let out = output_within(streaming_client(via, port, &pki, &file, &[]));
            exited_tx.send(()).unwrap();
            peer.join().unwrap();
            let got = got_rx.recv().unwrap();
            let ev = events(&out.stderr);
            let ctx = format!("{via:?}: {}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(out.status.code(), Some(1), "{ctx}");
            assert!(
                find(&ev, "secureConnect").to_string().contains(named),
                "{ctx}"
            );
            assert_eq!(find(&ev, "error")["code"], "EPIPE", "{ctx}");
            let close = find(&ev, "close");
            assert_eq!(close["hadError"], true, "{ctx}");
            // What the peer could decrypt, to the byte: a record cut short
            // by the stop is not counted.
            assert_eq!(close["bytesWritten"], got, "{ctx}");
            assert!(got < STREAM, "{ctx}");
        }
    }
}

fn tls12_suite(s: &rustls::SupportedCipherSuite, named: &str) -> bool {
    s.version() == &rustls::version::TLS12 && format!("{:?}", s.suite()).contains(named)
}

#[test]
fn peer_reset_while_stdin_streams_over_tls_is_econnreset_never_end() {
    let pki = Pki::new();
    let file = write_file(pki.dir.path(), "big", &random_bytes(STREAM, 6));
    for via in PATHS {
        for _ in 0..10 {
            let (port, peer) = rustls_peer(&pki.ca.leaf(&["localhost"]), |mut s| {
                let mut buf = vec![0u8; 1 << 20];
                s.read_exact(&mut buf).unwrap();
                socket2::SockRef::from(&s.sock)
                    .set_linger(Some(std::time::Duration::ZERO))
                    .unwrap();
            });
            let out = output_within(streaming_client(via, port, &pki, &file, &[]));
            peer.join().unwrap();
            let ev = events(&out.stderr);
            let ctx = format!("{via:?}: {}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(out.status.code(), Some(1), "{ctx}");
            assert!(all(&ev, "end").is_empty(), "a reset is not an end: {ctx}");
            assert_eq!(find(&ev, "error")["code"], "ECONNRESET", "{ctx}");
            assert_eq!(find(&ev, "close")["hadError"], true, "{ctx}");
        }
    }
}

#[test]
fn timeout_over_tls_delivers_the_reply_to_our_close_notify() {
    let pki = Pki::new();
    for via in PATHS {
        let (port, peer) = rustls_peer(&pki.ca.leaf(&["localhost"]), |mut s| {
            let mut rest = Vec::new();
            s.read_to_end(&mut rest).expect("our close_notify");
            s.write_all(b"late reply").unwrap();
            s.conn.send_close_notify();
            s.flush().unwrap();
            s.sock.shutdown(Shutdown::Write).unwrap();
        });
        let mut child = tls_client(
            via,
            port,
            &pki,
            &["--json", "--timeout", "300"],
            Stdio::piped(),
        );
        let _stdin_held_open = child.stdin.take();
        let out = output_within(child);
        peer.join().unwrap();
        let ev = events(&out.stderr);
        let ctx = format!("{via:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(4), "{ctx}");
        assert_eq!(out.stdout, b"late reply", "{ctx}");
        find(&ev, "timeout");
        find(&ev, "end");
        assert_eq!(find(&ev, "close")["bytesRead"], 10, "{ctx}");
    }
}

#[test]
fn a_pin_with_a_ca_or_insecure_or_a_malformed_pin_is_a_usage_error() {
    let pin = "ab".repeat(32);
    for extra in [&["--ca", "ca.pem"][..], &["--insecure"]] {
        let out = assert_cmd()
            .args(["connect", "localhost", "1", "--pin-sha256", &pin])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("cannot be used with"), "{text}");
    }
    let out = assert_cmd()
        .args(["connect", "localhost", "1", "--pin-sha256", "AB:CD"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hex digits"));
}
