//! `wirecat isip`: Node's `net.isIP` / `isIPv4` / `isIPv6` on the command
//! line, and with `--in` a `BlockList` filter over lines (`grepcidr`'s job).
//!
//! With no INPUT it streams stdin: large reads into one buffer, lines found
//! and classified together from vector bit masks by `ip::classify_lines`
//! (`--in`, `--json` and the rest find them with `memchr`), answers gathered
//! in a large buffer on the locked stdout. The
//! buffer holds a read and the line in progress, so memory stays constant
//! however long the file is (it grows only for a single line longer than the
//! buffer). A line ends at LF; a CR before it is not part of the input; a last
//! line without LF counts. Bytes that are not UTF-8 are simply not an address.
//! A closed stdout (`| head`) ends the run quietly with exit 0.

use std::io::{self, Read, Write};

use crate::cli::IsipArgs;
use crate::exit::{Error, Exit};
use crate::net::blocklist::BlockList;
use crate::net::ip;

/// Bytes asked of stdin per read; also the starting size of the line buffer.
const READ_SIZE: usize = 1 << 20;
/// Bytes gathered before a write to stdout.
const WRITE_SIZE: usize = 1 << 18;

pub(crate) fn run(args: &IsipArgs) -> Result<Exit, Error> {
    let rules = if args.rules.is_empty() {
        None
    } else {
        Some(BlockList::from_args(&args.rules)?)
    };
    let stdout = io::stdout();
    let mut judge = Judge {
        want: if args.v4 {
            Want::V4
        } else if args.v6 {
            Want::V6
        } else {
            Want::Any
        },
        rules,
        invert: args.invert,
        quiet: args.quiet,
        json: args.json,
        out: Vec::with_capacity(WRITE_SIZE + READ_SIZE),
        sink: stdout.lock(),
        all_passed: true,
    };
    let plain = judge.rules.is_none() && !judge.json && !judge.quiet && !args.v4 && !args.v6;
    let result = if args.input.is_empty() && plain {
        // The common case, `isip < log`, gets a loop of its own without the
        // per-line questions of the general one; it is most of the speed.
        judge.stdin(Judge::classify_lines)
    } else if args.input.is_empty() {
        judge.stdin(Judge::lines)
    } else {
        judge.inputs(&args.input)
    };
    match result.and_then(|()| judge.flush()) {
        Ok(()) if judge.all_passed => Ok(Exit::Success),
        Ok(()) => Ok(Exit::Failure),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Exit::Success),
        Err(e) => Err(Error::io(Exit::Failure, "isip", &e)),
    }
}

/// Which answer makes an input pass.
#[derive(Clone, Copy)]
enum Want {
    /// `isIP(input) != 0`
    Any,
    /// `isIPv4(input)`
    V4,
    /// `isIPv6(input)`
    V6,
}

struct Judge<W: Write> {
    want: Want,
    rules: Option<BlockList>,
    invert: bool,
    quiet: bool,
    json: bool,
    /// Answers not yet written: one write per `WRITE_SIZE` bytes, because a
    /// write per line would cost more than deciding the line.
    out: Vec<u8>,
    sink: W,
    all_passed: bool,
}

impl<W: Write> Judge<W> {
    fn flush(&mut self) -> io::Result<()> {
        self.sink.write_all(&self.out)?;
        self.out.clear();
        self.sink.flush()
    }

