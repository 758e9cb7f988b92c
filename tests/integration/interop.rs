//! wirecat against other implementations on both sides: nc.openbsd, socat,
//! ncat and Node's `net`. Bytes are compared by checksum. In CI the tools
//! are installed by .ci/run and a missing one fails; elsewhere it is skipped.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common::*;

fn data_file(dir: &std::path::Path, seed: u64) -> (std::path::PathBuf, String) {
    let data = random_bytes(3 << 20, seed);
    (write_file(dir, "data", &data), sha256(&data))
}

/// A peer tool listens (`server` with {PORT} and {OUT}); wirecat sends a file.
fn wirecat_sends_to(tool: &str, server: &str) {
    if !have(tool) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (data, sum) = data_file(dir.path(), 11);
    let out = dir.path().join("out");
    let port = free_port();
    let cmd = server
        .replace("{PORT}", &port.to_string())
        .replace("{OUT}", out.to_str().unwrap());
    let mut peer = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(port);
    // Receive-only peers (ncat --recv-only, socat -u) may FIN first; with
    // --allow-half-open we still send all of stdin, as the spec's table says.
    let mut client = wirecat()
        .args([
            "connect",
            "127.0.0.1",
            &port.to_string(),
            "--allow-half-open",
        ])
        .stdin(std::fs::File::open(&data).unwrap())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_child(&mut client).success(),
        "wirecat connect to {tool}"
    );
    wait_child(&mut peer);
    assert_eq!(sha256_file(&out), sum, "{tool} received every byte");
}

/// wirecat listens; a peer tool (`client` with {PORT} and {IN}) sends a file.
fn tool_sends_to_wirecat(tool: &str, client: &str) {
    if !have(tool) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (data, sum) = data_file(dir.path(), 12);
    let mut server = Server::start(
        &["listen", "127.0.0.1:0"],
        Stdio::null(),
        Stdio::piped(),
        Stdio::null(),
    );
    let cmd = client
        .replace("{PORT}", &server.port().to_string())
        .replace("{IN}", data.to_str().unwrap());
    let mut peer = Command::new("sh").arg("-c").arg(&cmd).spawn().unwrap();
    let got = server.stdout_to_end();
    assert!(server.wait().success(), "wirecat listen with {tool}");
    wait_child(&mut peer);
    assert_eq!(sha256(&got), sum, "wirecat received every byte from {tool}");
}

#[test]
fn nc_openbsd_both_sides() {
    wirecat_sends_to("nc.openbsd", "nc.openbsd -d -l 127.0.0.1 {PORT} > {OUT}");
    tool_sends_to_wirecat(
        "nc.openbsd",
        "nc.openbsd -N 127.0.0.1 {PORT} < {IN} > /dev/null",
    );
}

#[test]
fn socat_both_sides() {
    wirecat_sends_to(
        "socat",
        "socat -u TCP-LISTEN:{PORT},bind=127.0.0.1,reuseaddr CREATE:{OUT}",
    );
    tool_sends_to_wirecat("socat", "socat -u OPEN:{IN} TCP:127.0.0.1:{PORT}");
}

#[test]
fn ncat_both_sides() {
    wirecat_sends_to("ncat", "ncat -l 127.0.0.1 {PORT} --recv-only > {OUT}");
    tool_sends_to_wirecat("ncat", "ncat --send-only 127.0.0.1 {PORT} < {IN}");
}

const NODE_SERVER: &str = r#"
const net = require('net');
const crypto = require('crypto');
// allowHalfOpen: answer with the checksum of everything after the client's FIN.
const srv = net.createServer({ allowHalfOpen: true }, (s) => {
  const h = crypto.createHash('sha256');
  s.on('data', (d) => h.update(d));
  s.on('end', () => { s.end(h.digest('hex')); srv.close(); });
});
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
"#;

#[test]
fn node_server_replies_after_our_fin() {
    if !have("node") {
        return;
    }
    let mut node = Command::new("node")
        .arg("-e")
        .arg(NODE_SERVER)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(node.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (data, sum) = data_file(dir.path(), 13);
    let out = assert_cmd()
        .args(["connect", "127.0.0.1", &port])
        .pipe_stdin(&data)
        .unwrap()
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8(out).unwrap(), sum);
    wait_child(&mut node);
}

const NODE_CLIENT: &str = r#"
const net = require('net');
const crypto = require('crypto');
const [port, payload] = process.argv.slice(1);
const data = require('fs').readFileSync(payload);
const h = crypto.createHash('sha256');
const s = net.connect({ port: +port, host: '127.0.0.1', allowHalfOpen: true }, () => s.end(data));
s.on('data', (d) => h.update(d));
s.on('end', () => console.log(h.digest('hex')));
"#;

#[test]
fn node_client_full_exchange_with_allow_half_open() {
    if !have("node") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (theirs, their_sum) = data_file(dir.path(), 14);
    let ours = random_bytes(2 << 20, 15);
    let ours_path = write_file(dir.path(), "ours", &ours);
    let mut server = Server::start(
        &["listen", "127.0.0.1:0", "--allow-half-open"],
        std::fs::File::open(&ours_path).unwrap().into(),
        Stdio::piped(),
        Stdio::null(),
    );
    let node = Command::new("node")
        .arg("-e")
        .arg(NODE_CLIENT)
        .arg(server.port().to_string())
        .arg(&theirs)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let got = server.stdout_to_end();
    assert!(server.wait().success());
    let node_out = output_within(node);
    assert_eq!(sha256(&got), their_sum, "wirecat got node's bytes");
    assert_eq!(
        String::from_utf8(node_out.stdout).unwrap().trim(),
        sha256(&ours),
        "node got ours"
    );
}
