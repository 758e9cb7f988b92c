//! What the `secureConnect` event says about a TLS connection, in Node's
//! terms: protocol, cipher, ALPN, server name, the peer's certificate.

use rustls::{CommonState, ProtocolVersion};
use serde_json::{json, Value};

use super::{fingerprint256, CertInfo};

/// Node's `authorized` on the server side: the client presented a
/// certificate and the verifier (which refuses bad ones) accepted it.
pub fn server_authorized(conn: &rustls::ServerConnection) -> bool {
    conn.peer_certificates().is_some_and(|c| !c.is_empty())
}

/// `TLSv1.3`, as Node's `getProtocol()`.
pub(super) fn protocol_name(version: ProtocolVersion) -> String {
    match version {
        ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}

/// The IANA name of the negotiated suite (`TLS_AES_128_GCM_SHA256`,
/// `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`), Node's `standardName`.
fn cipher_name(conn: &CommonState) -> Option<String> {
    let suite = conn.negotiated_cipher_suite()?.suite();
    let name = suite
        .as_str()
        .map_or_else(|| format!("{suite:?}"), str::to_owned);
    Some(match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    })
}

/// The fields of the `secureConnect` event: protocol, cipher, alpnProtocol
/// (`false` when none), servername (`false` when none), authorized, and the
/// peer certificate's `subject`, `issuer`, `valid_to` and `fingerprint256`
/// (`null` when the peer showed none).
pub fn secure_connect_fields(
    conn: &CommonState,
    servername: Option<&str>,
    authorized: bool,
) -> Value {
    let alpn = conn
        .alpn_protocol()
        .map_or(Value::Bool(false), |p| String::from_utf8_lossy(p).into());
    let leaf = conn.peer_certificates().and_then(|c| c.first());
    let info = leaf.and_then(|der| CertInfo::parse(der));
    json!({
        "protocol": conn.protocol_version().map(protocol_name),
        "cipher": cipher_name(conn),
        "alpnProtocol": alpn,
        "servername": servername.map_or(Value::Bool(false), Value::from),
        "authorized": authorized,
        "subject": info.as_ref().map(|i| i.subject.clone()),
        "issuer": info.as_ref().map(|i| i.issuer.clone()),
        "valid_to": info.as_ref().map(|i| i.valid_to.clone()),
        "fingerprint256": leaf.map(|der| fingerprint256(der)),
    })
}
