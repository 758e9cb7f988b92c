//! `wirecat listen`: accept one connection (or many with `-k`) and bridge it
//! to stdin/stdout, as `net.createServer().listen()` with a socket piped to
//! the terminal. With `-k`, data from every connection goes to stdout and
//! stdin goes to every open connection.
//!
//! With `--tls` each connection's handshake runs in that connection's task
//! (the accept loop never waits for one); a failed handshake is an `error`
//! event for that connection, and `-k` keeps serving.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{mpsc, Notify};

use crate::cli::ListenArgs;
use crate::commands::{
    block_on, block_on_with, ending_to_exit, finish_stdout, no_thread, options, stdio_io,
};
use crate::events;
use crate::exit::{Error, Exit};
use crate::net::bridge::{bridge, bridge_until, Io};
use crate::net::broker::{dropped_error, Broker, BrokerOptions};
use crate::net::endpoint::Endpoint;
#[cfg(unix)]
use crate::net::exec::{exec_connection, exec_tls_connection, ExecCommand};
use crate::net::listen::{serve, Accepted, Listener, ServerOptions, Shutdown, Totals};
use crate::net::stdio::{self, OutboundFilter, StdoutWriter, DEPTH};
use crate::net::tls::{self, ServerSetup};
use crate::progress;

pub(crate) fn run(args: ListenArgs) -> Result<Exit, Error> {
    events::init(args.events.verbose, args.events.json);
    let ep = Endpoint::for_listen(&args.address)?;
    options::check_server(&ep, &args.server)?;
    options::check_family(&ep, &args.socket)?;
    let tls = tls::server_tls(&options::server_tls(&args.tls), &ep)?;
    let opts = options::server(&args.server, &args.socket);
    #[cfg(unix)]
    if let Some(cmd) = ExecCommand::from_flags(args.exec.as_deref(), args.sh_exec.as_deref())? {
        return block_on_with(exec_server(ep, opts, cmd, !args.keep_open, tls));
    }
    #[cfg(windows)]
    if args.exec.is_some() || args.sh_exec.is_some() {
        let why = "a socket handed to a child process as its stdin and stdout";
        return Err(crate::net::platform::flag_refused("--exec/--sh-exec", why));
    }
    if args.broker || args.chat {
        block_on_with(broker(args, ep, opts, tls))
    } else if args.keep_open {
        block_on_with(keep_open(args, ep, opts, tls))
    } else {
        block_on(once(args, ep, opts, tls))
    }
}

/// Bind, with the self-signed certificate's fingerprint in `listening`.
async fn bind(
    ep: &Endpoint,
    opts: &ServerOptions,
    tls: Option<&ServerSetup>,
) -> Result<Listener, Error> {
    Listener::bind_with(ep, opts, tls::listening_fields(tls)).await
}

/// One connection: accept, stop listening, bridge, exit with its ending.
async fn once(
    args: ListenArgs,
    ep: Endpoint,
    opts: ServerOptions,
    tls: Option<Arc<ServerSetup>>,
) -> Result<Exit, Error> {
    let listener = bind(&ep, &opts, tls.as_deref()).await?;
    // The one connection this command serves is the first one admitted.
    let stream = listener.accept_admitted(&opts).await?;
    drop(listener);
    let addrs = stream.addresses();
    events::emit("connection", Some(1), addrs.remote_fields());
    let what = format!("connection from {}", addrs.remote);
    let stream = match &tls {
        Some(setup) => tls::secure_server(setup, stream, Some(1))
            .await
            .map_err(|e| tls::handshake_error(&e, &what))?,
        None => stream,
    };
    let _progress =
        options::progress(&args.events).then(|| progress::transfer(progress::stdin_size()));
    let bopts = options::bridge(&args.socket, &args.stdio);
    let (io, stdout) = stdio_io(&stream, &args.stdio, &bopts)?;
    let closed = bridge(stream, Some(1), io, bopts).await;
    finish_stdout(stdout).await;
    // The server's own `close`, with its totals, as for `-k`.
    events::emit(
        "close",
        None,
        serde_json::json!({
            "connections": 1,
            "bytesRead": closed.bytes_read,
            "bytesWritten": closed.bytes_written,
        }),
    );
    ending_to_exit(closed.ending, &what)
}

