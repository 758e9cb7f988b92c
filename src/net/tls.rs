//! TLS for every command: rustls configurations built from the TLS
//! options of each side (`options`), the handshakes with their timeout,
//! and what the `secureConnect` and `error` events say, in Node's terms.
//!
//! Everything a user can get wrong in a file (`--cert`, `--key`, `--ca`,
//! `--sni`, `--key-password-file`) is checked while the configuration is
//! built, so a bad flag is a usage error (exit 2) before any socket opens;
//! what goes wrong in a handshake is exit 3 with Node's error code. One
//! crypto provider, aws-lc-rs, is used for everything, passed explicitly so
//! no process-wide default is needed.
//!
//! System roots come from `rustls-native-certs` (the OS trust store, which
//! is what curl and openssl on the same machine trust and what admins
//! update), not a compiled-in webpki-roots list.
//!
//! This file builds the configurations; `handshake` runs the handshakes
//! and `fields` says what the `secureConnect` event reports.

mod cert_info;
mod errors;
mod fields;
mod files;
mod handshake;
mod options;
#[cfg(target_os = "linux")]
mod records;
mod secure;
mod self_signed;
mod sni;
#[cfg(target_os = "linux")]
pub mod threads;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::ResolvesClientCert;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{DnsName, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls::{SignatureScheme, SupportedProtocolVersion};
use serde_json::{json, Value};
use tokio_rustls::TlsAcceptor;

use crate::exit::{Error, Exit};

pub use cert_info::{fingerprint256, CertInfo};
pub use errors::{
    stream_error_exit, tls_code, tls_error_code, tls_error_exit, tls_error_line, tls_error_message,
    HandshakeTimeout,
};
pub use fields::{secure_connect_fields, server_authorized};
pub use handshake::{accept, connect};
pub use options::{ClientTlsOptions, ServerTlsOptions, TlsVersion, HANDSHAKE_TIMEOUT};
pub use secure::{
    handshake_error, listening_fields, secure_accepted, secure_server, server_tls, ClientTls,
};
pub use self_signed::SelfSigned;
pub use sni::SniCert;
pub use verify::{danger, Sha256Pin};

/// The one crypto provider.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// `--tls-min` and `--tls-max`: the protocol versions allowed, newest
/// first. A range with nothing in it is a usage error.
fn versions(
    min: Option<TlsVersion>,
    max: Option<TlsVersion>,
) -> Result<&'static [&'static SupportedProtocolVersion], Error> {
    static BOTH: [&SupportedProtocolVersion; 2] =
        [&rustls::version::TLS13, &rustls::version::TLS12];
    static TLS13_ONLY: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    static TLS12_ONLY: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
    match (min, max) {
        (Some(TlsVersion::Tls13), Some(TlsVersion::Tls12)) => Err(Error::usage(
            "--tls-min 1.3 --tls-max 1.2",
            "no TLS version is left between them",
        )),
        (Some(TlsVersion::Tls13), _) => Ok(&TLS13_ONLY),
        (_, Some(TlsVersion::Tls12)) => Ok(&TLS12_ONLY),
        _ => Ok(&BOTH),
    }
}

/// Sessions a TLS server remembers for resumption by session ID (a few
/// hundred bytes each); tickets need no memory at all.
const SESSION_CACHE: usize = 4096;

fn tls_failure(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(Exit::Tls, what, e)
}

/// What `--insecure` prints on stderr, every time it is used.
pub fn insecure_warning() -> &'static str {
    "warning: --insecure: the server's certificate is not verified; \
     anyone on the path can read and change this connection"
}

/// The `--cert`/`--key` pair, if both are given; one without the other is
/// a usage error.
fn own_certificate(
    cert: &Option<PathBuf>,
    key: &Option<PathBuf>,
    password: Option<&Path>,
    provider: &CryptoProvider,
) -> Result<Option<CertifiedKey>, Error> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(files::certified_key(cert, key, password, provider)?)),
        (Some(_), None) => Err(Error::usage("--cert needs --key", "no private key given")),
        (None, Some(_)) => Err(Error::usage("--key needs --cert", "no certificate given")),
        (None, None) => Ok(None),
    }
}

/// The client's certificate, offered whenever the server asks.
#[derive(Debug)]
struct ClientCertificate(Arc<CertifiedKey>);

impl ResolvesClientCert for ClientCertificate {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// The roots a client trusts: `--ca FILE`, else the system's.
fn client_roots(ca: Option<&Path>) -> Result<RootCertStore, Error> {
    if let Some(ca) = ca {
        return files::load_roots(ca);
    }
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        let why = found.errors.first().map_or_else(
            || "the system trust store is empty".to_owned(),
            |e| e.to_string(),
        );
        return Err(
            tls_failure("no system root certificates", why).hint("give the CA with --ca FILE")
        );
    }
    Ok(roots)
}