    fn inputs(&mut self, inputs: &[String]) -> io::Result<()> {
        for input in inputs {
            if !self.judge(input.as_bytes(), b"\n")? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Every line of stdin, in constant memory.
    /// Writes the gathered answers once there are enough of them.
    fn spill(&mut self) -> io::Result<()> {
        if self.out.len() >= WRITE_SIZE {
            self.sink.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    /// Feeds stdin to `each` in large chunks: `each` gets the bytes read so
    /// far and answers how many it consumed (whole lines), or `None` to stop.
    /// What it leaves is the start of a line, kept for the next read.
    fn stdin<F>(&mut self, mut each: F) -> io::Result<()>
    where
        F: FnMut(&mut Self, &[u8]) -> io::Result<Option<usize>>,
    {
        let stdin = io::stdin();
        let mut stdin = stdin.lock();
        let mut buf = vec![0u8; READ_SIZE];
        // buf[..pending] is the start of a line whose end is not read yet.
        let mut pending = 0;
        loop {
            if pending == buf.len() {
                buf.resize(buf.len() * 2, 0);
            }
            let n = match stdin.read(&mut buf[pending..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                if pending > 0 {
                    // The last line has no LF: give it one.
                    buf.truncate(pending);
                    buf.push(b'\n');
                    each(self, &buf)?;
                }
                return Ok(());
            }
            let filled = pending + n;
            let Some(used) = each(self, &buf[..filled])? else {
                return Ok(());
            };
            buf.copy_within(used..filled, 0);
            pending = filled - used;
        }
    }

    /// The general loop: every whole line of `chunk` through [`Judge::line`].
    fn lines(&mut self, chunk: &[u8]) -> io::Result<Option<usize>> {
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            if !self.line(&chunk[start..nl], b"\n")? {
                return Ok(None);
            }
            start = nl + 1;
        }
        Ok(Some(start))
    }

    /// The loop of plain `isip < log`, which is most of the use and all of
    /// the speed: no per-line questions about flags, and lines found and
    /// classified at once by [`ip::classify_lines`] from bit masks of the
    /// bytes where they start. A line it cannot take (longer than its
    /// window, or in the chunk's last bytes) goes to the byte parser.
    fn classify_lines(&mut self, chunk: &[u8]) -> io::Result<Option<usize>> {
        let mut start = 0;
        while start < chunk.len() {
            let run = ip::classify_lines(&chunk[start..], &mut self.out, WRITE_SIZE);
            start += run.used;
            self.all_passed &= run.all_passed;
            self.spill()?;
            if run.used > 0 {
                continue;
            }
            let rest = &chunk[start..];
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                break;
            };
            let line = &rest[..nl];
            let family = ip::is_ip(line.strip_suffix(b"\r").unwrap_or(line));
            self.out.extend_from_slice(&[b'0' + family, b'\n']);
            self.all_passed &= family != 0;
            start += nl + 1;
        }
        self.spill()?;
        Ok(Some(start))
    }

    /// One line without its LF; a CR before the LF goes back out with it.
    fn line(&mut self, line: &[u8], lf: &'static [u8]) -> io::Result<bool> {
        match line.strip_suffix(b"\r") {
            Some(input) => self.judge(input, b"\r\n"),
            None => self.judge(line, lf),
        }
    }

    /// Answer for one input; `Ok(false)` when the run can stop (`-q` met a
    /// failure, so the exit code is known).
    fn judge(&mut self, input: &[u8], newline: &[u8]) -> io::Result<bool> {
        // Only the filter needs the address; classifying needs the family.
        let addr = self.rules.as_ref().and_then(|_| ip::parse_ip(input));
        let family = match (&self.rules, addr) {
            (None, _) => ip::is_ip(input),
            (Some(_), None) => 0,
            (Some(_), Some(a)) if a.is_ipv4() => 4,
            (Some(_), Some(_)) => 6,
        };
        let asked = match self.want {
            Want::Any => family != 0,
            Want::V4 => family == 4,
            Want::V6 => family == 6,
        };
        let passed = match &self.rules {
            None => {
                self.answer(input, family, asked)?;
                asked
            }
            Some(rules) => {
                let rule = addr.filter(|_| asked).and_then(|a| rules.check(a));
                let passed = rule.is_some() != self.invert;
                if passed && !self.quiet {
                    let rule = rule.map(|r| r.to_string());
                    self.select(input, newline, family, rule.as_deref())?;
                }
                passed
            }
        };
        self.spill()?;
        if !passed {
            self.all_passed = false;
            if self.quiet {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The answer line of classification: `4`, `true`, or a JSON object.
    fn answer(&mut self, input: &[u8], family: u8, asked: bool) -> io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        if self.json {
            self.json_start(input, family)?;
            match self.want {
                Want::Any => {}
                Want::V4 => write!(self.out, r#","isIPv4":{asked}"#)?,
                Want::V6 => write!(self.out, r#","isIPv6":{asked}"#)?,
            }
            self.out.extend_from_slice(b"}\n");
            return Ok(());
        }
        match (self.want, family, asked) {
            (Want::Any, 4, _) => self.out.extend_from_slice(b"4\n"),
            (Want::Any, 6, _) => self.out.extend_from_slice(b"6\n"),
            (Want::Any, _, _) => self.out.extend_from_slice(b"0\n"),
            (_, _, true) => self.out.extend_from_slice(b"true\n"),
            (_, _, false) => self.out.extend_from_slice(b"false\n"),
        }
        Ok(())
    }

    /// A line the filter lets through: as it was read, or as JSON naming
    /// the rule it fell in (`null` with `--invert`).
    fn select(
        &mut self,
        input: &[u8],
        newline: &[u8],
        family: u8,
        rule: Option<&str>,
    ) -> io::Result<()> {
        if !self.json {
            self.out.extend_from_slice(input);
            self.out.extend_from_slice(newline);
            return Ok(());
        }
        self.json_start(input, family)?;
        self.out.write_all(br#","rule":"#)?;
        serde_json::to_writer(&mut self.out, &rule)?;
        self.out.extend_from_slice(b"}\n");
        Ok(())
    }

    fn json_start(&mut self, input: &[u8], family: u8) -> io::Result<()> {
        self.out.write_all(br#"{"input":"#)?;
        serde_json::to_writer(&mut self.out, &String::from_utf8_lossy(input))?;
        write!(self.out, r#","family":{family}"#)
    }
}
