//! The TLS building blocks end to end, without the binary: configurations
//! built from the core's TLS options as the command line would fill them, handshakes
//! over an in-memory duplex pipe, and the codes and events that come out.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::common::certs::{self, Ca, KeyFormat, Leaf, LeafOptions};
use rustls::pki_types::PrivatePkcs8KeyDer;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_rustls::{client, server};
use wirecat::exit::{Error, Exit};
use wirecat::net::tls::{
    self, ClientTlsOptions, ServerSetup, ServerTlsOptions, SniCert, TlsVersion,
};

const LIMIT: Duration = Duration::from_secs(5);

fn args() -> ClientTlsOptions {
    ClientTlsOptions {
        enabled: true,
        handshake_timeout: LIMIT,
        ..ClientTlsOptions::default()
    }
}

fn server_args() -> ServerTlsOptions {
    ServerTlsOptions {
        enabled: true,
        handshake_timeout: LIMIT,
        ..ServerTlsOptions::default()
    }
}

/// Client arguments trusting `ca_file`.
fn trusting(ca_file: &Path) -> ClientTlsOptions {
    ClientTlsOptions {
        ca: Some(ca_file.to_owned()),
        ..args()
    }
}

/// Server arguments serving `cert`/`key`.
fn serving(cert: &Path, key: &Path) -> ServerTlsOptions {
    ServerTlsOptions {
        cert: Some(cert.to_owned()),
        key: Some(key.to_owned()),
        ..server_args()
    }
}

fn server(args: &ServerTlsOptions) -> ServerSetup {
    tls::server_config(args, None).expect("server config")
}

type Handshakes = (
    io::Result<client::TlsStream<DuplexStream>>,
    io::Result<server::TlsStream<DuplexStream>>,
);

/// Both handshakes at once over an in-memory pipe; `host` is what the
/// client connects to (its SNI unless `--servername` says otherwise).
async fn handshake(client: &ClientTlsOptions, host: &str, server: &ServerSetup) -> Handshakes {
    let config = tls::client_config(client).expect("client config");
    let name = tls::server_name(client, host).expect("server name");
    let (a, b) = tokio::io::duplex(1 << 16);
    tokio::join!(
        tls::connect(config, name, a, Some(LIMIT)),
        tls::accept(server, b)
    )
}

/// A handshake followed by one round trip, which is where a TLS 1.3
/// client learns that the server refused its certificate.
async fn round_trip(
    client: &ClientTlsOptions,
    host: &str,
    server: &ServerSetup,
) -> (
    io::Result<Vec<u8>>,
    io::Result<server::TlsStream<DuplexStream>>,
) {
    let config = tls::client_config(client).expect("client config");
    let name = tls::server_name(client, host).expect("server name");
    let (a, b) = tokio::io::duplex(1 << 16);
    tokio::join!(
        async {
            let mut s = tls::connect(config, name, a, Some(LIMIT)).await?;
            s.write_all(b"ping").await?;
            s.flush().await?;
            let mut buf = vec![0; 4];
            s.read_exact(&mut buf).await?;
            Ok(buf)
        },
        async {
            let mut s = tls::accept(server, b).await?;
            let mut buf = [0; 4];
            s.read_exact(&mut buf).await?;
            s.write_all(&buf).await?;
            s.flush().await?;
            Ok(s)
        }
    )
}

fn client_fields(s: &client::TlsStream<DuplexStream>, servername: &str, authorized: bool) -> Value {
    tls::secure_connect_fields(s.get_ref().1, Some(servername), authorized)
}

fn server_fields(s: &server::TlsStream<DuplexStream>) -> Value {
    let conn = s.get_ref().1;
    tls::secure_connect_fields(conn, conn.server_name(), tls::server_authorized(conn))
}

fn code(result: &io::Result<impl Sized>) -> &'static str {
    match result {
        Ok(_) => "no error",
        Err(e) => tls::tls_error_code(e),
    }
}

fn usage_error(result: Result<ServerSetup, Error>) -> Error {
    let err = result.expect_err("the configuration should be refused");
    assert_eq!(err.exit, Exit::Usage, "{err}");
    err
}

