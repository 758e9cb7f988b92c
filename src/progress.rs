//! `--progress`: a live line on stderr, drawn with indicatif from the byte
//! counters the copying code already keeps (so drawing costs the copy
//! nothing: a timer reads two atomics a few times a second). Both
//! directions show a recent rate, so a receiving side (`listen > file`)
//! sees how fast bytes arrive; when the line goes it leaves a one-line
//! summary: bytes each way, the duration and the average rates.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a progress line reads: bytes sent and received, and for servers the
/// open and total connection counts.
#[derive(Debug, Default)]
pub(crate) struct Meter {
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
pub(crate) fn server_received(n: usize) {
    if DRAWING.load(Ordering::Relaxed) {
        meter().received.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Count `n` bytes sent on a server's connection, if a line is drawn.
#[inline]
pub(crate) fn server_sent(n: usize) {
    if DRAWING.load(Ordering::Relaxed) {
        meter().sent.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The process's meter: one progress line per process, fed by every copy.
pub(crate) fn meter() -> &'static Meter {
    static METER: std::sync::OnceLock<Meter> = std::sync::OnceLock::new();
    METER.get_or_init(Meter::default)
}

/// The drawing task; dropping it clears the line and leaves a one-line
/// summary in its place (bytes each way, duration, rates).
pub(crate) struct Progress {
    bar: ProgressBar,
    task: tokio::task::JoinHandle<()>,
    started: Instant,
    server: bool,
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.task.abort();
        self.bar.finish_and_clear();
        let m = meter();
        let totals = Totals {
            sent: m.sent.load(Ordering::Relaxed),
            received: m.received.load(Ordering::Relaxed),
            connections: self.server.then(|| m.total.load(Ordering::Relaxed)),
            elapsed: self.started.elapsed(),
        };
        let _ = Stderr.put(&format!("{}\n", totals.summary()));
    }
}

/// What the summary line says.
struct Totals {
    sent: u64,
    received: u64,
    /// Connections served, for a server's line.
    connections: Option<u64>,
    elapsed: Duration,
}

impl Totals {
    /// `wirecat: sent 1048576 bytes (1.00 MiB), received 12 bytes (12 B) in
    /// 2.01s (521.74 KiB/s sent, 6 B/s received)`; a server's line starts
    /// with its connection count and names what clients sent first.
    fn summary(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        let rate = |n: u64| {
            let per_sec = if secs > 0.0 { n as f64 / secs } else { 0.0 };
            format!("{}/s", HumanBytes(per_sec as u64))
        };
        let amount = |n: u64| format!("{n} bytes ({})", HumanBytes(n));
        match self.connections {
            None => format!(
                "wirecat: sent {}, received {} in {secs:.2}s ({} sent, {} received)",
                amount(self.sent),
                amount(self.received),
                rate(self.sent),
                rate(self.received)
            ),
            Some(conns) => format!(
                "wirecat: {conns} connection{}, received {}, sent {} in {secs:.2}s ({} received, {} sent)",
                if conns == 1 { "" } else { "s" },
                amount(self.received),
                amount(self.sent),
                rate(self.received),
                rate(self.sent)
            ),
        }
    }
}

/// A recent rate: bytes per second over the last couple of seconds of
/// samples, so a receiver's line shows what arrives now, not an average
/// since start.
#[derive(Debug, Default)]
struct Rate {
    samples: std::collections::VecDeque<(Instant, u64)>,
}

impl Rate {
    /// Record the counter's value now and return the rate, as text.
    fn update(&mut self, total: u64) -> String {
        let now = Instant::now();
        self.samples.push_back((now, total));
        while self.samples.len() > 2
            && now.duration_since(self.samples[0].0) > Duration::from_secs(2)
        {
            self.samples.pop_front();
        }
        let (t0, n0) = self.samples[0];
        let dt = now.duration_since(t0).as_secs_f64();
        let per_sec = if dt > 0.0 {
            total.saturating_sub(n0) as f64 / dt
        } else {
            0.0
        };
        format!("{}/s", HumanBytes(per_sec as u64))
    }
}

/// A client's bar: with `expected` (stdin's size when it is a regular file)
/// a bar with an ETA, else bytes and rates; what is received is shown with
/// its own rate (a receiving side sends nothing).
pub(crate) fn transfer(expected: Option<u64>) -> Progress {
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
    let mut received = Rate::default();
    spawn(bar, false, move |bar, m| {
        bar.set_position(m.sent.load(Ordering::Relaxed));
        let got = m.received.load(Ordering::Relaxed);
        bar.set_message(format!(
            "received {} ({})",
            HumanBytes(got),
            received.update(got)
        ));
    })
}

/// A server's line: open and total connections, bytes and rates each way.
pub(crate) fn server() -> Progress {
    let bar = ProgressBar::with_draw_target(None, target())
        .with_style(ProgressStyle::with_template("{spinner} {msg}").expect("static template"));
    let (mut received, mut sent) = (Rate::default(), Rate::default());
    spawn(bar, true, move |bar, m| {
        let (got, put) = (
            m.received.load(Ordering::Relaxed),
            m.sent.load(Ordering::Relaxed),
        );
        bar.set_message(format!(
            "{} open, {} total, received {}, sent {} ({} in, {} out)",
            m.open.load(Ordering::Relaxed),
            m.total.load(Ordering::Relaxed),
            HumanBytes(got),
            HumanBytes(put),
            received.update(got),
            sent.update(put),
        ));
    })
}

/// When a progress line is drawn (`--progress[=WHEN]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressWhen {
    /// Only when stderr is a terminal.
    Auto,
    /// Even when stderr is not a terminal.
    Always,
}

impl ProgressWhen {
    /// Whether the line should be drawn, given where stderr goes.
    pub fn wanted(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ProgressWhen::Always => true,
            ProgressWhen::Auto => std::io::stderr().is_terminal(),
        }
    }
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
        crate::sys::terminal_width().unwrap_or(100)
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

fn spawn(
    bar: ProgressBar,
    server: bool,
    mut update: impl FnMut(&ProgressBar, &Meter) + Send + 'static,
) -> Progress {
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
    Progress {
        bar,
        task,
        started: Instant::now(),
        server,
    }
}

/// The size of stdin when it is a regular file (for the ETA).
pub(crate) fn stdin_size() -> Option<u64> {
    crate::sys::regular_file_size()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_has_exact_bytes_duration_and_rates() {
        let t = Totals {
            sent: 2 << 20,
            received: 12,
            connections: None,
            elapsed: Duration::from_secs(2),
        };
        assert_eq!(
            t.summary(),
            "wirecat: sent 2097152 bytes (2.00 MiB), received 12 bytes (12 B) in 2.00s \
             (1.00 MiB/s sent, 6 B/s received)"
        );
        let t = Totals {
            connections: Some(3),
            ..t
        };
        assert!(t
            .summary()
            .starts_with("wirecat: 3 connections, received 12 bytes (12 B), sent 2097152 bytes"));
    }
}
