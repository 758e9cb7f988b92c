//! The one TLS path of every command: a connected or accepted plain
//! [`Stream`] goes through the handshake here and comes out as a TLS
//! [`Stream`], with Node's `secureConnect` event on success and an `error`
//! event (Node's code) on failure. `connect`, `listen`, `echo` and
//! `pipe` call these and nothing else, so a handshake is bounded,
//! reported and mapped to an exit code the same way everywhere.
//!
//! A server handshakes inside each connection's task, never in the accept
//! loop, so one slow client cannot stall the others; the handshake timeout
//! (`--handshake-timeout`) bounds it.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use serde_json::{json, Value};

use super::{
    client_config, insecure_warning, secure_connect_fields, server_authorized, server_config,
    server_name, tls_error_exit, tls_error_line, ClientTlsOptions, ServerSetup, ServerTlsOptions,
};
use crate::events;
use crate::exit::Error;
use crate::net::endpoint::Endpoint;
use crate::net::listen::Forced;
use crate::net::stream::Stream;

/// What a client needs to secure each connection it opens: built once from
/// its options, used for every connection.
#[derive(Debug, Clone)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    /// The SNI sent, for the `secureConnect` event (none for an IP address).
    servername: Option<String>,
    verified: bool,
    timeout: Duration,
}

impl ClientTls {
    /// The client side of `--tls` / `tls://` for connections to `ep`, or
    /// `None` when TLS was not asked for. With `--insecure` the warning is
    /// printed here, every time.
    pub fn new(args: &ClientTlsOptions, ep: &Endpoint) -> Result<Option<ClientTls>, Error> {
        if !args.enabled && !ep.is_tls() && args.pin_sha256.is_none() {
            return Ok(None);
        }
        let host = match ep {
            Endpoint::Tcp { host, .. } => host.as_deref().unwrap_or("localhost"),
            // A socket path names no host: the name to send and check must
            // be given, unless nothing is checked.
            _ if args.servername.is_some() || args.insecure || args.pin_sha256.is_some() => {
                "localhost"
            }
            _ => {
                return Err(Error::usage(
                    format!("--tls to {ep}"),
                    "a socket path names no host to verify the certificate against",
                )
                .hint("give the name the certificate is for with --servername NAME"))
            }
        };
        let config = client_config(args)?;
        let name = server_name(args, host)?;
        if args.insecure {
            events::notice(insecure_warning());
        }
        let servername = match &name {
            ServerName::DnsName(d) => Some(d.as_ref().to_owned()),
            _ => None,
        };
        Ok(Some(ClientTls {
            config,
            name,
            servername,
            verified: !args.insecure,
            timeout: args.handshake_timeout,
        }))
    }

    /// Handshake over `stream` (bounded by `--handshake-timeout`), emit
    /// `secureConnect`; on failure emit `error` and return the error with
    /// its exit code (3, 4 for the timeout, 1 for a lost connection).
    /// `what` names the peer in the one-line error.
    pub async fn secure(
        &self,
        stream: Stream,
        conn: Option<u64>,
        what: &str,
    ) -> Result<Stream, Error> {
        self.secure_side(stream, conn, None)
            .await
            .map_err(|e| handshake_error(&e, what))
    }

    /// As [`ClientTls::secure`], for a server's outgoing connection (`pipe`'s
    /// target): the events carry `side`, and the handshake's error is
    /// returned as it is, its `error` event already emitted.
    pub async fn secure_side(
        &self,
        stream: Stream,
        conn: Option<u64>,
        side: Option<&str>,
    ) -> io::Result<Stream> {
        let tls = super::connect(
            self.config.clone(),
            self.name.clone(),
            stream,
            Some(self.timeout),
        )
        .await
        .inspect_err(|e| report_error_side(e, conn, side))?;
        let fields =
            secure_connect_fields(tls.get_ref().1, self.servername.as_deref(), self.verified);
        events::emit("secureConnect", conn, with_side(fields, side));
        Ok(Stream::TlsClient(Box::new(tls)))
    }
}

/// The server handshake for accepted connection `conn`, bounded by the
/// setup's handshake timeout; emits `secureConnect` (with the name the
/// client asked for) or `error`.
pub async fn secure_server(
    setup: &ServerSetup,
    stream: Stream,
    conn: Option<u64>,
) -> io::Result<Stream> {
    secure_server_side(setup, stream, conn, None).await
}