/// One CA, its file, and a directory for leaves.
struct Pki {
    dir: tempfile::TempDir,
    ca: Ca,
    ca_file: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("wirecat test CA");
        let ca_file = ca.write(dir.path(), "ca");
        Pki { dir, ca, ca_file }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A leaf for `names` written as `<stem>.pem` / `<stem>.key`.
    fn leaf(&self, stem: &str, names: &[&str]) -> (PathBuf, PathBuf) {
        self.ca.leaf(names).write(self.path(), stem)
    }
}

/// A server built straight from rustls, for certificates and versions
/// wirecat's own configuration would refuse to serve.
fn raw_server(leaf: &Leaf, versions: &[&'static rustls::SupportedProtocolVersion]) -> ServerSetup {
    let key = PrivatePkcs8KeyDer::from(leaf.key_pkcs8.clone());
    let config = rustls::ServerConfig::builder_with_provider(tls::provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.cert_der.clone()], key.into())
        .unwrap();
    ServerSetup {
        config: Arc::new(config),
        self_signed: None,
        handshake_timeout: LIMIT,
    }
}

// --- SNI -------------------------------------------------------------------

fn sni_server(pki: &Pki, with_default: bool) -> ServerSetup {
    let (a_cert, a_key) = pki.leaf("a", &["a.test"]);
    let (b_cert, b_key) = pki.leaf("b", &["b.test"]);
    let mut server_args = if with_default {
        let (cert, key) = pki.leaf("default", &["default.test"]);
        serving(&cert, &key)
    } else {
        server_args()
    };
    server_args.sni = vec![
        SniCert {
            name: "a.test".into(),
            cert: a_cert,
            key: a_key,
        },
        SniCert {
            name: "b.test".into(),
            cert: b_cert,
            key: b_key,
        },
    ];
    server(&server_args)
}

#[tokio::test]
async fn sni_serves_each_name_its_own_certificate() {
    let pki = Pki::new();
    let setup = sni_server(&pki, true);
    for name in ["a.test", "b.test"] {
        let (c, s) = handshake(&trusting(&pki.ca_file), name, &setup).await;
        let (c, s) = (c.unwrap(), s.unwrap());
        let fields = client_fields(&c, name, true);
        assert_eq!(fields["subject"]["CN"], name);
        assert_eq!(fields["issuer"]["CN"], "wirecat test CA");
        assert_eq!(server_fields(&s)["servername"], name);
    }
}

#[tokio::test]
async fn unknown_or_missing_sni_gets_the_default_certificate() {
    let pki = Pki::new();
    let setup = sni_server(&pki, true);
    let insecure = ClientTlsOptions {
        insecure: true,
        ..args()
    };
    // An unknown name, and an IP address (which sends no SNI at all).
    for host in ["c.test", "127.0.0.1"] {
        let (c, s) = handshake(&insecure, host, &setup).await;
        let fields = client_fields(&c.unwrap(), host, false);
        assert_eq!(fields["subject"]["CN"], "default.test", "{host}");
        s.unwrap();
    }
}

#[tokio::test]
async fn sni_without_default_refuses_unknown_names() {
    let pki = Pki::new();
    let setup = sni_server(&pki, false);
    let insecure = ClientTlsOptions {
        insecure: true,
        ..args()
    };
    let (c, s) = handshake(&insecure, "c.test", &setup).await;
    assert_eq!(code(&c), "ERR_SSL_TLSV1_ALERT_ACCESS_DENIED");
    assert_eq!(tls::tls_error_exit(c.as_ref().unwrap_err()), Exit::Tls);
    assert_eq!(code(&s), "ERR_TLS_NO_CERTIFICATE_FOR_SERVERNAME");
    let message = tls::tls_error_message(s.as_ref().unwrap_err());
    assert!(message.contains("--cert/--key"), "{message}");
}

