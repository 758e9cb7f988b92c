//! Shutdown: the server's lifecycle as SIGINT/SIGTERM/SIGHUP drive it. The
//! first signal stops accepting and lets open connections finish; the
//! second ends them at once, each through its [`Forced`], still reporting
//! its `close` and its bytes.

use std::future::Future;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::signals::{Signal, Signals};
use crate::events;
use crate::exit::Exit;

/// The server's lifecycle signal: 0 running, 1 stop accepting and drain,
/// 2 end every connection now.
#[derive(Clone)]
pub(crate) struct Shutdown {
    rx: watch::Receiver<u8>,
    interrupted: Arc<std::sync::atomic::AtomicBool>,
}

impl Shutdown {
    /// First SIGINT/SIGTERM drains, a second one ends everything; SIGHUP
    /// counts as SIGTERM (see `Signals`). Call it before binding, so no signal
    /// can come between the ready file and it.
    pub(crate) fn on_signals() -> Shutdown {
        let (tx, rx) = watch::channel(0u8);
        let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = interrupted.clone();
        // Registered now, not in the task: a signal that arrives before the
        // task first runs (right after the ready file appears, say) must
        // still find our handler instead of the default, which kills.
        let handlers = Signals::register();
        tokio::spawn(async move {
            let Ok(mut signals) = handlers else {
                return;
            };
            for level in 1..=2u8 {
                let interrupt = signals.recv().await == Signal::Interrupt;
                if interrupt {
                    flag.store(true, Ordering::Relaxed);
                }
                if level == 1 {
                    announce_draining(interrupt);
                }
                let _ = tx.send(level);
            }
        });
        Shutdown { rx, interrupted }
    }

    pub(crate) async fn reached(&mut self, level: u8) {
        let _ = self.rx.wait_for(|l| *l >= level).await;
    }

    /// The second signal, as one connection waits for it.
    pub(crate) fn forced(&self) -> Forced {
        Forced(self.rx.clone())
    }

    /// Whether a signal has stopped (or is stopping) the server (for
    /// `--exec`, which Windows has not).
    #[cfg(unix)]
    pub(crate) fn signalled(&self) -> bool {
        *self.rx.borrow() >= 1
    }

    /// The exit code once the server has stopped.
    pub(crate) fn exit(&self) -> Exit {
        if self.interrupted.load(Ordering::Relaxed) {
            Exit::Interrupted
        } else {
            Exit::Success
        }
    }
}

/// The second SIGINT/SIGTERM, as a connection sees it: the server stops
/// waiting for it. A connection that watches for it ends at once and keeps
/// its books: its `error` ([`forced_close`]) and `close` with the bytes it
/// moved, which the server's final totals include.
#[derive(Clone)]
pub struct Forced(watch::Receiver<u8>);

impl Forced {
    /// Resolves at the second signal, with the error the connection ends
    /// with; never if the signals cannot come.
    pub async fn wait(mut self) -> io::Error {
        // `changed()` rather than `wait_for`: every open echo connection
        // holds this future, and it is the smaller of the two.
        while *self.0.borrow_and_update() < 2 {
            if self.0.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        forced_close()
    }

    /// `work`, unless the second signal comes first: then connection
    /// `conn`'s `error` event, and `None`. For what comes before a
    /// connection's bytes move (a TLS handshake, reaching `pipe`'s target),
    /// so the server need not wait for it.
    pub async fn unless<T>(self, conn: Option<u64>, work: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            r = work => Some(r),
            e = self.wait() => {
                events::error(conn, &e, json!({}));
                None
            }
        }
    }
}

/// Why a connection ended at the second signal: `ECONNABORTED` (the
/// system's name for a connection ended on our side, as
/// `socket.destroy(err)` would be told), with a message that says it was
/// the server's forced shutdown.
#[derive(Debug)]
struct ForcedClose;

impl std::fmt::Display for ForcedClose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ended by the server's forced shutdown (a second SIGINT/SIGTERM)")
    }
}

impl std::error::Error for ForcedClose {}

/// The error a connection ended by the second signal reports.
pub(crate) fn forced_close() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, ForcedClose)
}

/// The first signal with connections open: say that the server waits for
/// them and how to stop waiting, so a server that does not exit at once
/// is not mistaken for a hung one. Written whether or not stderr is a
/// terminal (one line; a log is where a SIGTERM from a service manager
/// is read about), but not in `--json` mode, where each connection's
/// `close` tells the story.
fn announce_draining(interrupt: bool) {
    let open = crate::progress::meter().open.load(Ordering::Relaxed);
    if open == 0 || events::mode() == events::Mode::Json {
        return;
    }
    let plural = if open == 1 { "" } else { "s" };
    let again = if interrupt {
        "^C again"
    } else {
        "a second SIGTERM"
    };
    events::notice(&format!(
        "draining {open} open connection{plural}; {again} ends them now"
    ));
}

/// How long the second signal lets connections write their books (their
/// `close` events, their bytes into the totals) before the server drops
/// those that do not watch for it (a connection handed to `--exec`).
const FORCED_WAIT: Duration = Duration::from_millis(500);

/// Wait for the open connections; a second signal ends them at once: each
/// sees it through its [`Forced`] and reports its own end.
pub(super) async fn drain(mut tasks: JoinSet<()>, shutdown: &mut Shutdown) {
    let finished = {
        let all = async { while tasks.join_next().await.is_some() {} };
        tokio::pin!(all);
        tokio::select! {
            _ = &mut all => true,
            _ = shutdown.reached(2) => tokio::time::timeout(FORCED_WAIT, &mut all).await.is_ok(),
        }
    };
    if !finished {
        tasks.abort_all();
    }
}
