//! `--exec CMD` / `--sh-exec CMD`: hand an accepted socket, unread, to a
//! child process as its stdin and stdout (Node's `pauseOnConnect` followed
//! by passing the handle on; ncat's `-e`/`-c`).
//!
//! The socket leaves the runtime and becomes blocking before the child gets
//! it, since programs such as `cat` expect blocking descriptors. No shell is
//! involved unless the user asks for one with `--sh-exec`. When the child
//! exits, the connection is shut down, even if a grandchild still holds it.
//!
//! With `--tls` the child still gets a socket, and plaintext on it: one end
//! of a socketpair, whose other end is relayed to the TLS connection.

use std::io;
use std::os::fd::OwnedFd;
use std::process::{ExitStatus, Stdio};

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use crate::events;
use crate::exit::{Error, Exit};
use crate::net::listen::Accepted;
use crate::net::relay::{copy, copy_until_end};
use crate::net::stream::Stream;
use crate::net::tls::{self, ServerSetup};

/// The program to run for each connection.
#[derive(Debug, Clone)]
pub(crate) enum ExecCommand {
    /// Words split like a shell would, quotes honoured, but no shell run.
    Argv(Vec<String>),
    /// A command line for `/bin/sh -c`.
    Shell(String),
}

impl ExecCommand {
    /// From `--exec` or `--sh-exec` (clap keeps them exclusive).
    pub(crate) fn from_flags(
        exec: Option<&str>,
        sh: Option<&str>,
    ) -> Result<Option<ExecCommand>, Error> {
        match (exec, sh) {
            (Some(cmd), _) => {
                let argv = split_words(cmd).filter(|w| !w.is_empty()).ok_or_else(|| {
                    Error::usage(format!("bad --exec {cmd:?}"), "expected a command")
                })?;
                Ok(Some(ExecCommand::Argv(argv)))
            }
            (None, Some(line)) => Ok(Some(ExecCommand::Shell(line.to_string()))),
            (None, None) => Ok(None),
        }
    }

    /// The program run, as the error lines name it.
    fn program(&self) -> &str {
        match self {
            ExecCommand::Argv(argv) => &argv[0],
            ExecCommand::Shell(_) => "/bin/sh",
        }
    }

    fn command(&self) -> tokio::process::Command {
        match self {
            ExecCommand::Argv(argv) => {
                let mut c = tokio::process::Command::new(&argv[0]);
                c.args(&argv[1..]);
                c
            }
            ExecCommand::Shell(line) => {
                let mut c = tokio::process::Command::new("/bin/sh");
                c.arg("-c").arg(line);
                c
            }
        }
    }
}

/// Run the child on the connection and wait for it; emits `error` if it
/// cannot start and `close` with its exit code. A child that cannot be
/// started (ENOENT, EACCES) is returned as the error `main` prints, or a
/// `-k` server reports with [`events::connection_error`].
pub(crate) async fn exec_connection(acc: Accepted, cmd: &ExecCommand) -> Result<(), Error> {
    let started = Instant::now();
    let conn = Some(acc.id);
    let remote = acc.addresses().remote.to_string();
    let result = match acc.stream.into_blocking_fd() {
        Ok(fd) => run_child(cmd, fd, &remote).await,
        Err(e) => Err(e),
    };
    report_close(result, conn, started, cmd)
}

/// `--tls --exec`: the handshake first, then the child gets the plaintext
/// on one end of a socketpair (a socket, as without TLS), and the other
/// end is relayed to the TLS stream, as ncat's `--ssl -e`. A failed
/// handshake (its `error` event is out) starts no child and is returned
/// as the TLS error (exit 3 for a one-shot `listen`).
pub(crate) async fn exec_tls_connection(
    acc: Accepted,
    cmd: &ExecCommand,
    setup: &ServerSetup,
) -> Result<(), Error> {
    let started = Instant::now();
    let conn = Some(acc.id);
    let remote = acc.addresses().remote.to_string();
    let tls = match tls::secure_server(setup, acc.stream, conn).await {
        Ok(tls) => tls,
        Err(e) => {
            let mut err = tls::handshake_error(&e, &format!("connection from {remote}"));
            err.reported = events::mode() == events::Mode::Json;
            return Err(err);
        }
    };
    let result = async {
        let (ours, child_end) = std::os::unix::net::UnixStream::pair()?;
        ours.set_nonblocking(true)?;
        let ours = Stream::Unix(tokio::net::UnixStream::from_std(ours)?);
        let (status, ()) = tokio::join!(
            run_child(cmd, child_end.into(), &remote),
            relay_plaintext(tls, ours)
        );
        status
    }
    .await;
    report_close(result, conn, started, cmd)
}

