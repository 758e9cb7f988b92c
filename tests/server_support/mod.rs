//! Shared helpers for the server tests (`echo`, `pipe`, `listen --exec`):
//! start the real binary on port 0, learn its address from `--ready-file`,
//! read its `--json` events, signal it, and wait for it with a deadline.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Every wait in these tests is bounded by this.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_wirecat")
}

/// A running server with its events captured.
pub struct Server {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub addr: String,
}

impl Server {
    /// `wirecat ARGS --json --ready-file …`, ready once this returns.
    pub fn start(args: &[&str]) -> Server {
        Server::start_in(None, args)
    }

    /// As [`Server::start`], run through `sh -c 'PREFIX; exec wirecat …'`
    /// (for `ulimit`).
    pub fn start_in(shell_prefix: Option<&str>, args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        let events = std::fs::File::create(dir.path().join("events")).unwrap();
        let mut cmd = match shell_prefix {
            Some(prefix) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("{prefix}; exec \"$0\" \"$@\""))
                    .arg(bin());
                c
            }
            None => Command::new(bin()),
        };
        cmd.args(args)
            .arg("--json")
            .arg("--ready-file")
            .arg(&ready)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(events);
        let mut child = cmd.spawn().unwrap();
        let addr = wait_for_file(&ready, &mut child);
        Server { child, dir, addr }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The `--json` events so far.
    pub fn events(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.path("events")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Wait until an event satisfies `pred`, and return it.
    pub fn wait_event(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            if let Some(e) = self.events().into_iter().find(|e| pred(e)) {
                return e;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no {what} event within {DEADLINE:?}; events: {:#?}",
                self.events()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Wait for the server to exit, within `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "server did not exit within {limit:?}; events: {:#?}",
                self.events()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_file(path: &Path, child: &mut Child) -> String {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Some(line) = text.lines().next().filter(|l| !l.is_empty()) {
                return line.to_string();
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("server exited before it was ready: {status}");
        }
        assert!(start.elapsed() < DEADLINE, "server not ready in time");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `size` bytes that depend only on `seed`.
pub fn payload(seed: u64, size: usize) -> Vec<u8> {
    use rand::{RngCore, SeedableRng};
    let mut data = vec![0u8; size];
    rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut data);
    data
}

/// Bound an async step in a test.
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {DEADLINE:?}"))
}

/// Events named `name`.
pub fn named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}
