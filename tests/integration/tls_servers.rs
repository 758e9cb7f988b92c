//! TLS on the servers, against the real binary: `echo --tls`, and `pipe`
//! terminating TLS on its LISTEN side, originating it towards its TARGET,
//! or both. The peers are written here with tokio-rustls so that every
//! byte each way is checksummed and every close is checked to be a clean
//! close_notify (a truncation fails the read). Certificates are made with
//! rcgen per test; none is committed.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use crate::common::certs::{self, Ca, Leaf};
use crate::common::*;
use rustls::pki_types::{PrivatePkcs8KeyDer, ServerName};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

const MIB: usize = 1 << 20;

/// A CA, a server certificate for `localhost` and 127.0.0.1, as files.
struct Pki {
    /// Holds the files until the test ends.
    _dir: tempfile::TempDir,
    ca: Ca,
    ca_pem: PathBuf,
    leaf: Leaf,
    cert: PathBuf,
    key: PathBuf,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new(name);
        let ca_pem = ca.write(dir.path(), "ca");
        let leaf = ca.leaf(&["localhost", "127.0.0.1"]);
        let (cert, key) = leaf.write(dir.path(), "server");
        Pki {
            _dir: dir,
            ca,
            ca_pem,
            leaf,
            cert,
            key,
        }
    }

    /// A client that trusts this CA.
    fn connector(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.der()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }

    /// A server showing this CA's leaf.
    fn acceptor(&self) -> TlsAcceptor {
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![self.leaf.cert_der.clone()],
                PrivatePkcs8KeyDer::from(self.leaf.key_pkcs8.clone()).into(),
            )
            .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `fut`, or a failure once the tests' bound has passed.
async fn within<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, fut)
        .await
        .expect("did not finish within the limit")
}

/// A wirecat server with `--json` events on a piped stderr.
fn server(args: &[&str]) -> Server {
    let mut all = args.to_vec();
    all.push("--json");
    Server::start(&all, Stdio::null(), Stdio::null(), Stdio::piped())
}

/// SIGTERM a server (it lets open connections finish) and parse its events.
fn stop(server: &mut Server) -> Vec<Value> {
    let mut err = server.child.stderr.take().unwrap();
    let t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    server.wait();
    events(&t.join().unwrap())
}

fn all<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

/// Connect to `addr` and handshake for `localhost`.
async fn tls_connect(
    connector: &TlsConnector,
    addr: &str,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    connector.connect(name, tcp).await
}

/// A test-side target accepting one connection, plain or TLS, exchanging
/// `size` bytes from seed 2; resolves to its (sent, received) hashes.
async fn one_target(
    tls: Option<TlsAcceptor>,
    size: usize,
) -> (u16, tokio::task::JoinHandle<([u8; 32], [u8; 32])>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let t = tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        match tls {
            Some(acceptor) => exchange(acceptor.accept(tcp).await.unwrap(), 2, size).await,
            None => exchange(tcp, 2, size).await,
        }
    });
    (port, t)
}

/// What the client sent reached the target and the other way round.
fn same_bytes_both_ways(client: ([u8; 32], [u8; 32]), target: ([u8; 32], [u8; 32])) {
    assert!(client.0 == target.1, "client → target bytes differ");
    assert!(target.0 == client.1, "target → client bytes differ");
}

// ---------------------------------------------------------------------------
// echo --tls

#[test]
fn echo_tls_echoes_8_mib_and_closes_with_close_notify_after_the_clients() {
    let pki = Pki::new("echo CA");
    let mut echo = tls_server(&pki, "echo", &["127.0.0.1:0"]);
    let size = 8 * MIB;
    let (sent, got) = rt().block_on(within(async {
        let tls = tls_connect(&pki.connector(), &echo.addr).await.unwrap();
        // The client's close_notify + FIN comes after its last byte; every
        // byte still comes back, then the server's clean end.
        exchange(tls, 7, size).await
    }));
    assert!(sent == got, "echoed bytes differ from those sent");
    let ev = stop(&mut echo);
    let secure = find(&ev, "secureConnect");
    assert_eq!(secure["conn"], 1);
    assert_eq!(secure["protocol"], "TLSv1.3");
    assert_eq!(find(&ev, "end")["conn"], 1);
    let close = all(&ev, "close")
        .into_iter()
        .find(|e| e["conn"] == 1)
        .expect("the connection's close");
    assert_eq!(close["hadError"], false);
    assert_eq!(close["bytesRead"], size as u64);
    assert_eq!(close["bytesWritten"], size as u64);
}

