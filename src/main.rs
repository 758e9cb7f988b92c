//! Thin entry point: parse, dispatch, and let [`wirecat::exit::finish`]
//! print an error once and exit with its code.

use wirecat::cli::{habit_hint, usage_line, Cli};

fn main() {
    // A closed stdout (`| head`) must end quietly, not with a panic from print!.
    wirecat::sys::ignore_sigpipe();
    let cli = parse();
    wirecat::exit::finish(wirecat::run(cli))
}

/// The command line, or exit: a usage error is one line on stderr, exit 2
/// (an nc/ncat habit names the wirecat way; otherwise clap's message, tip
/// and usage); --help and --version print as clap does, exit 0.
fn parse() -> Cli {
    let argv = utf8_argv().unwrap_or_else(|line| {
        eprintln!("{line}");
        std::process::exit(wirecat::exit::Exit::Usage.code());
    });
    match wirecat::cli::try_parse(&argv) {
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

/// The command line as text, or the usage error for the first word that is
/// not UTF-8 (`std::env::args` would panic on it), its bytes escaped so the
/// error stays one printable line.
fn utf8_argv() -> Result<Vec<String>, String> {
    std::env::args_os()
        .enumerate()
        .map(|(n, word)| {
            word.into_string().map_err(|word| {
                format!(
                    "wirecat: argument {n} ({}) is not valid UTF-8; wirecat takes endpoints, paths and flags as text",
                    word.as_encoded_bytes().escape_ascii()
                )
            })
        })
        .collect()
}
