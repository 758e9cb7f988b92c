//! `wirecat pipe LISTEN TARGET`: a relay (port forwarder). Every accepted
//! connection gets its own connection to TARGET, made with the core's
//! connect path (Happy Eyeballs, `--resolve`, socket options), and the two
//! are relayed both ways by [`crate::net::relay`], FIN for FIN.
//!
//! A target that cannot be reached costs only that client: it is closed
//! after an `error` event and the server keeps serving.

use std::sync::Arc;

use serde_json::json;

use crate::cli::PipeArgs;
use crate::commands::block_on_with;
use crate::events;
use crate::exit::{Error, Exit};
use crate::net::connect::{connect, ConnectOptions};
use crate::net::endpoint::Endpoint;
use crate::net::listen::{serve, Accepted, Listener, ServerOptions, Shutdown, Totals};
use crate::net::relay::{relay, RelayOptions};

pub fn run(args: PipeArgs) -> Result<Exit, Error> {
    events::init(args.events.verbose, args.events.json);
    let listen = Endpoint::for_listen(&args.listen)?;
    let target = Arc::new(Endpoint::for_connect(&args.target, None)?);
    if listen.is_tls() || target.is_tls() {
        return Err(Error::usage("pipe", "TLS is not implemented yet"));
    }
    let sopts =
        ServerOptions::from_args(&args.server, &args.socket).one_loop_per_core(&args.server);
    let copts = Arc::new(ConnectOptions::from_args(&args.client, &args.socket));
    let ropts = RelayOptions {
        timeout: args.socket.timeout,
    };
    block_on_with(async move {
        let listener = Listener::bind(&listen, &sopts).await?;
        let totals = Arc::new(Totals::default());
        let all = totals.clone();
        let handler = move |acc: Accepted| {
            let (target, copts, totals) = (target.clone(), copts.clone(), all.clone());
            async move { pipe_connection(acc, &target, &copts, ropts, &totals).await }
        };
        let shutdown = Shutdown::on_signals();
        Ok(serve(listener, &sopts, shutdown, args.once, totals, handler).await)
    })
}

/// Connect the accepted client to the target and relay until both end.
async fn pipe_connection(
    acc: Accepted,
    target: &Endpoint,
    copts: &ConnectOptions,
    ropts: RelayOptions,
    totals: &Totals,
) {
    let conn = Some(acc.id);
    let peer = match connect(target, copts).await {
        Ok(peer) => peer,
        Err(e) => return target_unreachable(conn, &e),
    };
    events::emit("connect", conn, peer.addresses().fields());
    let relayed = relay(acc.stream, peer, conn, ropts).await;
    totals.add_bytes(relayed.bytes_read, relayed.bytes_written);
}

/// The client is closed (by dropping it) with an `error` event naming the
/// target and why it could not be reached.
fn target_unreachable(conn: Option<u64>, e: &Error) {
    let code = e.why.split_whitespace().next().unwrap_or("EIO");
    events::emit(
        "error",
        conn,
        json!({"side": "target", "code": code, "message": e.to_string()}),
    );
    events::emit(
        "close",
        conn,
        json!({"hadError": true, "bytesRead": 0, "bytesWritten": 0, "durationMs": 0}),
    );
}
