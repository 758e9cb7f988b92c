//! `--progress`: a live line on stderr, drawn with indicatif from the byte
//! counters the copying code already keeps (so drawing costs the copy
//! nothing: a timer reads two atomics a few times a second).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a progress line reads: bytes sent and received, and for servers the
/// open and total connection counts.
#[derive(Debug, Default)]
pub struct Meter {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    pub open: AtomicU64,
    pub total: AtomicU64,
}

/// Whether a progress line is drawn: the servers' per-message paths feed
/// the meter only then (one relaxed load, instead of two shared counters
/// per message).
static DRAWING: AtomicBool = AtomicBool::new(false);

/// Count `n` bytes received on a server's connection, if a line is drawn.
#[inline]
pub fn server_received(n: usize) {
    if DRAWING.load(Ordering::Relaxed) {
        meter().received.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Count `n` bytes sent on a server's connection, if a line is drawn.
#[inline]
pub fn server_sent(n: usize) {
    if DRAWING.load(Ordering::Relaxed) {
        meter().sent.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The process's meter: one progress line per process, fed by every copy.
pub fn meter() -> &'static Meter {
    static METER: std::sync::OnceLock<Meter> = std::sync::OnceLock::new();
    METER.get_or_init(Meter::default)
}

/// The drawing task; dropping it clears the line.
pub struct Progress {
    bar: ProgressBar,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.task.abort();
        self.bar.finish_and_clear();
    }
}

/// A client's bar: with `expected` (stdin's size when it is a regular file)
/// a bar with an ETA, else bytes and rates.
pub fn transfer(expected: Option<u64>) -> Progress {
    let bar = match expected {
        Some(len) => ProgressBar::with_draw_target(Some(len), target()).with_style(
            ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
            )
            .expect("static template"),
        ),
        None => ProgressBar::with_draw_target(None, target()).with_style(
            ProgressStyle::with_template("{spinner} sent {bytes} ({binary_bytes_per_sec}) {msg}")
                .expect("static template"),
        ),
    };
    spawn(bar, |bar, m| {
        bar.set_position(m.sent.load(Ordering::Relaxed));
        bar.set_message(format!(
            "received {}",
            HumanBytes(m.received.load(Ordering::Relaxed))
        ));
    })
}

/// A server's line: open and total connections, bytes each way.
pub fn server() -> Progress {
    let bar = ProgressBar::with_draw_target(None, target())
        .with_style(ProgressStyle::with_template("{spinner} {msg}").expect("static template"));
    spawn(bar, |bar, m| {
        bar.set_message(format!(
            "{} open, {} total, received {}, sent {}",
            m.open.load(Ordering::Relaxed),
            m.total.load(Ordering::Relaxed),
            HumanBytes(m.received.load(Ordering::Relaxed)),
            HumanBytes(m.sent.load(Ordering::Relaxed)),
        ));
    })
}

/// stderr, drawn even when it is not a terminal: the caller has already
/// decided (`--progress=always` forces; `auto` asks only on a terminal), and
/// indicatif's own stderr target hides itself off a terminal.
fn target() -> ProgressDrawTarget {
    ProgressDrawTarget::term_like_with_hz(Box::new(Stderr), 5)
}

#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn put(&self, s: &str) -> std::io::Result<()> {
        use std::io::Write;
        std::io::stderr().lock().write_all(s.as_bytes())
    }
}

impl indicatif::TermLike for Stderr {
    fn width(&self) -> u16 {
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(2, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_col > 0 {
            ws.ws_col
        } else {
            100
        }
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}A"))?;
        }
        Ok(())
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}B"))?;
        }
        Ok(())
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}C"))?;
        }
        Ok(())
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}D"))?;
        }
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.put(&format!("{s}\n"))
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.put(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.put("\r\x1b[2K")
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

fn spawn(bar: ProgressBar, update: fn(&ProgressBar, &Meter)) -> Progress {
    DRAWING.store(true, Ordering::Relaxed);
    let b = bar.clone();
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tick.tick().await;
            update(&b, meter());
            b.tick();
        }
    });
    Progress { bar, task }
}

/// The size of stdin when it is a regular file (for the ETA).
pub fn stdin_size() -> Option<u64> {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(0, &mut st) } != 0 || (st.st_mode & libc::S_IFMT) != libc::S_IFREG {
        return None;
    }
    Some(st.st_size as u64)
}
