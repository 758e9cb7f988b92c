//! What the events say about a certificate, in the shape of Node's
//! `tlsSocket.getPeerCertificate()`: `subject` and `issuer` as objects
//! (`{"CN":"example.com","O":"Example"}`), `valid_from`/`valid_to` in
//! OpenSSL's date format, and `fingerprint256` as `AB:CD:…` hex.
//!
//! Parsing is done with `x509-cert` (RustCrypto's DER types, which the
//! PKCS#8 decryption already brings in); a certificate that does not parse
//! still gets its fingerprint.

use std::fmt::Write as _;
use std::time::SystemTime;

use pkcs8::der::{Decode, Tag, Tagged};
use serde_json::{Map, Value};
use x509_cert::name::Name;
use x509_cert::time::Time;
use x509_cert::Certificate;

/// The parts of a certificate that events and start-up checks need.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// Node's `subject` object.
    pub subject: Value,
    /// Node's `issuer` object.
    pub issuer: Value,
    /// `Jan  1 00:00:00 2030 GMT`, as Node's `valid_from`.
    pub valid_from: String,
    /// As Node's `valid_to`.
    pub valid_to: String,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    /// Subject and issuer are the same name (a self-signed certificate or a root).
    pub self_issued: bool,
}

impl CertInfo {
    /// Parse a DER certificate; `None` if it is not X.509.
    pub fn parse(der: &[u8]) -> Option<CertInfo> {
        let cert = Certificate::from_der(der).ok()?;
        let tbs = &cert.tbs_certificate;
        Some(CertInfo {
            subject: name_object(&tbs.subject),
            issuer: name_object(&tbs.issuer),
            valid_from: openssl_date(&tbs.validity.not_before),
            valid_to: openssl_date(&tbs.validity.not_after),
            not_before: tbs.validity.not_before.to_system_time(),
            not_after: tbs.validity.not_after.to_system_time(),
            self_issued: tbs.subject == tbs.issuer,
        })
    }
}

/// One subjectAltName entry of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AltName {
    Dns(String),
    Ip(std::net::IpAddr),
    Email(String),
    Uri(String),
}

impl std::fmt::Display for AltName {
    /// OpenSSL's form, which Node's `subjectaltname` and its
    /// `ERR_TLS_CERT_ALTNAME_INVALID` message use: `DNS:a.test`,
    /// `IP Address:127.0.0.1`, an IPv6 address as eight upper-case hex
    /// groups (`IP Address:0:0:0:0:0:0:0:1`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AltName::Dns(name) => write!(f, "DNS:{name}"),
            AltName::Ip(std::net::IpAddr::V4(ip)) => write!(f, "IP Address:{ip}"),
            AltName::Ip(std::net::IpAddr::V6(ip)) => {
                let groups: Vec<String> = ip.segments().iter().map(|g| format!("{g:X}")).collect();
                write!(f, "IP Address:{}", groups.join(":"))
            }
            AltName::Email(mail) => write!(f, "email:{mail}"),
            AltName::Uri(uri) => write!(f, "URI:{uri}"),
        }
    }
}

