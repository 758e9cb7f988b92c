//! Which certificate the server shows: one per SNI name (`--sni`), and a
//! default (`--cert/--key`, or the self-signed one) for clients that send no
//! name or a name we have no certificate for.
//!
//! The per-name lookup is rustls's `ResolvesServerCertUsingSni`, which also
//! checks at start that each certificate is valid for its name. With no
//! default, an unknown name resolves to nothing and rustls refuses the
//! handshake with an access_denied alert.

use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert, ResolvesServerCertUsingSni};
use rustls::sign::CertifiedKey;

#[derive(Debug)]
pub struct SniResolver {
    by_name: ResolvesServerCertUsingSni,
    default: Option<Arc<CertifiedKey>>,
}

impl SniResolver {
    pub fn new(default: Option<Arc<CertifiedKey>>) -> SniResolver {
        SniResolver {
            by_name: ResolvesServerCertUsingSni::new(),
            default,
        }
    }

    /// Serve `key` to clients asking for `name`; fails when `name` is not a
    /// DNS name or the certificate is not valid for it.
    pub fn add(&mut self, name: &str, key: CertifiedKey) -> Result<(), rustls::Error> {
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
