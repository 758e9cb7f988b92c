//! `--proxy` against real proxies from Debian: microsocks (SOCKS5, with
//! and without a password), tinyproxy (HTTP CONNECT, with and without
//! Basic auth) and OpenSSH's dynamic forwarding (`ssh -D`: SOCKS4, 4a, 5
//! and 5h, half-close included), TLS to the target through a proxy, ssh's
//! ProxyCommand through wirecat, and `pipe`'s target through one.
//! microsocks and tinyproxy close both directions at the first FIN, so
//! through them each transfer goes one way.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;

use crate::common::*;

/// A peer tool, killed when dropped.
struct Tool(Child);

impl Drop for Tool {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_quiet(cmd: &mut Command) -> Tool {
    Tool(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// microsocks on a free port, with `auth` (user, password) if given.
fn microsocks(auth: Option<(&str, &str)>) -> Option<(Tool, u16)> {
    if !have("microsocks") {
        eprintln!("skipped: no microsocks");
        return None;
    }
    let port = free_port();
    let mut cmd = Command::new("microsocks");
    cmd.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
    if let Some((user, pass)) = auth {
        cmd.args(["-u", user, "-P", pass]);
    }
    let tool = spawn_quiet(&mut cmd);
    wait_listening(port);
    Some((tool, port))
}

/// tinyproxy on a free port, with Basic auth if given.
fn tinyproxy(dir: &Path, auth: Option<(&str, &str)>) -> Option<(Tool, u16)> {
    if !have("tinyproxy") {
        eprintln!("skipped: no tinyproxy");
        return None;
    }
    let port = free_port();
    let mut conf = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 20\nAllow 127.0.0.1\nLogLevel Critical\n"
    );
    if let Some((user, pass)) = auth {
        conf.push_str(&format!("BasicAuth {user} {pass}\n"));
    }
    let path = dir.join(format!("tinyproxy-{port}.conf"));
    std::fs::write(&path, conf).unwrap();
    let tool = spawn_quiet(Command::new("tinyproxy").arg("-d").arg("-c").arg(&path));
    wait_listening(port);
    Some((tool, port))
}

/// An sshd on loopback that lets this user in with a key of its own.
struct Sshd {
    _server: Tool,
    port: u16,
    key: PathBuf,
    user: String,
}

fn sshd(dir: &Path) -> Option<Sshd> {
    if !have("ssh") || !Path::new("/usr/sbin/sshd").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no sshd/ssh (openssh-server)"
        );
        eprintln!("skipped: no sshd");
        return None;
    }
    for name in ["host", "user"] {
        let ok = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(dir.join(name))
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
    std::fs::copy(dir.join("user.pub"), dir.join("authorized_keys")).unwrap();
    let port = free_port();
    let d = dir.display();
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\nPidFile {d}/sshd.pid\n\
         AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
         PermitRootLogin yes\nPasswordAuthentication no\nAllowTcpForwarding yes\n"
    );
    std::fs::write(dir.join("sshd_config"), config).unwrap();
    // Privilege separation wants this directory when run as root.
    let _ = std::fs::create_dir_all("/run/sshd");
    let server = spawn_quiet(
        Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config")),
    );
    wait_listening(port);
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    Some(Sshd {
        _server: server,
        port,
        key: dir.join("user"),
        user,
    })
}

impl Sshd {
    fn ssh(&self) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.arg("-i")
            .arg(&self.key)
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "BatchMode=yes", "-o", "LogLevel=ERROR"])
            .args(["-p", &self.port.to_string()]);
        cmd
    }

    /// `ssh -D`: a SOCKS4/5 proxy on a free port.
    fn dynamic_forward(&self) -> (Tool, u16) {
        let port = free_port();
        let tool = spawn_quiet(
            self.ssh()
                .args(["-N", "-o", "ExitOnForwardFailure=yes", "-D"])
                .arg(format!("127.0.0.1:{port}"))
                .arg(format!("{}@127.0.0.1", self.user)),
        );
        wait_listening(port);
        (tool, port)
    }
}

