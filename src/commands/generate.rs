//! The hidden `generate` command: shell completions and man pages, made from
//! the clap definitions so they can never describe flags that do not exist.
//! Their committed copies in `completions/` and `man/` are checked against
//! this output by a test. The man pages add the README's sections that
//! clap does not know (module `sections`).

mod sections;

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
    // `help` is clap's own subcommand, with no page of its own.
    let cmd = Cli::command().disable_help_subcommand(true);
    let subs: Vec<&clap::Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    let mut pages = vec!["wirecat".to_string()];
    pages.extend(subs.iter().map(|s| format!("wirecat-{}", s.get_name())));
    out.push((
        "man/wirecat.1".into(),
        render_man(cmd.clone(), None, &pages),
    ));
    for sub in subs {
        let name = format!("wirecat-{}", sub.get_name());
        let page = sub.clone().name(name.clone()).display_name(name.clone());
        let text = render_man(page, Some(sub.get_name()), &pages);
        out.push((format!("man/{name}.1"), text));
    }
    out
}

/// clap's page with [`sections`]'s before its VERSION (or at the end).
/// wirecat(1)'s `after_help` (clap's EXTRA) is left out: its EXIT STATUS
/// says the same in full.
fn render_man(cmd: clap::Command, command: Option<&str>, pages: &[String]) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .expect("rendering to a Vec cannot fail");
    let mut page = String::from_utf8(buf).expect("clap_mangen writes UTF-8");
    if command.is_none() {
        remove_section(&mut page, "EXTRA");
    }
    let at = page.find("\n.SH VERSION\n").map_or(page.len(), |i| i + 1);
    page.insert_str(at, &sections::render(command, pages));
    page.into_bytes()
}

/// Remove the section `.SH TITLE` from a rendered page, up to the next one.
fn remove_section(page: &mut String, title: &str) {
    let head = format!("\n.SH {title}\n");
    if let Some(start) = page.find(&head) {
        let body = start + head.len();
        let end = page[body..].find("\n.SH ").map_or(page.len(), |i| body + i);
        page.replace_range(start..end, "");
    }
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
