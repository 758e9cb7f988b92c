//! Tests of `endpoint`: the grammar by example, and proptests over
//! arbitrary text (no panic; what parses is written back as itself).

use super::*;
use proptest::prelude::*;

fn tcp(host: Option<&str>, port: u16) -> Endpoint {
    Endpoint::Tcp {
        host: host.map(String::from),
        port,
        tls: false,
    }
}

#[test]
fn bare_port_is_tcp_without_host() {
    assert_eq!("8124".parse(), Ok(tcp(None, 8124)));
    assert_eq!(":8124".parse(), Ok(tcp(None, 8124)));
}

#[test]
fn host_and_port_forms() {
    assert_eq!(
        "example.com:8124".parse(),
        Ok(tcp(Some("example.com"), 8124))
    );
    assert_eq!("127.0.0.1:80".parse(), Ok(tcp(Some("127.0.0.1"), 80)));
    assert_eq!("[::1]:80".parse(), Ok(tcp(Some("::1"), 80)));
    assert_eq!("[fe80::1%lo]:80".parse(), Ok(tcp(Some("fe80::1%lo"), 80)));
    assert_eq!("tcp://localhost:1".parse(), Ok(tcp(Some("localhost"), 1)));
    assert_eq!(
        "TLS://example.com:443".parse(),
        Ok(Endpoint::Tcp {
            host: Some("example.com".into()),
            port: 443,
            tls: true
        })
    );
}

#[test]
fn paths_and_unix_forms() {
    assert_eq!(
        "/tmp/echo.sock".parse(),
        Ok(Endpoint::Unix("/tmp/echo.sock".into()))
    );
    assert_eq!("./sock".parse(), Ok(Endpoint::Unix("./sock".into())));
    assert_eq!("unix:sock".parse(), Ok(Endpoint::Unix("sock".into())));
    assert_eq!("unix:@wire".parse(), Ok(Endpoint::Abstract("wire".into())));
}

#[test]
fn pipes_and_fds() {
    assert_eq!(
        r"\\.\pipe\x".parse(),
        Ok(Endpoint::NamedPipe(r"\\.\pipe\x".into()))
    );
    assert_eq!(
        r"\\?\pipe\x".parse(),
        Ok(Endpoint::NamedPipe(r"\\?\pipe\x".into()))
    );
    assert_eq!(
        "npipe:x".parse(),
        Ok(Endpoint::NamedPipe(r"\\.\pipe\x".into()))
    );
    assert_eq!("fd:3".parse(), Ok(Endpoint::Fd(3)));
    assert_eq!("fd:systemd".parse(), Ok(Endpoint::Systemd));
}

#[test]
fn connect_defaults_and_two_words() {
    assert_eq!(
        Endpoint::for_connect("8124", None),
        Ok(tcp(Some("localhost"), 8124))
    );
    assert_eq!(
        Endpoint::for_connect("example.com", Some("80")),
        Ok(tcp(Some("example.com"), 80))
    );
    assert_eq!(
        Endpoint::for_connect("::1", Some("80")),
        Ok(tcp(Some("::1"), 80))
    );
    assert_eq!(Endpoint::for_connect("fd:3", None), Ok(Endpoint::Fd(3)));
    assert!(Endpoint::for_target("fd:3").is_err());
    assert!(Endpoint::for_target("fd:systemd").is_err());
    assert!(Endpoint::for_connect("localhost:0", None).is_err());
}

fn bad(s: &str) -> EndpointError {
    s.parse::<Endpoint>().expect_err(s)
}