/// A target that sends `reply` and ends (if there is one), and reads
/// everything until our FIN; it returns the SHA-256 of what it read.
fn target(reply: Vec<u8>) -> (u16, JoinHandle<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = accept_within(&l);
        s.set_read_timeout(Some(LIMIT)).unwrap();
        if !reply.is_empty() {
            s.write_all(&reply).unwrap();
            s.shutdown(Shutdown::Write).unwrap();
        }
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        let _ = s.shutdown(Shutdown::Write);
        sha256(&got)
    });
    (port, t)
}

fn through(proxy: &str, target: &str, args: &[&str], stdin: Stdio) -> Output {
    output_within(
        wirecat()
            .args(["connect", "--proxy", proxy, target, "--json"])
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

/// Both directions through `proxy`, one transfer each (3 MiB out,
/// checksummed at the target; 3 MiB back, checksummed here), and the
/// events that say where the connection went.
fn carries_both_ways(proxy: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(3 << 20, 41);
    let file = write_file(dir.path(), "up", &data);
    let (port, peer) = target(Vec::new());
    let out = through(
        proxy,
        &format!("localhost:{port}"),
        &[],
        Stdio::from(std::fs::File::open(&file).unwrap()),
    );
    let ctx = format!("{proxy}: {}", String::from_utf8_lossy(&out.stderr));
    assert_exit(&out, 0, &ctx);
    assert_eq!(peer.join().unwrap(), sha256(&data), "{ctx}");
    let ev = events(&out.stderr);
    let shown = proxy
        .split_once('@')
        .map_or(proxy.to_string(), |(scheme_user, host)| {
            format!("{}://{host}", scheme_user.split("://").next().unwrap())
        });
    assert_eq!(find(&ev, "proxyConnect")["proxy"], shown, "{ctx}");
    let connect = find(&ev, "connect");
    assert_eq!(connect["remoteAddress"], "localhost", "{ctx}");
    assert_eq!(connect["remotePort"], port, "{ctx}");
    assert_eq!(find(&ev, "close")["bytesWritten"], data.len(), "{ctx}");

    let back = random_bytes(3 << 20, 42);
    let (port, peer) = target(back.clone());
    let out = through(
        proxy,
        &format!("127.0.0.1:{port}"),
        &["--recv-only"],
        Stdio::null(),
    );
    let ctx = format!("{proxy}: {}", String::from_utf8_lossy(&out.stderr));
    assert_exit(&out, 0, &ctx);
    assert_eq!(sha256(&out.stdout), sha256(&back), "{ctx}");
    assert_eq!(
        find(&events(&out.stderr), "close")["bytesRead"],
        back.len(),
        "{ctx}"
    );
    peer.join().unwrap();
}

#[test]
fn socks5_through_microsocks_carries_both_ways() {
    let Some((_tool, port)) = microsocks(None) else {
        return;
    };
    carries_both_ways(&format!("socks5://127.0.0.1:{port}"));
    carries_both_ways(&format!("socks5h://127.0.0.1:{port}"));
}

#[test]
fn socks5_passwords_are_sent_checked_and_never_shown() {
    let Some((_tool, port)) = microsocks(Some(("bob", "s3cret"))) else {
        return;
    };
    carries_both_ways(&format!("socks5h://bob:s3cret@127.0.0.1:{port}"));
    let proxy = format!("socks5h://127.0.0.1:{port}");
    let (tport, _peer) = target(Vec::new());
    let to = format!("127.0.0.1:{tport}");
    let user = through(&proxy, &to, &["--proxy-user", "bob:s3cret"], Stdio::null());
    assert_exit(&user, 0, String::from_utf8_lossy(&user.stderr));
    for (url, args, why) in [
        (
            format!("socks5h://bob:wrong@127.0.0.1:{port}"),
            &[][..],
            "refused the user name and password",
        ),
        (proxy.clone(), &[], "wants credentials"),
        (
            proxy.clone(),
            &["--proxy-user", "bob:nope"],
            "refused the user name",
        ),
    ] {
        let out = through(&url, &to, args, Stdio::null());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_exit(&out, 1, &err);
        assert_eq!(
            find(&events(&out.stderr), "error")["code"],
            "EACCES",
            "{err}"
        );
        assert!(err.contains(why), "{err}");
        for secret in ["wrong", "nope", "s3cret"] {
            assert!(!err.contains(secret), "{secret} shown: {err}");
        }
    }
}

#[test]
fn http_connect_through_tinyproxy_with_and_without_auth() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_open, open)) = tinyproxy(dir.path(), None) else {
        return;
    };
    carries_both_ways(&format!("http://127.0.0.1:{open}"));
    let (_auth, auth) = tinyproxy(dir.path(), Some(("bob", "s3cret"))).unwrap();
    carries_both_ways(&format!("http://bob:s3cret@127.0.0.1:{auth}"));

    let (tport, _peer) = target(Vec::new());
    let to = format!("127.0.0.1:{tport}");
    let out = through(&format!("http://127.0.0.1:{auth}"), &to, &[], Stdio::null());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_exit(&out, 1, &err);
    assert!(
        err.contains("407") && err.contains("wants credentials"),
        "{err}"
    );
    assert_eq!(
        find(&events(&out.stderr), "error")["code"],
        "EACCES",
        "{err}"
    );

    // The target refuses the proxy: the proxy's answer, as Node names it.
    let closed = free_port();
    let out = through(
        &format!("http://127.0.0.1:{open}"),
        &format!("127.0.0.1:{closed}"),
        &[],
        Stdio::null(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_exit(&out, 1, &err);
    assert_eq!(
        find(&events(&out.stderr), "error")["code"],
        "ECONNREFUSED",
        "{err}"
    );
    assert!(err.contains("HTTP 5"), "{err}");
}

/// A target that echoes until our FIN, then ends: a half-close test.
fn echo_target() -> (u16, JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = accept_within(&l);
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => s.write_all(&buf[..n]).unwrap(),
            }
        }
        let _ = s.shutdown(Shutdown::Write);
    });
    (port, t)
}

