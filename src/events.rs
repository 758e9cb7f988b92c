//! The event stream: Node's `net` events, by name, on stderr.
//!
//! Stdout carries only data, so everything else a user may want to see —
//! `lookup`, `connect`, `end`, `close`, `listening`, `connection`, `drop` —
//! goes here. `-v` writes a line for people, `--json` one JSON object per
//! line for programs; with neither, events cost one atomic load. The sink is
//! process-wide because every layer (resolver, accept loop, bridge) emits.

use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// How events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Quiet,
    Human,
    Json,
}

static MODE: OnceLock<Mode> = OnceLock::new();

/// Choose the mode once, at start-up.
pub fn init(verbose: u8, json: bool) {
    let mode = if json {
        Mode::Json
    } else if verbose > 0 {
        Mode::Human
    } else {
        Mode::Quiet
    };
    let _ = MODE.set(mode);
}

pub fn mode() -> Mode {
    *MODE.get().unwrap_or(&Mode::Quiet)
}

/// Whether anybody listens; lets callers skip building fields.
pub fn enabled() -> bool {
    mode() != Mode::Quiet
}

/// Emit `event` for connection `conn` (if any) with `fields` (a JSON object).
pub fn emit(event: &str, conn: Option<u64>, fields: Value) {
    let mode = mode();
    if mode == Mode::Quiet {
        return;
    }
    let line = match mode {
        Mode::Json => json_line(event, conn, fields),
        _ => human_line(event, conn, &fields),
    };
    // One write per event, so lines from concurrent connections never mix.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

fn json_line(event: &str, conn: Option<u64>, fields: Value) -> String {
    let mut obj = Map::new();
    obj.insert("event".into(), event.into());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    obj.insert("time".into(), now.into());
    if let Some(c) = conn {
        obj.insert("conn".into(), c.into());
    }
    if let Value::Object(map) = fields {
        obj.extend(map);
    }
    let mut s = Value::Object(obj).to_string();
    s.push('\n');
    s
}

/// `text` made safe for one line of stderr: control characters (a newline
/// in a path, an escape sequence in a peer's name) are written as Rust
/// escapes (`\n`, `\u{1b}`), so a line read by people or by a log parser
/// is never split or used to repaint the terminal.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c.is_control() {
            true => out.extend(c.escape_default()),
            false => out.push(c),
        }
    }
    out.into()
}

fn human_line(event: &str, conn: Option<u64>, fields: &Value) -> String {
    let mut s = String::from("wirecat: ");
    if let Some(c) = conn {
        s.push_str(&format!("[{c}] "));
    }
    s.push_str(event);
    if let Value::Object(map) = fields {
        for (k, v) in map {
            match v {
                Value::String(t) => s.push_str(&format!(" {k}={}", one_line(t))),
                Value::Null => {}
                other => s.push_str(&format!(" {k}={other}")),
            }
        }
    }
    s.push('\n');
    s
}

/// What an `error` event is made of: Node's `err.code` and `err.message`.
pub trait NodeError {
    fn code(&self) -> &str;
    fn message(&self) -> String;
}

/// Fields of [`error`] that say where the failure is; they come before
/// `code` and `message`, the others after.
const WHERE: [&str; 2] = ["side", "host"];

/// The `error` event of connection `conn` (if any): `code` and `message`
/// from `err`, plus `extra` (a JSON object: `side`, `host` before them,
/// the rest, such as `syscall`, after; an `extra` `message` replaces
/// `err`'s).
pub fn error(conn: Option<u64>, err: &dyn NodeError, extra: Value) {
    if enabled() {
        emit("error", conn, error_fields(err, extra));
    }
}

fn error_fields(err: &dyn NodeError, extra: Value) -> Value {
    let mut fields = Map::new();
    let mut after = Map::new();
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            let to = if WHERE.contains(&k.as_str()) {
                &mut fields
            } else {
                &mut after
            };
            to.insert(k, v);
        }
    }
    fields.insert("code".into(), err.code().into());
    fields.insert("message".into(), err.message().into());
    fields.extend(after);
    Value::Object(fields)
}

/// A line every user sees, events or not (warnings, the chosen port).
pub fn notice(text: &str) {
    if mode() == Mode::Json {
        emit("warning", None, serde_json::json!({ "message": text }));
    } else {
        let _ = writeln!(std::io::stderr().lock(), "wirecat: {}", one_line(text));
    }
}

