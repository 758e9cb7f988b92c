//! `wirecat isip` through the real binary: answers, exit codes, JSON, the
//! `--in` filter, and the stdin corners (CRLF, no final newline, bad UTF-8).

use assert_cmd::Command;

fn isip() -> Command {
    let mut cmd = Command::cargo_bin("wirecat").unwrap();
    cmd.env_clear().arg("isip");
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8(cmd.output().unwrap().stdout).unwrap()
}

#[test]
fn classifies_arguments_like_net_isip() {
    isip()
        .args(["1.2.3.4", "::1", "nope"])
        .assert()
        .code(1)
        .stdout("4\n6\n0\n");
    isip()
        .args(["1.2.3.4", "fe80::1%eth0"])
        .assert()
        .code(0)
        .stdout("4\n6\n");
}

#[test]
fn v4_and_v6_print_booleans() {
    isip()
        .args(["--v4", "1.2.3.4", "::1"])
        .assert()
        .code(1)
        .stdout("true\nfalse\n");
    isip()
        .args(["--v6", "::ffff:1.2.3.4"])
        .assert()
        .code(0)
        .stdout("true\n");
    isip().args(["--v4", "--v6", "1.2.3.4"]).assert().code(2);
}

#[test]
fn quiet_answers_by_exit_code_only() {
    isip().args(["-q", "1.2.3.4"]).assert().code(0).stdout("");
    isip()
        .args(["-q", "1.2.3.4", "01.2.3.4"])
        .assert()
        .code(1)
        .stdout("");
    isip()
        .args(["-q"])
        .write_stdin("1.2.3.4\nx\n::1\n")
        .assert()
        .code(1)
        .stdout("");
}

#[test]
fn json_prints_one_object_per_input() {
    let out = stdout_of(isip().args(["--json", "1.2.3.4", "a\"b", "::1"]));
    let objects: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        objects,
        vec![
            serde_json::json!({"input": "1.2.3.4", "family": 4}),
            serde_json::json!({"input": "a\"b", "family": 0}),
            serde_json::json!({"input": "::1", "family": 6}),
        ]
    );
    let out = stdout_of(isip().args(["--json", "--v6", "::1"]));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"input": "::1", "family": 6, "isIPv6": true})
    );
}

#[test]
fn stdin_lines_lf_crlf_and_last_line_without_newline() {
    isip()
        .write_stdin("1.2.3.4\r\n::1\n\nnope\r\n10.0.0.1")
        .assert()
        .code(1)
        .stdout("4\n6\n0\n0\n4\n");
    isip()
        .write_stdin("1.2.3.4\n::1")
        .assert()
        .code(0)
        .stdout("4\n6\n");
    isip().write_stdin("").assert().code(0).stdout("");
}

#[test]
fn invalid_utf8_is_simply_not_an_ip() {
    isip()
        .write_stdin(&b"1.2.3.4\n\xff\xfe\n::1%\xc3\n::1\n"[..])
        .assert()
        .code(1)
        .stdout("4\n0\n0\n6\n");
    let out = stdout_of(isip().arg("--json").write_stdin(&b"\xff1\n"[..]));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["family"], 0);
    assert_eq!(v["input"], "\u{fffd}1");
}

#[test]
fn long_lines_and_many_lines_stream() {
    // A line longer than the read buffer, then enough lines to cross many
    // buffer boundaries.
    let mut input = "a".repeat(3 << 20);
    input.push('\n');
    let mut expected = String::from("0\n");
    for i in 0..200_000u32 {
        input.push_str(&format!("10.{}.{}.{}\n", i >> 16, (i >> 8) & 255, i & 255));
        expected.push_str("4\n");
    }
    isip().write_stdin(input).assert().code(1).stdout(expected);
}

#[test]
fn filter_prints_lines_inside_the_rules() {
    let input = "10.1.2.3\r\n192.168.0.1\nnope\n::ffff:10.0.0.1\n2001:db8::5\n10.9.9.9";
    isip()
        .args(["--in", "10.0.0.0/8", "--in", "2001:db8::/32"])
        .write_stdin(input)
        .assert()
        .code(1)
        .stdout("10.1.2.3\r\n::ffff:10.0.0.1\n2001:db8::5\n10.9.9.9\n");
    isip()
        .args(["--in", "10.0.0.0/8", "--invert"])
        .write_stdin(input)
        .assert()
        .code(1)
        .stdout("192.168.0.1\nnope\n2001:db8::5\n");
    isip()
        .args(["--in", "10.0.0.0/8"])
        .write_stdin("10.0.0.1\n10.255.255.255\n")
        .assert()
        .code(0);
}

#[test]
fn filter_json_names_the_rule() {
    let out = stdout_of(
        isip()
            .args(["--json", "--in", "10.0.0.1-10.0.0.9", "--in", "10.0.0.0/8"])
            .write_stdin("10.0.0.5\n10.1.0.0\n11.0.0.0\n"),
    );
    let objects: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        objects,
        vec![
            serde_json::json!({"input": "10.0.0.5", "family": 4, "rule": "10.0.0.1-10.0.0.9"}),
            serde_json::json!({"input": "10.1.0.0", "family": 4, "rule": "10.0.0.0/8"}),
        ]
    );
}

#[test]
fn filter_with_family_keeps_only_that_family() {
    isip()
        .args(["--v6", "--in", "::/0"])
        .write_stdin("10.0.0.1\n::1\n")
        .assert()
        .stdout("::1\n");
}

#[test]
fn rules_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.txt");
    std::fs::write(&path, "# private\n10.0.0.0/8\n\n192.168.0.0/16 # home\n").unwrap();
    isip()
        .args(["--in", &format!("@{}", path.display())])
        .write_stdin("10.1.1.1\n8.8.8.8\n192.168.1.1\n")
        .assert()
        .stdout("10.1.1.1\n192.168.1.1\n");
}

#[test]
fn bad_rule_is_a_usage_error_naming_it() {
    isip()
        .args(["--in", "10.0.0.0/33", "1.2.3.4"])
        .assert()
        .code(2)
        .stdout("")
        .stderr("wirecat: bad rule \"10.0.0.0/33\": prefix must be 0-32 for IPv4\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.txt");
    std::fs::write(&path, "10.0.0.0/8\n10.0.0.300\n").unwrap();
    let out = isip()
        .args(["--in", &format!("@{}", path.display()), "1.2.3.4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("rules.txt:2: bad rule \"10.0.0.300\""),
        "{err}"
    );
    isip()
        .args(["--in", "@/nonexistent/rules.txt", "1.2.3.4"])
        .assert()
        .code(2);
}

#[test]
fn invert_needs_rules() {
    isip().args(["--invert", "1.2.3.4"]).assert().code(2);
}

#[test]
fn closed_stdout_ends_quietly_with_zero() {
    use std::io::{Read, Write};
    use std::process::{Command as StdCommand, Stdio};
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("wirecat"))
        .arg("isip")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 2];
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = "1.2.3.4\n".repeat(100_000);
        // Keep feeding until the child is gone.
        while stdin.write_all(chunk.as_bytes()).is_ok() {}
    });
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"4\n");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
