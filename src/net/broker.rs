//! `listen -k --broker` (ncat's connection brokering) and `--chat`: every
//! byte a client sends goes to every other client, to stdout, and stdin
//! goes to every client, as with `-k`.
//!
//! Bounded: at most [`QUEUE`] bytes may wait for one client (beyond what
//! its socket holds). The broker never waits for a client: one that would
//! go over (it reads nothing, or far slower than the others send) is
//! dropped — a `drop` event with the reason, one line on stderr without
//! `-v`, and its connection ends with ENOBUFS — so one stalled client
//! cannot stall the rest. stdout is the one member it waits for (the
//! server's own output).
//!
//! `--chat` works in lines: each complete line (or [`MAX_LINE`] bytes of
//! one) is sent as `<userN> line`, and joins and leaves are announced.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use serde_json::json;
use tokio::sync::{mpsc, Notify};

use crate::events;

/// Bytes that may wait for one client before it is dropped.
pub(crate) const QUEUE: usize = 4 << 20;

/// A `--chat` line longer than this is sent in pieces of this size.
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// How the broker relays.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BrokerOptions {
    /// `--chat`: lines with the sender's name, joins and leaves announced.
    pub chat: bool,
}

/// The clients of one broker.
pub(crate) struct Broker {
    opts: BrokerOptions,
    members: Mutex<Vec<Member>>,
    /// Taken at the end ([`Broker::close_stdout`]), so stdout can finish
    /// while a stdin reader still holds the broker.
    stdout: Mutex<Option<mpsc::Sender<Bytes>>>,
}

struct Member {
    id: u64,
    queue: Arc<Queue>,
    dropped: Arc<Notify>,
}

/// What waits for one client, counted in bytes; [`forward`] hands it to
/// the client's bridge as the bridge takes it.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Notify,
}

#[derive(Default)]
struct QueueState {
    chunks: VecDeque<Bytes>,
    bytes: usize,
    /// No more chunks will come (the client left, was dropped, or the
    /// server is stopping).
    closed: bool,
    /// Closed because the client was dropped: its bridge ends with the
    /// drop's error, not with input that ran out.
    dropped: bool,
}

impl Queue {
    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue `b`, unless that would put more than [`QUEUE`] bytes in
    /// waiting (an empty queue takes any chunk).
    fn push(&self, b: Bytes) -> bool {
        let mut st = self.state();
        if st.bytes > 0 && st.bytes + b.len() > QUEUE {
            return false;
        }
        st.bytes += b.len();
        st.chunks.push_back(b);
        drop(st);
        self.ready.notify_one();
        true
    }

    fn close(&self, dropped: bool) {
        let mut st = self.state();
        st.closed = true;
        st.dropped |= dropped;
        drop(st);
        self.ready.notify_one();
    }
}

/// The queue's chunks into the client's bridge, as fast as it takes them.
/// Once the queue is closed and empty the bridge's input ends (our FIN
/// goes, by the half-close rules), except for a dropped client, whose
/// input stays open until its bridge is gone: it ends with its error.
async fn forward(queue: Arc<Queue>, tx: mpsc::Sender<Bytes>) {
    loop {
        let next = {
            let mut st = queue.state();
            match st.chunks.pop_front() {
                Some(b) => Some(b),
                None if st.dropped => break,
                None if st.closed => return,
                None => None,
            }
        };
        let Some(b) = next else {
            queue.ready.notified().await;
            continue;
        };
        let n = b.len();
        if tx.send(b).await.is_err() {
            return;
        }
        queue.state().bytes -= n;
    }
    tx.closed().await;
}

/// One client's place in the broker.
pub(crate) struct Membership {
    /// What the others send it: the bridge's input.
    pub input: mpsc::Receiver<Bytes>,
    /// What it sends: the bridge's output, relayed by the broker.
    pub output: mpsc::Sender<Bytes>,
    /// Resolves when the broker has dropped it.
    pub dropped: Arc<Notify>,
}

/// The error a dropped client's connection ends with.
pub(crate) fn dropped_error() -> io::Error {
    io::Error::from_raw_os_error(crate::sys::errno::ENOBUFS)
}

fn name(id: u64) -> String {
    match id {
        0 => "<server>".into(),
        id => format!("<user{id}>"),
    }
}

impl Broker {
    pub(crate) fn new(opts: BrokerOptions, stdout: Option<mpsc::Sender<Bytes>>) -> Arc<Broker> {
        Arc::new(Broker {
            opts,
            members: Mutex::new(Vec::new()),
            stdout: Mutex::new(stdout),
        })
    }

    /// The server is stopping (its first signal): every client's input
    /// ends once what waits for it has gone, so our FIN reaches each one
    /// and the drain can finish.
    pub(crate) fn close_all(&self) {
        for m in self.members().drain(..) {
            m.queue.close(false);
        }
    }