/// As [`secure_server`], with `side` in the events (`pipe`'s client side).
pub(super) async fn secure_server_side(
    setup: &ServerSetup,
    stream: Stream,
    conn: Option<u64>,
    side: Option<&str>,
) -> io::Result<Stream> {
    let tls = super::accept(setup, stream)
        .await
        .inspect_err(|e| report_error_side(e, conn, side))?;
    let session = tls.get_ref().1;
    let fields = secure_connect_fields(session, session.server_name(), server_authorized(session));
    events::emit("secureConnect", conn, with_side(fields, side));
    Ok(Stream::TlsServer(Box::new(tls)))
}

/// A server's accepted connection `conn`, secured in its own task when
/// the server has TLS (`setup`), else as it is: the handshake of
/// `secure_server_side` unless the second signal comes first. `None`
/// once the `error` event is out: the caller drops the connection and the
/// server keeps serving.
pub async fn secure_accepted(
    setup: Option<&ServerSetup>,
    stream: Stream,
    conn: Option<u64>,
    side: Option<&str>,
    forced: &Forced,
) -> Option<Stream> {
    let Some(setup) = setup else {
        return Some(stream);
    };
    // Boxed, so a plain connection's task carries no handshake state.
    let handshake = secure_server_side(setup, stream, conn, side);
    Box::pin(forced.clone().unless(conn, handshake)).await?.ok()
}

/// `side` is named when there is one (`pipe`'s two handshakes).
fn report_error_side(e: &io::Error, conn: Option<u64>, side: Option<&str>) {
    let extra = side.map_or_else(|| json!({}), |side| json!({ "side": side }));
    events::error(conn, e, extra);
}

/// `fields` with `"side": side` first, when there is a side to name.
fn with_side(fields: Value, side: Option<&str>) -> Value {
    match (side, fields) {
        (Some(side), Value::Object(rest)) => {
            let mut m = serde_json::Map::new();
            m.insert("side".into(), side.into());
            m.extend(rest);
            Value::Object(m)
        }
        (_, fields) => fields,
    }
}

/// The one-line error for a failed handshake with `what` (its `error`
/// event already emitted), with the exit code of [`tls_error_exit`] and a
/// hint for the failures users meet first.
pub fn handshake_error(e: &io::Error, what: &str) -> Error {
    let code = crate::exit::error_code(e);
    let err = Error::new(
        tls_error_exit(e),
        format!("TLS handshake with {what} failed"),
        tls_error_line(e),
    )
    .code(code);
    let mut err = match code {
        "DEPTH_ZERO_SELF_SIGNED_CERT"
        | "SELF_SIGNED_CERT_IN_CHAIN"
        | "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
        | "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" => err.hint(
            "trust the server's CA with --ca FILE, or its certificate with --pin-sha256 FP \
             (or skip verification with --insecure)",
        ),
        "ERR_TLS_CERT_PIN_MISMATCH" => {
            err.hint("the server shows another certificate than the one pinned")
        }
        "ERR_TLS_CERT_ALTNAME_INVALID" => {
            err.hint("--servername NAME checks the certificate against another name")
        }
        _ => err,
    };
    // In --json mode the error event has already told the story.
    err.reported = events::mode() == events::Mode::Json;
    err
}

/// The TLS fields of a server's `listening` event: those of
/// [`ServerSetup::listening_fields`] with TLS, none without.
pub fn listening_fields(tls: Option<&ServerSetup>) -> Value {
    tls.map_or_else(|| json!({}), ServerSetup::listening_fields)
}

/// The server side of `--tls` / `tls://` for a server listening on `ep`,
/// or `None` when TLS was not asked for. With no certificate a self-signed
/// one is made now and its fingerprint printed as a notice, `-v` or not, so
/// a client can pin it (`--pin-sha256`); in `--json` mode the `listening`
/// event carries it instead (see [`ServerSetup::listening_fields`]).
pub fn server_tls(
    args: &ServerTlsOptions,
    ep: &Endpoint,
) -> Result<Option<Arc<ServerSetup>>, Error> {
    if !args.enabled && !ep.is_tls() {
        return Ok(None);
    }
    let host = match ep {
        Endpoint::Tcp { host, .. } => host.as_deref(),
        _ => None,
    };
    let setup = server_config(args, host)?;
    let json = events::mode() == events::Mode::Json;
    if let (Some(made), false) = (&setup.self_signed, json) {
        events::notice(&format!(
            "self-signed certificate for {}; SHA-256 fingerprint {} (clients: --pin-sha256 FP)",
            made.names.join(", "),
            made.fingerprint256
        ));
    }
    Ok(Some(Arc::new(setup)))
}
