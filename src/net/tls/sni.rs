//! Which certificate the server shows: one per SNI name (`--sni`), and a
//! default (`--cert/--key`, or the self-signed one) for clients that send no
//! name or a name we have no certificate for. [`SniCert`] is one such
//! name with its files, as `--sni NAME=CERT,KEY` writes it.
//!
//! The per-name lookup is rustls's `ResolvesServerCertUsingSni`, which also
//! checks at start that each certificate is valid for its name. With no
//! default, an unknown name resolves to nothing and rustls refuses the
//! handshake with an access_denied alert.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert, ResolvesServerCertUsingSni};
use rustls::sign::CertifiedKey;

#[derive(Debug)]
pub(super) struct SniResolver {
    by_name: ResolvesServerCertUsingSni,
    default: Option<Arc<CertifiedKey>>,
}

impl SniResolver {
    pub(super) fn new(default: Option<Arc<CertifiedKey>>) -> SniResolver {
        SniResolver {
            by_name: ResolvesServerCertUsingSni::new(),
            default,
        }
    }

    /// Serve `key` to clients asking for `name`; fails when `name` is not a
    /// DNS name or the certificate is not valid for it.
    pub(super) fn add(&mut self, name: &str, key: CertifiedKey) -> Result<(), rustls::Error> {
        self.by_name.add(name, key)
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.by_name
            .resolve(client_hello)
            .or_else(|| self.default.clone())
    }
}

/// One `--sni NAME=CERT,KEY`: the certificate chain and key served to
/// clients whose SNI is NAME (EdgerOS `server.addcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SniCert {
    pub name: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl std::str::FromStr for SniCert {
    type Err = String;

    fn from_str(s: &str) -> Result<SniCert, String> {
        let expected = "expected NAME=CERT,KEY (e.g. example.com=example.pem,example.key)";
        let (name, files) = s
            .split_once('=')
            .ok_or_else(|| format!("{expected}, got {s:?}"))?;
        // A path may not contain ',' here: with two commas we cannot tell
        // which one separates the files, so say so rather than guess.
        let (cert, key) = match files.split(',').collect::<Vec<_>>()[..] {
            [cert, key] if !cert.is_empty() && !key.is_empty() => (cert, key),
            _ => return Err(format!("{expected}, got {s:?}")),
        };
        if name.is_empty() {
            return Err(format!("{expected}: the server name is empty"));
        }
        Ok(SniCert {
            name: name.to_ascii_lowercase(),
            cert: PathBuf::from(cert),
            key: PathBuf::from(key),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sni_flag_splits_name_cert_and_key() {
        let sni: SniCert = "A.Example=a.pem,a.key".parse().unwrap();
        assert_eq!(sni.name, "a.example");
        assert_eq!(sni.cert, PathBuf::from("a.pem"));
        assert_eq!(sni.key, PathBuf::from("a.key"));
        for bad in [
            "a.example",
            "a.example=a.pem",
            "=a.pem,a.key",
            "a=x,y,z",
            "a=,k",
        ] {
            assert!(bad.parse::<SniCert>().is_err(), "{bad} should be refused");
        }
    }
}