#[test]
fn every_socks_version_through_ssh_dynamic_forwarding_keeps_half_close() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sshd) = sshd(dir.path()) else {
        return;
    };
    let (_fwd, port) = sshd.dynamic_forward();
    let data = random_bytes(1 << 20, 43);
    let file = write_file(dir.path(), "echoed", &data);
    for scheme in ["socks5", "socks5h", "socks4", "socks4a"] {
        let (tport, peer) = echo_target();
        let out = through(
            &format!("{scheme}://127.0.0.1:{port}"),
            &format!("localhost:{tport}"),
            &[],
            Stdio::from(std::fs::File::open(&file).unwrap()),
        );
        let ctx = format!("{scheme}: {}", String::from_utf8_lossy(&out.stderr));
        assert_exit(&out, 0, &ctx);
        // Our FIN went through and the echo came back whole after it.
        assert_eq!(sha256(&out.stdout), sha256(&data), "{ctx}");
        peer.join().unwrap();
    }
    // A refused target: ssh just closes the channel.
    let out = through(
        &format!("socks5h://127.0.0.1:{port}"),
        &format!("127.0.0.1:{}", free_port()),
        &[],
        Stdio::null(),
    );
    assert_exit(&out, 1, String::from_utf8_lossy(&out.stderr));
}

