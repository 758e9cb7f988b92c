//! Serving: one accept loop on the caller's runtime (`--once`, an
//! inherited connection), or `--workers N` loops on threads of their own;
//! then the server's final `close` with its totals.

use std::future::Future;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::json;

use super::accept::accept_loop;
use super::shutdown::drain;
use super::{Accepted, Detached, Listener, ServerOptions, Shutdown, Totals};
use crate::events;
use crate::exit::{Error, Exit};

/// Accept until shutdown (or after one connection with `once`), running
/// `handler` for each connection on its own task; then wait for the open
/// connections (or end them on a second signal), emit `close`, and return.
/// Unless `once`, the loops run on threads of their own, each with a
/// single-threaded runtime (`serve_workers`).
pub(crate) async fn serve<H, Fut>(
    listener: Listener,
    opts: &ServerOptions,
    mut shutdown: Shutdown,
    once: bool,
    totals: Arc<Totals>,
    handler: H,
) -> Result<Exit, Error>
where
    H: Fn(Accepted) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    // An inherited connection is the one connection: served, then the end.
    let once = once || listener.is_connected();
    if !once {
        return serve_workers(listener, opts, shutdown, totals, handler).await;
    }
    let tasks = accept_loop(&listener, opts, &mut shutdown, once, &totals, &handler).await;
    drop(listener);
    drain(tasks, &mut shutdown).await;
    Ok(finish(&totals, &shutdown))
}

/// `--workers N`: N accept loops, each on a thread with its own runtime and
/// its own listening socket (SO_REUSEPORT), as EdgerOS's multi-task server;
/// without SO_REUSEPORT the loops share one socket. A connection lives on
/// the runtime that accepted it: no work stealing or wakeups across threads
/// (a multi-threaded runtime spent much of its time in futex calls under
/// connection churn: bench/README.md, "Figures once quoted in the code").
async fn serve_workers<H, Fut>(
    listener: Listener,
    opts: &ServerOptions,
    shutdown: Shutdown,
    totals: Arc<Totals>,
    handler: H,
) -> Result<Exit, Error>
where
    H: Fn(Accepted) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (o, mut sd, t) = (opts.clone(), shutdown.clone(), totals.clone());
    let run = move |sock: Detached, stopped: Stopped| {
        memory_to_spare()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let listener = sock.attach()?;
            let tasks = accept_loop(&listener, &o, &mut sd, false, &t, &handler).await;
            drop(listener);
            let _ = stopped.send(());
            drain(tasks, &mut sd).await;
            Ok::<(), io::Error>(())
        })
    };
    run_workers(listener, opts, &shutdown, &totals, run).await
}

/// Address space a new accept loop's runtime needs, with room to spare.
const LOOP_MEMORY: usize = 1 << 20;

/// Whether [`LOOP_MEMORY`] can be had now: ENOMEM if not. Building a
/// runtime that runs out of memory halfway aborts the process (Rust's
/// allocation failure), so under a tight `ulimit -v` the loop fails with
/// its errno before it starts instead.
fn memory_to_spare() -> io::Result<()> {
    let mut probe = Vec::<u8>::new();
    let r = probe.try_reserve_exact(LOOP_MEMORY);
    // Observed, so the allocation is not optimised away.
    std::hint::black_box(&probe);
    r.map_err(|_| io::Error::from_raw_os_error(crate::sys::errno::ENOMEM))
}

/// Told by an accept loop once it has closed its listening socket.
pub(crate) type Stopped = tokio::sync::oneshot::Sender<()>;

/// Run `opts.workers` accept loops, `run(socket, stopped)` each on a thread
/// of its own (the tokio loop above, or echo's io_uring engine), then emit
/// `close`. The Unix socket file is removed once every loop has closed its
/// listening socket; open connections may still be finishing then.
///
/// A loop that cannot start (no thread: EAGAIN under a memory or thread
/// limit; no runtime or ring: ENOMEM, EMFILE) is an `error` event with its
/// errno, and its socket is closed (the kernel stops giving it
/// connections); if none starts, the server fails with exit 5 instead of
/// sitting on a socket nobody accepts from.
pub(crate) async fn run_workers<R>(
    listener: Listener,
    opts: &ServerOptions,
    shutdown: &Shutdown,
    totals: &Totals,
    run: R,
) -> Result<Exit, Error>
where
    R: FnOnce(Detached, Stopped) -> io::Result<()> + Clone + Send + 'static,
{
    let (first, socket_file) = listener.detach().map_err(|e| worker_failed(&e))?;
    let mut detached = Vec::with_capacity(opts.workers);
    for _ in 1..opts.workers {
        detached.push(first.sibling(opts).map_err(|e| worker_failed(&e))?);
    }
    detached.push(first);
    let mut threads = Vec::new();
    let mut failure = None;
    for (i, sock) in detached.into_iter().enumerate() {
        let run = run.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<io::Result<()>>();
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || {
                let _ = tx.send(run(sock, stopped_tx));
            });
        match spawned {
            Ok(_) => threads.push((stopped_rx, rx)),
            Err(e) => failure = Some(worker_error(e)),
        }
    }
    // The socket file goes once nobody accepts on it; open connections may
    // still be finishing.
    for (stopped, _) in &mut threads {
        let _ = stopped.await;
    }
    // (No socket file on Windows: an empty Option, nothing to drop.)
    #[cfg_attr(windows, allow(clippy::drop_non_drop))]
    drop(socket_file);
    let mut served = false;
    for (_, done) in threads {
        match done.await {
            Ok(Ok(())) => served = true,
            Ok(Err(e)) => failure = Some(worker_error(e)),
            Err(_) => {}
        }
    }
    let exit = finish(totals, shutdown);
    match failure {
        Some(e) if !served => Err(worker_failed(&e)),
        _ => Ok(exit),
    }
}

/// An accept loop that could not start: its `error` event.
fn worker_error(e: io::Error) -> io::Error {
    events::error(None, &e, json!({}));
    e
}

/// No accept loop could start: the server's one error (exit 5).
fn worker_failed(e: &io::Error) -> Error {
    let mut err = Error::io(Exit::Listen, "cannot start the accept loop", e)
        .hint("out of memory, threads or descriptors? see ulimit -v, -u, -n");
    err.reported = events::mode() == events::Mode::Json;
    err
}

/// The server's `close` event with its totals, and the exit code.
pub(crate) fn finish(totals: &Totals, shutdown: &Shutdown) -> Exit {
    events::flush_connection_errors();
    events::emit(
        "close",
        None,
        json!({
            "connections": totals.connections.load(Ordering::Relaxed),
            "bytesRead": totals.bytes_read.load(Ordering::Relaxed),
            "bytesWritten": totals.bytes_written.load(Ordering::Relaxed),
        }),
    );
    shutdown.exit()
}
