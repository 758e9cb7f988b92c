//! The hidden `generate` command: shell completions and man pages, made from
//! the clap definitions so they can never describe flags that do not exist.
//! Their committed copies in `completions/` and `man/` are checked against
//! this output by a test.

use std::fs;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, GenerateArgs};
use crate::exit::{Error, Exit};

/// Every generated file, as (relative path, contents).
pub fn files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let mut cmd = Cli::command();
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, "wirecat", &mut buf);
        let name = match shell {
            Shell::Bash => "wirecat.bash",
            Shell::Zsh => "_wirecat",
            Shell::Fish => "wirecat.fish",
            Shell::Elvish => "wirecat.elv",
            _ => "_wirecat.ps1",
        };
        out.push((format!("completions/{name}"), buf));
    }
    let cmd = Cli::command();
    out.push(("man/wirecat.1".into(), render_man(cmd.clone())));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("wirecat-{}", sub.get_name());
        let page = sub.clone().name(name.clone()).display_name(name.clone());
        out.push((format!("man/{name}.1"), render_man(page)));
    }
    out
}

fn render_man(cmd: clap::Command) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .expect("rendering to a Vec cannot fail");
    buf
}

pub fn run(args: &GenerateArgs) -> Result<Exit, Error> {
    for (rel, contents) in files() {
        let path = args.dir.join(&rel);
        write(&path, &contents)
            .map_err(|e| Error::usage(format!("cannot write {}", path.display()), e))?;
    }
    Ok(Exit::Success)
}

fn write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, contents)
}