/// `--exec`/`--sh-exec`: each connection goes to its own child process.
/// A child that cannot start is the exit status of a one-shot `listen`
/// (1, with its line); with `-k` it is a line for that connection, and the
/// server keeps serving. With `--tls` each child gets the plaintext, after
/// the handshake (a failed one is exit 3 for a one-shot `listen`).
#[cfg(unix)]
async fn exec_server(
    ep: Endpoint,
    opts: ServerOptions,
    cmd: ExecCommand,
    once: bool,
    tls: Option<Arc<ServerSetup>>,
) -> Result<Exit, Error> {
    let shutdown = Shutdown::on_signals();
    let listener = bind(&ep, &opts, tls.as_deref()).await?;
    let cmd = Arc::new(cmd);
    let failed = Arc::new(Mutex::new(None));
    let failure = failed.clone();
    let handler = move |acc: Accepted| {
        let (cmd, failure, tls) = (cmd.clone(), failure.clone(), tls.clone());
        async move {
            let id = acc.id;
            let served = match &tls {
                Some(setup) => exec_tls_connection(acc, &cmd, setup).await,
                None => exec_connection(acc, &cmd).await,
            };
            let Err(e) = served else {
                return;
            };
            if once {
                *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            } else {
                events::connection_error("listen", id, &format!("{}: {}", e.what, e.why));
            }
        }
    };
    let totals = Arc::new(Totals::default());
    let stopped = shutdown.clone();
    let mut exit = serve(listener, &opts, shutdown, once, totals, handler).await?;
    // A one-shot `listen` is a transfer, with or without --exec: SIGTERM
    // (or SIGHUP) is 143, as without --exec; only a `-k` server drains to 0.
    if once && exit == Exit::Success && stopped.signalled() {
        exit = Exit::Terminated;
    }
    let failed = failed.lock().unwrap_or_else(|p| p.into_inner()).take();
    failed.map_or(Ok(exit), Err)
}

/// stdin's chunks for a server that shares them among its connections
/// (`-k`, `--broker`); none with `--recv-only`.
fn shared_stdin(args: &ListenArgs) -> Result<Option<mpsc::Receiver<Bytes>>, Error> {
    if args.stdio.recv_only {
        return Ok(None);
    }
    let filter = OutboundFilter {
        crlf: args.stdio.crlf,
    };
    stdio::stdin_chunks(filter)
        .map(Some)
        .map_err(|e| no_thread(Exit::Listen, &e))
}

/// `-k`: serve until SIGINT/SIGTERM; stdin is shared by every connection.
async fn keep_open(
    args: ListenArgs,
    ep: Endpoint,
    opts: ServerOptions,
    tls: Option<Arc<ServerSetup>>,
) -> Result<Exit, Error> {
    let shutdown = Shutdown::on_signals();
    let listener = bind(&ep, &opts, tls.as_deref()).await?;
    let _progress = options::progress(&args.events).then(progress::server);
    let stdout = StdoutWriter::spawn(args.stdio.hex).map_err(|e| no_thread(Exit::Listen, &e))?;
    let fanout = Arc::new(FanOut::default());
    if let Some(input) = shared_stdin(&args)? {
        tokio::spawn(fanout.clone().run(input));
    }
    let totals = Arc::new(Totals::default());
    let bopts = options::bridge(&args.socket, &args.stdio);
    let (recv_only, send_only) = (args.stdio.recv_only, args.stdio.send_only);
    let out = stdout.sender();
    let exit = serve(
        listener,
        &opts,
        shutdown,
        false,
        totals.clone(),
        move |acc: Accepted| {
            // A plain connection joins the fan-out now; a TLS one once its
            // handshake is done, so a failing client never holds stdin back.
            let plain_input = (tls.is_none() && !recv_only).then(|| fanout.register());
            let output = (!send_only).then(|| out.clone());
            let totals = totals.clone();
            let (fanout, tls) = (fanout.clone(), tls.clone());
            async move {
                let secured = tls::secure_accepted(
                    tls.as_deref(),
                    acc.stream,
                    Some(acc.id),
                    None,
                    &acc.forced,
                );
                let Some(stream) = secured.await else {
                    return;
                };
                let input = match &tls {
                    None => plain_input,
                    Some(_) => (!recv_only).then(|| fanout.register()),
                };
                // Each connection's input is its share of the fan-out.
                let io = Io::Channels {
                    input,
                    output,
                    stdin: false,
                };
                let closed = bridge_until(stream, Some(acc.id), io, bopts, acc.forced.wait()).await;
                totals.add_bytes(closed.bytes_read, closed.bytes_written);
            }
        },
    )
    .await;
    finish_stdout(Some(stdout)).await;
    exit
}

