//! TLS failures named as Node names them.
//!
//! Node reports a certificate problem with OpenSSL's verify code
//! (`CERT_HAS_EXPIRED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`), a wrong host
//! name with `ERR_TLS_CERT_ALTNAME_INVALID`, an alert from the peer with
//! `ERR_SSL_<OpenSSL reason>` (`ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE`), and
//! a connection lost mid-handshake with `ECONNRESET`. Users search the web
//! for these strings, so the `error` event carries the same ones; rustls's
//! typed errors are mapped here, in one place, along with the exit code
//! and a message in Node's words where Node has them.
//!
//! Choices where rustls and OpenSSL do not line up one to one:
//! - `UnknownIssuer` alone is `UNABLE_TO_VERIFY_LEAF_SIGNATURE` (OpenSSL's
//!   answer for a one-certificate chain whose issuer is unknown). The
//!   client's verifier (`verify.rs`) refines it from the chain it saw into
//!   `DEPTH_ZERO_SELF_SIGNED_CERT`, `SELF_SIGNED_CERT_IN_CHAIN` or
//!   `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`, exactly as OpenSSL decides.
//! - A TCP FIN without close_notify (truncation), during or after the
//!   handshake, is `ECONNRESET` and exit 1: it is a broken connection, not a
//!   failed verification, and it is the code Node gives a TLS socket that
//!   disconnects before the handshake ends.
//! - A name mismatch carries the whole message of Node's
//!   `tls.checkServerIdentity` (`Host: x. is not in the cert's altnames:
//!   DNS:api.test, IP Address:127.0.0.1`): the client's verifier builds it
//!   from the certificate's subjectAltName entries, written as OpenSSL
//!   writes them ([`altname_invalid_message`]).
//! - A `--pin-sha256` that does not match is `ERR_TLS_CERT_PIN_MISMATCH`
//!   (wirecat's own: Node leaves pinning to a `checkServerIdentity`
//!   callback), exit 3, its message naming both fingerprints.
//! - A server with no certificate for the name a client asked for (`--sni`
//!   without a `--cert` default) reports `ERR_TLS_NO_CERTIFICATE_FOR_SERVERNAME`
//!   (wirecat's own; Node always has a default context); the client
//!   receives an access_denied alert, `ERR_SSL_TLSV1_ALERT_ACCESS_DENIED`.

use std::fmt;
use std::io;

use rustls::{AlertDescription, CertificateError, InvalidMessage, PeerIncompatible};

use super::cert_info::AltName;
use crate::exit::Exit;

/// The error inside the `io::Error` of a handshake that did not finish in
/// time (`--handshake-timeout`).
#[derive(Debug, Clone, Copy)]
pub struct HandshakeTimeout;

impl fmt::Display for HandshakeTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TLS handshake timeout")
    }
}

impl std::error::Error for HandshakeTimeout {}

/// A certificate rejection with the OpenSSL verify code (Node's
/// `err.code`) already decided, and the message when it is not OpenSSL's
/// fixed text for the code (see `verify.rs`); travels inside
/// `CertificateError::Other`.
#[derive(Debug, Clone)]
pub(super) struct NodeCertError {
    pub code: &'static str,
    pub message: Option<String>,
}

impl NodeCertError {
    /// As the error a verifier returns.
    pub(super) fn into_rustls(self) -> rustls::Error {
        let other = rustls::OtherError(std::sync::Arc::new(self));
        rustls::Error::InvalidCertificate(CertificateError::Other(other))
    }
}

impl fmt::Display for NodeCertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => f.write_str(m),
            None => f.write_str(verify_message(self.code).unwrap_or(self.code)),
        }
    }
}

impl std::error::Error for NodeCertError {}

/// Node's `ERR_TLS_CERT_ALTNAME_INVALID` message (`tls.checkServerIdentity`)
/// for `host` (a name without its trailing dot, or an address) and the
/// certificate's subjectAltName entries and subject CN: an address is
/// looked for among the IP entries, a name among the DNS entries, or in
/// the CN when there are none.
pub(super) fn altname_invalid_message(host: &str, alt: &[AltName], cn: Option<&str>) -> String {
    let reason = if host.parse::<std::net::IpAddr>().is_ok() {
        let ips: Vec<String> = alt
            .iter()
            .filter_map(|a| match a {
                AltName::Ip(ip) => Some(ip.to_string()),
                _ => None,
            })
            .collect();
        format!("IP: {host} is not in the cert's list: {}", ips.join(", "))
    } else if alt.iter().any(|a| matches!(a, AltName::Dns(_))) {
        let all: Vec<String> = alt.iter().map(ToString::to_string).collect();
        format!(
            "Host: {host}. is not in the cert's altnames: {}",
            all.join(", ")
        )
    } else if let Some(cn) = cn {
        format!("Host: {host}. is not cert's CN: {cn}")
    } else {
        "Cert does not contain a DNS name".to_owned()
    };
    format!("Hostname/IP does not match certificate's altnames: {reason}")
}

