//! Helpers for the integration tests: the real binary, servers started on
//! port 0 with `--ready-file` (and their `--json` events, signals and exit),
//! bounded waits, checksums.

pub mod certs;

use std::io::{Read, Write};
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::os::unix::process::ExitStatusExt;
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
    scrubbed(bin())
}

/// `program` with a scrubbed environment.
fn scrubbed(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(program);
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
            // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
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
    pub fn spawn(cmd: Command, stdin: Stdio, stdout: Stdio, stderr: Stdio) -> Server {
        Server::spawn_in(tempfile::tempdir().unwrap(), cmd, stdin, stdout, stderr)
    }

    /// `wirecat ARGS --json`, its events written to a file that
    /// [`Server::events`] reads; stdin and stdout are null.
    pub fn json(args: &[&str]) -> Server {
        Server::json_in(None, args)
    }

    /// As [`Server::json`], run through `sh -c 'PREFIX; exec wirecat …'`
    /// (for `ulimit`).
    pub fn json_in(shell_prefix: Option<&str>, args: &[&str]) -> Server {
        Server::json_env(shell_prefix, &[], args)
    }

    /// As [`Server::json_in`], with `env` added to the scrubbed environment.
    pub fn json_env(shell_prefix: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let events = std::fs::File::create(dir.path().join("events")).unwrap();
        let mut cmd = match shell_prefix {
            Some(prefix) => {
                let mut c = scrubbed("sh");
                c.arg("-c")
                    .arg(format!("{prefix}; exec \"$0\" \"$@\""))
                    .arg(bin());
                c
            }
            None => wirecat(),
        };
        cmd.envs(env.iter().copied()).args(args).arg("--json");
        Server::spawn_in(dir, cmd, Stdio::null(), Stdio::null(), events.into())
    }

    /// As [`Server::json`], with a piped stdin (`child.stdin`) and stdout
    /// written to the file `stdout` in [`Server::path`].
    pub fn json_piped_stdin(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let events = std::fs::File::create(dir.path().join("events")).unwrap();
        let stdout = std::fs::File::create(dir.path().join("stdout")).unwrap();
        let mut cmd = wirecat();
        cmd.args(args).arg("--json");
        Server::spawn_in(dir, cmd, Stdio::piped(), stdout.into(), events.into())
    }

    /// Wait until the server's stdout file holds `len` bytes.
    pub fn wait_stdout_len(&self, len: u64) {
        let path = self.path("stdout");
        poll_until(
            LIMIT,
            || (std::fs::metadata(&path).map_or(0, |m| m.len()) >= len).then_some(()),
            || format!("stdout did not reach {len} bytes"),
        )
    }

    /// The second SIGINT: the first one, then (once the port refuses, so
    /// the accept loop has stopped) the second; exit 130 within 5 s.
    pub fn force_stop(&mut self) {
        self.signal(libc::SIGINT);
        let start = Instant::now();
        while std::net::TcpStream::connect(&self.addr).is_ok() {
            assert!(start.elapsed() < LIMIT, "the accept loop did not stop");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(self.running(), "exited at the first signal");
        self.signal(libc::SIGINT);
        assert_eq!(
            self.wait_exit(Duration::from_secs(5)).signal(),
            Some(libc::SIGINT)
        );
    }

    /// After [`Server::force_stop`]: each connection `(conn, bytesRead,
    /// bytesWritten)` has one `close` (with `side`, one per side of
    /// `sides`) with hadError and those counts, after its `error`
    /// ECONNABORTED, and the server's final totals are their sums.
    pub fn assert_forced_books(&self, sides: &[&str], conns: &[(u64, u64, u64)]) {
        let events = self.events();
        for &(conn, read, written) in conns {
            let closes: Vec<_> = events
                .iter()
                .filter(|e| e["event"] == "close" && e["conn"] == conn)
                .collect();
            assert_eq!(closes.len(), sides.len().max(1), "conn {conn}: {events:#?}");
            let error = events
                .iter()
                .find(|e| e["event"] == "error" && e["conn"] == conn)
                .unwrap_or_else(|| panic!("no error for conn {conn}: {events:#?}"));
            assert_eq!(error["code"], "ECONNABORTED", "{error}");
            let client = closes
                .iter()
                .find(|c| c.get("side").is_none() || c["side"] == "client")
                .unwrap();
            assert_eq!(client["hadError"], true, "{client}");
            assert_eq!(client["bytesRead"], read, "{client}");
            assert_eq!(client["bytesWritten"], written, "{client}");
            for c in &closes {
                assert_eq!(c["hadError"], true, "{c}");
            }
        }
        let total = events
            .iter()
            .find(|e| e["event"] == "close" && e.get("conn").is_none())
            .unwrap_or_else(|| panic!("no server close: {events:#?}"));
        let sum = |f: fn(&(u64, u64, u64)) -> u64| conns.iter().map(f).sum::<u64>();
        // (The probes of `force_stop` may count as connections too.)
        let n = total["connections"].as_u64().unwrap();
        assert!(n >= conns.len() as u64, "{total}");
        assert_eq!(total["bytesRead"], sum(|c| c.1), "{total}");
        assert_eq!(total["bytesWritten"], sum(|c| c.2), "{total}");
    }

    /// `wirecat ARGS` without events, its stderr written to a file that
    /// [`Server::stderr_text`] reads; stdin and stdout are null.
    pub fn quiet(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let stderr = std::fs::File::create(dir.path().join("stderr")).unwrap();
        let mut cmd = wirecat();
        cmd.args(args);
        Server::spawn_in(dir, cmd, Stdio::null(), Stdio::null(), stderr.into())
    }

    /// What a [`Server::quiet`] server has written to stderr so far.
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(self.path("stderr")).unwrap_or_default()
    }

    fn spawn_in(
        dir: tempfile::TempDir,
        mut cmd: Command,
        stdin: Stdio,
        stdout: Stdio,
        stderr: Stdio,
    ) -> Server {
        let ready = dir.path().join("ready");
        let mut child = cmd
            .arg("--ready-file")
            .arg(&ready)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("spawn wirecat");
        let done = Arc::new(AtomicBool::new(false));
        watchdog(child.id(), done.clone());
        let addr = wait_ready_or_exit(&ready, &mut child);
        Server {
            child,
            addr,
            dir,
            done,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The `--json` events so far (of a server started with [`Server::json`]).
    pub fn events(&self) -> Vec<serde_json::Value> {
        read_events(&self.path("events"))
    }

    /// Wait until an event satisfies `pred`, and return it.
    pub fn wait_event(
        &self,
        what: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        poll_until(
            LIMIT,
            || self.events().into_iter().find(|e| pred(e)),
            || {
                format!(
                    "no {what} event within {LIMIT:?}; events: {:#?}",
                    self.events()
                )
            },
        )
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) takes no pointers; a process that is gone is only an error.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Wait for the server to exit, within `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let events = self.path("events");
        poll_until(
            limit,
            || self.reaped(),
            || {
                let events = read_events(&events);
                format!("server did not exit within {limit:?}; events: {events:#?}")
            },
        )
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.reaped().is_none()
    }

    /// The exit status once the server has ended (reaped: the watchdog
    /// stands down, as the pid may be reused).
    fn reaped(&mut self) -> Option<ExitStatus> {
        let status = self.child.try_wait().unwrap();
        if status.is_some() {
            self.done.store(true, Ordering::Relaxed);
        }
        status
    }

    /// A piped stdout, read to its end (the server has closed it).
    pub fn stdout_to_end(&mut self) -> Vec<u8> {
        let mut got = Vec::new();
        self.child
            .stdout
            .take()
            .expect("a piped stdout, read once")
            .read_to_end(&mut got)
            .unwrap();
        got
    }

    /// Events from a piped stderr, read to its end (the server has exited).
    pub fn stderr_events(&mut self) -> Vec<serde_json::Value> {
        let mut err = Vec::new();
        if let Some(mut e) = self.child.stderr.take() {
            e.read_to_end(&mut err).unwrap();
        }
        events(&err)
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

/// The address a server wrote to its ready file; fails at once if the
/// server exits first.
fn wait_ready_or_exit(path: &Path, child: &mut Child) -> String {
    let ready = || {
        let text = std::fs::read_to_string(path).ok()?;
        text.ends_with('\n').then(|| text.trim().to_string())
    };
    poll_until(
        LIMIT,
        || {
            let addr = ready();
            if let (None, Some(status)) = (&addr, child.try_wait().unwrap()) {
                panic!("server exited before it was ready: {status}");
            }
            addr
        },
        || "server did not become ready".to_string(),
    )
}

/// The complete lines of a `--json` events file, parsed.
fn read_events(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Call `check` every 10 ms until it gives a value; fail with `failure()`
/// once `limit` has passed.
fn poll_until<T>(
    limit: Duration,
    mut check: impl FnMut() -> Option<T>,
    failure: impl FnOnce() -> String,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        if start.elapsed() > limit {
            panic!("{}", failure());
        }
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

/// `len` pseudo-random bytes from `seed`, different for every seed (fast
/// xorshift from a splitmix64 start; not crypto).
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = splitmix64(seed) | 1;
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

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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

/// Bound an async step in a test.
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {LIMIT:?}"))
}

/// Events named `name`.
pub fn named<'a>(events: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

/// Assert that a finished child exited with `code`; a failure shows `ctx`
/// (if any), the status and the child's stderr, where wirecat says why.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32, ctx: impl std::fmt::Display) {
    let ctx = ctx.to_string();
    let sep = if ctx.is_empty() { "" } else { ": " };
    assert_eq!(
        out.status.code(),
        Some(code),
        "{ctx}{sep}{}; stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
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

/// Whether IPv6 loopback works here; in CI its absence is a failure, not a
/// skip (the CI machines have `::1`).
pub fn have_ipv6() -> bool {
    let found = std::net::TcpListener::bind("[::1]:0").is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "IPv6 loopback ([::1]) is required in CI"
        );
    }
    found
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

/// Send `size` bytes made from `seed` over `stream` and read until its
/// clean end, both at once; the SHA-256 of what was sent and of what was
/// received. Our end is a shutdown (under TLS close_notify + FIN), and a
/// failed read (a reset, or a TLS peer's FIN without close_notify) fails
/// the test.
pub async fn exchange<S>(stream: S, seed: u64, size: usize) -> ([u8; 32], [u8; 32])
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut rd, mut wr) = tokio::io::split(stream);
    let writer = tokio::spawn(async move {
        let mut sent = Sha256::new();
        let (mut left, mut block) = (size, 0u64);
        while left > 0 {
            let chunk = random_bytes(left.min(1 << 20), seed * 1_000_003 + block);
            sent.update(&chunk);
            wr.write_all(&chunk).await.unwrap();
            left -= chunk.len();
            block += 1;
        }
        wr.shutdown().await.unwrap();
        <[u8; 32]>::from(sent.finalize())
    });
    let mut got = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = rd.read(&mut buf).await.expect("a clean end");
        if n == 0 {
            break;
        }
        got.update(&buf[..n]);
    }
    (writer.await.unwrap(), got.finalize().into())
}

/// The most bytes the kernel can hold between a client and a target that
/// does not read, through one relay: the client's send buffer, the relay's
/// receive buffer, its pipe (1 MiB), its send buffer and the target's
/// receive buffer, each at its largest (`tcp_wmem`/`tcp_rmem`).
pub fn kernel_hold_through_a_relay() -> usize {
    let max = |f: &str| -> usize {
        let v = std::fs::read_to_string(format!("/proc/sys/net/ipv4/{f}")).unwrap();
        v.split_whitespace().nth(2).unwrap().parse().unwrap()
    };
    2 * max("tcp_wmem") + 2 * max("tcp_rmem") + (1 << 20)
}

/// A stream of `block` repeated (an odd length, so every offset differs).
pub struct Cyclic {
    block: Vec<u8>,
    pub sent: usize,
}

impl Cyclic {
    pub fn new(seed: u64) -> Cyclic {
        Cyclic {
            block: random_bytes((1 << 20) + 7, seed),
            sent: 0,
        }
    }

    /// Write until a write makes no progress for half a second, or until
    /// `cap` bytes; returns whether it stalled.
    pub async fn write_until_stalled(
        &mut self,
        w: &mut (impl tokio::io::AsyncWrite + Unpin),
        cap: usize,
    ) -> bool {
        use tokio::io::AsyncWriteExt;
        while self.sent < cap {
            let from = self.sent % self.block.len();
            let chunk = &self.block[from..(from + (64 << 10)).min(self.block.len())];
            match tokio::time::timeout(Duration::from_millis(500), w.write(chunk)).await {
                Ok(n) => self.sent += n.expect("client write"),
                Err(_) => return true,
            }
        }
        false
    }

    /// Write `more` bytes of the stream.
    pub async fn write_more(&mut self, w: &mut (impl tokio::io::AsyncWrite + Unpin), more: usize) {
        use tokio::io::AsyncWriteExt;
        let end = self.sent + more;
        while self.sent < end {
            let from = self.sent % self.block.len();
            let chunk = &self.block[from..self.block.len().min(from + end - self.sent)];
            w.write_all(chunk).await.unwrap();
            self.sent += chunk.len();
        }
    }

    /// Whether `got` is exactly the stream's first `sent` bytes.
    pub fn matches(&self, got: &[u8]) -> bool {
        got.len() == self.sent
            && got
                .iter()
                .enumerate()
                .all(|(i, b)| *b == self.block[i % self.block.len()])
    }
}

/// A process's resident memory in KiB, from /proc.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Through a relay (process `relay`) to a target that holds its end
/// unread: the client's writes stall within `bound` bytes, the relay's
/// memory does not grow (no queue of its own), and once the target reads,
/// everything written and 1 MiB more arrive intact, then the client ends.
pub async fn stalls_then_delivers(
    client: &mut (impl tokio::io::AsyncWrite + Unpin),
    mut held: tokio::net::TcpStream,
    relay: u32,
    bound: usize,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const CAP: usize = 1 << 30;
    assert!(bound * 2 < CAP, "raise CAP above {bound} bytes");
    let before = rss_kib(relay);
    let mut stream = Cyclic::new(7);
    assert!(
        stream.write_until_stalled(client, CAP).await,
        "never stalled"
    );
    assert!(
        stream.sent <= bound,
        "{} bytes went in while the target read nothing (at most {bound} can be held on the way): something queues them",
        stream.sent
    );
    let grown = rss_kib(relay).saturating_sub(before);
    assert!(grown < 8 << 10, "the relay grew by {grown} KiB");
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        held.read_to_end(&mut got).await.unwrap();
        got
    });
    stream.write_more(client, 1 << 20).await;
    client.shutdown().await.unwrap();
    assert!(stream.matches(&reader.await.unwrap()), "the bytes differ");
}

/// Give this test process (and so the servers it starts) the default
/// SIGHUP disposition, whatever it inherited: wirecat keeps an ignored
/// SIGHUP ignored (`nohup`), and the tests of SIGHUP need it caught.
pub fn sighup_default() {
    // SAFETY: signal(2) with SIG_DFL installs no handler code.
    unsafe { libc::signal(libc::SIGHUP, libc::SIG_DFL) };
}

/// Give `cmd`'s child our descriptor `fd` as its descriptor `at`, open
/// across exec, as inetd and systemd pass a socket. Only the child's copy
/// loses close-on-exec: cleared here, `fd` would leak into every child
/// that the tests running beside this one start meanwhile.
pub fn pass_fd(cmd: &mut Command, fd: RawFd, at: RawFd) -> &mut Command {
    // SAFETY: the closure calls only dup2(2) and fcntl(2), which are
    // async-signal-safe, as pre_exec requires.
    unsafe {
        cmd.pre_exec(move || {
            // dup2 onto itself would keep FD_CLOEXEC; clear it instead.
            let r = if fd == at {
                libc::fcntl(at, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, at)
            };
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Wait (bounded) until `path` no longer exists.
pub fn wait_gone(path: &Path) {
    poll_until(
        LIMIT,
        || (!path.exists()).then_some(()),
        || format!("{} still exists after {LIMIT:?}", path.display()),
    )
}

/// A port that was free a moment ago, for peer tools that cannot bind
/// port 0 and say which port they got.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait until something listens on 127.0.0.1:`port`, without connecting
/// (the peer tools serve one connection only): read /proc/net/tcp.
pub fn wait_listening(port: u16) {
    let needle = format!(":{port:04X} 00000000:0000 0A");
    let start = Instant::now();
    while !std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .contains(&needle)
    {
        assert!(start.elapsed() < LIMIT, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
