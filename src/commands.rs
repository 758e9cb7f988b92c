//! One module per command; each exposes `run(args) -> Result<Exit, Error>`.
//! What they share (the runtime, signals, ending a bridged connection) is here.

pub(crate) mod connect;
pub(crate) mod echo;
pub mod generate;
pub(crate) mod isip;
pub(crate) mod listen;
pub(crate) mod options;
pub(crate) mod pipe;

use std::future::Future;

use crate::cli::StdioArgs;
use crate::exit::{Error, Exit};
use crate::net::bridge::{stdio_threads_apply, BridgeOptions, Ending, Io, WriteAfterFin};
use crate::net::listen::{Signal, Signals};
use crate::net::stdio::{self, OutboundFilter, StdoutWriter};
use crate::net::stream::Stream;

/// Run a one-connection command on a current-thread runtime; SIGINT
/// (Ctrl-C) ends it with 130, SIGTERM (and SIGHUP, unless ignored; on
/// Windows Ctrl-Break: see `net::listen::Signals`) with 143. The runtime is not waited on at the end: a
/// thread blocked reading a terminal must not keep a finished command alive.
pub fn block_on<F>(fut: F) -> Result<Exit, Error>
where
    F: Future<Output = Result<Exit, Error>>,
{
    // One connection: a current-thread runtime keeps the socket's readiness
    // and the bridge on one thread (no cross-thread wake-ups per chunk).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io(Exit::Failure, "cannot start the runtime", &e))?;
    let r = rt.block_on(async {
        let mut signals = Signals::register()
            .map_err(|e| Error::io(Exit::Failure, "cannot handle signals", &e))?;
        // Dropping `fut` drops its sockets and listeners: a Unix socket file
        // is removed on the way out.
        tokio::select! {
            r = fut => r,
            s = signals.recv() => Ok(match s {
                Signal::Interrupt => Exit::Interrupted,
                Signal::Terminate => Exit::Terminated,
            }),
        }
    });
    rt.shutdown_background();
    r
}

/// For servers, which handle SIGINT/SIGTERM themselves: a multi-threaded
/// runtime, not waited on at the end either.
pub fn block_on_with<F>(fut: F) -> Result<Exit, Error>
where
    F: Future<Output = Result<Exit, Error>>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io(Exit::Failure, "cannot start the runtime", &e))?;
    let r = rt.block_on(fut);
    rt.shutdown_background();
    r
}

/// The exit code for how a bridged connection ended, `what` naming it.
pub fn ending_to_exit(ending: Ending, what: &str) -> Result<Exit, Error> {
    match ending {
        Ending::Done | Ending::StdoutClosed => Ok(Exit::Success),
        Ending::Timeout => Err(quiet_if_reported(Error::new(
            Exit::Timeout,
            what,
            "ETIMEDOUT (idle for longer than --timeout)",
        ))),
        Ending::Error(e) => {
            let mut err = Error::new(
                crate::net::tls::stream_error_exit(&e),
                what,
                crate::net::tls::tls_error_line(&e),
            )
            .code(crate::exit::error_code(&e));
            if WriteAfterFin::is(&e) {
                err = err.hint(
                    "the peer ended its side before all of stdin was sent; \
                     give the sender --allow-half-open, or the receiver --recv-only",
                );
            }
            Err(quiet_if_reported(err))
        }
    }
}

/// In `--json` mode an `error` event has already said it; do not say it twice.
fn quiet_if_reported(mut err: Error) -> Error {
    err.reported = crate::events::mode() == crate::events::Mode::Json;
    err
}

/// How one connection meets this process's stdin and stdout: two threads
/// (splice(2), or rustls for TLS) when nothing has to look at the bytes,
/// otherwise chunk channels
/// (and the stdout writer, which the caller must `finish`).
pub fn stdio_io(
    stream: &Stream,
    socket: &StdioArgs,
    opts: &BridgeOptions,
) -> (Io, Option<StdoutWriter>) {
    if stdio_threads_apply(stream, opts.splice) && !socket.crlf && !socket.hex {
        let io = Io::Stdio {
            read_stdin: !socket.recv_only,
            write_stdout: !socket.send_only,
        };
        return (io, None);
    }
    let filter = OutboundFilter { crlf: socket.crlf };
    let input = (!socket.recv_only).then(|| stdio::stdin_chunks(filter));
    let stdout = StdoutWriter::spawn(socket.hex);
    let output = (!socket.send_only).then(|| stdout.sender());
    let io = Io::Channels {
        input,
        output,
        stdin: true,
    };
    (io, Some(stdout))
}

/// Wait until everything sent to stdout has been written.
pub async fn finish_stdout(stdout: Option<StdoutWriter>) {
    if let Some(w) = stdout {
        let _ = tokio::task::spawn_blocking(move || w.finish()).await;
    }
}