/// At most this many [`connection_error`] lines a second; the rest are
/// counted and summed up in one line.
pub const CONNECTION_ERRORS_PER_SECOND: u32 = 10;

/// The rate limiter of [`connection_error`]: lines shown in the current
/// one-second window, and those held back since the last summary.
struct ErrorWindow {
    started: Option<Instant>,
    shown: u32,
    suppressed: u64,
    server: &'static str,
}

static ERROR_WINDOW: Mutex<ErrorWindow> = Mutex::new(ErrorWindow {
    started: None,
    shown: 0,
    suppressed: 0,
    server: "",
});

/// A server's connection ended by a failure the server itself meets (a
/// `pipe` target refused or failing TLS verification, an `--exec` command
/// that cannot start): one line on stderr, `wirecat: SERVER: conn N:
/// WHAT`, without `-v`, since otherwise the only trace is a client seeing
/// its connection close. With `-v` or `--json` the connection's `error`
/// event says it instead. Rate-limited, so a flood of failing connections
/// cannot fill a disk: at most [`CONNECTION_ERRORS_PER_SECOND`] lines a
/// second, then one line saying how many more were not shown (written
/// when the next line is due, or when the server closes, see
/// [`flush_connection_errors`]).
pub fn connection_error(server: &'static str, conn: u64, what: &str) {
    if enabled() {
        return;
    }
    let mut w = ERROR_WINDOW.lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    let window_over = match w.started {
        Some(t) => now.duration_since(t) >= Duration::from_secs(1),
        None => true,
    };
    if window_over {
        write_suppressed(&mut w);
        w.started = Some(now);
        w.shown = 0;
    }
    w.server = server;
    if w.shown < CONNECTION_ERRORS_PER_SECOND {
        w.shown += 1;
        let _ = writeln!(
            std::io::stderr().lock(),
            "wirecat: {server}: conn {conn}: {}",
            one_line(what)
        );
    } else {
        w.suppressed += 1;
    }
}

/// Say how many [`connection_error`] lines were held back, if any (a
/// server calls it as it closes).
pub fn flush_connection_errors() {
    write_suppressed(&mut ERROR_WINDOW.lock().unwrap_or_else(|p| p.into_inner()));
}

fn write_suppressed(w: &mut ErrorWindow) {
    if w.suppressed > 0 {
        let _ = writeln!(
            std::io::stderr().lock(),
            "wirecat: {}: {} more connection errors not shown (at most {} a second; -v shows each)",
            w.server,
            w.suppressed,
            CONNECTION_ERRORS_PER_SECOND
        );
        w.suppressed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_line_has_event_time_conn_then_fields() {
        let line = json_line("close", Some(3), json!({"hadError": false, "bytesRead": 5}));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["event"], "close");
        assert_eq!(v["conn"], 3);
        assert_eq!(v["hadError"], false);
        assert_eq!(v["bytesRead"], 5);
        assert!(v["time"].as_u64().unwrap() > 1_600_000_000_000);
        assert!(line.ends_with('\n'));
    }

    struct Refused;

    impl NodeError for Refused {
        fn code(&self) -> &str {
            "ECONNREFUSED"
        }
        fn message(&self) -> String {
            "ECONNREFUSED (connection refused)".into()
        }
    }

    #[test]
    fn error_fields_put_where_first_and_details_last() {
        let extra = json!({"syscall": "connect", "side": "target"});
        let line = human_line("error", Some(2), &error_fields(&Refused, extra));
        assert_eq!(
            line,
            "wirecat: [2] error side=target code=ECONNREFUSED \
             message=ECONNREFUSED (connection refused) syscall=connect\n"
        );
        let v = error_fields(&Refused, json!({"message": "other"}));
        assert_eq!(v, json!({"code": "ECONNREFUSED", "message": "other"}));
    }

    #[test]
    fn human_line_is_one_line() {
        let line = human_line(
            "connect",
            None,
            &json!({"remoteAddress": "::1", "remotePort": 80}),
        );
        assert_eq!(line, "wirecat: connect remoteAddress=::1 remotePort=80\n");
    }
}