/// `echo --tls --reset`: the bytes come back, then RST: no close_notify
/// and no FIN go first, so the client's read fails instead of ending.
#[test]
fn echo_tls_reset_closes_with_rst_and_no_close_notify() {
    let pki = Pki::new("echo CA");
    let echo = tls_server(&pki, "echo", &["--reset", "127.0.0.1:0"]);
    rt().block_on(within(async {
        let mut tls = tls_connect(&pki.connector(), &echo.addr).await.unwrap();
        tls.write_all(b"abc").await.unwrap();
        let mut back = [0u8; 3];
        tls.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"abc");
        // close_notify + FIN: a clean end that, without --reset, is
        // answered with close_notify + FIN.
        tls.shutdown().await.unwrap();
        let r = tls.read(&mut [0u8; 16]).await;
        assert!(r.is_err(), "a reset, not a clean end: {r:?}");
    }));
}

#[test]
fn echo_tls_self_signed_reports_its_fingerprint_and_serves_a_wirecat_client() {
    let mut echo = server(&["echo", "--tls", "127.0.0.1:0"]);
    let input = random_bytes(3 * MIB + 17, 5);
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "in", &input);
    let out = wirecat()
        .args(["connect", "--tls", "--insecure", &echo.addr])
        .stdin(std::fs::File::open(&file).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = output_within(out);
    assert_exit(&out, 0, "");
    assert!(sha256(&out.stdout) == sha256(&input), "echo differs");
    let ev = stop(&mut echo);
    let listening = find(&ev, "listening");
    let fp = listening["fingerprint256"]
        .as_str()
        .expect("fingerprint256");
    assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
}

