//! Thin entry point: parse, dispatch, map the result to an exit code, print
//! an error once.

use clap::Parser;

use wirecat::cli::{habit_hint, usage_line, Cli};
use wirecat::events;

fn main() {
    // A closed stdout (`| head`) must end quietly, not with a panic from print!.
    wirecat::sys::ignore_sigpipe();
    let cli = parse();
    let (code, message) = match wirecat::run(cli) {
        Ok(exit) => (exit.code(), None),
        Err(err) => {
            if events::mode() != events::Mode::Json && !err.reported {
                eprintln!("{err}");
            }
            (err.exit.code(), Some(err.to_string()))
        }
    };
    // --json: the last line says how the process ends, with the failure's
    // one line (and hint) when it failed; the `error` events before it
    // name the failure once each.
    if events::mode() == events::Mode::Json {
        let mut fields = serde_json::json!({ "exitCode": code });
        if let Some(m) = message {
            fields["message"] = m.into();
        }
        events::emit("exit", None, fields);
    }
    std::process::exit(code);
}

/// The command line, or exit: a usage error is one line on stderr, exit 2
/// (an nc/ncat habit names the wirecat way; otherwise clap's message, tip
/// and usage); --help and --version print as clap does, exit 0.
fn parse() -> Cli {
    let argv: Vec<String> = std::env::args().collect();
    match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(err) => match habit_hint(&err, &argv).or_else(|| usage_line(&err)) {
            Some(line) => {
                eprintln!("{line}");
                std::process::exit(wirecat::exit::Exit::Usage.code());
            }
            None => err.exit(),
        },
    }
}
