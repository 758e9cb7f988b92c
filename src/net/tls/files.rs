//! Certificates, keys and trust anchors read from PEM files.
//!
//! Every problem with a file a user named (missing, not PEM, no key in it,
//! wrong password, key not matching the certificate, certificate expired) is
//! found here, at start, and becomes a one-line usage error (exit 2) that
//! names the file — never a handshake failure minutes later.

use std::path::Path;
use std::time::SystemTime;

use pkcs8::der::Decode;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use rustls::{InconsistentKeys, RootCertStore};

use super::cert_info;
use crate::exit::{describe, Error};

const ENCRYPTED_PKCS8: &str = "ENCRYPTED PRIVATE KEY";

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| {
        Error::usage(
            format!("cannot read {what} {}", path.display()),
            describe(&e),
        )
    })
}

fn bad(what: &str, path: &Path, why: impl std::fmt::Display) -> Error {
    Error::usage(format!("bad {what} {}", path.display()), why)
}

/// The certificate chain in a PEM file, leaf first.
pub(super) fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let data = read(path, "certificate file")?;
    let certs = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("certificate file", path, e))?;
    if certs.is_empty() {
        return Err(bad(
            "certificate file",
            path,
            "no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)",
        ));
    }
    Ok(certs)
}

/// Trust anchors from a PEM file (`--ca`).
pub(super) fn load_roots(path: &Path) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(load_certs(path)?);
    if added == 0 {
        return Err(bad("CA file", path, "no usable CA certificate in it"));
    }
    Ok(roots)
}

/// A private key in PKCS#8, PKCS#1 or SEC1 PEM; encrypted PKCS#8 is
/// decrypted with the first line of `password_file`.
pub(super) fn load_key(
    path: &Path,
    password_file: Option<&Path>,
) -> Result<PrivateKeyDer<'static>, Error> {
    let data = read(path, "key file")?;
    let text = String::from_utf8_lossy(&data);
    if text.contains(&format!("-----BEGIN {ENCRYPTED_PKCS8}-----")) {
        return decrypt_pkcs8(path, &text, password_file);
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(bad(
            "key file",
            path,
            "legacy OpenSSL PEM encryption is not supported; convert it with \
             `openssl pkcs8 -topk8 -in KEY -out NEWKEY` and give --key-password-file",
        ));
    }
    PrivateKeyDer::from_pem_slice(&data).map_err(|e| match e {
        pem::Error::NoItemsFound => bad(
            "key file",
            path,
            "no private key in it (expected PEM: BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY, \
             BEGIN EC PRIVATE KEY or BEGIN ENCRYPTED PRIVATE KEY)",
        ),
        e => bad("key file", path, e),
    })
}

fn decrypt_pkcs8(
    path: &Path,
    text: &str,
    password_file: Option<&Path>,
) -> Result<PrivateKeyDer<'static>, Error> {
    let Some(password_file) = password_file else {
        return Err(bad(
            "key file",
            path,
            "the key is encrypted; give its password with --key-password-file FILE (--target-key-password-file for pipe's --target-key)",
        ));
    };
    let password = read_password(password_file)?;
    let block = pem_block(text, ENCRYPTED_PKCS8)
        .ok_or_else(|| bad("key file", path, "unterminated ENCRYPTED PRIVATE KEY block"))?;
    let (_label, doc) = pkcs8::der::Document::from_pem(block)
        .map_err(|e| bad("key file", path, format!("bad PEM ({e})")))?;
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(doc.as_bytes())
        .map_err(|e| bad("key file", path, format!("bad encrypted PKCS#8 ({e})")))?;
    let plain = info.decrypt(password.as_bytes()).map_err(|_| {
        bad(
            "key file",
            path,
            format!(
                "cannot decrypt the key: wrong password in {}, or an unsupported \
                 cipher (PBES2 with PBKDF2 or scrypt and AES-CBC are supported)",
                password_file.display()
            ),
        )
    })?;
    Ok(PrivatePkcs8KeyDer::from(plain.as_bytes().to_vec()).into())
}

/// The password is the file's first line, as OpenSSL's `-passin file:` reads it.
fn read_password(path: &Path) -> Result<String, Error> {
    let data = read(path, "password file")?;
    let text = String::from_utf8(data)
        .map_err(|_| bad("password file", path, "the password is not UTF-8 text"))?;
    let line = text.lines().next().unwrap_or("");
    Ok(line.to_owned())
}

/// The one `-----BEGIN label-----` … `-----END label-----` block in `text`.
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = text.find(&format!("-----BEGIN {label}-----"))?;
    let end_marker = format!("-----END {label}-----");
    let end = begin + text[begin..].find(&end_marker)? + end_marker.len();
    Some(&text[begin..end])
}

/// `cert` and `key` as a [`CertifiedKey`], checked at start: the key loads,
/// it is the certificate's key, and the certificate is valid today.
pub(super) fn certified_key(
    cert: &Path,
    key: &Path,
    password_file: Option<&Path>,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, Error> {
    let chain = load_certs(cert)?;
    let key_der = load_key(key, password_file)?;
    let signing_key = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| bad("key file", key, format!("not a usable private key ({e})")))?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            return Err(Error::usage(
                format!(
                    "certificate {} and key {} do not match",
                    cert.display(),
                    key.display()
                ),
                "the key is not the one the certificate was issued for",
            ))
        }
        Err(e) => return Err(bad("certificate file", cert, e)),
    }
    check_validity(&certified.cert[0], cert)?;
    Ok(certified)
}

/// Refuse a leaf certificate that is expired or not valid yet: serving it
/// would fail every handshake with a less helpful message.
pub(super) fn check_validity(leaf: &CertificateDer<'_>, path: &Path) -> Result<(), Error> {
    let info = cert_info::CertInfo::parse(leaf).ok_or_else(|| {
        bad(
            "certificate file",
            path,
            "the certificate is not valid X.509",
        )
    })?;
    let now = SystemTime::now();
    if now > info.not_after {
        return Err(bad(
            "certificate file",
            path,
            format!("the certificate expired on {}", info.valid_to),
        ));
    }
    if now < info.not_before {
        return Err(bad(
            "certificate file",
            path,
            format!("the certificate is not valid until {}", info.valid_from),
        ));
    }
    Ok(())
}