#[test]
fn echo_tls_failed_handshake_is_an_error_event_and_the_server_keeps_serving() {
    let pki = Pki::new("echo CA");
    let stranger = Pki::new("another CA");
    let mut echo = tls_server(&pki, "echo", &["127.0.0.1:0"]);
    let (sent, got) = rt().block_on(within(async {
        // This client trusts another CA: it refuses the server's certificate.
        assert!(tls_connect(&stranger.connector(), &echo.addr)
            .await
            .is_err());
        let tls = tls_connect(&pki.connector(), &echo.addr).await.unwrap();
        exchange(tls, 3, 64 * 1024).await
    }));
    assert!(sent == got);
    let ev = stop(&mut echo);
    let error = find(&ev, "error");
    assert_eq!(error["conn"], 1);
    assert_eq!(error["code"], "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "{error}");
    assert!(all(&ev, "secureConnect").iter().any(|e| e["conn"] == 2));
}

// ---------------------------------------------------------------------------
// pipe: TLS terminated, originated, both

/// `COMMAND --tls` with this PKI's certificate and key, then `rest`.
fn tls_server(pki: &Pki, command: &str, rest: &[&str]) -> Server {
    let mut args = vec![
        command,
        "--tls",
        "--cert",
        s(&pki.cert),
        "--key",
        s(&pki.key),
    ];
    args.extend_from_slice(rest);
    server(&args)
}

/// `pipe --tls` with this PKI's certificate, to a plain `target`.
fn pipe_terminating(pki: &Pki, target: &str) -> Server {
    tls_server(pki, "pipe", &["127.0.0.1:0", target])
}

#[test]
fn pipe_terminates_tls_16_mib_each_way() {
    let pki = Pki::new("pipe CA");
    let size = 16 * MIB;
    let rt = rt();
    let (port, target) = rt.block_on(one_target(None, size));
    let mut pipe = pipe_terminating(&pki, &format!("127.0.0.1:{port}"));
    let (client, target) = rt.block_on(within(async {
        let tls = tls_connect(&pki.connector(), &pipe.addr).await.unwrap();
        let client = exchange(tls, 1, size).await;
        (client, target.await.unwrap())
    }));
    same_bytes_both_ways(client, target);
    let ev = stop(&mut pipe);
    let secure = find(&ev, "secureConnect");
    assert_eq!(secure["side"], "client");
    let closes = all(&ev, "close");
    assert!(closes
        .iter()
        .any(|e| e["side"] == "client" && e["hadError"] == false && e["bytesRead"] == size));
}

/// The TLS side of the bounded-memory test in the pipe module: with TLS
/// terminated by the relay (rustls and a 64 KiB chunk between the
/// sockets), a target that does not read still stalls the client within
/// what the kernel holds, and every byte arrives once it reads.
#[test]
fn pipe_terminating_tls_to_a_target_that_does_not_read_stalls_the_client() {
    let pki = Pki::new("pipe CA");
    let rt = rt();
    let target = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    let mut pipe = pipe_terminating(&pki, &taddr);
    rt.block_on(within(async {
        let mut tls = tls_connect(&pki.connector(), &pipe.addr).await.unwrap();
        let (held, _) = target.accept().await.unwrap();
        // Plaintext: what the kernel holds as records, and rustls's buffers.
        let bound = kernel_hold_through_a_relay() + MIB;
        stalls_then_delivers(&mut tls, held, pipe.child.id(), bound).await;
    }));
    let ev = stop(&mut pipe);
    let clean = all(&ev, "close")
        .into_iter()
        .filter(|e| e["hadError"] == false);
    assert_eq!(clean.count(), 2, "both sides close cleanly: {ev:#?}");
}

#[test]
fn pipe_originates_tls_to_a_tls_target_16_mib_each_way() {
    let pki = Pki::new("target CA");
    let size = 16 * MIB;
    let rt = rt();
    let (port, target) = rt.block_on(one_target(Some(pki.acceptor()), size));
    let mut pipe = server(&[
        "pipe",
        "--target-ca",
        s(&pki.ca_pem),
        "127.0.0.1:0",
        &format!("tls://localhost:{port}"),
        "--resolve",
        "localhost:127.0.0.1",
    ]);
    let (client, target) = rt.block_on(within(async {
        let tcp = TcpStream::connect(&pipe.addr).await.unwrap();
        let client = exchange(tcp, 1, size).await;
        (client, target.await.unwrap())
    }));
    same_bytes_both_ways(client, target);
    let ev = stop(&mut pipe);
    let secure = find(&ev, "secureConnect");
    assert_eq!(secure["side"], "target");
    assert_eq!(secure["servername"], "localhost");
    assert_eq!(secure["authorized"], true);
    assert_eq!(secure["subject"]["CN"], "localhost");
}

/// Two clients of `pipe` whose target side fails: each is closed without a
/// byte (EOF, or a reset) while the pipe keeps serving; then stop it and
/// return its events.
fn two_clients_closed_while_serving(rt: &tokio::runtime::Runtime, pipe: &mut Server) -> Vec<Value> {
    rt.block_on(within(async {
        for _ in 0..2 {
            let mut tcp = TcpStream::connect(&pipe.addr).await.unwrap();
            let mut buf = [0u8; 16];
            assert!(matches!(tcp.read(&mut buf).await, Ok(0) | Err(_)));
        }
    }));
    assert!(pipe.child.try_wait().unwrap().is_none(), "pipe exited");
    stop(pipe)
}

/// A TLS target with `versions` that requires a client certificate from
/// `pki`'s CA, sends each client a greeting and a clean close, and reports
/// the version and client certificate of every handshake on `seen`.
async fn verifying_target(
    pki: &Pki,
    versions: &[&'static rustls::SupportedProtocolVersion],
    seen: std::sync::mpsc::Sender<(
        Option<rustls::ProtocolVersion>,
        Option<rustls::pki_types::CertificateDer<'static>>,
    )>,
) -> u16 {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.der()).unwrap();
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![pki.leaf.cert_der.clone()],
            PrivatePkcs8KeyDer::from(pki.leaf.key_pkcs8.clone()).into(),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let (_, conn) = tls.get_ref();
            let version = conn.protocol_version();
            let cert = conn.peer_certificates().map(|c| c[0].clone());
            let _ = seen.send((version, cert));
            tls.write_all(b"hello from the target").await.unwrap();
            tls.shutdown().await.unwrap();
        }
    });
    port
}

