//! The committed completions and man pages must be what the code generates:
//! regenerate with `cargo run -- generate .` after changing a flag.

use clap::CommandFactory;

#[test]
fn completions_and_man_pages_match_the_cli() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (rel, want) in wirecat::commands::generate::files() {
        let have = std::fs::read(root.join(&rel)).unwrap_or_default();
        if have != want {
            stale.push(rel);
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; run `cargo run -- generate .` and commit the result"
    );
}

#[test]
fn every_command_has_a_man_page_and_each_shell_a_completion() {
    let names: Vec<String> = wirecat::commands::generate::files()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for cmd in ["connect", "listen", "echo", "pipe", "isip"] {
        assert!(names.contains(&format!("man/wirecat-{cmd}.1")), "{names:?}");
    }
    assert!(names.contains(&"man/wirecat.1".to_string()));
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("completions/"))
            .count(),
        5
    );
}

#[test]
fn clap_debug_assert() {
    wirecat::cli::Cli::command().debug_assert();
}

/// The generated man pages, by name (`wirecat`, `wirecat-connect`, ...), as
/// text with roff's escapes and fonts taken out.
fn pages() -> Vec<(String, String)> {
    wirecat::commands::generate::files()
        .into_iter()
        .filter_map(|(rel, text)| {
            let name = rel.strip_prefix("man/")?.strip_suffix(".1")?.to_string();
            let text = String::from_utf8(text).unwrap();
            Some((name, plain(&text)))
        })
        .collect()
}

fn plain(roff: &str) -> String {
    roff.replace("\\fB", "")
        .replace("\\fI", "")
        .replace("\\fR", "")
        .replace("\\-", "-")
}

/// The body of section `.SH TITLE` (quoted or not), up to the next one.
fn section<'a>(page: &'a str, title: &str) -> Option<&'a str> {
    let start = [format!(".SH \"{title}\"\n"), format!(".SH {title}\n")]
        .iter()
        .find_map(|h| page.find(h.as_str()).map(|i| i + h.len()))?;
    let rest = &page[start..];
    Some(&rest[..rest.find("\n.SH ").unwrap_or(rest.len())])
}