fn rustls_error(err: &io::Error) -> Option<&rustls::Error> {
    err.get_ref()?.downcast_ref::<rustls::Error>()
}

fn is_timeout(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<HandshakeTimeout>())
}

/// TLS's own `err.code` for an error from a TLS stream or handshake (a
/// rustls error, the handshake timeout); `None` for the others, which
/// [`crate::exit::error_code`], the one entry point, names as the
/// system's (truncation, an EOF, is `ECONNRESET` there).
pub fn tls_code(err: &io::Error) -> Option<&'static str> {
    if let Some(e) = rustls_error(err) {
        return Some(rustls_error_code(e));
    }
    is_timeout(err).then_some("ERR_TLS_HANDSHAKE_TIMEOUT")
}

/// Node's `err.code` for an error from a TLS stream or handshake: the one
/// [`crate::exit::error_code`], under the name the TLS tests call it by.
pub use crate::exit::error_code as tls_error_code;

/// The exit code for an error from a TLS stream or handshake: 3 for TLS
/// itself, 4 for the handshake timeout, 1 for a broken connection
/// (truncation included).
pub fn tls_error_exit(err: &io::Error) -> Exit {
    if rustls_error(err).is_some() {
        Exit::Tls
    } else if is_timeout(err) || err.kind() == io::ErrorKind::TimedOut {
        Exit::Timeout
    } else {
        Exit::Failure
    }
}

/// The exit code for a connection that broke after its handshake: 3 when
/// TLS itself failed (an alert, such as a server refusing our certificate
/// once a TLS 1.3 handshake is done on our side), else 1 (truncation
/// included: it is a broken connection).
pub fn stream_error_exit(err: &io::Error) -> Exit {
    if rustls_error(err).is_some() {
        Exit::Tls
    } else {
        Exit::Failure
    }
}

/// The `message` of the `error` event: Node's wording where Node has one;
/// for an error that is not TLS's, the system's (`ECONNRESET (…)`).
pub fn tls_error_message(err: &io::Error) -> String {
    if let Some(e) = rustls_error(err) {
        return rustls_error_message(e);
    }
    if err.kind() == io::ErrorKind::UnexpectedEof {
        return if err.to_string().contains("handshake") {
            "Client network socket disconnected before secure TLS connection was established"
                .to_owned()
        } else {
            "the peer closed the connection without a TLS close_notify (truncated)".to_owned()
        };
    }
    if is_timeout(err) {
        return err.to_string();
    }
    crate::exit::describe(err)
}

/// `CODE (message)` for the one-line error on stderr, for any error from a
/// stream, TLS or not.
pub fn tls_error_line(err: &io::Error) -> String {
    let (code, message) = (crate::exit::error_code(err), tls_error_message(err));
    if message.starts_with(code) {
        message
    } else {
        format!("{code} ({message})")
    }
}

/// Node's code for a rustls error.
pub(super) fn rustls_error_code(err: &rustls::Error) -> &'static str {
    use rustls::Error as E;
    match err {
        E::InvalidCertificate(e) => certificate_error_code(e),
        E::AlertReceived(alert) => alert_code(*alert),
        E::NoCertificatesPresented => "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE",
        E::PeerIncompatible(p) => incompatible_code(p),
        E::NoApplicationProtocol => "ERR_SSL_NO_APPLICATION_PROTOCOL",
        E::DecryptError => "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC",
        E::PeerSentOversizedRecord => "ERR_SSL_PACKET_LENGTH_TOO_LONG",
        // Plain text where a TLS record should be: a TLS client talking to
        // a plain TCP server, or the other way round. OpenSSL's words.
        E::InvalidMessage(
            InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion,
        ) => "ERR_SSL_WRONG_VERSION_NUMBER",
        E::InvalidMessage(_) => "ERR_SSL_BAD_PACKET",
        E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            "ERR_SSL_UNEXPECTED_MESSAGE"
        }
        E::PeerMisbehaved(_) => "ERR_SSL_ILLEGAL_PARAMETER",
        E::General(text) if text.contains("no server certificate chain resolved") => {
            "ERR_TLS_NO_CERTIFICATE_FOR_SERVERNAME"
        }
        _ => "EPROTO",
    }
}