/// `--broker`/`--chat`: as `-k`, and every client's bytes go to every
/// other client too (see [`crate::net::broker`]).
async fn broker(
    args: ListenArgs,
    ep: Endpoint,
    opts: ServerOptions,
    tls: Option<Arc<ServerSetup>>,
) -> Result<Exit, Error> {
    let shutdown = Shutdown::on_signals();
    let listener = bind(&ep, &opts, tls.as_deref()).await?;
    let _progress = options::progress(&args.events).then(progress::server);
    let stdout = StdoutWriter::spawn(args.stdio.hex).map_err(|e| no_thread(Exit::Listen, &e))?;
    let hub = Broker::new(
        BrokerOptions { chat: args.chat },
        (!args.stdio.send_only).then(|| stdout.sender()),
    );
    if let Some(input) = shared_stdin(&args)? {
        tokio::spawn(hub.clone().run_input(input));
    }
    let totals = Arc::new(Totals::default());
    let bopts = options::bridge(&args.socket, &args.stdio);
    let handler = {
        let (totals, hub) = (totals.clone(), hub.clone());
        move |acc: Accepted| {
            let (hub, tls, totals) = (hub.clone(), tls.clone(), totals.clone());
            async move {
                let remote = acc.stream.addresses().remote.to_string();
                let secured = tls::secure_accepted(
                    tls.as_deref(),
                    acc.stream,
                    Some(acc.id),
                    None,
                    &acc.forced,
                );
                let Some(stream) = secured.await else {
                    return;
                };
                let member = hub.join(acc.id, &remote).await;
                let io = Io::Channels {
                    input: Some(member.input),
                    output: Some(member.output),
                    stdin: false,
                };
                let dropped = member.dropped;
                let forced = acc.forced.wait();
                let stop = async move {
                    tokio::select! {
                        e = forced => e,
                        _ = dropped.notified() => dropped_error(),
                    }
                };
                let closed = bridge_until(stream, Some(acc.id), io, bopts, stop).await;
                totals.add_bytes(closed.bytes_read, closed.bytes_written);
            }
        }
    };
    let mut draining = shutdown.clone();
    let closing = hub.clone();
    tokio::spawn(async move {
        draining.reached(1).await;
        closing.close_all();
    });
    let exit = serve(listener, &opts, shutdown, false, totals, handler).await;
    hub.close_stdout();
    finish_stdout(Some(stdout)).await;
    exit
}

/// stdin copied to every open connection. The slowest connection sets the
/// pace (bounded memory); with no connection open, stdin is not read.
#[derive(Default)]
struct FanOut {
    state: Mutex<FanOutState>,
    joined: Notify,
}

#[derive(Default)]
struct FanOutState {
    senders: Vec<mpsc::Sender<Bytes>>,
    eof: bool,
}

impl FanOut {
    fn senders(&self) -> Vec<mpsc::Sender<Bytes>> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.senders.retain(|s| !s.is_closed());
        st.senders.clone()
    }

    /// A new connection's input; after stdin's EOF it is already ended.
    fn register(&self) -> mpsc::Receiver<Bytes> {
        let (tx, rx) = mpsc::channel(DEPTH);
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if !st.eof {
            st.senders.push(tx);
            self.joined.notify_one();
        }
        rx
    }

    async fn run(self: Arc<Self>, mut input: mpsc::Receiver<Bytes>) {
        loop {
            // Read stdin only once somebody is there to receive it.
            while self.senders().is_empty() {
                self.joined.notified().await;
            }
            let Some(chunk) = input.recv().await else {
                break;
            };
            // Everyone open now, including those who joined during the read.
            for s in self.senders() {
                let _ = s.send(chunk.clone()).await;
            }
        }
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.eof = true;
        st.senders.clear();
    }
}
