//! `wirecat connect`: one connection bridged to stdin/stdout (`net.connect`),
//! plus the scripting forms: `--wait`, `-z` port checks, `--send/--expect`.
//! With `--tls` or `tls://` the connection is secured after `connect`
//! (`tls.connect`): `secureConnect` follows, then the same bridge.

use std::time::Duration;

use bytes::Bytes;
use regex::bytes::Regex;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::cli::ConnectArgs;
use crate::commands::{block_on, ending_to_exit, finish_stdout, no_thread, options, stdio_io};
use crate::events;
use crate::exit::{Error, Exit};
use crate::net::bridge::{bridge, Io};
use crate::net::connect::{connect, connect_fields, connect_with_wait};
use crate::net::endpoint::Endpoint;
#[cfg(unix)]
use crate::net::listen::connected_stream;
use crate::net::stdio::{self, OutboundFilter, StdoutWriter};
use crate::net::tls::ClientTls;
use crate::progress;

pub(crate) fn run(args: ConnectArgs) -> Result<Exit, Error> {
    events::init(args.events.verbose, args.events.json);
    if args.zero_io {
        return block_on(scan(&args));
    }
    let ep = Endpoint::for_connect(&args.target, args.port.as_deref())?;
    options::check_family(&ep, &args.socket)?;
    let tls = ClientTls::new(&options::client_tls(&args.tls), &ep)?;
    let expect = match &args.expect {
        Some(re) => {
            Some(Regex::new(re).map_err(|e| Error::usage(format!("bad --expect {re:?}"), e))?)
        }
        None => None,
    };
    let opts = options::connect_with_deny(&args.client, &args.socket, &args.deny);
    block_on(async move {
        let stream = match args.wait {
            // inetd / systemd `Accept=yes`: the connection is already made.
            #[cfg(unix)]
            _ if ep.is_inherited() => connected_stream(&ep, &opts.socket)?,
            Some(wait) => connect_with_wait(&ep, &opts, wait).await?,
            None => connect(&ep, &opts).await?,
        };
        events::emit("connect", None, connect_fields(&stream, &ep, &opts));
        let what = format!("connection to {ep}");
        let stream = match &tls {
            Some(tls) => tls.secure(stream, None, &ep.to_string()).await?,
            None => stream,
        };
        events::emit("ready", None, json!({}));
        let _progress =
            options::progress(&args.events).then(|| progress::transfer(progress::stdin_size()));

        let bopts = options::bridge(&args.socket, &args.stdio);
        let (io, stdout, matched) = match (&args.send, &expect) {
            (None, None) => {
                let (io, stdout) = stdio_io(&stream, &args.stdio, &bopts)?;
                (io, stdout, None)
            }
            _ => scripted_io(&args, expect.clone())?,
        };
        let result = match matched {
            None => ending_to_exit(bridge(stream, None, io, bopts).await.ending, &what),
            Some(mut matched) => {
                let bridged = bridge(stream, None, io, bopts);
                tokio::pin!(bridged);
                // The matcher ends (unmatched) only after the bridge has
                // handed it every chunk, so its answer is final either way.
                let hit = tokio::select! {
                    closed = &mut bridged => {
                        let hit = (&mut matched).await.is_ok();
                        (hit, Some(closed))
                    }
                    r = &mut matched => (r.is_ok(), None),
                };
                match hit {
                    (true, _) => Ok(Exit::Success),
                    (false, closed) => {
                        let closed = match closed {
                            Some(c) => c,
                            None => bridged.await,
                        };
                        ending_to_exit(closed.ending, &what)?;
                        Err(Error::new(
                            Exit::Failure,
                            what.clone(),
                            format!(
                                "the connection ended before /{}/ was seen",
                                args.expect.as_deref().unwrap_or("")
                            ),
                        ))
                    }
                }
            }
        };
        finish_stdout(stdout).await;
        result
    })
}

/// `--send TEXT` and/or `--expect REGEX`: channels, since the bytes are looked at.
/// The type of [`scripted_io`]'s answer: how the bridge meets the text and
/// stdout, the stdout writer, and the `--expect` match.
type Scripted = (Io, Option<StdoutWriter>, Option<oneshot::Receiver<()>>);

