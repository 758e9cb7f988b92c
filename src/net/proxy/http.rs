//! HTTP `CONNECT`, with Basic `Proxy-Authorization`.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{broken, Proxy, Refusal, Target};

/// The most header bytes an HTTP proxy's answer may have.
const MAX_HEAD: usize = 16 * 1024;

pub(super) async fn connect(
    sock: &mut TcpStream,
    proxy: &Proxy,
    target: &Target<'_>,
) -> Result<(), Refusal> {
    let io = |e| broken(e, "HTTP CONNECT");
    let authority = target.authority();
    let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some((user, pass)) = &proxy.auth {
        req.push_str(&format!(
            "Proxy-Authorization: Basic {}\r\n",
            base64(format!("{user}:{pass}").as_bytes())
        ));
    }
    req.push_str("\r\n");
    sock.write_all(req.as_bytes()).await.map_err(io)?;
    // Byte by byte: what follows the header is the tunnel's, not ours.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err(Refusal::protocol(
                "the HTTP proxy's answer has no end of header within 16 KiB",
            ));
        }
        let b = sock.read_u8().await.map_err(io)?;
        head.push(b);
    }
    let head = String::from_utf8_lossy(&head);
    let status_line = head.lines().next().unwrap_or("");
    let mut words = status_line.splitn(3, ' ');
    let (version, status, reason) = (words.next(), words.next(), words.next().unwrap_or(""));
    let status: u16 = match (version, status.and_then(|s| s.parse().ok())) {
        (Some(v), Some(s)) if v.starts_with("HTTP/") => s,
        _ => {
            return Err(Refusal::protocol(format!(
                "the proxy's answer is not HTTP: {status_line:?}"
            )))
        }
    };
    let said = format!("HTTP {status} {}", reason.trim());
    match status {
        200..=299 => Ok(()),
        407 if proxy.auth.is_none() => Err(Refusal::auth(format!(
            "the HTTP proxy wants credentials: user:pass@ in the URL, or --proxy-user ({said})"
        ))),
        401 | 403 | 407 => Err(Refusal::auth(format!("the HTTP proxy refused ({said})"))),
        504 => Err(Refusal::new(
            crate::sys::errno::ETIMEDOUT,
            format!("the proxy's connection to the target timed out ({said})"),
        )),
        _ => Err(Refusal::new(
            crate::sys::errno::ECONNREFUSED,
            format!("the HTTP proxy could not connect ({said})"),
        )),
    }
}

fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_like_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }
}
