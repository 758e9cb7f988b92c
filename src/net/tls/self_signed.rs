//! The certificate `--tls` serves when no `--cert` is given: made at start
//! with rcgen for `localhost`, this host's name, the loopback addresses and
//! the address being listened on, so `curl -k`, `openssl s_client` and
//! `wirecat connect --insecure` work at once, and a careful user can compare
//! the SHA-256 fingerprint the `listening` event reports with the one the
//! client sees.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;

use super::cert_info::fingerprint256;
use crate::exit::{Error, Exit};

/// A certificate made at start, and what to tell the user about it.
#[derive(Debug, Clone)]
pub struct SelfSigned {
    pub key: Arc<CertifiedKey>,
    /// Node's `fingerprint256` form: `AB:CD:…`.
    pub fingerprint256: String,
    /// The names and addresses it is valid for.
    pub names: Vec<String>,
}

/// Make a certificate for `localhost`, the host name, 127.0.0.1, ::1 and
/// `listen_host` (when it names one host, not all interfaces).
pub(super) fn generate(
    listen_host: Option<&str>,
    provider: &CryptoProvider,
) -> Result<SelfSigned, Error> {
    let names = subject_names(listen_host, crate::sys::host_name().as_deref());
    let fail = |e: &dyn std::fmt::Display| {
        Error::new(Exit::Tls, "cannot make a self-signed certificate", e)
    };
    let mut params = rcgen::CertificateParams::new(names.clone()).map_err(|e| fail(&e))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, names[0].clone());
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "wirecat self-signed");
    // Valid from a day ago (clock skew between hosts) for a year.
    let now = SystemTime::now();
    params.not_before = (now - Duration::from_secs(86_400)).into();
    params.not_after = (now + Duration::from_secs(365 * 86_400)).into();
    let key_pair = rcgen::KeyPair::generate().map_err(|e| fail(&e))?;
    let cert = params.self_signed(&key_pair).map_err(|e| fail(&e))?;

    let der: CertificateDer<'static> = cert.der().clone();
    let key_der = PrivatePkcs8KeyDer::from(key_pair.serialize_der());
    let signing_key = provider
        .key_provider
        .load_private_key(key_der.into())
        .map_err(|e| fail(&e))?;
    Ok(SelfSigned {
        fingerprint256: fingerprint256(&der),
        key: Arc::new(CertifiedKey::new(vec![der], signing_key)),
        names,
    })
}

/// `localhost` first (it becomes the CN), then the rest without repeats.
fn subject_names(listen_host: Option<&str>, host_name: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = vec!["localhost".into()];
    let mut push = |name: &str| {
        let name = name.trim_start_matches('[').trim_end_matches(']');
        if !name.is_empty()
            && name.is_ascii()
            && !names.iter().any(|n| n.eq_ignore_ascii_case(name))
        {
            names.push(name.to_owned());
        }
    };
    if let Some(h) = host_name {
        push(h);
    }
    push("127.0.0.1");
    push("::1");
    if let Some(host) = listen_host {
        // All interfaces is not a name anybody connects to.
        let unspecified = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_unspecified());
        if !unspecified {
            push(host);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_localhost_host_loopback_and_listen_address() {
        let names = subject_names(Some("192.0.2.7"), Some("box"));
        assert_eq!(names, ["localhost", "box", "127.0.0.1", "::1", "192.0.2.7"]);
    }

    #[test]
    fn unspecified_and_repeated_addresses_are_left_out() {
        assert_eq!(
            subject_names(Some("::"), Some("localhost")),
            ["localhost", "127.0.0.1", "::1"]
        );
        assert_eq!(
            subject_names(Some("[::1]"), None),
            ["localhost", "127.0.0.1", "::1"]
        );
    }

    #[test]
    fn generated_certificate_matches_its_fingerprint() {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let made = generate(Some("127.0.0.2"), &provider).unwrap();
        let leaf = &made.key.cert[0];
        assert_eq!(made.fingerprint256, fingerprint256(leaf));
        assert!(made.names.contains(&"127.0.0.2".to_owned()));
        made.key.keys_match().unwrap();
    }
}