/// Each page carries the README's sections: its own EXAMPLES, EXIT STATUS,
/// ENVIRONMENT and SEE ALSO, and (every command with sockets) ENDPOINTS
/// and HALF-CLOSE.
#[test]
fn man_pages_carry_the_readme_sections() {
    let pages = pages();
    assert_eq!(
        pages.len(),
        6,
        "{:?}",
        pages.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    for (name, page) in &pages {
        let mut want = vec!["EXAMPLES", "EXIT STATUS", "ENVIRONMENT", "SEE ALSO"];
        if name != "wirecat-isip" {
            want.extend(["ENDPOINTS", "HALF-CLOSE"]);
        }
        for title in want {
            let body = section(page, title).unwrap_or_else(|| panic!("{name}: no {title}"));
            assert!(body.trim().len() > 10, "{name}: {title} is empty");
        }
        if let Some(cmd) = name.strip_prefix("wirecat-") {
            let examples = section(page, "EXAMPLES").unwrap();
            assert!(
                examples.contains(&format!("wirecat {cmd}")),
                "{name}: {examples}"
            );
        }
    }
    let top = &pages.iter().find(|p| p.0 == "wirecat").unwrap().1;
    let env = section(top, "ENVIRONMENT").unwrap();
    for var in [
        "WIRECAT_NO_SPLICE",
        "WIRECAT_NO_URING",
        "LISTEN_PID",
        "LISTEN_FDS",
    ] {
        assert!(env.contains(var), "{var} in {env}");
    }
}

/// A page names only pages that exist: no `wirecat-help(1)` (clap's help
/// subcommand has none), and SEE ALSO lists the others.
#[test]
fn man_pages_refer_only_to_pages_that_exist() {
    let pages = pages();
    let names: Vec<&str> = pages.iter().map(|p| p.0.as_str()).collect();
    let refs = regex::Regex::new(r"([A-Za-z0-9_.-]+)\(1\)").unwrap();
    for (name, page) in &pages {
        for cap in refs.captures_iter(page) {
            let r = &cap[1];
            if r.starts_with("wirecat") {
                assert!(
                    names.contains(&r),
                    "{name} refers to {r}(1), which does not exist"
                );
            }
        }
        let see = section(page, "SEE ALSO").unwrap();
        for cap in refs.captures_iter(see) {
            assert!(names.contains(&&cap[1]), "{name}: SEE ALSO {}(1)", &cap[1]);
        }
        for other in names.iter().filter(|n| *n != name) {
            assert!(
                see.contains(&format!("{other}(1)")),
                "{name}: SEE ALSO lacks {other}"
            );
        }
    }
}

/// The exit codes of src/exit.rs (`Name = N,` in `enum Exit`).
fn exit_codes() -> Vec<String> {
    let src = include_str!("../../src/exit.rs");
    let start = src.find("pub enum Exit {").unwrap();
    let body = &src[start..start + src[start..].find('}').unwrap()];
    let codes: Vec<String> = body
        .lines()
        .filter_map(|l| l.trim().strip_suffix(','))
        .filter_map(|l| l.split_once(" = ").map(|(_, n)| n.to_string()))
        .collect();
    assert!(codes.len() >= 9, "{codes:?}");
    codes
}

/// Every exit code is in wirecat(1)'s EXIT STATUS (and each command's but
/// isip's, whose are its own three), and in `wirecat --help`.
#[test]
fn every_exit_code_is_documented() {
    let codes = exit_codes();
    for (name, page) in pages() {
        let status = section(&page, "EXIT STATUS").unwrap();
        let listed: Vec<&str> = status
            .split(".TP\n")
            .filter_map(|item| item.lines().next())
            .collect();
        let want: Vec<String> = if name == "wirecat-isip" {
            vec!["0".into(), "1".into(), "2".into()]
        } else {
            codes.clone()
        };
        for code in &want {
            assert!(
                listed.contains(&code.as_str()),
                "{name}: exit {code} not in {listed:?}"
            );
        }
    }
    let help = wirecat::cli::Cli::command().render_long_help().to_string();
    for code in &codes {
        assert!(
            help.contains(&format!(" {code} ")),
            "wirecat --help lacks exit {code}: {help}"
        );
    }
}

/// The README stands alone: no link leaves the repository (no http(s)
/// address, no relative link that climbs out or names a missing file).
#[test]
fn readmes_link_only_inside_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)|<([a-z]+:[^>\s]+)>").unwrap();
    // Code may name a scheme (`--proxy http://HOST`); prose may not link.
    let code = regex::Regex::new(r"(?s)```.*?```|`[^`]*`").unwrap();
    for rel in ["README.md", "bench/README.md"] {
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        let prose = code.replace_all(&text, "");
        for scheme in ["http://", "https://", "ftp://", "mailto:"] {
            assert!(!prose.contains(scheme), "{rel} links outside: {scheme}");
        }
        let dir = root.join(rel).parent().unwrap().to_path_buf();
        for cap in link.captures_iter(&text) {
            let target = cap.get(1).or(cap.get(2)).unwrap().as_str();
            if target.starts_with('#') {
                continue;
            }
            let path = target.split('#').next().unwrap();
            let full = dir.join(path);
            assert!(
                !path.contains("..") && !path.starts_with('/') && !path.contains(':'),
                "{rel}: link {target} leaves the repository"
            );
            assert!(full.exists(), "{rel}: link {target} names no file here");
        }
    }
}

/// Every environment variable the code reads (`env::var("X")`,
/// `env::var_os("X")` anywhere under src/) is in wirecat(1)'s ENVIRONMENT.
#[test]
fn every_environment_variable_read_is_documented() {
    fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut texts = Vec::new();
    sources(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut texts,
    );
    let read = regex::Regex::new(r#"env::var(?:_os)?\(\s*"([A-Z0-9_]+)""#).unwrap();
    let vars: Vec<String> = texts
        .iter()
        .flat_map(|t| read.captures_iter(t).map(|c| c[1].to_string()))
        .collect();
    assert!(vars.iter().any(|v| v == "WIRECAT_NO_SPLICE"), "{vars:?}");
    let pages = pages();
    let top = &pages.iter().find(|p| p.0 == "wirecat").unwrap().1;
    let env = section(top, "ENVIRONMENT").unwrap();
    for var in &vars {
        assert!(
            env.contains(var.as_str()),
            "{var} is read but not in ENVIRONMENT: {env}"
        );
    }
}