/// The target side's own versions and client key: `--target-tls-max 1.2`
/// is what the target negotiates, and an encrypted `--target-key` opened
/// with `--target-key-password-file` is the certificate a target that
/// requires one sees; `--target-tls-min 1.3` against a TLS 1.2 target is a
/// handshake error, and the pipe serves on.
#[test]
fn pipe_target_versions_and_encrypted_client_key() {
    let pki = Pki::new("target CA");
    let dir = tempfile::tempdir().unwrap();
    let client_leaf = pki.ca.leaf(&["pipe-client"]);
    let client_cert = certs::write_file(dir.path(), "client.pem", &client_leaf.cert_pem);
    let client_key = certs::write_file(
        dir.path(),
        "client.key",
        &client_leaf.encrypted_key_pem("s3cret"),
    );
    let password = certs::write_file(dir.path(), "pass", "s3cret\n");
    let rt = rt();
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    // A target offering TLS 1.2 and 1.3 (so only the flag can make it 1.2)
    // that requires a client certificate from the CA.
    let port = rt.block_on(verifying_target(
        &pki,
        rustls::ALL_VERSIONS,
        seen_tx.clone(),
    ));
    let target = format!("127.0.0.1:{port}");
    // The client certificate, with its encrypted key, for both pipes.
    let client_flags = [
        "--target-cert",
        s(&client_cert),
        "--target-key",
        s(&client_key),
        "--target-key-password-file",
        s(&password),
    ];
    let mut pipe = server(
        &[
            "pipe",
            "--target-ca",
            s(&pki.ca_pem),
            "--target-servername",
            "localhost",
            "--target-tls-max",
            "1.2",
            "127.0.0.1:0",
            &target,
        ]
        .iter()
        .chain(&client_flags)
        .copied()
        .collect::<Vec<_>>(),
    );
    let got = rt.block_on(within(async {
        let mut tcp = TcpStream::connect(&pipe.addr).await.unwrap();
        tcp.shutdown().await.unwrap();
        let mut got = Vec::new();
        tcp.read_to_end(&mut got).await.unwrap();
        got
    }));
    assert_eq!(got, b"hello from the target");
    let (version, cert) = seen_rx.recv_timeout(LIMIT).unwrap();
    assert_eq!(version, Some(rustls::ProtocolVersion::TLSv1_2));
    assert_eq!(cert.as_ref(), Some(&client_leaf.cert_der));
    let ev = stop(&mut pipe);
    let secure = find(&ev, "secureConnect");
    assert_eq!(secure["side"], "target");
    assert_eq!(secure["protocol"], "TLSv1.2");

    // A TLS 1.2-only target, and --target-tls-min 1.3 (with the client
    // certificate it requires, so only the version can fail).
    let port = rt.block_on(verifying_target(&pki, &[&rustls::version::TLS12], seen_tx));
    let mut pipe = server(
        &[
            "pipe",
            "--target-ca",
            s(&pki.ca_pem),
            "--target-servername",
            "localhost",
            "--target-tls-min",
            "1.3",
            "127.0.0.1:0",
            &format!("127.0.0.1:{port}"),
        ]
        .iter()
        .chain(&client_flags)
        .copied()
        .collect::<Vec<_>>(),
    );
    let ev = two_clients_closed_while_serving(&rt, &mut pipe);
    let errors = all(&ev, "error");
    assert_eq!(errors.len(), 2, "{ev:#?}");
    assert!(errors.iter().all(|e| e["side"] == "target"), "{errors:#?}");
}