#[test]
fn sni_certificate_for_another_name_is_refused_at_start() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("a", &["a.test"]);
    let sni = ServerTlsOptions {
        sni: vec![SniCert {
            name: "b.test".into(),
            cert,
            key,
        }],
        ..server_args()
    };
    let err = usage_error(tls::server_config(&sni, None));
    assert!(err.to_string().contains("not valid for b.test"), "{err}");
}

// --- Mutual TLS ----------------------------------------------------------------

fn mtls_server(pki: &Pki, required: bool) -> ServerSetup {
    let (cert, key) = pki.leaf("server", &["localhost"]);
    server(&ServerTlsOptions {
        ca: Some(pki.ca_file.clone()),
        require_client_cert: required,
        ..serving(&cert, &key)
    })
}

#[tokio::test]
async fn mutual_tls_accepts_a_client_certificate_from_the_ca() {
    let pki = Pki::new();
    let setup = mtls_server(&pki, true);
    let (cert, key) = pki.leaf("client", &["client.test"]);
    let client = ClientTlsOptions {
        cert: Some(cert),
        key: Some(key),
        ..trusting(&pki.ca_file)
    };
    let (c, s) = round_trip(&client, "localhost", &setup).await;
    assert_eq!(c.unwrap(), b"ping");
    let fields = server_fields(&s.unwrap());
    assert_eq!(fields["authorized"], true);
    assert_eq!(fields["subject"]["CN"], "client.test");
}

#[tokio::test]
async fn mutual_tls_refuses_a_client_without_certificate() {
    let pki = Pki::new();
    let setup = mtls_server(&pki, true);
    let (c, s) = round_trip(&trusting(&pki.ca_file), "localhost", &setup).await;
    assert_eq!(code(&c), "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
    assert_eq!(code(&s), "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
    assert_eq!(tls::tls_error_exit(s.as_ref().unwrap_err()), Exit::Tls);
}

#[tokio::test]
async fn mutual_tls_refuses_a_certificate_from_another_ca() {
    let pki = Pki::new();
    let setup = mtls_server(&pki, true);
    let other = Ca::new("someone else");
    let (cert, key) = other.leaf(&["mallory.test"]).write(pki.path(), "mallory");
    let client = ClientTlsOptions {
        cert: Some(cert),
        key: Some(key),
        ..trusting(&pki.ca_file)
    };
    let (c, s) = round_trip(&client, "localhost", &setup).await;
    assert_eq!(code(&c), "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA");
    assert_eq!(code(&s), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
}

#[tokio::test]
async fn ca_without_require_makes_client_certificates_optional() {
    let pki = Pki::new();
    let setup = mtls_server(&pki, false);
    let (c, s) = round_trip(&trusting(&pki.ca_file), "localhost", &setup).await;
    assert_eq!(c.unwrap(), b"ping");
    let fields = server_fields(&s.unwrap());
    assert_eq!(fields["authorized"], false);
    assert_eq!(fields["subject"], Value::Null);
}

#[test]
fn require_client_cert_needs_a_ca() {
    let err = usage_error(tls::server_config(
        &ServerTlsOptions {
            require_client_cert: true,
            ..server_args()
        },
        None,
    ));
    assert!(err.to_string().contains("--ca"), "{err}");
}

// --- Verification failures ---------------------------------------------------

#[tokio::test]
async fn wrong_host_name_is_altname_invalid() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("server", &["right.test"]);
    let setup = server(&serving(&cert, &key));
    let (c, _s) = handshake(&trusting(&pki.ca_file), "wrong.test", &setup).await;
    let err = c.unwrap_err();
    assert_eq!(tls::tls_error_code(&err), "ERR_TLS_CERT_ALTNAME_INVALID");
    assert_eq!(tls::tls_error_exit(&err), Exit::Tls);
    let message = tls::tls_error_message(&err);
    assert!(
        message.starts_with("Hostname/IP does not match certificate's altnames"),
        "{message}"
    );
    assert!(message.contains("wrong.test"), "{message}");
}

#[tokio::test]
async fn servername_overrides_the_host_for_sni_and_verification() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("server", &["right.test"]);
    let setup = server(&serving(&cert, &key));
    let client = ClientTlsOptions {
        servername: Some("right.test".into()),
        ..trusting(&pki.ca_file)
    };
    let (c, s) = handshake(&client, "127.0.0.1", &setup).await;
    c.unwrap();
    assert_eq!(server_fields(&s.unwrap())["servername"], "right.test");
}

#[tokio::test]
async fn ip_address_hosts_are_checked_against_ip_names() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("server", &["localhost", "127.0.0.1"]);
    let setup = server(&serving(&cert, &key));
    let (c, _) = handshake(&trusting(&pki.ca_file), "127.0.0.1", &setup).await;
    c.unwrap();
    let (c, _) = handshake(&trusting(&pki.ca_file), "[::1]", &setup).await;
    assert_eq!(code(&c), "ERR_TLS_CERT_ALTNAME_INVALID");
}

