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
//! [`danger::AcceptAnyCertificate`] is `--insecure`: kept in its own module
//! so that it is easy to find and hard to use by accident.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

use super::cert_info::CertInfo;
use super::errors::NodeCertError;

#[derive(Debug)]
pub struct NodeVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl NodeVerifier {
    pub fn new(inner: Arc<WebPkiServerVerifier>) -> NodeVerifier {
        NodeVerifier { inner }
    }
}

/// OpenSSL's verify code for "issuer not found", from the chain's shape:
/// the last certificate sent is self-signed or not, and the chain has one
/// certificate or more.
pub fn unknown_issuer_code(
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
                    let code = unknown_issuer_code(end_entity, intermediates);
                    let refined = OtherError(Arc::new(NodeCertError { code }));
                    rustls::Error::InvalidCertificate(CertificateError::Other(refined))
                }
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