    /// The server is done: nothing more goes to stdout.
    pub(crate) fn close_stdout(&self) {
        self.stdout.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    fn members(&self) -> std::sync::MutexGuard<'_, Vec<Member>> {
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Client `id` (from `remote`) joins; its bytes are relayed until its
    /// output is closed (its bridge ended), then it leaves.
    pub(crate) async fn join(self: &Arc<Self>, id: u64, remote: &str) -> Membership {
        let (tx, input) = mpsc::channel(crate::net::stdio::DEPTH);
        let queue = Arc::new(Queue::default());
        tokio::spawn(forward(queue.clone(), tx));
        let dropped = Arc::new(Notify::new());
        let others: Vec<u64> = {
            let mut m = self.members();
            let others = m.iter().map(|m| m.id).collect();
            m.push(Member {
                id,
                queue: queue.clone(),
                dropped: dropped.clone(),
            });
            others
        };
        if self.opts.chat {
            let there = match others.is_empty() {
                true => "nobody".to_string(),
                false => others
                    .iter()
                    .map(|&i| name(i))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            queue.push(Bytes::from(format!(
                "<announce> already connected: {there}.\n"
            )));
            let hello = format!("<announce> {remote} is connected as {}.\n", name(id));
            self.publish(id, Bytes::from(hello)).await;
        }
        let (output, from_client) = mpsc::channel(crate::net::stdio::DEPTH);
        tokio::spawn(self.clone().relay(id, from_client));
        Membership {
            input,
            output,
            dropped,
        }
    }

    /// stdin, as member 0: to every client.
    pub(crate) async fn run_input(self: Arc<Self>, mut input: mpsc::Receiver<Bytes>) {
        let mut lines = Lines::default();
        while let Some(chunk) = input.recv().await {
            for piece in lines.take(self.opts.chat, 0, chunk) {
                self.send_others(0, piece);
            }
        }
        if let Some(rest) = lines.rest(0) {
            self.send_others(0, rest);
        }
    }

    async fn relay(self: Arc<Self>, id: u64, mut from_client: mpsc::Receiver<Bytes>) {
        let mut lines = Lines::default();
        while let Some(chunk) = from_client.recv().await {
            for piece in lines.take(self.opts.chat, id, chunk) {
                self.publish(id, piece).await;
            }
            // The clients' own tasks take what was queued for them.
            tokio::task::yield_now().await;
        }
        if let Some(rest) = lines.rest(id) {
            self.publish(id, rest).await;
        }
        self.members().retain(|m| {
            if m.id == id {
                m.queue.close(false);
            }
            m.id != id
        });
        if self.opts.chat {
            let bye = format!("<announce> {} is disconnected.\n", name(id));
            self.publish(id, Bytes::from(bye)).await;
        }
    }

    /// `bytes` from `from` to everyone else and to stdout.
    async fn publish(&self, from: u64, bytes: Bytes) {
        self.send_others(from, bytes.clone());
        let out = self
            .stdout
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(out) = out {
            let _ = out.send(bytes).await;
        }
    }

    /// To every client but `from`, never waiting: a full queue drops its
    /// client.
    fn send_others(&self, from: u64, bytes: Bytes) {
        let mut slow = Vec::new();
        self.members().retain(|m| {
            if m.id == from {
                return true;
            }
            if m.queue.push(bytes.clone()) {
                return true;
            }
            slow.push(m.id);
            m.queue.close(true);
            m.dropped.notify_one();
            false
        });
        for id in slow {
            let reason = format!(
                "slow reader: {} MiB were already waiting for it (--broker never waits for one client)",
                QUEUE >> 20
            );
            events::emit("drop", Some(id), json!({ "reason": reason }));
            events::connection_error("listen", id, &format!("dropped by the broker: {reason}"));
        }
    }
}

/// `--chat`'s line assembly for one sender; without chat, chunks pass.
#[derive(Default)]
struct Lines {
    line: BytesMut,
}

impl Lines {
    fn take(&mut self, chat: bool, id: u64, chunk: Bytes) -> Vec<Bytes> {
        if !chat {
            return vec![chunk];
        }
        let mut out = Vec::new();
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            let room = MAX_LINE - self.line.len();
            let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
            let end = end.min(room);
            self.line.extend_from_slice(&rest[..end]);
            rest = &rest[end..];
            if self.line.ends_with(b"\n") || self.line.len() == MAX_LINE {
                out.push(self.framed(id));
            }
        }
        out
    }

    /// What is left of an unfinished line at the sender's end.
    fn rest(&mut self, id: u64) -> Option<Bytes> {
        if self.line.is_empty() {
            return None;
        }
        self.line.extend_from_slice(b"\n");
        Some(self.framed(id))
    }

    fn framed(&mut self, id: u64) -> Bytes {
        let mut b = BytesMut::from(format!("{} ", name(id)).as_bytes());
        b.extend_from_slice(&self.line.split());
        b.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_lines_are_framed_whole_and_long_ones_in_pieces() {
        let mut l = Lines::default();
        assert!(l.take(true, 3, Bytes::from_static(b"hel")).is_empty());
        let got = l.take(true, 3, Bytes::from_static(b"lo\nsecond\nthi"));
        assert_eq!(got, [&b"<user3> hello\n"[..], b"<user3> second\n"]);
        assert_eq!(l.rest(3).unwrap(), &b"<user3> thi\n"[..]);
        assert!(l.rest(3).is_none());
        let long = Bytes::from(vec![b'x'; MAX_LINE + 10]);
        let got = l.take(true, 1, long);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].len(), "<user1> ".len() + MAX_LINE);
        assert_eq!(l.rest(1).unwrap().len(), "<user1> ".len() + 11);
        assert_eq!(l.take(false, 1, Bytes::from_static(b"raw")), [&b"raw"[..]]);
    }
}
