//! The signals that end a command or make a server drain, as one stream
//! on every platform: on Unix SIGINT is the interrupt, SIGTERM and SIGHUP
//! (unless SIGHUP was ignored at start) the termination; on Windows Ctrl-C
//! is the interrupt, Ctrl-Break and the console closing the termination.

use std::io;

/// Which kind of stop was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGINT, Ctrl-C: exit 130.
    Interrupt,
    /// SIGTERM, SIGHUP, Ctrl-Break: exit 143 (a server drains to 0).
    Terminate,
}

/// The handlers, installed.
pub(crate) struct Signals(imp::Handlers);

impl Signals {
    /// Install the handlers now (call it on a runtime): a signal that comes
    /// before the first `recv` is kept, not left to the default action.
    pub(crate) fn register() -> io::Result<Signals> {
        imp::Handlers::register().map(Signals)
    }

    /// The next signal.
    pub(crate) async fn recv(&mut self) -> Signal {
        self.0.recv().await
    }
}

#[cfg(unix)]
mod imp {
    use std::io;

    use tokio::signal::unix::{signal, SignalKind};

    use super::Signal;

    pub(super) struct Handlers {
        int: tokio::signal::unix::Signal,
        term: tokio::signal::unix::Signal,
        hup: Hangup,
    }

    impl Handlers {
        pub(super) fn register() -> io::Result<Handlers> {
            Ok(Handlers {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
                hup: Hangup::register(),
            })
        }

        pub(super) async fn recv(&mut self) -> Signal {
            tokio::select! {
                _ = self.int.recv() => Signal::Interrupt,
                _ = self.term.recv() => Signal::Terminate,
                _ = self.hup.recv() => Signal::Terminate,
            }
        }
    }

    /// SIGHUP (the terminal closed), taken as SIGTERM: a server drains and
    /// removes its Unix socket file instead of dying by the default action.
    /// Unless SIGHUP was ignored when we started (`nohup wirecat …`): then
    /// it stays ignored, as the user asked.
    struct Hangup(Option<tokio::signal::unix::Signal>);

    impl Hangup {
        fn register() -> Hangup {
            let ignored = crate::sys::signal_ignored(libc::SIGHUP);
            Hangup(
                (!ignored)
                    .then(|| signal(SignalKind::hangup()).ok())
                    .flatten(),
            )
        }

        /// The next SIGHUP; never, if it is ignored.
        async fn recv(&mut self) {
            match &mut self.0 {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
    }
}

#[cfg(windows)]
mod imp {
    use std::io;

    use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, CtrlBreak, CtrlC, CtrlClose};

    use super::Signal;

    pub(super) struct Handlers {
        int: CtrlC,
        brk: CtrlBreak,
        close: CtrlClose,
    }

    impl Handlers {
        pub(super) fn register() -> io::Result<Handlers> {
            Ok(Handlers {
                int: ctrl_c()?,
                brk: ctrl_break()?,
                close: ctrl_close()?,
            })
        }

        pub(super) async fn recv(&mut self) -> Signal {
            tokio::select! {
                _ = self.int.recv() => Signal::Interrupt,
                _ = self.brk.recv() => Signal::Terminate,
                _ = self.close.recv() => Signal::Terminate,
            }
        }
    }
}