/// OpenSSL's verify code (Node's `err.code`) for a certificate rejection.
pub(super) fn certificate_error_code(err: &CertificateError) -> &'static str {
    use CertificateError as C;
    match err {
        C::Expired | C::ExpiredContext { .. } => "CERT_HAS_EXPIRED",
        C::NotValidYet | C::NotValidYetContext { .. } => "CERT_NOT_YET_VALID",
        C::NotValidForName | C::NotValidForNameContext { .. } => "ERR_TLS_CERT_ALTNAME_INVALID",
        C::UnknownIssuer => "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
        C::Revoked => "CERT_REVOKED",
        C::UnknownRevocationStatus => "UNABLE_TO_GET_CRL",
        C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => "CRL_HAS_EXPIRED",
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => "INVALID_PURPOSE",
        C::UnhandledCriticalExtension => "UNHANDLED_CRITICAL_EXTENSION",
        C::Other(other) => other
            .0
            .downcast_ref::<NodeCertError>()
            .map_or("CERT_REJECTED", |e| e.code),
        #[allow(deprecated)]
        C::BadSignature
        | C::UnsupportedSignatureAlgorithm
        | C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => "CERT_SIGNATURE_FAILURE",
        _ => "CERT_REJECTED",
    }
}

/// `ERR_SSL_<OpenSSL reason>` for an alert the peer sent us.
pub(super) fn alert_code(alert: AlertDescription) -> &'static str {
    use AlertDescription as A;
    match alert {
        A::UnexpectedMessage => "ERR_SSL_SSLV3_ALERT_UNEXPECTED_MESSAGE",
        A::BadRecordMac => "ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC",
        A::DecryptionFailed => "ERR_SSL_TLSV1_ALERT_DECRYPTION_FAILED",
        A::RecordOverflow => "ERR_SSL_TLSV1_ALERT_RECORD_OVERFLOW",
        A::DecompressionFailure => "ERR_SSL_SSLV3_ALERT_DECOMPRESSION_FAILURE",
        A::HandshakeFailure => "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
        A::NoCertificate => "ERR_SSL_SSLV3_ALERT_NO_CERTIFICATE",
        A::BadCertificate => "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
        A::UnsupportedCertificate => "ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        A::CertificateRevoked => "ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED",
        A::CertificateExpired => "ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED",
        A::CertificateUnknown => "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        A::IllegalParameter => "ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER",
        A::UnknownCA => "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
        A::AccessDenied => "ERR_SSL_TLSV1_ALERT_ACCESS_DENIED",
        A::DecodeError => "ERR_SSL_TLSV1_ALERT_DECODE_ERROR",
        A::DecryptError => "ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR",
        A::ExportRestriction => "ERR_SSL_TLSV1_ALERT_EXPORT_RESTRICTION",
        A::ProtocolVersion => "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
        A::InsufficientSecurity => "ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY",
        A::InternalError => "ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR",
        A::InappropriateFallback => "ERR_SSL_TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
        A::UserCanceled => "ERR_SSL_TLSV1_ALERT_USER_CANCELLED",
        A::NoRenegotiation => "ERR_SSL_TLSV1_ALERT_NO_RENEGOTIATION",
        A::MissingExtension => "ERR_SSL_TLSV13_ALERT_MISSING_EXTENSION",
        A::UnsupportedExtension => "ERR_SSL_TLSV1_UNSUPPORTED_EXTENSION",
        A::CertificateUnobtainable => "ERR_SSL_TLSV1_CERTIFICATE_UNOBTAINABLE",
        A::UnrecognisedName => "ERR_SSL_TLSV1_UNRECOGNIZED_NAME",
        A::BadCertificateStatusResponse => "ERR_SSL_TLSV1_BAD_CERTIFICATE_STATUS_RESPONSE",
        A::BadCertificateHashValue => "ERR_SSL_TLSV1_BAD_CERTIFICATE_HASH_VALUE",
        A::UnknownPSKIdentity => "ERR_SSL_TLSV1_ALERT_UNKNOWN_PSK_IDENTITY",
        A::CertificateRequired => "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
        A::NoApplicationProtocol => "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL",
        _ => "EPROTO",
    }
}

fn incompatible_code(p: &PeerIncompatible) -> &'static str {
    use PeerIncompatible as P;
    match p {
        P::ServerDoesNotSupportTls12Or13
        | P::ServerTlsVersionIsDisabledByOurConfig
        | P::SupportedVersionsExtensionRequired
        | P::Tls12NotOffered
        | P::Tls12NotOfferedOrEnabled
        | P::Tls13RequiredForQuic => "ERR_SSL_UNSUPPORTED_PROTOCOL",
        P::NoCipherSuitesInCommon | P::NoKxGroupsInCommon => "ERR_SSL_NO_SHARED_CIPHER",
        P::NoSignatureSchemesInCommon | P::NoCertificateRequestSignatureSchemesInCommon => {
            "ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM"
        }
        _ => "ERR_SSL_SSL_HANDSHAKE_FAILURE",
    }
}

