//! The TLS flags: what both sides take, what only a client or only a
//! server takes, `pipe`'s `--target-*`, and the one [`TlsArgs`] the core
//! is configured with, whichever side's flags it came from.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::values::{parse_ms, SniCert};
use crate::net::tls::Sha256Pin;

/// TLS as the core sees it, for either side: what [`ClientTlsFlags`],
/// [`ServerTlsFlags`] or `pipe`'s [`TargetTlsArgs`] stand for. Each command
/// takes only its side's flags; the other side's fields keep their defaults.
#[derive(Debug, Clone)]
pub struct TlsArgs {
    pub tls: bool,
    /// Client: SNI server name (default: the host, when it is a name).
    pub servername: Option<String>,
    pub ca: Option<PathBuf>,
    /// Client: do not verify the server's certificate.
    pub insecure: bool,
    /// Client: trust exactly the certificate with this SHA-256 fingerprint.
    pub pin_sha256: Option<Sha256Pin>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub alpn: Vec<String>,
    pub tls_min: Option<String>,
    pub tls_max: Option<String>,
    pub key_password_file: Option<PathBuf>,
    /// Server: one certificate per server name.
    pub sni: Vec<SniCert>,
    /// Server: mutual TLS.
    pub require_client_cert: bool,
    pub handshake_timeout: Duration,
}