/// The subjectAltName entries of a DER certificate that have a text form
/// (empty if there are none or it does not parse).
pub(super) fn alt_names(der: &[u8]) -> Vec<AltName> {
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::SubjectAltName;
    let Ok(cert) = Certificate::from_der(der) else {
        return Vec::new();
    };
    let Ok(Some((_, SubjectAltName(names)))) = cert.tbs_certificate.get::<SubjectAltName>() else {
        return Vec::new();
    };
    names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DnsName(d) => Some(AltName::Dns(d.to_string())),
            GeneralName::Rfc822Name(m) => Some(AltName::Email(m.to_string())),
            GeneralName::UniformResourceIdentifier(u) => Some(AltName::Uri(u.to_string())),
            GeneralName::IpAddress(ip) => match ip.as_bytes().len() {
                4 => <[u8; 4]>::try_from(ip.as_bytes())
                    .ok()
                    .map(|b| AltName::Ip(b.into())),
                16 => <[u8; 16]>::try_from(ip.as_bytes())
                    .ok()
                    .map(|b| AltName::Ip(b.into())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// SHA-256 of the DER, as Node's `fingerprint256`: `AB:CD:…`.
pub fn fingerprint256(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    let mut out = String::with_capacity(95);
    for (i, byte) in digest.as_ref().iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{byte:02X}");
    }
    out
}

/// A distinguished name as Node shows it: short attribute names as keys,
/// an array when an attribute repeats (two `OU`s).
fn name_object(name: &Name) -> Value {
    let mut map = Map::new();
    for rdn in &name.0 {
        for atv in rdn.0.iter() {
            let key = short_name(&atv.oid.to_string());
            let value = Value::String(attribute_text(atv.value.tag(), atv.value.value()));
            match map.get_mut(&key) {
                None => {
                    map.insert(key, value);
                }
                Some(Value::Array(values)) => values.push(value),
                Some(first) => *first = Value::Array(vec![first.take(), value]),
            }
        }
    }
    Value::Object(map)
}

/// OpenSSL's short names for the attributes certificates actually use.
fn short_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.42" => "GN",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        other => return other.to_owned(),
    }
    .to_owned()
}

fn attribute_text(tag: Tag, bytes: &[u8]) -> String {
    match tag {
        // UCS-2 big-endian.
        Tag::BmpString => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// `Mar  7 12:00:00 2030 GMT`, OpenSSL's `ASN1_TIME_print` form that Node
/// puts in `valid_from`/`valid_to`.
fn openssl_date(time: &Time) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = time.to_date_time();
    format!(
        "{} {:>2} {:02}:{:02}:{:02} {} GMT",
        MONTHS[usize::from(t.month().clamp(1, 12)) - 1],
        t.day(),
        t.hour(),
        t.minutes(),
        t.seconds(),
        t.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_with(dn: &[(rcgen::DnType, &str)]) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(vec!["a.test".to_owned()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (ty, value) in dn {
            params.distinguished_name.push(ty.clone(), *value);
        }
        params.not_before = rcgen::date_time_ymd(2020, 3, 7);
        params.not_after = rcgen::date_time_ymd(2040, 12, 25);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn subject_is_an_object_of_short_names() {
        let der = cert_with(&[
            (rcgen::DnType::CommonName, "a.test"),
            (rcgen::DnType::OrganizationName, "Example"),
            (rcgen::DnType::CountryName, "NL"),
        ]);
        let info = CertInfo::parse(&der).unwrap();
        assert_eq!(
            info.subject,
            serde_json::json!({"CN": "a.test", "O": "Example", "C": "NL"})
        );
        assert_eq!(info.issuer, info.subject);
        assert!(info.self_issued);
    }

    #[test]
    fn validity_dates_read_like_openssl() {
        let info = CertInfo::parse(&cert_with(&[(rcgen::DnType::CommonName, "x")])).unwrap();
        assert_eq!(info.valid_from, "Mar  7 00:00:00 2020 GMT");
        assert_eq!(info.valid_to, "Dec 25 00:00:00 2040 GMT");
        assert!(info.not_before < info.not_after);
    }

    #[test]
    fn fingerprint_is_colon_separated_upper_hex_sha256() {
        let fp = fingerprint256(b"abc");
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(fp.starts_with("BA:78:16:BF:8F:01:CF:EA"));
    }

    #[test]
    fn alt_names_read_like_openssl() {
        let names = ["a.test", "127.0.0.1", "::1"].map(str::to_owned).to_vec();
        let params = rcgen::CertificateParams::new(names).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        let text: Vec<String> = alt_names(&der).iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "DNS:a.test",
                "IP Address:127.0.0.1",
                "IP Address:0:0:0:0:0:0:0:1"
            ]
        );
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(CertInfo::parse(b"not a certificate").is_none());
    }
}
