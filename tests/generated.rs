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