#[tokio::test]
async fn unknown_ca_is_unable_to_verify_leaf_signature() {
    let pki = Pki::new();
    let other = Ca::new("someone else");
    let (cert, key) = other.leaf(&["localhost"]).write(pki.path(), "server");
    let setup = server(&serving(&cert, &key));
    let (c, s) = handshake(&trusting(&pki.ca_file), "localhost", &setup).await;
    assert_eq!(code(&c), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    assert_eq!(
        tls::tls_error_message(c.as_ref().unwrap_err()),
        "unable to verify the first certificate"
    );
    // The server hears of it as an alert.
    assert!(code(&s).starts_with("ERR_SSL_"), "{}", code(&s));
}

#[tokio::test]
async fn self_signed_server_is_depth_zero_self_signed_cert() {
    let pki = Pki::new();
    let setup = server(&server_args());
    let (c, _) = handshake(&trusting(&pki.ca_file), "localhost", &setup).await;
    assert_eq!(code(&c), "DEPTH_ZERO_SELF_SIGNED_CERT");
    assert_eq!(
        tls::tls_error_message(c.as_ref().unwrap_err()),
        "self-signed certificate"
    );
}

#[tokio::test]
async fn expired_certificate_is_refused_by_the_client() {
    let pki = Pki::new();
    let setup = raw_server(
        &pki.ca.leaf_with(&["localhost"], LeafOptions::expired()),
        rustls::ALL_VERSIONS,
    );
    let (c, s) = handshake(&trusting(&pki.ca_file), "localhost", &setup).await;
    assert_eq!(code(&c), "CERT_HAS_EXPIRED");
    assert_eq!(
        tls::tls_error_message(c.as_ref().unwrap_err()),
        "certificate has expired"
    );
    assert_eq!(code(&s), "ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED");
}

#[tokio::test]
async fn not_yet_valid_certificate_is_refused_by_the_client() {
    let pki = Pki::new();
    let setup = raw_server(
        &pki.ca
            .leaf_with(&["localhost"], LeafOptions::not_yet_valid()),
        rustls::ALL_VERSIONS,
    );
    let (c, _) = handshake(&trusting(&pki.ca_file), "localhost", &setup).await;
    assert_eq!(code(&c), "CERT_NOT_YET_VALID");
}

#[test]
fn expired_or_future_certificate_is_refused_at_server_start() {
    let pki = Pki::new();
    for (stem, options, words) in [
        ("old", LeafOptions::expired(), "expired on"),
        ("new", LeafOptions::not_yet_valid(), "not valid until"),
    ] {
        let (cert, key) = pki
            .ca
            .leaf_with(&["localhost"], options)
            .write(pki.path(), stem);
        let err = usage_error(tls::server_config(&serving(&cert, &key), None));
        let text = err.to_string();
        assert!(text.contains(words), "{text}");
        assert!(text.contains(&cert.display().to_string()), "{text}");
    }
}

#[tokio::test]
async fn insecure_connects_to_anything_and_is_not_authorized() {
    let setup = server(&server_args());
    let insecure = ClientTlsOptions {
        insecure: true,
        ..args()
    };
    let (c, s) = handshake(&insecure, "wrong.test", &setup).await;
    let fields = client_fields(&c.unwrap(), "wrong.test", false);
    s.unwrap();
    assert_eq!(fields["authorized"], false);
    let made = setup
        .self_signed
        .as_ref()
        .expect("a self-signed certificate was made");
    assert_eq!(fields["fingerprint256"], made.fingerprint256.as_str());
    assert_eq!(
        setup.listening_fields()["fingerprint256"],
        made.fingerprint256.as_str()
    );
    assert!(tls::insecure_warning().contains("--insecure"));
}

// --- Versions and ALPN ---------------------------------------------------------

#[tokio::test]
async fn tls_min_13_refuses_a_tls12_only_server() {
    let pki = Pki::new();
    let setup = raw_server(&pki.ca.leaf(&["localhost"]), &[&rustls::version::TLS12]);
    let client = ClientTlsOptions {
        min_version: Some(TlsVersion::Tls13),
        ..trusting(&pki.ca_file)
    };
    let (c, s) = handshake(&client, "localhost", &setup).await;
    assert_eq!(code(&c), "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
    assert_eq!(code(&s), "ERR_SSL_UNSUPPORTED_PROTOCOL");
    assert_eq!(tls::tls_error_exit(c.as_ref().unwrap_err()), Exit::Tls);
}

#[tokio::test]
async fn tls12_is_negotiated_and_reported() {
    let pki = Pki::new();
    let setup = raw_server(&pki.ca.leaf(&["localhost"]), &[&rustls::version::TLS12]);
    let (c, _) = handshake(&trusting(&pki.ca_file), "localhost", &setup).await;
    let fields = client_fields(&c.unwrap(), "localhost", true);
    assert_eq!(fields["protocol"], "TLSv1.2");
    let cipher = fields["cipher"].as_str().unwrap();
    assert!(cipher.starts_with("TLS_ECDHE_ECDSA_WITH_"), "{cipher}");
}

#[tokio::test]
async fn alpn_is_negotiated_and_reported_on_both_sides() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("server", &["localhost"]);
    let setup = server(&ServerTlsOptions {
        alpn: vec![b"http/1.1".to_vec()],
        ..serving(&cert, &key)
    });
    let client = ClientTlsOptions {
        alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        ..trusting(&pki.ca_file)
    };
    let (c, s) = handshake(&client, "localhost", &setup).await;
    let fields = client_fields(&c.unwrap(), "localhost", true);
    assert_eq!(fields["alpnProtocol"], "http/1.1");
    assert_eq!(fields["protocol"], "TLSv1.3");
    assert!(
        fields["cipher"].as_str().unwrap().starts_with("TLS_AES_"),
        "{fields}"
    );
    assert_eq!(server_fields(&s.unwrap())["alpnProtocol"], "http/1.1");
}

#[tokio::test]
async fn alpn_without_a_common_protocol_fails() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("server", &["localhost"]);
    let setup = server(&ServerTlsOptions {
        alpn: vec![b"h2".to_vec()],
        ..serving(&cert, &key)
    });
    let client = ClientTlsOptions {
        alpn: vec![b"imap".to_vec()],
        ..trusting(&pki.ca_file)
    };
    let (c, s) = handshake(&client, "localhost", &setup).await;
    assert_eq!(code(&c), "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL");
    assert_eq!(code(&s), "ERR_SSL_NO_APPLICATION_PROTOCOL");
}

