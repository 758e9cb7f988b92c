//! Thin entry point: parse, dispatch, map the result to an exit code, print
//! an error once.

use clap::Parser;

use wirecat::cli::Cli;
use wirecat::events;

fn main() {
    // A closed stdout (`| head`) must end quietly, not with a panic from print!.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let cli = Cli::parse();
    let (code, message) = match wirecat::run(cli) {
        Ok(exit) => (exit.code(), None),
        Err(err) => {
            let message = (!err.reported).then(|| err.to_string());
            if events::mode() != events::Mode::Json {
                if let Some(m) = &message {
                    eprintln!("{m}");
                }
            }
            (err.exit.code(), message)
        }
    };
    // --json: the last line says how the process ends, with the failure's
    // text only when no `error` event has told it already.
    if events::mode() == events::Mode::Json {
        let mut fields = serde_json::json!({ "exitCode": code });
        if let Some(m) = message {
            fields["message"] = m.into();
        }
        events::emit("exit", None, fields);
    }
    std::process::exit(code);
}
