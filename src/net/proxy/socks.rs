//! The SOCKS5 (RFC 1928, RFC 1929) and SOCKS4/4a handshakes.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{broken, Proxy, Refusal, Target};

pub(super) async fn socks5(
    sock: &mut TcpStream,
    proxy: &Proxy,
    target: &Target<'_>,
) -> Result<(), Refusal> {
    let io = |e| broken(e, "SOCKS5");
    let methods: &[u8] = match proxy.auth {
        Some(_) => &[5, 2, 0, 2],
        None => &[5, 1, 0],
    };
    sock.write_all(methods).await.map_err(io)?;
    let mut chosen = [0u8; 2];
    sock.read_exact(&mut chosen).await.map_err(io)?;
    if chosen[0] != 5 {
        return Err(Refusal::protocol("the proxy's answer is not SOCKS5"));
    }
    match (chosen[1], &proxy.auth) {
        (0, _) => {}
        (2, Some((user, pass))) => {
            if user.len() > 255 || pass.len() > 255 {
                return Err(Refusal::auth(
                    "SOCKS5 user names and passwords are at most 255 bytes",
                ));
            }
            let mut m = vec![1, user.len() as u8];
            m.extend_from_slice(user.as_bytes());
            m.push(pass.len() as u8);
            m.extend_from_slice(pass.as_bytes());
            sock.write_all(&m).await.map_err(io)?;
            let mut status = [0u8; 2];
            sock.read_exact(&mut status).await.map_err(io)?;
            if status[1] != 0 {
                return Err(Refusal::auth(
                    "the SOCKS5 proxy refused the user name and password",
                ));
            }
        }
        (0xff, None) => {
            return Err(Refusal::auth(
                "the SOCKS5 proxy wants credentials: user:pass@ in the URL, or --proxy-user",
            ))
        }
        (0xff, Some(_)) => {
            return Err(Refusal::auth(
                "the SOCKS5 proxy accepts none of our ways to log in",
            ))
        }
        (m, _) => {
            return Err(Refusal::protocol(format!(
                "the SOCKS5 proxy chose a method we did not offer ({m})"
            )))
        }
    }
    let mut req = vec![5, 1, 0];
    match target {
        Target::Addr(SocketAddr::V4(a)) => {
            req.push(1);
            req.extend_from_slice(&a.ip().octets());
        }
        Target::Addr(SocketAddr::V6(a)) => {
            req.push(4);
            req.extend_from_slice(&a.ip().octets());
        }
        Target::Name(name, _) => {
            if name.len() > 255 {
                return Err(Refusal::protocol("SOCKS5 host names are at most 255 bytes"));
            }
            req.push(3);
            req.push(name.len() as u8);
            req.extend_from_slice(name.as_bytes());
        }
    }
    req.extend_from_slice(&target.port().to_be_bytes());
    sock.write_all(&req).await.map_err(io)?;
    let mut head = [0u8; 4];
    sock.read_exact(&mut head).await.map_err(io)?;
    if head[0] != 5 {
        return Err(Refusal::protocol("the proxy's answer is not SOCKS5"));
    }
    if head[1] != 0 {
        return Err(socks5_reply(head[1]));
    }
    // The address the proxy bound for us; read past it.
    let rest = match head[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut len = [0u8; 1];
            sock.read_exact(&mut len).await.map_err(io)?;
            len[0] as usize + 2
        }
        t => {
            return Err(Refusal::protocol(format!(
                "the SOCKS5 proxy answered with address type {t}"
            )))
        }
    };
    let mut skip = vec![0u8; rest];
    sock.read_exact(&mut skip).await.map_err(io)?;
    Ok(())
}

/// RFC 1928's reply codes, as Node would name the failure.
fn socks5_reply(rep: u8) -> Refusal {
    let (errno, what) = match rep {
        2 => (
            crate::sys::errno::EACCES,
            "the proxy's rules do not allow this connection",
        ),
        3 => (
            crate::sys::errno::ENETUNREACH,
            "the proxy reports the network unreachable",
        ),
        4 => (
            crate::sys::errno::EHOSTUNREACH,
            "the proxy reports the host unreachable (or its name unknown)",
        ),
        5 => (
            crate::sys::errno::ECONNREFUSED,
            "the target refused the proxy's connection",
        ),
        6 => (
            crate::sys::errno::ETIMEDOUT,
            "the proxy's connection to the target timed out",
        ),
        7 => (
            crate::sys::errno::EPROTO,
            "the proxy does not support CONNECT",
        ),
        8 => (
            crate::sys::errno::EAFNOSUPPORT,
            "the proxy does not support this address type",
        ),
        _ => (
            crate::sys::errno::ECONNREFUSED,
            "the proxy failed to connect (general failure)",
        ),
    };
    Refusal::new(errno, format!("{what} (SOCKS5 reply {rep})"))
}

pub(super) async fn socks4(
    sock: &mut TcpStream,
    proxy: &Proxy,
    target: &Target<'_>,
) -> Result<(), Refusal> {
    let io = |e| broken(e, "SOCKS4");
    let mut req = vec![4, 1];
    req.extend_from_slice(&target.port().to_be_bytes());
    let name =
        match target {
            Target::Addr(SocketAddr::V4(a)) => {
                req.extend_from_slice(&a.ip().octets());
                None
            }
            Target::Addr(SocketAddr::V6(_)) => return Err(Refusal::new(
                crate::sys::errno::EAFNOSUPPORT,
                "SOCKS4 carries IPv4 only; use socks4a:// or socks5h:// to let the proxy resolve",
            )),
            // SOCKS4a: 0.0.0.x, then the name after the user id.
            Target::Name(name, _) => {
                req.extend_from_slice(&[0, 0, 0, 1]);
                Some(name)
            }
        };
    if let Some((user, _)) = &proxy.auth {
        req.extend_from_slice(user.as_bytes());
    }
    req.push(0);
    if let Some(name) = name {
        req.extend_from_slice(name.as_bytes());
        req.push(0);
    }
    sock.write_all(&req).await.map_err(io)?;
    let mut reply = [0u8; 8];
    sock.read_exact(&mut reply).await.map_err(io)?;
    match reply[1] {
        0x5a => Ok(()),
        0x5b => Err(Refusal::new(
            crate::sys::errno::ECONNREFUSED,
            "the SOCKS4 proxy rejected the request or could not connect (reply 91)",
        )),
        0x5c | 0x5d => Err(Refusal::auth(format!(
            "the SOCKS4 proxy could not confirm the user id (reply {})",
            reply[1]
        ))),
        r => Err(Refusal::protocol(format!(
            "the proxy's answer is not SOCKS4 (reply {r})"
        ))),
    }
}