#[tokio::test]
async fn no_alpn_is_reported_as_false() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("server", &["localhost"]);
    let setup = server(&serving(&cert, &key));
    let (c, _) = handshake(&trusting(&pki.ca_file), "localhost", &setup).await;
    assert_eq!(
        client_fields(&c.unwrap(), "localhost", true)["alpnProtocol"],
        false
    );
}

// --- Key files -------------------------------------------------------------------

#[tokio::test]
async fn pkcs8_pkcs1_and_sec1_keys_all_serve() {
    let pki = Pki::new();
    let ec = pki.ca.leaf(&["localhost"]);
    let rsa = pki.ca.leaf_with(&["localhost"], LeafOptions::rsa());
    for (stem, leaf, format, marker) in [
        ("ec8", &ec, KeyFormat::Pkcs8, "BEGIN PRIVATE KEY"),
        ("sec1", &ec, KeyFormat::Sec1, "BEGIN EC PRIVATE KEY"),
        ("rsa8", &rsa, KeyFormat::Pkcs8, "BEGIN PRIVATE KEY"),
        ("pkcs1", &rsa, KeyFormat::Pkcs1, "BEGIN RSA PRIVATE KEY"),
    ] {
        let (cert, _) = leaf.write(pki.path(), stem);
        let key = leaf.write_key(pki.path(), stem, format);
        assert!(std::fs::read_to_string(&key).unwrap().contains(marker));
        let setup = server(&serving(&cert, &key));
        let (c, s) = handshake(&trusting(&pki.ca_file), "localhost", &setup).await;
        assert!(
            c.is_ok() && s.is_ok(),
            "{stem}: {:?} {:?}",
            c.err(),
            s.err()
        );
    }
}