fn scripted_io(args: &ConnectArgs, expect: Option<Regex>) -> Result<Scripted, Error> {
    let filter = OutboundFilter {
        crlf: args.stdio.crlf,
    };
    let input = match (&args.send, args.stdio.recv_only) {
        (_, true) => None,
        (Some(text), false) => Some(stdio::text_chunks(text, filter)),
        (None, false) => {
            Some(stdio::stdin_chunks(filter).map_err(|e| no_thread(Exit::Failure, &e))?)
        }
    };
    let stdout = StdoutWriter::spawn(args.stdio.hex).map_err(|e| no_thread(Exit::Failure, &e))?;
    let forward = (!args.stdio.send_only).then(|| stdout.sender());
    let (output, matched) = match expect {
        Some(re) => {
            let (tx, rx) = watch_for(re, forward);
            (Some(tx), Some(rx))
        }
        None => (forward, None),
    };
    let stdin = args.send.is_none();
    Ok((
        Io::Channels {
            input,
            output,
            stdin,
        },
        Some(stdout),
        matched,
    ))
}

/// `--expect`: pass received bytes on (to stdout) and fire once `re` matches
/// what has arrived. Only the last 64 KiB are kept for matching.
fn watch_for(
    re: Regex,
    forward: Option<mpsc::Sender<Bytes>>,
) -> (mpsc::Sender<Bytes>, oneshot::Receiver<()>) {
    let (tx, mut rx) = mpsc::channel::<Bytes>(stdio::DEPTH);
    let (hit_tx, hit_rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut seen: Vec<u8> = Vec::new();
        let mut hit = Some(hit_tx);
        while let Some(chunk) = rx.recv().await {
            seen.extend_from_slice(&chunk);
            if seen.len() > 128 * 1024 {
                seen.drain(..seen.len() - 64 * 1024);
            }
            if let Some(f) = &forward {
                if f.send(chunk).await.is_err() {
                    break;
                }
            }
            if hit.is_some() && re.is_match(&seen) {
                let _ = hit.take().map(|h| h.send(()));
            }
        }
    });
    (tx, hit_rx)
}

/// `-z`: which of the ports accept a connection; one line per open port.
async fn scan(args: &ConnectArgs) -> Result<Exit, Error> {
    // `[::1]` is written bracketed, as in `[::1]:22`; the lookup wants it bare.
    let bare = |h: &str| h.trim_start_matches('[').trim_end_matches(']').to_string();
    let (host, ports) = match &args.port {
        Some(p) => (bare(&args.target), parse_ports(p)?),
        None => match args.target.rsplit_once(':') {
            Some((h, p)) => (bare(h), parse_ports(p)?),
            None => {
                return Err(Error::usage(
                    "-z",
                    "expected HOST PORTS, e.g. localhost 22,80,8000-8010",
                ))
            }
        },
    };
    let mut opts = options::connect_with_deny(&args.client, &args.socket, &args.deny);
    opts.connect_timeout = opts.connect_timeout.or(Some(Duration::from_secs(2)));
    let mut any = false;
    for port in ports {
        let ep = Endpoint::Tcp {
            host: Some(host.clone()),
            port,
            tls: false,
        };
        options::check_family(&ep, &args.socket)?;
        match connect(&ep, &opts).await {
            Ok(_) => {
                any = true;
                println!("{host} {port} open");
            }
            Err(e) if e.exit == Exit::Resolve || e.exit == Exit::Usage => return Err(e),
            Err(_) => {}
        }
    }
    Ok(if any { Exit::Success } else { Exit::Failure })
}

/// `22,80,8000-8010` → the ports, in order, each once.
pub(crate) fn parse_ports(s: &str) -> Result<Vec<u16>, Error> {
    let bad = |why: String| Error::usage(format!("bad port list {s:?}"), why);
    let mut out = Vec::new();
    let mut seen = vec![false; 65536];
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let a: u16 = a
            .trim()
            .parse()
            .map_err(|_| bad(format!("{a:?} is not a port")))?;
        let b: u16 = b
            .trim()
            .parse()
            .map_err(|_| bad(format!("{b:?} is not a port")))?;
        if a == 0 || a > b {
            return Err(bad(format!("{part:?} is not a range of ports 1-65535")));
        }
        for p in a..=b {
            if !std::mem::replace(&mut seen[p as usize], true) {
                out.push(p);
            }
        }
    }
    if out.is_empty() {
        return Err(bad("no ports".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_lists_and_ranges() {
        assert_eq!(
            parse_ports("22,80,8000-8002").unwrap(),
            [22, 80, 8000, 8001, 8002]
        );
        assert_eq!(parse_ports("80,80").unwrap(), [80]);
        assert!(parse_ports("9-1").is_err());
        assert!(parse_ports("x").is_err());
        assert!(parse_ports("0").is_err());
    }
}