impl Default for TlsArgs {
    /// TLS off, every option at its command-line default; what `pipe`'s
    /// target side and the tests start from.
    fn default() -> TlsArgs {
        TlsArgs {
            tls: false,
            servername: None,
            ca: None,
            insecure: false,
            pin_sha256: None,
            cert: None,
            key: None,
            alpn: Vec::new(),
            tls_min: None,
            tls_max: None,
            key_password_file: None,
            sni: Vec::new(),
            require_client_cert: false,
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

impl TlsArgs {
    /// The one rule for every side: a flag that only means something
    /// under TLS turns TLS on, as `--tls` does (`connect --ca F`, `pipe
    /// --target-servername N`, `listen --cert C --key K`).
    pub fn with_implied_tls(mut self) -> TlsArgs {
        self.tls = self.tls
            || self.servername.is_some()
            || self.ca.is_some()
            || self.insecure
            || self.pin_sha256.is_some()
            || self.cert.is_some()
            || self.key.is_some()
            || !self.alpn.is_empty()
            || self.tls_min.is_some()
            || self.tls_max.is_some()
            || !self.sni.is_empty()
            || self.require_client_cert;
        self
    }
}

/// TLS flags of both sides.
#[derive(Debug, Clone, Args)]
pub struct TlsFlags {
    /// Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)
    #[arg(long)]
    pub tls: bool,
    /// Trust anchors (PEM) for the peer's certificate (client default: the system's roots)
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Our certificate chain (PEM)
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// ALPN protocol to offer (client) or accept (server) (repeatable)
    #[arg(long, value_name = "PROTO")]
    pub alpn: Vec<String>,
    /// Lowest TLS version allowed
    #[arg(long, value_name = "1.2|1.3", value_parser = ["1.2", "1.3"])]
    pub tls_min: Option<String>,
    /// Highest TLS version allowed (1.2 to test or reach old peers)
    #[arg(long, value_name = "1.2|1.3", value_parser = ["1.2", "1.3"])]
    pub tls_max: Option<String>,
    /// Password of an encrypted PKCS#8 --key (first line of FILE)
    #[arg(long, value_name = "FILE")]
    pub key_password_file: Option<PathBuf>,
    /// Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)
    #[arg(long, value_name = "MS", default_value = "10000", value_parser = parse_ms)]
    pub handshake_timeout: Duration,
}

impl TlsFlags {
    /// The core's [`TlsArgs`] for these flags (the side's own fields default).
    fn tls_args(&self) -> TlsArgs {
        TlsArgs {
            tls: self.tls,
            ca: self.ca.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            alpn: self.alpn.clone(),
            tls_min: self.tls_min.clone(),
            tls_max: self.tls_max.clone(),
            key_password_file: self.key_password_file.clone(),
            handshake_timeout: self.handshake_timeout,
            ..TlsArgs::default()
        }
    }
}

/// A TLS client's flags (`connect`).
#[derive(Debug, Clone, Args)]
pub struct ClientTlsFlags {
    #[command(flatten)]
    pub common: TlsFlags,
    /// SNI server name, also checked in the certificate (default: the host, when it is a name)
    #[arg(long, value_name = "NAME")]
    pub servername: Option<String>,
    /// Do not verify the server's certificate (warned every time)
    #[arg(long)]
    pub insecure: bool,
    /// Trust exactly the certificate with this SHA-256 fingerprint (AB:CD:…, colons
    /// optional, as a self-signed server prints it and `openssl x509 -fingerprint -sha256`
    /// shows it) instead of a CA; implies --tls
    #[arg(long, value_name = "FP", conflicts_with_all = ["insecure", "ca"])]
    pub pin_sha256: Option<Sha256Pin>,
}

impl ClientTlsFlags {
    pub fn tls_args(&self) -> TlsArgs {
        TlsArgs {
            servername: self.servername.clone(),
            insecure: self.insecure,
            pin_sha256: self.pin_sha256.clone(),
            ..self.common.tls_args()
        }
        .with_implied_tls()
    }
}

/// A TLS server's flags (`listen`, `echo`, `pipe`'s LISTEN side).
#[derive(Debug, Clone, Args)]
pub struct ServerTlsFlags {
    #[command(flatten)]
    pub common: TlsFlags,
    /// Serve CERT/KEY to clients asking for NAME (repeatable; --cert/--key is the default)
    #[arg(long, value_name = "NAME=CERT,KEY")]
    pub sni: Vec<SniCert>,
    /// Refuse clients without a certificate issued by --ca (mutual TLS)
    #[arg(long, requires = "ca")]
    pub require_client_cert: bool,
}

impl ServerTlsFlags {
    pub fn tls_args(&self) -> TlsArgs {
        TlsArgs {
            sni: self.sni.clone(),
            require_client_cert: self.require_client_cert,
            ..self.common.tls_args()
        }
        .with_implied_tls()
    }
}

/// `pipe`'s TARGET side: TLS originated towards the target. Any of these
/// (or tls:// TARGET) turns it on; `--handshake-timeout` bounds both sides.
#[derive(Debug, Clone, Args)]
pub struct TargetTlsArgs {
    /// Speak TLS to TARGET (also implied by tls:// TARGET and by any --target-* flag)
    #[arg(long)]
    pub target_tls: bool,
    /// Trust anchors (PEM) for the target's certificate (default: the system's roots)
    #[arg(long, value_name = "FILE")]
    pub target_ca: Option<PathBuf>,
    /// SNI server name sent to the target and checked in its certificate (default: TARGET's host)
    #[arg(long, value_name = "NAME")]
    pub target_servername: Option<String>,
    /// Do not verify the target's certificate (warned every time)
    #[arg(long)]
    pub target_insecure: bool,
    /// Trust exactly the target certificate with this SHA-256 fingerprint (as --pin-sha256)
    #[arg(long, value_name = "FP", conflicts_with_all = ["target_insecure", "target_ca"])]
    pub target_pin_sha256: Option<Sha256Pin>,
    /// Client certificate chain (PEM) presented to the target
    #[arg(long, value_name = "FILE", requires = "target_key")]
    pub target_cert: Option<PathBuf>,
    /// Private key of --target-cert (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE", requires = "target_cert")]
    pub target_key: Option<PathBuf>,
    /// ALPN protocol to offer the target (repeatable)
    #[arg(long, value_name = "PROTO")]
    pub target_alpn: Vec<String>,
    /// Lowest TLS version allowed towards the target
    #[arg(long, value_name = "1.2|1.3", value_parser = ["1.2", "1.3"])]
    pub target_tls_min: Option<String>,
    /// Highest TLS version allowed towards the target
    #[arg(long, value_name = "1.2|1.3", value_parser = ["1.2", "1.3"])]
    pub target_tls_max: Option<String>,
    /// Password of an encrypted PKCS#8 --target-key (first line of FILE)
    #[arg(long, value_name = "FILE", requires = "target_key")]
    pub target_key_password_file: Option<PathBuf>,
}

impl TargetTlsArgs {
    /// The client-side [`TlsArgs`] these flags stand for, bounded by the
    /// shared `--handshake-timeout`.
    pub fn client_args(&self, handshake_timeout: Duration) -> TlsArgs {
        TlsArgs {
            tls: self.target_tls,
            servername: self.target_servername.clone(),
            ca: self.target_ca.clone(),
            insecure: self.target_insecure,
            pin_sha256: self.target_pin_sha256.clone(),
            cert: self.target_cert.clone(),
            key: self.target_key.clone(),
            alpn: self.target_alpn.clone(),
            tls_min: self.target_tls_min.clone(),
            tls_max: self.target_tls_max.clone(),
            key_password_file: self.target_key_password_file.clone(),
            handshake_timeout,
            ..TlsArgs::default()
        }
        .with_implied_tls()
    }
}