#[test]
fn certificate_and_key_that_do_not_match_are_refused_at_start() {
    let pki = Pki::new();
    let (cert, _) = pki.leaf("one", &["localhost"]);
    let (_, other_key) = pki.leaf("two", &["localhost"]);
    let err = usage_error(tls::server_config(&serving(&cert, &other_key), None));
    assert!(err.to_string().contains("do not match"), "{err}");
}

#[tokio::test]
async fn encrypted_pkcs8_key_loads_with_its_password_file() {
    let pki = Pki::new();
    let leaf = pki.ca.leaf(&["localhost"]);
    let (cert, _) = leaf.write(pki.path(), "server");
    let key = certs::write_file(pki.path(), "enc.key", &leaf.encrypted_key_pem("s3cret"));
    let password = certs::write_file(pki.path(), "pass", "s3cret\n");
    let setup = server(&ServerTlsOptions {
        key_password_file: Some(password),
        ..serving(&cert, &key)
    });
    let (c, s) = handshake(&trusting(&pki.ca_file), "localhost", &setup).await;
    c.unwrap();
    s.unwrap();

    // Without the password, and with a wrong one: usage errors naming the key.
    let err = usage_error(tls::server_config(&serving(&cert, &key), None));
    assert!(err.to_string().contains("--key-password-file"), "{err}");
    let wrong = certs::write_file(pki.path(), "wrong", "nope\n");
    let err = usage_error(tls::server_config(
        &ServerTlsOptions {
            key_password_file: Some(wrong),
            ..serving(&cert, &key)
        },
        None,
    ));
    assert!(err.to_string().contains("cannot decrypt"), "{err}");
    assert!(err.to_string().contains("enc.key"), "{err}");
}

#[test]
fn unreadable_or_empty_files_are_usage_errors_naming_the_file() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("server", &["localhost"]);
    let missing = pki.path().join("missing.pem");
    let err = usage_error(tls::server_config(&serving(&missing, &key), None));
    assert!(
        err.to_string().contains("missing.pem") && err.to_string().contains("ENOENT"),
        "{err}"
    );

    let empty = certs::write_file(pki.path(), "empty.pem", "nothing here\n");
    let err = usage_error(tls::server_config(&serving(&empty, &key), None));
    assert!(err.to_string().contains("no certificate"), "{err}");
    let err = usage_error(tls::server_config(&serving(&cert, &empty), None));
    assert!(err.to_string().contains("no private key"), "{err}");

    let err = usage_error(tls::server_config(
        &ServerTlsOptions {
            cert: Some(cert),
            ..server_args()
        },
        None,
    ));
    assert!(err.to_string().contains("--cert needs --key"), "{err}");

    let err = tls::client_config(&trusting(&empty)).unwrap_err();
    assert_eq!(err.exit, Exit::Usage);
}

// --- Timeouts and closing ------------------------------------------------------

