//! The TLS flags: what both sides take, what only a client or only a
//! server takes, and `pipe`'s `--target-*`. `commands/options` turns each
//! side's flags into the core's TLS options.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use clap::builder::PossibleValue;
use clap::ValueEnum;

use super::values::{parse_alpn, parse_ms};
use crate::net::tls::{Sha256Pin, SniCert, TlsVersion};

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
    #[arg(long, value_name = "PROTO", value_parser = parse_alpn)]
    pub alpn: Vec<String>,
    /// Lowest TLS version allowed
    #[arg(long, value_name = "1.2|1.3")]
    pub tls_min: Option<TlsVersion>,
    /// Highest TLS version allowed (1.2 to test or reach old peers)
    #[arg(long, value_name = "1.2|1.3")]
    pub tls_max: Option<TlsVersion>,
    /// Password of an encrypted PKCS#8 --key (first line of FILE)
    #[arg(long, value_name = "FILE")]
    pub key_password_file: Option<PathBuf>,
    /// Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)
    #[arg(long, value_name = "MS", default_value = "10000", value_parser = parse_ms)]
    pub handshake_timeout: Duration,
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
    #[arg(long, value_name = "PROTO", value_parser = parse_alpn)]
    pub target_alpn: Vec<String>,
    /// Lowest TLS version allowed towards the target
    #[arg(long, value_name = "1.2|1.3")]
    pub target_tls_min: Option<TlsVersion>,
    /// Highest TLS version allowed towards the target
    #[arg(long, value_name = "1.2|1.3")]
    pub target_tls_max: Option<TlsVersion>,
    /// Password of an encrypted PKCS#8 --target-key (first line of FILE)
    #[arg(long, value_name = "FILE", requires = "target_key")]
    pub target_key_password_file: Option<PathBuf>,
}

// The versions are spelt as the flags take them; the core's type knows
// nothing of how they are written.
impl ValueEnum for TlsVersion {
    fn value_variants<'a>() -> &'a [TlsVersion] {
        &[TlsVersion::Tls12, TlsVersion::Tls13]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            TlsVersion::Tls12 => "1.2",
            TlsVersion::Tls13 => "1.3",
        }))
    }
}
