//! The TLS flags of each side become the core's [`ClientTlsOptions`] or
//! [`ServerTlsOptions`]: `connect`'s, a server's, and `pipe`'s
//! `--target-*` (a client towards the target). One rule holds on every
//! side: a flag that only means something under TLS turns TLS on, as
//! `--tls` does (`connect --ca F`, `pipe --target-servername N`, `listen
//! --cert C --key K`); `--handshake-timeout` and `--key-password-file` alone
//! do not.

use std::time::Duration;

use crate::cli::{ClientTlsFlags, ServerTlsFlags, TargetTlsArgs};
use crate::net::tls::{ClientTlsOptions, ServerTlsOptions};

/// ALPN protocol names as the handshake sends them.
fn alpn(protocols: &[String]) -> Vec<Vec<u8>> {
    protocols.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// `connect`'s TLS.
pub(crate) fn client_tls(flags: &ClientTlsFlags) -> ClientTlsOptions {
    let common = &flags.common;
    let opts = ClientTlsOptions {
        enabled: common.tls,
        servername: flags.servername.clone(),
        ca: common.ca.clone(),
        insecure: flags.insecure,
        pin_sha256: flags.pin_sha256.clone(),
        cert: common.cert.clone(),
        key: common.key.clone(),
        key_password_file: common.key_password_file.clone(),
        alpn: alpn(&common.alpn),
        min_version: common.tls_min,
        max_version: common.tls_max,
        handshake_timeout: common.handshake_timeout,
    };
    with_implied_client_tls(opts)
}

/// A server's TLS (`listen`, `echo`, `pipe`'s LISTEN side).
pub(crate) fn server_tls(flags: &ServerTlsFlags) -> ServerTlsOptions {
    let common = &flags.common;
    let mut opts = ServerTlsOptions {
        enabled: common.tls,
        cert: common.cert.clone(),
        key: common.key.clone(),
        key_password_file: common.key_password_file.clone(),
        sni: flags.sni.clone(),
        ca: common.ca.clone(),
        require_client_cert: flags.require_client_cert,
        alpn: alpn(&common.alpn),
        min_version: common.tls_min,
        max_version: common.tls_max,
        handshake_timeout: common.handshake_timeout,
    };
    opts.enabled = opts.enabled
        || opts.cert.is_some()
        || opts.key.is_some()
        || !opts.sni.is_empty()
        || opts.ca.is_some()
        || opts.require_client_cert
        || !opts.alpn.is_empty()
        || opts.min_version.is_some()
        || opts.max_version.is_some();
    opts
}

/// `pipe`'s TLS towards its target, bounded by the shared
/// `--handshake-timeout`.
pub(crate) fn target_tls(target: &TargetTlsArgs, handshake_timeout: Duration) -> ClientTlsOptions {
    let opts = ClientTlsOptions {
        enabled: target.target_tls,
        servername: target.target_servername.clone(),
        ca: target.target_ca.clone(),
        insecure: target.target_insecure,
        pin_sha256: target.target_pin_sha256.clone(),
        cert: target.target_cert.clone(),
        key: target.target_key.clone(),
        key_password_file: target.target_key_password_file.clone(),
        alpn: alpn(&target.target_alpn),
        min_version: target.target_tls_min,
        max_version: target.target_tls_max,
        handshake_timeout,
    };
    with_implied_client_tls(opts)
}

/// The client side of the one rule: any TLS-only option turns TLS on.
fn with_implied_client_tls(mut opts: ClientTlsOptions) -> ClientTlsOptions {
    opts.enabled = opts.enabled
        || opts.servername.is_some()
        || opts.ca.is_some()
        || opts.insecure
        || opts.pin_sha256.is_some()
        || opts.cert.is_some()
        || opts.key.is_some()
        || !opts.alpn.is_empty()
        || opts.min_version.is_some()
        || opts.max_version.is_some();
    opts
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::net::tls::TlsVersion;

    fn parse(words: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once("wirecat").chain(words.iter().copied()))
            .expect("the command line parses")
            .command
    }

    fn client(words: &[&str]) -> ClientTlsOptions {
        match parse(&[&["connect", "example.com:443"], words].concat()) {
            Command::Connect(args) => client_tls(&args.tls),
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn a_tls_only_flag_turns_tls_on_and_the_timeout_alone_does_not() {
        assert!(!client(&[]).enabled);
        assert!(!client(&["--handshake-timeout", "5s"]).enabled);
        assert!(client(&["--tls"]).enabled);
        assert!(client(&["--ca", "ca.pem"]).enabled);
        assert!(client(&["--alpn", "h2"]).enabled);
        let opts = client(&["--tls-min", "1.3", "--alpn", "h2", "--alpn", "http/1.1"]);
        assert!(opts.enabled);
        assert_eq!(opts.min_version, Some(TlsVersion::Tls13));
        assert_eq!(opts.alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    }

    #[test]
    fn pipe_target_flags_make_a_client_bounded_by_the_shared_timeout() {
        let Command::Pipe(args) = parse(&[
            "pipe",
            "8080",
            "example.com:443",
            "--target-servername",
            "example.com",
            "--handshake-timeout",
            "3s",
        ]) else {
            unreachable!()
        };
        let target = target_tls(&args.target_tls, args.tls.common.handshake_timeout);
        assert!(target.enabled);
        assert_eq!(target.servername.as_deref(), Some("example.com"));
        assert_eq!(target.handshake_timeout, Duration::from_secs(3));
        // The LISTEN side is not touched by --target-* flags.
        assert!(!server_tls(&args.tls).enabled);
    }
}
