//! Test certificates, made with rcgen when a test runs: no key is ever
//! committed. A [`Ca`] issues [`Leaf`] certificates (valid, expired, not
//! yet valid; ECDSA P-256 or RSA 2048) for DNS names and IP addresses; a
//! leaf writes its certificate and key as PEM files in any of the key
//! formats wirecat reads (PKCS#8, PKCS#1, SEC1, encrypted PKCS#8), ready
//! to be given to `--cert`, `--key`, `--ca`, `--sni`.
//!
//! ```ignore
//! let dir = tempfile::tempdir().unwrap();
//! let ca = Ca::new("Test CA");
//! let ca_pem = ca.write(dir.path(), "ca");               // ca.pem
//! let (cert, key) = ca.leaf(&["localhost", "127.0.0.1"]).write(dir.path(), "server");
//! let expired = ca.leaf_with(&["old.test"], LeafOptions::expired());
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use pkcs8::der::Decode;
use pkcs8::LineEnding;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;

const DAY: Duration = Duration::from_secs(86_400);

/// The key algorithm of a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    EcdsaP256,
    Rsa2048,
}

/// How a key is written to PEM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// `BEGIN PRIVATE KEY` (any algorithm).
    Pkcs8,
    /// `BEGIN RSA PRIVATE KEY` (RSA keys only).
    Pkcs1,
    /// `BEGIN EC PRIVATE KEY` (ECDSA keys only).
    Sec1,
}

/// Validity and key type of a leaf certificate.
#[derive(Debug, Clone, Copy)]
pub struct LeafOptions {
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    pub key: KeyKind,
}

impl Default for LeafOptions {
    /// Valid from yesterday for a year, ECDSA P-256.
    fn default() -> LeafOptions {
        let now = SystemTime::now();
        LeafOptions {
            not_before: now - DAY,
            not_after: now + 365 * DAY,
            key: KeyKind::EcdsaP256,
        }
    }
}

impl LeafOptions {
    /// Expired yesterday (valid for the month before).
    pub fn expired() -> LeafOptions {
        let now = SystemTime::now();
        LeafOptions {
            not_before: now - 30 * DAY,
            not_after: now - DAY,
            ..LeafOptions::default()
        }
    }

    /// Valid from tomorrow.
    pub fn not_yet_valid() -> LeafOptions {
        let now = SystemTime::now();
        LeafOptions {
            not_before: now + DAY,
            not_after: now + 30 * DAY,
            ..LeafOptions::default()
        }
    }

    pub fn rsa() -> LeafOptions {
        LeafOptions {
            key: KeyKind::Rsa2048,
            ..LeafOptions::default()
        }
    }
}

/// A root certificate authority.
pub struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    /// A root CA whose subject is `CN=<common_name>`.
    pub fn new(common_name: &str) -> Ca {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = SystemTime::now();
        params.not_before = (now - 365 * DAY).into();
        params.not_after = (now + 3650 * DAY).into();
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        Ca { cert, key }
    }

    /// The CA certificate in PEM (for `--ca`).
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// Write the CA certificate to `dir/<stem>.pem`.
    pub fn write(&self, dir: &Path, stem: &str) -> PathBuf {
        write_file(dir, &format!("{stem}.pem"), &self.pem())
    }

    /// A leaf for `names` (DNS names or IP addresses; the first is the CN),
    /// usable by servers and clients, valid now, ECDSA P-256.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_with(names, LeafOptions::default())
    }

    /// A leaf with the given validity and key type.
    pub fn leaf_with(&self, names: &[&str], options: LeafOptions) -> Leaf {
        let (params, key) = leaf_params(names, options);
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("leaf certificate");
        Leaf::new(cert, key, options.key)
    }
}

fn leaf_params(names: &[&str], options: LeafOptions) -> (CertificateParams, KeyPair) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("names");
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    params.not_before = options.not_before.into();
    params.not_after = options.not_after.into();
    let key = match options.key {
        KeyKind::EcdsaP256 => KeyPair::generate().expect("ECDSA key"),
        KeyKind::Rsa2048 => {
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                .expect("RSA key")
        }
    };
    (params, key)
}

/// A certificate and its private key.
pub struct Leaf {
    /// The certificate in PEM.
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    /// The private key, PKCS#8 DER.
    pub key_pkcs8: Vec<u8>,
    pub kind: KeyKind,
}

impl Leaf {
    fn new(cert: rcgen::Certificate, key: KeyPair, kind: KeyKind) -> Leaf {
        Leaf {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_pkcs8: key.serialize_der(),
            kind,
        }
    }

    /// The private key in PEM, in `format` (PKCS#1 needs an RSA key, SEC1
    /// an ECDSA key).
    pub fn key_pem(&self, format: KeyFormat) -> String {
        let (label, der) = match format {
            KeyFormat::Pkcs8 => ("PRIVATE KEY", self.key_pkcs8.clone()),
            KeyFormat::Pkcs1 => {
                assert_eq!(self.kind, KeyKind::Rsa2048, "PKCS#1 is for RSA keys");
                // A PKCS#8 RSA key wraps the PKCS#1 RSAPrivateKey verbatim.
                let info = pkcs8::PrivateKeyInfo::from_der(&self.key_pkcs8).expect("PKCS#8");
                ("RSA PRIVATE KEY", info.private_key.to_vec())
            }
            KeyFormat::Sec1 => {
                use aws_lc_rs::encoding::AsDer;
                assert_eq!(self.kind, KeyKind::EcdsaP256, "SEC1 is for EC keys");
                let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    &self.key_pkcs8,
                )
                .expect("EC key");
                let sec1 = pair.private_key().as_der().expect("SEC1");
                ("EC PRIVATE KEY", sec1.as_ref().to_vec())
            }
        };
        pkcs8::der::pem::encode_string(label, LineEnding::LF, &der).expect("PEM")
    }

    /// The key as `ENCRYPTED PRIVATE KEY` (PBES2: PBKDF2-HMAC-SHA256,
    /// AES-256-CBC, what `openssl pkcs8 -topk8` writes by default).
    pub fn encrypted_key_pem(&self, password: &str) -> String {
        let info = pkcs8::PrivateKeyInfo::from_der(&self.key_pkcs8).expect("PKCS#8");
        let salt: [u8; 16] = rand::random();
        let iv: [u8; 16] = rand::random();
        let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, &salt, &iv)
            .expect("PBES2 parameters");
        let doc = info.encrypt_with_params(params, password).expect("encrypt");
        doc.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .expect("PEM")
            .to_string()
    }

    /// Write `dir/<stem>.pem` (certificate) and `dir/<stem>.key` (PKCS#8).
    pub fn write(&self, dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        (
            write_file(dir, &format!("{stem}.pem"), &self.cert_pem),
            self.write_key(dir, stem, KeyFormat::Pkcs8),
        )
    }

    /// Write the key alone, in `format`, to `dir/<stem>.key`.
    pub fn write_key(&self, dir: &Path, stem: &str, format: KeyFormat) -> PathBuf {
        write_file(dir, &format!("{stem}.key"), &self.key_pem(format))
    }
}

/// Write `contents` to `dir/name` and return the path.
pub fn write_file(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write test file");
    path
}