/// Start the child on `fd` (its stdin and stdout) and wait for it; then
/// shut the connection down, even if a grandchild still holds it.
async fn run_child(cmd: &ExecCommand, fd: OwnedFd, remote: &str) -> io::Result<ExitStatus> {
    let keep = fd.try_clone()?;
    let mut command = cmd.command();
    command
        .stdin(Stdio::from(fd.try_clone()?))
        .stdout(Stdio::from(fd))
        .env("WIRECAT_REMOTE", remote)
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    drop(command);
    let status = child.wait().await;
    end_connection(&keep);
    status
}

/// Copy between the TLS client and the child's socket, each chunk written
/// before the next is read (backpressure both ways). The client's end
/// (close_notify, or a break) is EOF on the child's stdin; the child's end
/// (it exited and [`run_child`] shut its socket) is close_notify and FIN to
/// the client, after everything it wrote, and ends the connection.
async fn relay_plaintext(mut tls: Stream, mut child: Stream) {
    let (mut tls_rd, mut tls_wr) = tokio::io::split(&mut tls);
    let (mut child_rd, mut child_wr) = tokio::io::split(&mut child);
    let down = copy(&mut child_rd, &mut tls_wr, |_| {});
    let up = async {
        let _ = copy_until_end(&mut tls_rd, &mut child_wr, |_| {}).await;
        let _ = child_wr.shutdown().await;
    };
    tokio::pin!(down);
    tokio::select! {
        _ = &mut down => {}
        () = up => {
            let _ = down.await;
        }
    }
}

/// The `close` event for a child's connection with its exit code, or what
/// [`spawn_failed`] says when it could not be started.
fn report_close(
    result: io::Result<ExitStatus>,
    conn: Option<u64>,
    started: Instant,
    cmd: &ExecCommand,
) -> Result<(), Error> {
    let duration = started.elapsed().as_millis() as u64;
    match result {
        Ok(status) => {
            let fields = json!({
                "hadError": !status.success(),
                "exitCode": status.code(),
                "durationMs": duration,
            });
            events::emit("close", conn, fields);
            Ok(())
        }
        Err(e) => Err(spawn_failed(&e, conn, duration, cmd)),
    }
}

/// The child could not be started: its `error` (`syscall: spawn`) and
/// `close` events, and the one-line error, `exec CMD: ENOENT (…)`.
fn spawn_failed(e: &std::io::Error, conn: Option<u64>, duration: u64, cmd: &ExecCommand) -> Error {
    events::error(conn, e, json!({"syscall": "spawn"}));
    events::emit(
        "close",
        conn,
        json!({"hadError": true, "durationMs": duration}),
    );
    let mut err = Error::io(Exit::Failure, format!("exec {}", cmd.program()), e);
    // In --json mode the error event has said it.
    err.reported = events::mode() == events::Mode::Json;
    err
}

/// The child is gone: FIN after whatever it wrote, and stop reading.
fn end_connection(fd: &OwnedFd) {
    let _ = socket2::SockRef::from(fd).shutdown(std::net::Shutdown::Both);
}

/// Split a command line into words: whitespace separates, '…' and "…"
/// quote, a backslash escapes the next character. None if a quote is open.
fn split_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => {
                quote = Some(ch);
                word.get_or_insert_with(String::new);
            }
            (None | Some('"'), '\\') => word.get_or_insert_with(String::new).extend(chars.next()),
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (_, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return None;
    }
    words.extend(word);
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[test]
    fn exec_words_split_without_a_shell() {
        assert_eq!(
            split_words(r#"grep -i 'a b' "c\"d" e\ f"#).unwrap(),
            ["grep", "-i", "a b", "c\"d", "e f"]
        );
        assert_eq!(split_words("  cat  ").unwrap(), ["cat"]);
        assert!(split_words("'open").is_none());
        assert_eq!(split_words("x ''").unwrap(), ["x", ""]);
    }
}
