//! A connection's books, kept the same way by every path that moves its
//! bytes (the bridge, the relay, echo on tokio and on io_uring): when it
//! started, the bytes each way (Node's `bytesRead` and `bytesWritten`),
//! when anything last moved, and from that the idle timeout
//! (`setTimeout()`); the events that end it (`timeout`, then `error` and
//! `close`); how it ended ([`Ending`]) and what it reports once over
//! ([`Closed`]).
//!
//! The counters are atomics with `Relaxed` stores: a byte count is read
//! only once the directions that add to it are over, and the idle clock
//! only needs to be roughly right. Touching the clock reads the time, so
//! paths that have no `--timeout` (echo's) do not touch it at all.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::time::Instant;

use crate::events;

/// How a connection ended.
#[derive(Debug)]
pub enum Ending {
    /// Both directions finished as the half-close table says.
    Done,
    /// Idle for longer than the timeout.
    Timeout,
    /// The connection broke (reset, …).
    Error(io::Error),
    /// Our stdout was closed: end quietly.
    StdoutClosed,
}

/// What a finished connection reports (a relayed pair: its client's side).
#[derive(Debug)]
pub(crate) struct Closed {
    pub ending: Ending,
    pub bytes_read: u64,
    pub bytes_written: u64,
}

/// How the receiving direction of a stdin/stdout bridge ended, when it
/// did not fail: the same for every transport (chunk channels, splice,
/// TLS on threads).
#[derive(Debug)]
#[cfg_attr(not(target_os = "linux"), allow(unreachable_pub))]
pub enum DownEnd {
    /// The peer's FIN (under TLS, close_notify and FIN).
    Eof,
    /// Our stdout is closed (EPIPE): end quietly.
    StdoutClosed,
}

/// One connection's books (see the module comment).
#[derive(Debug)]
pub(crate) struct Activity {
    started: Instant,
    /// Bytes read from the peer.
    pub(crate) read: AtomicU64,
    /// Bytes written to the peer.
    pub(crate) written: AtomicU64,
    /// Milliseconds since `started`, at the last byte either way.
    last_active_ms: AtomicU64,
    /// Our FIN has gone (or is going) out: set before the shutdown, so a
    /// 0-byte read after it is not taken for a reset.
    pub(crate) fin_sent: AtomicBool,
}

impl Default for Activity {
    fn default() -> Activity {
        Activity::new()
    }
}

impl Activity {
    /// The books of a connection that starts now.
    pub(crate) fn new() -> Activity {
        Activity {
            started: Instant::now(),
            read: AtomicU64::new(0),
            written: AtomicU64::new(0),
            last_active_ms: AtomicU64::new(0),
            fin_sent: AtomicBool::new(false),
        }
    }

    /// `n` more bytes read from the peer.
    pub(crate) fn count_read(&self, n: usize) {
        self.read.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// `n` more bytes written to the peer.
    pub(crate) fn count_written(&self, n: usize) {
        self.written.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    pub(crate) fn bytes_written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Something moved: the idle clock starts again.
    pub(crate) fn touch(&self) {
        self.last_active_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Resolves once nothing has moved either way for `timeout` (never
    /// without one).
    pub(crate) async fn idle(&self, timeout: Option<Duration>) {
        let Some(timeout) = timeout else {
            return std::future::pending().await;
        };
        loop {
            let last = self.last_active_ms.load(Ordering::Relaxed);
            let deadline = self.started + Duration::from_millis(last) + timeout;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }

    /// Idle for the timeout: Node's `timeout` event for connection `conn`.
    /// The caller then ends our side (`end()`), and the idle clock starts
    /// again for the grace in which the peer may still send.
    pub(crate) fn timed_out(&self, conn: Option<u64>) {
        events::emit("timeout", conn, json!({}));
        self.touch();
    }

    /// Milliseconds since the connection started, for its `close`.
    pub(crate) fn duration_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// What the finished connection reports.
    pub(crate) fn closed(&self, ending: Ending) -> Closed {
        Closed {
            ending,
            bytes_read: self.bytes_read(),
            bytes_written: self.bytes_written(),
        }
    }

    /// The `error` (if any) and `close` events of a finished connection.
    pub(crate) fn report_close(&self, conn: Option<u64>, ending: &Ending) {
        if let Ending::Error(e) = ending {
            // TLS's codes where it has them (truncation, alerts), else the system's.
            events::error(conn, e, json!({}));
        }
        let bytes = (self.bytes_read(), self.bytes_written());
        let fields = close_fields(Map::new(), ending, bytes, self.duration_ms());
        events::emit("close", conn, fields);
    }
}

/// A `close` event's fields: `first` (a relay's `side`), then `hadError`,
/// `bytesRead`, `bytesWritten` and `durationMs`.
pub(crate) fn close_fields(
    mut first: Map<String, Value>,
    ending: &Ending,
    (read, written): (u64, u64),
    duration_ms: u64,
) -> Value {
    first.insert("hadError".into(), matches!(ending, Ending::Error(_)).into());
    first.insert("bytesRead".into(), read.into());
    first.insert("bytesWritten".into(), written.into());
    first.insert("durationMs".into(), duration_ms.into());
    Value::Object(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_fields_keep_nodes_order_after_the_side() {
        let mut side = Map::new();
        side.insert("side".into(), "target".into());
        let v = close_fields(side, &Ending::Done, (3, 4), 5);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "side",
                "hadError",
                "bytesRead",
                "bytesWritten",
                "durationMs"
            ]
        );
        assert_eq!(v["hadError"], false);
        let err = Ending::Error(io::Error::from_raw_os_error(crate::sys::errno::ECONNRESET));
        assert_eq!(close_fields(Map::new(), &err, (0, 0), 0)["hadError"], true);
    }

    #[tokio::test]
    async fn idle_waits_for_the_timeout_since_the_last_touch() {
        let a = Activity::new();
        tokio::time::sleep(Duration::from_millis(30)).await;
        a.touch();
        let touched = Instant::now();
        a.idle(Some(Duration::from_millis(50))).await;
        assert!(touched.elapsed() >= Duration::from_millis(45));
    }
}
