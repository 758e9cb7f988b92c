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

/// The stack of a runtime worker thread (tokio's default, said here so
/// that [`threads_available`] asks for the same).
const WORKER_STACK: usize = 2 << 20;

/// Whether `n` threads with [`WORKER_STACK`] can run at once. tokio's
/// multi-threaded runtime panics when it cannot start a worker (an abort
/// in a release build; in a debug build the unwinding main thread then
/// waited forever), which `ulimit -v` near 20 MiB made happen at start:
/// asked first, the answer is an error (EAGAIN), exit 5, as for an accept
/// loop that cannot start.
fn threads_available(n: usize) -> std::io::Result<()> {
    let probes: Vec<_> = (0..n)
        .map(|_| {
            std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn(|| {})
        })
        .collect::<Result<_, _>>()?;
    for probe in probes {
        let _ = probe.join();
    }
    Ok(())
}

/// For servers, which handle SIGINT/SIGTERM themselves: a multi-threaded
/// runtime, not waited on at the end either.
pub fn block_on_with<F>(fut: F) -> Result<Exit, Error>
where
    F: Future<Output = Result<Exit, Error>>,
{
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cannot = |e: &std::io::Error| Error::io(Exit::Listen, "cannot start the runtime", e);
    threads_available(workers).map_err(|e| cannot(&e))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_stack_size(WORKER_STACK)
        .enable_all()
        .build()
        .map_err(|e| cannot(&e))?;
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
) -> Result<(Io, Option<StdoutWriter>), Error> {
    if stdio_threads_apply(stream, opts.splice) && !socket.crlf && !socket.hex {
        let io = Io::Stdio {
            read_stdin: !socket.recv_only,
            write_stdout: !socket.send_only,
        };
        return Ok((io, None));
    }
    let filter = OutboundFilter { crlf: socket.crlf };
    let input = match socket.recv_only {
        true => None,
        false => Some(stdio::stdin_chunks(filter).map_err(|e| no_thread(Exit::Failure, &e))?),
    };
    let stdout = StdoutWriter::spawn(socket.hex).map_err(|e| no_thread(Exit::Failure, &e))?;
    let output = (!socket.send_only).then(|| stdout.sender());
    let io = Io::Channels {
        input,
        output,
        stdin: true,
    };
    Ok((io, Some(stdout)))
}

/// The stdin or stdout thread could not be started (EAGAIN: out of memory
/// or threads): an error with `exit`, where it was a panic.
pub(crate) fn no_thread(exit: Exit, e: &std::io::Error) -> Error {
    Error::io(exit, "cannot start the stdin/stdout thread", e)
        .hint("out of memory or threads? see ulimit -v, -u")
}

/// Wait until everything sent to stdout has been written.
pub async fn finish_stdout(stdout: Option<StdoutWriter>) {
    if let Some(w) = stdout {
        off_runtime(move || w.finish()).await;
    }
}

/// Run `f` on a thread of its own and wait for it without blocking the
/// runtime, as `spawn_blocking` does; but where tokio's pool panics when
/// it cannot start a thread (`ulimit -v`: a `listen -k` stopped by SIGTERM
/// died so at 25 MiB), `f` runs here instead, blocking this task.
async fn off_runtime(f: impl FnOnce() + Send + 'static) {
    let job = std::sync::Arc::new(std::sync::Mutex::new(Some(f)));
    let (done, finished) = tokio::sync::oneshot::channel();
    let theirs = job.clone();
    let spawned = std::thread::Builder::new()
        .name("finish".into())
        .spawn(move || {
            if let Some(f) = theirs.lock().unwrap_or_else(|p| p.into_inner()).take() {
                f();
            }
            let _ = done.send(());
        });
    match spawned {
        Ok(_) => {
            let _ = finished.await;
        }
        Err(_) => {
            if let Some(f) = job.lock().unwrap_or_else(|p| p.into_inner()).take() {
                f();
            }
        }
    }
}
