//! TLS as the core is configured with it, one type per side: what a client
//! offers and trusts ([`ClientTlsOptions`]), what a server shows and asks
//! for ([`ServerTlsOptions`]). Typed values only (paths, ALPN as bytes,
//! the handshake timeout as a `Duration`); which flags they came from is
//! the command line's business (`commands/options`).

use std::path::PathBuf;
use std::time::Duration;

use super::sni::SniCert;
use super::verify::Sha256Pin;

/// How long a handshake may take when nothing says otherwise (the
/// `--handshake-timeout` default).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A TLS protocol version a side may allow (`--tls-min`, `--tls-max`),
/// ordered oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

/// A TLS client's options (Node's `tls.connect`).
#[derive(Debug, Clone)]
pub struct ClientTlsOptions {
    /// TLS asked for (a `tls://` endpoint or a pin asks for it too).
    pub enabled: bool,
    /// SNI server name, also checked in the certificate (default: the host,
    /// when it is a name).
    pub servername: Option<String>,
    /// Trust anchors (default: the system's roots).
    pub ca: Option<PathBuf>,
    /// Do not verify the server's certificate.
    pub insecure: bool,
    /// Trust exactly the certificate with this SHA-256 fingerprint.
    pub pin_sha256: Option<Sha256Pin>,
    /// Our certificate chain and its key, offered when the server asks.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub key_password_file: Option<PathBuf>,
    /// ALPN protocols offered, in order of preference.
    pub alpn: Vec<Vec<u8>>,
    pub min_version: Option<TlsVersion>,
    pub max_version: Option<TlsVersion>,
    pub handshake_timeout: Duration,
}

impl Default for ClientTlsOptions {
    /// TLS off, and every option as Node leaves it.
    fn default() -> ClientTlsOptions {
        ClientTlsOptions {
            enabled: false,
            servername: None,
            ca: None,
            insecure: false,
            pin_sha256: None,
            cert: None,
            key: None,
            key_password_file: None,
            alpn: Vec::new(),
            min_version: None,
            max_version: None,
            handshake_timeout: HANDSHAKE_TIMEOUT,
        }
    }
}

/// A TLS server's options (Node's `tls.createServer`).
#[derive(Debug, Clone)]
pub struct ServerTlsOptions {
    /// TLS asked for (a `tls://` endpoint asks for it too).
    pub enabled: bool,
    /// Our default certificate chain and its key (none: a self-signed one
    /// is made, unless `sni` serves every name).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// The password of `key` and of every `sni` key.
    pub key_password_file: Option<PathBuf>,
    /// One certificate per server name.
    pub sni: Vec<SniCert>,
    /// Trust anchors for client certificates (set: clients are asked for one).
    pub ca: Option<PathBuf>,
    /// Mutual TLS: refuse clients without a certificate from `ca`.
    pub require_client_cert: bool,
    /// ALPN protocols accepted, in order of preference.
    pub alpn: Vec<Vec<u8>>,
    pub min_version: Option<TlsVersion>,
    pub max_version: Option<TlsVersion>,
    pub handshake_timeout: Duration,
}

impl Default for ServerTlsOptions {
    /// TLS off, and every option as Node leaves it.
    fn default() -> ServerTlsOptions {
        ServerTlsOptions {
            enabled: false,
            cert: None,
            key: None,
            key_password_file: None,
            sni: Vec::new(),
            ca: None,
            require_client_cert: false,
            alpn: Vec::new(),
            min_version: None,
            max_version: None,
            handshake_timeout: HANDSHAKE_TIMEOUT,
        }
    }
}
