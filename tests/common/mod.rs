//! Helpers for the integration tests: the real binary, servers started on
//! port 0 with `--ready-file`, bounded waits, checksums.
#![allow(dead_code)]

pub mod certs;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Every wait in the tests is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(30);

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_wirecat"))
}

/// The binary with a scrubbed environment.
pub fn wirecat() -> Command {
    let mut c = Command::new(bin());
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LANG", "C");
    c
}

pub fn assert_cmd() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(bin());
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .timeout(LIMIT);
    c
}

/// A running wirecat server and where it listens.
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub dir: tempfile::TempDir,
    done: Arc<AtomicBool>,
}

/// Kill a server that outlives twice [`LIMIT`], so a test reading its pipes
/// fails instead of hanging. `done` is set once the child is reaped (its pid
/// may be reused after that).
fn watchdog(pid: u32, done: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let start = Instant::now();
        while start.elapsed() < 2 * LIMIT {
            if done.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if !done.load(Ordering::Relaxed) {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    });
}

impl Server {
    /// Start `wirecat ARGS --ready-file F` and wait until F names the address.
    pub fn start(args: &[&str], stdin: Stdio, stdout: Stdio, stderr: Stdio) -> Server {
        let mut cmd = wirecat();
        cmd.args(args);
        Server::spawn(cmd, stdin, stdout, stderr)
    }

    /// As [`Server::start`], for a command already given its arguments and environment.
    pub fn spawn(mut cmd: Command, stdin: Stdio, stdout: Stdio, stderr: Stdio) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        let child = cmd
            .arg("--ready-file")
            .arg(&ready)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("spawn wirecat");
        let done = Arc::new(AtomicBool::new(false));
        watchdog(child.id(), done.clone());
        let addr = wait_ready(&ready);
        Server {
            child,
            addr,
            dir,
            done,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub fn wait(&mut self) -> ExitStatus {
        let st = wait_child(&mut self.child);
        self.done.store(true, Ordering::Relaxed);
        st
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.done.store(true, Ordering::Relaxed);
    }
}

pub fn wait_ready(path: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            if s.ends_with('\n') {
                return s.trim().to_string();
            }
        }
        assert!(start.elapsed() < LIMIT, "server did not become ready");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Wait for a child with a bound; kill it and fail if it overruns.
pub fn wait_child(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("child did not exit within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Collect a child's output with a bound.
pub fn output_within(mut child: Child) -> Output {
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut v);
        }
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut v);
        }
        v
    });
    let status = wait_child(&mut child);
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

pub fn sha256(data: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(data);
    format!("{:x}", h.finalize())
}

pub fn sha256_file(path: &Path) -> String {
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    format!("{:x}", h.finalize())
}

/// `len` pseudo-random bytes from `seed` (fast xorshift; not crypto).
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

pub fn write_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(data).unwrap();
    p
}

/// Parse `--json` stderr into events.
pub fn events(stderr: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

pub fn find<'a>(events: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    events
        .iter()
        .find(|e| e["event"] == name)
        .unwrap_or_else(|| panic!("no {name} event in {events:#?}"))
}

/// Whether a peer tool is installed; in CI a missing tool is a failure, not a skip.
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is required in CI (.ci/run installs it)"
        );
        eprintln!("skipping: {tool} is not installed");
    }
    found
}

/// Whether IPv6 loopback works here.
pub fn have_ipv6() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// `accept` with a bound, so a client that never arrives fails the test
/// instead of hanging it. The accepted stream is blocking, with read and
/// write timeouts of [`LIMIT`].
pub fn accept_within(l: &std::net::TcpListener) -> (std::net::TcpStream, std::net::SocketAddr) {
    l.set_nonblocking(true).unwrap();
    let start = Instant::now();
    loop {
        match l.accept() {
            Ok((s, a)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(LIMIT)).unwrap();
                s.set_write_timeout(Some(LIMIT)).unwrap();
                return (s, a);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(start.elapsed() < LIMIT, "no connection within {LIMIT:?}");
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}