/// The client configuration for `--tls` / `tls://`: verification against
/// `--ca` or the system roots, or of exactly the `--pin-sha256`
/// certificate (or none with `--insecure`; print
/// [`insecure_warning`]), the client certificate, ALPN and `--tls-min`.
pub fn client_config(args: &ClientTlsOptions) -> Result<Arc<ClientConfig>, Error> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions(args.min_version, args.max_version)?)
        .map_err(|e| tls_failure("bad TLS versions", e))?;
    let builder = if args.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(danger::AcceptAnyCertificate(
                provider.clone(),
            )))
    } else if let Some(pin) = &args.pin_sha256 {
        let pinned = verify::PinnedCertificate {
            pin: pin.clone(),
            provider: provider.clone(),
        };
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(pinned))
    } else {
        let roots = Arc::new(client_roots(args.ca.as_deref())?);
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| tls_failure("cannot verify certificates", e))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verify::NodeVerifier::new(webpki)))
    };
    let password = args.key_password_file.as_deref();
    let mut config = match own_certificate(&args.cert, &args.key, password, &provider)? {
        Some(key) => builder.with_client_cert_resolver(Arc::new(ClientCertificate(Arc::new(key)))),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = args.alpn.clone();
    Ok(Arc::new(config))
}

/// The name a client sends as SNI and checks the certificate against:
/// `--servername`, else the host it connects to. An IP address is checked
/// against the certificate's IP addresses and sends no SNI, as in Node.
pub fn server_name(args: &ClientTlsOptions, host: &str) -> Result<ServerName<'static>, Error> {
    let name = args.servername.as_deref().unwrap_or(host);
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    // A zone (`fe80::1%eth0`) is not part of the address a certificate names.
    let without_zone = bare.split('%').next().unwrap_or(bare);
    if let Ok(ip) = without_zone.parse::<std::net::IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    DnsName::try_from(bare.to_owned())
        .map(ServerName::DnsName)
        .map_err(|_| {
            Error::usage(
                format!("bad TLS server name {name:?}"),
                "not a DNS name or an IP address",
            )
        })
}

/// A server's TLS configuration and what the events report about it.
#[derive(Debug, Clone)]
pub struct ServerSetup {
    pub config: Arc<ServerConfig>,
    /// Set when `--tls` was given without a certificate and one was made.
    pub self_signed: Option<SelfSigned>,
    /// `--handshake-timeout`.
    pub handshake_timeout: Duration,
}

impl ServerSetup {
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }

    /// Fields for the `listening` event: the self-signed certificate's
    /// fingerprint and names, when one was made.
    pub fn listening_fields(&self) -> Value {
        match &self.self_signed {
            Some(s) => json!({ "fingerprint256": s.fingerprint256, "selfSigned": s.names }),
            None => json!({}),
        }
    }
}

/// The server configuration for `--tls`: certificates by SNI name with
/// `--cert/--key` (or a fresh self-signed certificate) as the default,
/// optional or required client certificates from `--ca`, ALPN and
/// `--tls-min`. `listen_host_hint` is the host being listened on, added to
/// a self-signed certificate's names.
pub fn server_config(
    args: &ServerTlsOptions,
    listen_host_hint: Option<&str>,
) -> Result<ServerSetup, Error> {
    let provider = provider();
    let password = args.key_password_file.as_deref();
    let mut default = own_certificate(&args.cert, &args.key, password, &provider)?.map(Arc::new);
    let mut self_signed = None;
    if default.is_none() && args.sni.is_empty() {
        let made = self_signed::generate(listen_host_hint, &provider)?;
        default = Some(made.key.clone());
        self_signed = Some(made);
    }
    let mut resolver = sni::SniResolver::new(default);
    for entry in &args.sni {
        let key = files::certified_key(&entry.cert, &entry.key, password, &provider)?;
        resolver.add(&entry.name, key).map_err(|e| {
            Error::usage(
                format!("bad --sni {}={}", entry.name, entry.cert.display()),
                format!("the certificate is not valid for {} ({e})", entry.name),
            )
        })?;
    }

    let verifier = match &args.ca {
        Some(ca) => {
            let roots = Arc::new(files::load_roots(ca)?);
            let builder = WebPkiClientVerifier::builder_with_provider(roots, provider.clone());
            let builder = if args.require_client_cert {
                builder
            } else {
                builder.allow_unauthenticated()
            };
            builder
                .build()
                .map_err(|e| Error::usage(format!("bad CA file {}", ca.display()), e))?
        }
        None if args.require_client_cert => {
            return Err(Error::usage(
                "--require-client-cert needs --ca FILE",
                "no CA to check client certificates against",
            ))
        }
        None => WebPkiClientVerifier::no_client_auth(),
    };

    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions(args.min_version, args.max_version)?)
        .map_err(|e| tls_failure("bad TLS versions", e))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = args.alpn.clone();
    // Resumption, stateless (tickets, keys rotated by rustls) and stateful
    // (a session cache, for clients that resume by session ID): a client
    // back for another connection skips the certificate and key exchange.
    config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new()
        .map_err(|e| tls_failure("cannot make session tickets", e))?;
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(SESSION_CACHE);
    Ok(ServerSetup {
        config: Arc::new(config),
        self_signed,
        handshake_timeout: args.handshake_timeout,
    })
}