#[tokio::test]
async fn silent_client_hits_the_handshake_timeout() {
    let setup = ServerSetup {
        handshake_timeout: Duration::from_millis(50),
        ..server(&server_args())
    };
    let (_quiet_client, b) = tokio::io::duplex(1024);
    let err = tls::accept(&setup, b).await.unwrap_err();
    assert_eq!(tls::tls_error_code(&err), "ERR_TLS_HANDSHAKE_TIMEOUT");
    assert_eq!(tls::tls_error_exit(&err), Exit::Timeout);
}

#[tokio::test]
async fn close_notify_is_a_clean_end_and_truncation_is_econnreset() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("server", &["localhost"]);
    let setup = server(&serving(&cert, &key));

    // close_notify then FIN: the client reads a clean end of stream.
    let (c, s) = handshake(&trusting(&pki.ca_file), "localhost", &setup).await;
    let (mut c, mut s) = (c.unwrap(), s.unwrap());
    s.write_all(b"bye").await.unwrap();
    s.shutdown().await.unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"bye");

    // FIN without close_notify: an error, exit 1.
    let (c, s) = handshake(&trusting(&pki.ca_file), "localhost", &setup).await;
    let mut c = c.unwrap();
    let (tcp, _) = s.unwrap().into_inner();
    drop(tcp);
    let err = c.read_to_end(&mut Vec::new()).await.unwrap_err();
    assert_eq!(tls::tls_error_code(&err), "ECONNRESET");
    assert_eq!(tls::tls_error_exit(&err), Exit::Failure);
}

#[tokio::test]
async fn client_certificate_problems_are_found_before_connecting() {
    let pki = Pki::new();
    let (cert, _) = pki.leaf("one", &["client.test"]);
    let (_, other_key) = pki.leaf("two", &["client.test"]);
    let client = ClientTlsOptions {
        cert: Some(cert),
        key: Some(other_key),
        ..trusting(&pki.ca_file)
    };
    let err = tls::client_config(&client).unwrap_err();
    assert_eq!(err.exit, Exit::Usage);
    assert!(err.to_string().contains("do not match"), "{err}");
}

#[test]
fn server_name_accepts_names_and_addresses() {
    let a = args();
    assert!(matches!(
        tls::server_name(&a, "example.com").unwrap(),
        rustls::pki_types::ServerName::DnsName(_)
    ));
    assert!(matches!(
        tls::server_name(&a, "[::1]").unwrap(),
        rustls::pki_types::ServerName::IpAddress(_)
    ));
    assert!(matches!(
        tls::server_name(&a, "10.0.0.1").unwrap(),
        rustls::pki_types::ServerName::IpAddress(_)
    ));
    assert_eq!(
        tls::server_name(&a, "not a name!").unwrap_err().exit,
        Exit::Usage
    );
}

/// Keys encrypted by OpenSSL itself (its defaults, AES-128, scrypt) load;
/// skipped where there is no `openssl` command (a failure in CI).
#[test]
fn encrypted_keys_written_by_openssl_load() {
    if !crate::common::have("openssl") {
        return;
    }
    let pki = Pki::new();
    let leaf = pki.ca.leaf(&["localhost"]);
    let (cert, plain) = leaf.write(pki.path(), "server");
    let password = certs::write_file(pki.path(), "pass", "open sesame\n");
    for (stem, extra) in [
        ("default", &[][..]),
        ("aes128", &["-v2", "aes-128-cbc"][..]),
        ("scrypt", &["-scrypt"][..]),
    ] {
        let out = pki.path().join(format!("{stem}.key"));
        let status = std::process::Command::new("openssl")
            .args(["pkcs8", "-topk8", "-in"])
            .arg(&plain)
            .arg("-out")
            .arg(&out)
            .arg("-passout")
            .arg(format!("file:{}", password.display()))
            .args(extra)
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl pkcs8 {stem}");
        tls::server_config(
            &ServerTlsOptions {
                key_password_file: Some(password.clone()),
                ..serving(&cert, &out)
            },
            None,
        )
        .unwrap_or_else(|e| panic!("{stem}: {e}"));
    }
}