#[test]
fn malformed_endpoints_explain_and_suggest() {
    let e = bad("::1:80");
    assert_eq!(e.suggestion.as_deref(), Some("[::1]:80"), "{e}");
    assert!(e.to_string().contains("did you mean [::1]:80?"));
    assert_eq!(bad("::1").suggestion.as_deref(), Some("[::1]:PORT"));
    assert_eq!(
        bad("localhost").suggestion.as_deref(),
        Some("localhost:PORT")
    );
    assert_eq!(bad("host:").suggestion.as_deref(), Some("host:PORT"));
    assert!(bad("host:http").why.contains("not a number"));
    assert!(bad("host:70000").why.contains("out of range"));
    assert!(bad("[::1").why.contains("closing"));
    assert!(bad("[::1]80").why.contains("port"));
    assert!(bad("[nope]:80").why.contains("not an IPv6"));
    // Found by the endpoint fuzz target: a `%` made anything pass.
    assert!(bad("[%0\u{1}\0]:03").why.contains("not an IPv6"));
    assert!(bad("[::1%]:80").why.contains("not an IPv6"));
    assert!(bad("[x%lo]:80").why.contains("not an IPv6"));
    assert_eq!(
        "[fe80::1%eth0.5]:80".parse(),
        Ok(tcp(Some("fe80::1%eth0.5"), 80))
    );
    assert!(bad("http://x:1").why.contains("unknown scheme"));
    assert!(bad("fd:x").why.contains("fd:N"));
    assert!(bad("unix:@").why.contains("name"));
    assert!(bad("").why.contains("empty"));
    assert!(bad("a b:1").why.contains("not a host"));
    let long = format!("/tmp/{}", "a".repeat(MAX_UNIX_PATH - 4));
    assert!(bad(&long).why.contains("at most 107"), "{}", bad(&long));
    assert!(long[..MAX_UNIX_PATH].parse::<Endpoint>().is_ok());
    let name = "n".repeat(MAX_UNIX_PATH + 1);
    assert!(bad(&format!("unix:@{name}")).why.contains("at most 107"));
    assert!(format!("unix:@{}", &name[1..]).parse::<Endpoint>().is_ok());
}

#[test]
fn display_round_trips() {
    for s in [
        "tcp://fd:80",
        "tcp://unix:1",
        "tcp://npipe:2",
        "unix:sock",
        "unix:tcp://x/y",
        "unix:fd:3/x",
        "example.com:80",
        "[::1]:80",
        "tls://a:1",
        "/tmp/x",
        "unix:@a",
        "fd:3",
        "8124",
    ] {
        let ep: Endpoint = s.parse().unwrap();
        assert_eq!(ep.to_string().parse::<Endpoint>().unwrap(), ep, "{s}");
    }
}

/// Strings over the characters the grammar cares about, so near misses
/// (`::1:80`, `[::1`, `unix:@`, `fd:-1`, `tcp://`) come often.
const NEAR: &str = r"(tcp://|tls://|TLS://|unix:|unix://|npipe:|fd:|\\\\\.\\pipe\\|@|\[|\]|:|/|\.|%|[0-9a-fA-F]|-|_| |systemd|localhost){0,12}";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Any text parses or is refused with a message; whatever parses
    /// is written back (`Display`, the form every message uses) as
    /// text that parses to the same endpoint.
    #[test]
    fn any_text_parses_or_is_refused_and_what_parses_round_trips(
        s in prop_oneof![NEAR, "\\PC{0,40}", ".{0,130}"],
    ) {
        if let Ok(ep) = s.parse::<Endpoint>() {
            let shown = ep.to_string();
            prop_assert_eq!(shown.parse::<Endpoint>(), Ok(ep), "{:?} shown as {:?}", s, shown);
        } else {
            let e = s.parse::<Endpoint>().unwrap_err();
            prop_assert!(!e.why.is_empty());
        }
        let _ = Endpoint::for_listen(&s);
        let _ = Endpoint::for_target(&s);
    }

    /// `connect HOST PORT` (two words) never panics, and for a host
    /// name or IPv4 address names what `HOST:PORT` names.
    #[test]
    fn two_words_agree_with_one(host in NEAR, port in "[0-9]{0,6}|.{0,4}") {
        let two = Endpoint::for_connect(&host, Some(&port));
        if let (Ok(ep), false) = (&two, host.contains(':') || host.contains('[')) {
            let one = Endpoint::for_connect(&format!("{host}:{port}"), None);
            prop_assert_eq!(one.as_ref(), Ok(ep), "{:?} {:?}", host, port);
        }
    }
}
