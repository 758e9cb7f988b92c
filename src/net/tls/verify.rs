//! The client's certificate verifiers.
//!
//! [`NodeVerifier`] is rustls's WebPKI verifier with one change: when the
//! issuer is unknown it looks at the chain the server sent and names the
//! failure as OpenSSL (and so Node) would — a self-signed leaf is
//! `DEPTH_ZERO_SELF_SIGNED_CERT`, which is what a user of `wirecat listen
//! --tls` without `--cert` sees first. The refined error travels as
//! `CertificateError::Other`, so the alert the server receives is
//! certificate_unknown rather than unknown_ca; the code users read is
//! worth more than the alert the server logs.
//!
//! [`PinnedCertificate`] is `--pin-sha256`: exactly one certificate,
//! known by its SHA-256, is trusted instead of a CA.
//!
//! [`danger::AcceptAnyCertificate`] is `--insecure`: kept in its own module
//! so that it is easy to find and hard to use by accident.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::cert_info::{alt_names, fingerprint256, CertInfo};
use super::errors::{altname_invalid_message, NodeCertError};

#[derive(Debug)]
pub(super) struct NodeVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl NodeVerifier {
    pub(super) fn new(inner: Arc<WebPkiServerVerifier>) -> NodeVerifier {
        NodeVerifier { inner }
    }
}

/// OpenSSL's verify code for "issuer not found", from the chain's shape:
/// the last certificate sent is self-signed or not, and the chain has one
/// certificate or more.
pub(super) fn unknown_issuer_code(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> &'static str {
    let last = intermediates.last().unwrap_or(end_entity);
    let self_issued = CertInfo::parse(last).is_some_and(|c| c.self_issued);
    match (self_issued, intermediates.is_empty()) {
        (true, true) => "DEPTH_ZERO_SELF_SIGNED_CERT",
        (true, false) => "SELF_SIGNED_CERT_IN_CHAIN",
        (false, true) => "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
        (false, false) => "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    }
}

/// Node's message for a certificate not valid for `name`, from the names
/// the certificate holds.
fn altname_message(end_entity: &CertificateDer<'_>, name: &ServerName<'_>) -> String {
    let host = match name {
        ServerName::DnsName(d) => d.as_ref().trim_end_matches('.').to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => other.to_str().into_owned(),
    };
    let cn = CertInfo::parse(end_entity).and_then(|c| {
        c.subject
            .get("CN")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    });
    altname_invalid_message(&host, &alt_names(end_entity), cn.as_deref())
}

impl ServerCertVerifier for NodeVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| match e {
                rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
                    NodeCertError {
                        code: unknown_issuer_code(end_entity, intermediates),
                        message: None,
                    }
                    .into_rustls()
                }
                rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                ) => NodeCertError {
                    code: "ERR_TLS_CERT_ALTNAME_INVALID",
                    message: Some(altname_message(end_entity, server_name)),
                }
                .into_rustls(),
                e => e,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `--pin-sha256 FP`: the SHA-256 fingerprint of the one certificate a
/// client trusts, kept in Node's `fingerprint256` form (`AB:CD:…`). Given
/// with or without colons, in either case, as `openssl x509 -fingerprint
/// -sha256` prints it (a leading `sha256 Fingerprint=` is accepted too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sha256Pin(String);

impl std::str::FromStr for Sha256Pin {
    type Err = String;

    fn from_str(s: &str) -> Result<Sha256Pin, String> {
        let value = s.rsplit('=').next().unwrap_or(s).trim();
        let hex: String = value.chars().filter(|c| *c != ':').collect();
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "expected a SHA-256 fingerprint (64 hex digits, colons optional: AB:CD:…), got {s:?}"
            ));
        }
        let upper = hex.to_ascii_uppercase();
        let pairs: Vec<&str> = (0..32).map(|i| &upper[2 * i..2 * i + 2]).collect();
        Ok(Sha256Pin(pairs.join(":")))
    }
}

impl std::fmt::Display for Sha256Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trust exactly the certificate whose SHA-256 is pinned, instead of a CA:
/// the way to reach a server with a self-signed certificate made at start
/// without `--insecure`. The pin is the identity, so neither the chain, the
/// name nor the dates are checked; the handshake signatures still are (with
/// the provider's algorithms), so the server must hold the certificate's
/// key. A different certificate is `ERR_TLS_CERT_PIN_MISMATCH` (wirecat's
/// own code; Node leaves pinning to `checkServerIdentity`), naming both
/// fingerprints.
#[derive(Debug)]
pub(super) struct PinnedCertificate {
    pub pin: Sha256Pin,
    pub provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = fingerprint256(end_entity);
        if seen == self.pin.0 {
            return Ok(ServerCertVerified::assertion());
        }
        Err(NodeCertError {
            code: "ERR_TLS_CERT_PIN_MISMATCH",
            message: Some(format!(
                "the certificate's SHA-256 fingerprint {seen} is not the pinned {}",
                self.pin
            )),
        }
        .into_rustls())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

pub mod danger {
    //! `--insecure`: any certificate, any name. Handshake signatures are
    //! still checked, so the peer must hold the key of the certificate it
    //! shows; only the question "is this the right peer" goes unasked.

    use std::sync::Arc;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    #[derive(Debug)]
    pub struct AcceptAnyCertificate(pub Arc<CryptoProvider>);

    impl ServerCertVerifier for AcceptAnyCertificate {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Sha256Pin;

    #[test]
    fn pins_are_read_with_or_without_colons_in_either_case() {
        let canonical = (0..32)
            .map(|i| format!("{:02X}", i * 7 + 3))
            .collect::<Vec<_>>()
            .join(":");
        for written in [
            canonical.clone(),
            canonical.to_lowercase(),
            canonical.replace(':', ""),
            format!("sha256 Fingerprint={canonical}"),
        ] {
            let pin: Sha256Pin = written.parse().unwrap();
            assert_eq!(pin.to_string(), canonical, "{written}");
        }
        for bad in ["", "AB:CD", &canonical[3..], &canonical.replace('0', "g")] {
            assert!(bad.parse::<Sha256Pin>().is_err(), "{bad:?}");
        }
    }
}