#[test]
fn pipe_with_tls_on_both_sides_relays_16_mib_each_way() {
    let front = Pki::new("front CA");
    let back = Pki::new("back CA");
    let size = 16 * MIB;
    let rt = rt();
    let (port, target) = rt.block_on(one_target(Some(back.acceptor()), size));
    let mut pipe = tls_server(
        &front,
        "pipe",
        &[
            "--target-ca",
            s(&back.ca_pem),
            "--target-servername",
            "localhost",
            "127.0.0.1:0",
            &format!("127.0.0.1:{port}"),
        ],
    );
    let (client, target) = rt.block_on(within(async {
        let tls = tls_connect(&front.connector(), &pipe.addr).await.unwrap();
        let client = exchange(tls, 1, size).await;
        (client, target.await.unwrap())
    }));
    same_bytes_both_ways(client, target);
    let ev = stop(&mut pipe);
    let sides: Vec<_> = all(&ev, "secureConnect")
        .iter()
        .map(|e| e["side"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sides, ["client", "target"]);
    assert!(all(&ev, "error").is_empty(), "{ev:#?}");
}

#[test]
fn pipe_target_with_an_unknown_ca_is_an_error_event_the_client_is_closed_and_serving_goes_on() {
    let trusted = Pki::new("trusted CA");
    let target_pki = Pki::new("the target's own CA");
    let rt = rt();
    let l = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = l.local_addr().unwrap().port();
    let acceptor = target_pki.acceptor();
    rt.spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    let mut pipe = server(&[
        "pipe",
        "--target-ca",
        s(&trusted.ca_pem),
        "--target-servername",
        "localhost",
        "127.0.0.1:0",
        &format!("127.0.0.1:{port}"),
    ]);
    let ev = two_clients_closed_while_serving(&rt, &mut pipe);
    let errors = all(&ev, "error");
    assert_eq!(errors.len(), 2, "{ev:#?}");
    for (e, conn) in errors.iter().zip([1, 2]) {
        assert_eq!(e["conn"], conn);
        assert_eq!(e["side"], "target");
        assert_eq!(e["code"], "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "{e}");
    }
    assert!(all(&ev, "secureConnect").is_empty());
}

#[test]
fn pipe_client_failing_its_handshake_is_an_error_event_and_serving_goes_on() {
    let pki = Pki::new("pipe CA");
    let stranger = Pki::new("another CA");
    let mut target = server(&["echo", "127.0.0.1:0"]);
    let mut pipe = pipe_terminating(&pki, &target.addr);
    let (sent, got) = rt().block_on(within(async {
        assert!(tls_connect(&stranger.connector(), &pipe.addr)
            .await
            .is_err());
        let tls = tls_connect(&pki.connector(), &pipe.addr).await.unwrap();
        exchange(tls, 4, MIB).await
    }));
    assert!(sent == got);
    let ev = stop(&mut pipe);
    let error = find(&ev, "error");
    assert_eq!(
        (error["conn"].clone(), error["side"].clone()),
        (1.into(), "client".into())
    );
    assert_eq!(error["code"], "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "{error}");
    // The failed client never cost a connection to the target.
    assert_eq!(all(&ev, "connect").len(), 1, "{ev:#?}");
    stop(&mut target);
}

#[test]
fn pipe_relays_20_concurrent_tls_clients() {
    let pki = Pki::new("pipe CA");
    let mut target = server(&["echo", "127.0.0.1:0"]);
    let mut pipe = pipe_terminating(&pki, &target.addr);
    let connector = pki.connector();
    let results = rt().block_on(within(async {
        let mut tasks = Vec::new();
        for i in 0..20u64 {
            let (connector, addr) = (connector.clone(), pipe.addr.clone());
            tasks.push(tokio::spawn(async move {
                let tls = tls_connect(&connector, &addr).await.unwrap();
                exchange(tls, 100 + i, MIB + i as usize * 1000).await
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }));
    for (i, (sent, got)) in results.iter().enumerate() {
        assert!(sent == got, "client {i}: echoed bytes differ");
    }
    let ev = stop(&mut pipe);
    assert_eq!(all(&ev, "secureConnect").len(), 20);
    assert!(all(&ev, "error").is_empty(), "{ev:#?}");
    stop(&mut target);
}

#[test]
fn pipe_refuses_client_flags_on_its_listen_side() {
    let out = assert_cmd()
        .args(["pipe", "--tls", "--insecure", "0", "127.0.0.1:1"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("--target-insecure"), "{err}");
}

// ---------------------------------------------------------------------------
// listen --tls --exec: TLS terminated, the child gets plaintext

/// 4 MiB each way through `listen --tls -k --exec cat`: the child sees
/// plaintext, the client's close_notify is EOF on the child's stdin, and
/// the child's exit ends the connection with close_notify (a truncation
/// would fail the client's read). A plain client gets no plaintext back.
#[test]
fn listen_tls_exec_terminates_tls_and_gives_the_child_plaintext() {
    let pki = Pki::new("exec CA");
    let mut listen = tls_server(&pki, "listen", &["127.0.0.1:0", "-k", "--exec", "cat"]);
    let size = 4 * MIB;
    let (sent, got) = rt().block_on(within(async {
        let tls = tls_connect(&pki.connector(), &listen.addr).await.unwrap();
        exchange(tls, 11, size).await
    }));
    assert!(
        sent == got,
        "bytes through the child differ from those sent"
    );
    let plain = rt().block_on(within(async {
        let mut tcp = TcpStream::connect(&listen.addr).await.unwrap();
        tcp.write_all(b"hello\n").await.unwrap();
        let mut back = Vec::new();
        let _ = tcp.read_to_end(&mut back).await;
        back
    }));
    assert!(
        !plain.windows(5).any(|w| w == b"hello"),
        "a plain client was served in plaintext: {plain:?}"
    );
    let ev = stop(&mut listen);
    assert_eq!(find(&ev, "secureConnect")["conn"], 1);
    let close = all(&ev, "close")
        .into_iter()
        .find(|e| e["conn"] == 1)
        .expect("the child's close");
    assert_eq!(close["exitCode"], 0, "{ev:#?}");
    assert_eq!(close["hadError"], false);
}

/// ncat's `--ssl -e` habit with openssl as the client: one line in, the
/// child's answer out, then the child's exit ends the TLS connection.
#[test]
fn listen_tls_sh_exec_answers_an_openssl_client() {
    if !have("openssl") {
        return;
    }
    let pki = Pki::new("exec CA");
    let listen = tls_server(
        &pki,
        "listen",
        &["127.0.0.1:0", "--sh-exec", "read l; echo got:$l"],
    );
    let mut client = std::process::Command::new("openssl")
        .args(["s_client", "-quiet", "-connect", &listen.addr])
        .args(["-CAfile", s(&pki.ca_pem), "-verify_return_error"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = client.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"hi\n").unwrap();
    // stdin stays open: only the server's close_notify can end the client.
    let out = output_within(client);
    drop(stdin);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got:hi\n");
    assert_exit(&out, 0, "");
}

/// One rule for `connect` and `pipe --target-*`: a flag that only means
/// something under TLS (`--ca`, `--servername`, `--insecure`, …) turns TLS
/// on without `--tls`; the servers' `--cert/--key` and `--alpn` likewise.
#[test]
fn tls_only_flags_turn_tls_on_without_dash_dash_tls() {
    let pki = Pki::new("implied CA");
    let mut echo = server(&[
        "echo",
        "127.0.0.1:0",
        "--cert",
        s(&pki.cert),
        "--key",
        s(&pki.key),
    ]);
    for flags in [
        vec!["--ca", s(&pki.ca_pem)],
        vec!["--ca", s(&pki.ca_pem), "--servername", "localhost"],
        vec!["--insecure"],
        vec!["--insecure", "--alpn", "x-test"],
    ] {
        let out = assert_cmd()
            .arg("connect")
            .arg(&echo.addr)
            .args(&flags)
            .arg("--json")
            .write_stdin("ping\n")
            .assert()
            .code(0)
            .get_output()
            .clone();
        assert_eq!(out.stdout, b"ping\n", "{flags:?}");
        let secure = find(&events(&out.stderr), "secureConnect").clone();
        assert_eq!(secure["protocol"], "TLSv1.3", "{flags:?}");
    }
    let ev = stop(&mut echo);
    assert_eq!(all(&ev, "secureConnect").len(), 4, "{ev:#?}");
}

/// Backpressure through `listen --tls --exec`: while the child reads
/// nothing, the client's writes stall within what the kernel holds on the
/// way (no queue in wirecat, whose memory does not grow); once the child
/// reads (a FIFO lets it go), every byte comes back intact.
#[test]
fn listen_tls_exec_holds_nothing_of_its_own_while_the_child_does_not_read() {
    let pki = Pki::new("exec CA");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("go");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let child = format!("read go < '{}'; exec cat", fifo.display());
    let listen = tls_server(&pki, "listen", &["127.0.0.1:0", "--sh-exec", &child]);
    let bound = kernel_hold_through_a_relay() + MIB;
    rt().block_on(within(async {
        let tls = tls_connect(&pki.connector(), &listen.addr).await.unwrap();
        let (mut rd, mut wr) = tokio::io::split(tls);
        let before = rss_kib(listen.child.id());
        let mut stream = Cyclic::new(3);
        assert!(
            stream.write_until_stalled(&mut wr, 1 << 30).await,
            "never stalled"
        );
        assert!(stream.sent <= bound, "{} bytes went in unread", stream.sent);
        let grown = rss_kib(listen.child.id()).saturating_sub(before);
        assert!(grown < 8 << 10, "wirecat grew by {grown} KiB");
        // Non-blocking: no reader (no child) is an error, never a hang.
        let mut go = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .expect("the child waits on the FIFO");
        std::io::Write::write_all(&mut go, b"go\n").unwrap();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            rd.read_to_end(&mut got).await.unwrap();
            got
        });
        stream.write_more(&mut wr, MIB).await;
        wr.shutdown().await.unwrap();
        assert!(stream.matches(&reader.await.unwrap()), "the bytes differ");
    }));
}

/// A one-shot `listen --tls --exec` whose client fails the handshake
/// starts no child and exits with the handshake's code, 3, as plain
/// `listen --tls` does.
#[test]
fn listen_tls_exec_one_shot_failed_handshake_exits_3() {
    let pki = Pki::new("exec CA");
    let mut listen = tls_server(&pki, "listen", &["127.0.0.1:0", "--exec", "cat"]);
    rt().block_on(within(async {
        let mut tcp = TcpStream::connect(&listen.addr).await.unwrap();
        tcp.write_all(b"not a client hello\r\n\r\n").await.unwrap();
        let _ = tcp.read_to_end(&mut Vec::new()).await;
    }));
    let status = listen.wait_exit(LIMIT);
    assert_eq!(status.code(), Some(3), "{:?}", listen.stderr_events());
}

// ---------------------------------------------------------------------------
// --timeout ends, it does not destroy

/// The connection's `close` (the client side's, for pipe) from `ev`.
fn conn_close<'a>(ev: &'a [Value], side: Option<&str>) -> &'a Value {
    all(ev, "close")
        .into_iter()
        .find(|e| e["conn"] == 1 && side.iter().all(|s| e["side"] == *s))
        .unwrap_or_else(|| panic!("no close for conn 1 {side:?}: {ev:#?}"))
}

/// `echo --tls --timeout`: after the timeout, close_notify then FIN; the
/// echo the client had not read yet arrives whole and ends cleanly (no
/// truncation), and what the client sends after it is counted in bytesRead
/// until its own close_notify: `end`, then a clean close (no reset).
#[test]
fn echo_tls_timeout_ends_with_close_notify_and_counts_what_the_client_still_sends() {
    let pki = Pki::new("echo CA");
    let mut echo = tls_server(&pki, "echo", &["127.0.0.1:0", "--timeout", "300"]);
    let data = random_bytes(64 * 1024, 5);
    rt().block_on(within(async {
        let mut tls = tls_connect(&pki.connector(), &echo.addr).await.unwrap();
        tls.write_all(&data).await.unwrap();
        tls.flush().await.unwrap();
        // The echo, then the server's close_notify at the timeout.
        let mut back = Vec::new();
        tls.read_to_end(&mut back)
            .await
            .expect("close_notify, not a truncation");
        assert!(
            back == data,
            "{} bytes echoed of {}",
            back.len(),
            data.len()
        );
        tls.write_all(b"late").await.unwrap();
        tls.shutdown().await.unwrap();
        let mut rest = Vec::new();
        let tcp = &mut tls.get_mut().0;
        tcp.read_to_end(&mut rest)
            .await
            .expect("a FIN, not a reset");
    }));
    let ev = stop(&mut echo);
    let close = conn_close(&ev, None);
    assert_eq!(close["hadError"], false, "{close}");
    assert_eq!(close["bytesRead"], data.len() + 4, "{close}");
    assert_eq!(close["bytesWritten"], data.len(), "{close}");
    let at = |name: &str| ev.iter().position(|e| e["event"] == name && e["conn"] == 1);
    assert!(
        at("timeout").is_some() && at("timeout") < at("end"),
        "{ev:#?}"
    );
}

/// `pipe --tls --timeout` (TLS terminated on the client's side): after the
/// timeout the client gets close_notify and FIN after the whole reply, the
/// target a FIN; what each still sends is counted in its side's bytesRead
/// until its end; clean closes.
#[test]
fn pipe_tls_timeout_ends_both_sides_and_counts_what_they_still_send() {
    let pki = Pki::new("pipe CA");
    let rt = rt();
    let l = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let target = l.local_addr().unwrap().to_string();
    let mut pipe = tls_server(&pki, "pipe", &["127.0.0.1:0", &target, "--timeout", "300"]);
    let reply = random_bytes(64 * 1024, 6);
    rt.block_on(within(async {
        let mut tls = tls_connect(&pki.connector(), &pipe.addr).await.unwrap();
        tls.write_all(b"ping").await.unwrap();
        tls.flush().await.unwrap();
        let (mut t, _) = l.accept().await.unwrap();
        t.read_exact(&mut [0u8; 4]).await.unwrap();
        t.write_all(&reply).await.unwrap();
        // The timeout: the target sees our FIN.
        let mut rest = Vec::new();
        t.read_to_end(&mut rest)
            .await
            .expect("the target gets a FIN");
        assert!(rest.is_empty());
        t.write_all(b"late from target").await.unwrap();
        t.shutdown().await.unwrap();
        let mut back = Vec::new();
        tls.read_to_end(&mut back)
            .await
            .expect("close_notify, not a truncation");
        assert!(
            back == reply,
            "{} bytes of the reply of {}",
            back.len(),
            reply.len()
        );
        tls.write_all(b"late").await.unwrap();
        tls.shutdown().await.unwrap();
        let tcp = &mut tls.get_mut().0;
        tcp.read_to_end(&mut rest)
            .await
            .expect("a FIN, not a reset");
    }));
    let ev = stop(&mut pipe);
    let client = conn_close(&ev, Some("client"));
    assert_eq!(client["hadError"], false, "{client}");
    assert_eq!(client["bytesRead"], 8, "{client}");
    assert_eq!(client["bytesWritten"], reply.len(), "{client}");
    let target = conn_close(&ev, Some("target"));
    assert_eq!(target["bytesRead"], reply.len() + 16, "{target}");
    assert_eq!(target["bytesWritten"], 4, "{target}");
}

/// The second signal while a client is still in its TLS handshake ends it
/// at once with its `error` (ECONNABORTED), as a failed handshake would
/// (`pipe` also closes it); the server does not wait for the handshake.
#[test]
fn second_sigint_ends_a_connection_in_its_handshake_with_its_error() {
    let pki = Pki::new("servers CA");
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taddr = target.local_addr().unwrap().to_string();
    for (command, rest) in [
        ("echo", vec!["127.0.0.1:0"]),
        ("listen", vec!["-k", "127.0.0.1:0"]),
        ("pipe", vec!["127.0.0.1:0", &taddr]),
    ] {
        let tls = ["--tls", "--cert", s(&pki.cert), "--key", s(&pki.key)];
        let mut server = Server::json(&[&[command][..], &tls, &rest].concat());
        // Connected, and silent: no ClientHello.
        let _silent = std::net::TcpStream::connect(&server.addr).unwrap();
        server.wait_event("connection", |e| e["event"] == "connection");
        let start = std::time::Instant::now();
        server.force_stop();
        assert!(
            start.elapsed() < std::time::Duration::from_secs(3),
            "{command}"
        );
        let ev = server.events();
        let error = all(&ev, "error")
            .into_iter()
            .find(|e| e["conn"] == 1)
            .unwrap_or_else(|| panic!("{command}: no error for conn 1: {ev:#?}"));
        assert_eq!(error["code"], "ECONNABORTED", "{command}: {error}");
    }
}

/// Resumption is stateless: a client resumes its session after hundreds
/// of other clients' full handshakes (a server-side session cache alone
/// had forgotten it after 128), by ticket, on TLS 1.3 and 1.2.
#[test]
fn tls_servers_resume_a_session_after_many_other_clients() {
    let pki = Pki::new("wirecat resumption CA");
    // Events to a file: 600 connections' worth would fill a pipe.
    let echo = Server::json(&[
        "echo",
        "--tls",
        "--cert",
        s(&pki.cert),
        "--key",
        s(&pki.key),
        "127.0.0.1:0",
    ]);
    let addr = echo.addr.clone();
    let rt = rt();
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let client = |resume: bool| {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(pki.ca.der()).unwrap();
            let mut config = rustls::ClientConfig::builder_with_provider(provider())
                .with_protocol_versions(&[version])
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
            if !resume {
                config.resumption = rustls::client::Resumption::disabled();
            }
            TlsConnector::from(Arc::new(config))
        };
        let (returning, others) = (client(true), client(false));
        let name = ServerName::try_from("localhost").unwrap();
        let kinds: Vec<_> = rt.block_on(within(async {
            let mut kinds = Vec::new();
            let once = |connector: TlsConnector| {
                let (addr, name) = (addr.clone(), name.clone());
                async move {
                    let tcp = TcpStream::connect(&addr).await.unwrap();
                    let mut tls = connector.connect(name, tcp).await.unwrap();
                    // A byte each way, so the tickets sent after the
                    // handshake have arrived before we close.
                    tls.write_all(b"x").await.unwrap();
                    let mut b = [0u8; 1];
                    tls.read_exact(&mut b).await.unwrap();
                    let kind = tls.get_ref().1.handshake_kind();
                    tls.shutdown().await.unwrap();
                    kind
                }
            };
            kinds.push(once(returning.clone()).await);
            for _ in 0..300 {
                once(others.clone()).await;
            }
            kinds.push(once(returning.clone()).await);
            kinds
        }));
        use rustls::HandshakeKind::{Full, Resumed};
        assert_eq!(kinds, [Some(Full), Some(Resumed)], "{version:?}");
    }
}