/// OpenSSL's text for a verify code, as Node puts it in `err.message`.
fn verify_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "CERT_HAS_EXPIRED" => "certificate has expired",
        "CERT_NOT_YET_VALID" => "certificate is not yet valid",
        "UNABLE_TO_VERIFY_LEAF_SIGNATURE" => "unable to verify the first certificate",
        "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" => "unable to get local issuer certificate",
        "DEPTH_ZERO_SELF_SIGNED_CERT" => "self-signed certificate",
        "SELF_SIGNED_CERT_IN_CHAIN" => "self-signed certificate in certificate chain",
        "CERT_REVOKED" => "certificate revoked",
        "CERT_SIGNATURE_FAILURE" => "certificate signature failure",
        "INVALID_PURPOSE" => "unsupported certificate purpose",
        "CERT_REJECTED" => "certificate rejected",
        _ => return None,
    })
}

/// Node's message for a rustls error, else rustls's own.
pub(super) fn rustls_error_message(err: &rustls::Error) -> String {
    use rustls::Error as E;
    match err {
        E::InvalidCertificate(CertificateError::Other(other))
            if other.0.downcast_ref::<NodeCertError>().is_some() =>
        {
            other.0.to_string()
        }
        // The client's verifier puts Node's whole message in a
        // NodeCertError (above); this is for one that did not.
        E::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "Hostname/IP does not match certificate's altnames".to_owned(),
        E::InvalidCertificate(e) => match verify_message(certificate_error_code(e)) {
            Some(text) => text.to_owned(),
            None => err.to_string(),
        },
        E::General(text) if text.contains("no server certificate chain resolved") => {
            "no certificate for the server name the client asked for \
             (give --cert/--key as the default for unknown names)"
                .to_owned()
        }
        _ => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(e: rustls::Error) -> io::Error {
        // tokio-rustls hands rustls errors out this way.
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn certificate_errors_carry_openssl_verify_codes() {
        let cases = [
            (CertificateError::Expired, "CERT_HAS_EXPIRED"),
            (CertificateError::NotValidYet, "CERT_NOT_YET_VALID"),
            (
                CertificateError::NotValidForName,
                "ERR_TLS_CERT_ALTNAME_INVALID",
            ),
            (
                CertificateError::UnknownIssuer,
                "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
            ),
        ];
        for (e, code) in cases {
            let err = wrapped(rustls::Error::InvalidCertificate(e));
            assert_eq!(tls_error_code(&err), code);
            assert_eq!(tls_error_exit(&err), Exit::Tls);
        }
    }

    #[test]
    fn alerts_are_err_ssl_codes() {
        let err = wrapped(rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired,
        ));
        assert_eq!(
            tls_error_code(&err),
            "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"
        );
        let err = wrapped(rustls::Error::AlertReceived(
            AlertDescription::HandshakeFailure,
        ));
        assert_eq!(
            tls_error_code(&err),
            "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE"
        );
    }

    #[test]
    fn truncation_is_econnreset_and_exit_1() {
        let err = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert_eq!(tls_error_code(&err), "ECONNRESET");
        assert_eq!(tls_error_exit(&err), Exit::Failure);
        assert!(tls_error_message(&err).starts_with("Client network socket disconnected"));
    }

    #[test]
    fn handshake_timeout_is_exit_4() {
        let err = io::Error::new(io::ErrorKind::TimedOut, HandshakeTimeout);
        assert_eq!(tls_error_code(&err), "ERR_TLS_HANDSHAKE_TIMEOUT");
        assert_eq!(tls_error_exit(&err), Exit::Timeout);
    }

    #[test]
    fn refined_verify_codes_pass_through_other() {
        let e = NodeCertError {
            code: "DEPTH_ZERO_SELF_SIGNED_CERT",
            message: None,
        };
        let err = wrapped(e.into_rustls());
        assert_eq!(tls_error_code(&err), "DEPTH_ZERO_SELF_SIGNED_CERT");
        assert_eq!(tls_error_message(&err), "self-signed certificate");
    }

    #[test]
    fn altname_messages_are_nodes() {
        let alt = [
            AltName::Dns("api.test".into()),
            AltName::Ip("127.0.0.1".parse().unwrap()),
            AltName::Ip("::1".parse().unwrap()),
        ];
        assert_eq!(
            altname_invalid_message("x", &alt, Some("api.test")),
            "Hostname/IP does not match certificate's altnames: Host: x. is not in the \
             cert's altnames: DNS:api.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
        );
        assert_eq!(
            altname_invalid_message("127.0.0.2", &alt, None),
            "Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in \
             the cert's list: 127.0.0.1, ::1"
        );
        assert_eq!(
            altname_invalid_message("x", &[], Some("api.test")),
            "Hostname/IP does not match certificate's altnames: Host: x. is not cert's CN: api.test"
        );
    }
}
