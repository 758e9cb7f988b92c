//! Standard input and output as bounded streams of chunks.
//!
//! stdin and stdout stay blocking (they are shared with the shell, and making
//! them non-blocking would leak into it), so each gets one thread that moves
//! chunks through a bounded channel: a slow stdout slows the socket reader, a
//! slow socket slows stdin reading, and memory stays at a few chunks.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::sys::Unread;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

/// Size of one read from stdin or a socket.
pub(crate) const CHUNK: usize = 64 * 1024;
/// Chunks in flight per channel.
pub(crate) const DEPTH: usize = 4;

/// How bytes are changed on their way out to the socket.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OutboundFilter {
    /// LF becomes CRLF (telnet habit).
    pub crlf: bool,
}

/// The stdin thread holds a chunk it has read and not yet queued.
static STDIN_HOLDING: AtomicBool = AtomicBool::new(false);

/// Start the stdin thread; the receiver yields chunks until EOF (or a read
/// error, which ends input the same way: there is nothing more to send).
///
/// The thread waits for stdin with poll(2) before it reads, and marks the
/// time between a read and the queueing of its chunk ([`stdin_unsent`]):
/// so bytes are always somewhere that can be seen, in stdin, in the
/// thread's hands or in the channel.
/// A thread that cannot be started (EAGAIN under `ulimit -v` or `-u`) is
/// the error, for the caller to report, never a panic.
pub(crate) fn stdin_chunks(filter: OutboundFilter) -> io::Result<mpsc::Receiver<Bytes>> {
    let (tx, rx) = mpsc::channel(DEPTH);
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut buf = BytesMut::with_capacity(CHUNK);
            loop {
                buf.reserve(CHUNK);
                crate::sys::wait_for_stdin();
                // Where stdin cannot be waited for (Windows) the read itself
                // blocks: marked once it returns, or a read blocked on an
                // idle pipe would look like bytes held.
                if crate::sys::STDIN_WAITS {
                    STDIN_HOLDING.store(true, Ordering::SeqCst);
                }
                let n = match crate::sys::read_stdin(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if !crate::sys::STDIN_WAITS {
                    STDIN_HOLDING.store(true, Ordering::SeqCst);
                }
                debug_assert!(n > 0);
                let chunk = if filter.crlf {
                    to_crlf(&buf.split())
                } else {
                    buf.split().freeze()
                };
                let sent = tx.blocking_send(chunk);
                STDIN_HOLDING.store(false, Ordering::SeqCst);
                if sent.is_err() {
                    break;
                }
            }
            STDIN_HOLDING.store(false, Ordering::SeqCst);
        })?;
    Ok(rx)
}

/// How long a stdin pipe whose writer is still open may take to show
/// whether more is coming, once the peer has ended: a writer in full flow
/// hands over its next piece within microseconds; an idle one (`sleep 9 |`)
/// is taken as holding nothing, like a terminal nobody types into.
const UNSENT_LINGER: Duration = Duration::from_millis(200);

/// Whether stdin's bytes have not all gone out, once sending has stopped
/// (blocking, for up to `UNSENT_LINGER`). `queued()` says whether this
/// process holds a chunk of it (a channel, a thread's buffer). The stdin
/// thread's hands are looked at before and after stdin itself, so a chunk
/// moving from stdin into its hands, or from there into the channel, is
/// seen at one of the looks.
pub(crate) fn stdin_unsent(queued: &mut dyn FnMut() -> bool) -> bool {
    let holding = || STDIN_HOLDING.load(Ordering::SeqCst);
    let deadline = std::time::Instant::now() + UNSENT_LINGER;
    loop {
        let held = holding();
        if queued() {
            return true;
        }
        let state = crate::sys::stdin_unread();
        if queued() || state == Unread::Bytes {
            return true;
        }
        // The thread's hands are only ever full for a moment (a read, then
        // a send into a channel with room, or the channel is full and
        // `queued` says so): wait for them to empty, then look again, so a
        // read that found stdin's end is not taken for bytes.
        let busy = held || holding();
        if !busy && state == Unread::Nothing {
            return false;
        }
        if std::time::Instant::now() >= deadline {
            return busy;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A fixed text as the whole of the input, then EOF (`--send`).
pub(crate) fn text_chunks(text: &Bytes, filter: OutboundFilter) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(1);
    let bytes = if filter.crlf {
        to_crlf(text)
    } else {
        text.clone()
    };
    let _ = tx.try_send(bytes);
    rx
}

fn to_crlf(data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    let mut prev = 0u8;
    for &b in data {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    Bytes::from(out)
}

/// The stdout thread: writes every chunk it is sent, in order. If stdout is
/// closed (`| head`), it stops and drops the receiver, which the senders see
/// as a closed channel: the quiet end the spec asks for.
pub struct StdoutWriter {
    tx: Option<mpsc::Sender<Bytes>>,
    thread: Option<JoinHandle<()>>,
}

impl StdoutWriter {
    /// Start the stdout thread (its failure is the error, as for stdin).
    pub fn spawn(hex: bool) -> io::Result<StdoutWriter> {
        let (tx, mut rx) = mpsc::channel::<Bytes>(DEPTH);
        let thread = std::thread::Builder::new()
            .name("stdout".into())
            .spawn(move || {
                // Straight to fd 1, unbuffered: std's Stdout is line
                // buffered and scans every chunk for '\n' (memrchr over all
                // 64 KiB), pure overhead for data flushed chunk by chunk.
                let mut out = RawStdout;
                let mut hexer = hex.then(HexDump::default);
                while let Some(chunk) = rx.blocking_recv() {
                    let r = match &mut hexer {
                        Some(h) => out.write_all(h.format(&chunk).as_bytes()),
                        None => out.write_all(&chunk),
                    };
                    if r.and_then(|_| out.flush()).is_err() {
                        return;
                    }
                }
            })?;
        Ok(StdoutWriter {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn sender(&self) -> mpsc::Sender<Bytes> {
        self.tx.clone().expect("stdout writer already finished")
    }

    /// Wait until everything sent has been written (all senders must be gone).
    pub fn finish(mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// stdout, borrowed, as a `Write`: fd 1 is never closed here. Errors as
/// a `File` would give them (EINTR retried).
struct RawStdout;

impl Write for RawStdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        crate::sys::write_stdout(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `hexdump -C` style lines, offsets running across chunks.
#[derive(Default)]
struct HexDump {
    offset: u64,
}

impl HexDump {
    fn format(&mut self, data: &[u8]) -> String {
        use std::fmt::Write as _;
        let mut s = String::with_capacity(data.len() * 4 + 80);
        for line in data.chunks(16) {
            let _ = write!(s, "{:08x}  ", self.offset);
            for i in 0..16 {
                match line.get(i) {
                    Some(b) => {
                        let _ = write!(s, "{b:02x} ");
                    }
                    None => s.push_str("   "),
                }
                if i == 7 {
                    s.push(' ');
                }
            }
            s.push_str(" |");
            s.extend(line.iter().map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            }));
            s.push_str("|\n");
            self.offset += line.len() as u64;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_does_not_double() {
        assert_eq!(&to_crlf(b"a\nb\r\nc\n")[..], b"a\r\nb\r\nc\r\n");
    }

    #[test]
    fn hexdump_lines_and_offsets() {
        let mut h = HexDump::default();
        let s = h.format(b"hello\n");
        assert_eq!(
            s,
            "00000000  68 65 6c 6c 6f 0a                                 |hello.|\n"
        );
        let s = h.format(b"x");
        assert!(s.starts_with("00000006  78 "), "{s}");
    }
}