#[test]
fn ssh_proxy_command_runs_through_wirecat_and_a_socks_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sshd) = sshd(dir.path()) else {
        return;
    };
    let (_fwd, port) = sshd.dynamic_forward();
    let proxy_command = format!(
        "ProxyCommand={} connect --proxy socks5h://127.0.0.1:{port} %h %p",
        bin().display()
    );
    let out = sshd
        .ssh()
        .args(["-o", &proxy_command])
        .arg(format!("{}@localhost", sshd.user))
        .args(["echo", "through-wirecat"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(out.stdout, b"through-wirecat\n", "{err}");
}

#[test]
fn tls_through_a_proxy_verifies_the_target_not_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sshd) = sshd(dir.path()) else {
        return;
    };
    let (_fwd, port) = sshd.dynamic_forward();
    let ca = crate::common::certs::Ca::new("wirecat proxy CA");
    let ca_pem = ca.write(dir.path(), "ca");
    let (cert, key) = ca.leaf(&["localhost"]).write(dir.path(), "server");
    let proxy = format!("socks5h://127.0.0.1:{port}");
    for (name, code) in [("localhost", 0), ("127.0.0.1", 3)] {
        let mut server = Server::json(&[
            "listen",
            "127.0.0.1:0",
            "--tls",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--recv-only",
        ]);
        let out = output_within(
            wirecat()
                .args(["connect", "--proxy", &proxy, "--json"])
                .arg(format!("tls://{name}:{}", server.port()))
                .args(["--ca", ca_pem.to_str().unwrap()])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let ctx = format!("{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert_exit(&out, code, &ctx);
        let ev = events(&out.stderr);
        if code == 0 {
            assert_eq!(find(&ev, "secureConnect")["authorized"], true, "{ctx}");
            server.wait_exit(LIMIT);
        } else {
            assert_eq!(
                find(&ev, "error")["code"],
                "ERR_TLS_CERT_ALTNAME_INVALID",
                "{ctx}"
            );
        }
    }
}

#[test]
fn pipe_reaches_its_target_through_a_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sshd) = sshd(dir.path()) else {
        return;
    };
    let (_fwd, port) = sshd.dynamic_forward();
    let (tport, peer) = echo_target();
    let mut relay = Server::json(&[
        "pipe",
        "127.0.0.1:0",
        &format!("localhost:{tport}"),
        "--proxy",
        &format!("socks5h://127.0.0.1:{port}"),
        "--once",
    ]);
    let data = random_bytes(1 << 20, 44);
    let file = write_file(dir.path(), "relayed", &data);
    let out = output_within(
        wirecat()
            .args(["connect", &format!("127.0.0.1:{}", relay.port())])
            .stdin(std::fs::File::open(&file).unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert_exit(&out, 0, String::from_utf8_lossy(&out.stderr));
    assert_eq!(sha256(&out.stdout), sha256(&data));
    peer.join().unwrap();
    relay.wait_exit(LIMIT);
    assert!(relay.events().iter().any(|e| e["event"] == "proxyConnect"));
}

#[test]
fn bad_proxy_use_is_a_usage_error_and_a_dead_proxy_is_exit_1() {
    for args in [
        &["connect", "--proxy", "ftp://127.0.0.1:1", "127.0.0.1", "1"][..],
        &["connect", "--proxy", "127.0.0.1:1080", "127.0.0.1", "1"],
        &[
            "connect",
            "--proxy",
            "https://127.0.0.1:1",
            "127.0.0.1",
            "1",
        ],
        &["connect", "--proxy-user", "a:b", "127.0.0.1", "1"],
        &["connect", "--proxy", "socks5://127.0.0.1:1", "/tmp/x.sock"],
        &["echo", "--proxy", "socks5://127.0.0.1:1", "127.0.0.1:0"],
    ] {
        let out = assert_cmd().args(args).timeout(LIMIT).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_exit(&out, 2, format!("{args:?}: {err}"));
    }
    let out = through(
        &format!("socks5h://127.0.0.1:{}", free_port()),
        "127.0.0.1:1",
        &[],
        Stdio::null(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_exit(&out, 1, &err);
    assert!(
        err.contains("cannot connect to proxy socks5h://127.0.0.1:"),
        "{err}"
    );
}

/// microsocks closes both directions at our FIN, so a request's answer is
/// lost unless the FIN is held back: the README's advice, pinned.
#[test]
fn no_shutdown_gets_the_answer_through_a_proxy_that_closes_at_the_first_fin() {
    let Some((_tool, port)) = microsocks(None) else {
        return;
    };
    let proxy = format!("socks5h://127.0.0.1:{port}");
    for (flags, answered) in [(&[][..], false), (&["--no-shutdown"][..], true)] {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let tport = l.local_addr().unwrap().port();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = accept_within(&l);
            s.set_read_timeout(Some(LIMIT)).unwrap();
            let mut ask = [0u8; 5];
            s.read_exact(&mut ask).unwrap();
            // Answer a little later, as a server that does some work.
            std::thread::sleep(std::time::Duration::from_millis(200));
            let _ = s.write_all(b"PONG\n");
        });
        let mut args = vec!["--send", r"PING\n"];
        args.extend_from_slice(flags);
        let out = through(&proxy, &format!("127.0.0.1:{tport}"), &args, Stdio::null());
        peer.join().unwrap();
        let ctx = format!("{flags:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_exit(&out, 0, &ctx);
        let want: &[u8] = if answered { b"PONG\n" } else { b"" };
        assert_eq!(out.stdout, want, "{ctx}");
    }
}
