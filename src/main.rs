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
    let code = match wirecat::run(cli) {
        Ok(exit) => exit.code(),
        Err(err) => {
            if !err.reported {
                if events::mode() == events::Mode::Json {
                    events::emit(
                        "error",
                        None,
                        serde_json::json!({"message": err.to_string(), "exitCode": err.exit.code()}),
                    );
                } else {
                    eprintln!("{err}");
                }
            }
            err.exit.code()
        }
    };
    std::process::exit(code);
}
