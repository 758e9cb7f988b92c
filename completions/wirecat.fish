# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_wirecat_global_optspecs
    string join \n h/help V/version
end

function __fish_wirecat_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_wirecat_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_wirecat_using_subcommand
    set -l cmd (__fish_wirecat_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c wirecat -n "__fish_wirecat_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wirecat -n "__fish_wirecat_needs_command" -s V -l version -d 'Print version'
complete -c wirecat -n "__fish_wirecat_needs_command" -f -a "connect" -d 'Open one connection and bridge it to stdin/stdout (net.connect)'
complete -c wirecat -n "__fish_wirecat_needs_command" -f -a "c" -d 'Open one connection and bridge it to stdin/stdout (net.connect)'
complete -c wirecat -n "__fish_wirecat_needs_command" -f -a "listen" -d 'Accept a connection (or many with -k) and bridge it to stdin/stdout (server.listen)'
complete -c wirecat -n "__fish_wirecat_needs_command" -f -a "l" -d 'Accept a connection (or many with -k) and bridge it to stdin/stdout (server.listen)'
complete -c wirecat -n "__fish_wirecat_needs_command" -f -a "echo" -d 'Echo server: every connection receives its own bytes back (c.pipe(c))'
complete -c wirecat -n "__fish_wirecat_needs_command" -f -a "pipe" -d 'Relay: accept on LISTEN, connect each connection to TARGET, copy both ways'
complete -c wirecat -n "__fish_wirecat_needs_command" -f -a "isip" -d 'Classify strings as IPv4 / IPv6 / not an IP (net.isIP), or filter by rules'
complete -c wirecat -n "__fish_wirecat_needs_command" -f -a "generate" -d 'Write shell completions and man pages (for packagers)'
complete -c wirecat -n "__fish_wirecat_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l wait -d 'Retry for up to SECS seconds (or 500ms, 2m) until the name resolves and the target accepts (wait-for-port)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l send -d 'Send TEXT instead of stdin (escapes \\r \\n \\t \\0 \\e \\\\ \\xHH are understood, as for echo --banner)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l expect -d 'Succeed once received data matches REGEX (exit 1 if the connection ends first)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l deny -d 'Outbound BlockList: never connect to an address inside RULE (repeatable, or @FILE)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l local-address -d 'localAddress: the address to connect from' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l local-port -d 'localPort: the port to connect from' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l resolve -d 'lookup: answer HOST with ADDR instead of asking DNS; HOST:PORT:ADDR (curl\'s form) only for that port (repeatable; ADDR may be a list: A,B)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l attempt-timeout -d 'autoSelectFamilyAttemptTimeout: milliseconds (or 1s, …) before the next address is tried' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l connect-timeout -d 'Give up connecting after MS milliseconds (or 500ms, 5s, 2m; exit 4)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l proxy -d 'Reach TCP targets through a proxy: socks5://, socks5h:// (the proxy resolves), socks4://, socks4a:// or http:// (CONNECT), as curl spells them; [USER:PASS@]HOST[:PORT], port 1080 by default' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l proxy-user -d 'Credentials for --proxy (instead of USER:PASS@ in its URL; never shown in events)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l keepalive -d 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l timeout -d 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l family -d 'family: 0 (any), 4 or 6' -r -f -a "0\t''
4\t''
6\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l linger -d 'After stdin\'s EOF, give the peer at most SECS (or 500ms, 2m) to end its side, then close; exit 0 (nc\'s -q)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l ca -d 'Trust anchors (PEM) for the peer\'s certificate (client default: the system\'s roots)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l cert -d 'Our certificate chain (PEM)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l key -d 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l alpn -d 'ALPN protocol to offer (client) or accept (server) (repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l tls-min -d 'Lowest TLS version allowed' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l tls-max -d 'Highest TLS version allowed (1.2 to test or reach old peers)' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l key-password-file -d 'Password of an encrypted PKCS#8 --key (first line of FILE)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l handshake-timeout -d 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l servername -d 'SNI server name, also checked in the certificate (default: the host, when it is a name)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l pin-sha256 -d 'Trust exactly the certificate with this SHA-256 fingerprint (AB:CD:…, colons optional, as a self-signed server prints it and `openssl x509 -fingerprint -sha256` shows it) instead of a CA; implies --tls' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l progress -d 'Show progress on stderr (bytes, rates, ETA; servers: connections and bytes), and a summary line when done: `auto` (the default when given) only on a terminal, `always` even when stderr is not one' -r -f -a "auto\t''
always\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -s z -l zero-io -d 'Only check which ports are open (PORT may be a list or range: 22,80,8000-8010)'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l no-auto-select-family -d 'autoSelectFamily=false: try addresses one at a time, no Happy Eyeballs'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l nodelay -d 'noDelay: disable Nagle\'s algorithm (TCP_NODELAY)'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -s 4 -d 'family: only IPv4'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -s 6 -d 'family: only IPv6'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l allow-half-open -d 'allowHalfOpen: after the peer\'s FIN, keep sending stdin until its EOF'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l recv-only -d 'readable=false: read nothing from stdin and never half-close'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l send-only -d 'writable=false: send stdin, discard what arrives'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l crlf -d 'Turn LF into CRLF on the way out (telnet habit)'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l hex -d 'Show received bytes as a hex dump on stdout'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l no-shutdown -d 'Send no FIN at stdin\'s EOF: end only at the peer\'s FIN, --linger or --timeout (ncat\'s --no-shutdown)'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l reset -d 'resetAndDestroy(): close with RST instead of FIN'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l tls -d 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l insecure -d 'Do not verify the server\'s certificate (warned every time)'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -s v -l verbose -d 'Print Node\'s events (lookup, connect, end, close, …) on stderr for people'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -l json -d 'Print events on stderr as one JSON object per line'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -s h -l help -d 'Print help'
complete -c wirecat -n "__fish_wirecat_using_subcommand connect" -s V -l version -d 'Print version'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l wait -d 'Retry for up to SECS seconds (or 500ms, 2m) until the name resolves and the target accepts (wait-for-port)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l send -d 'Send TEXT instead of stdin (escapes \\r \\n \\t \\0 \\e \\\\ \\xHH are understood, as for echo --banner)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l expect -d 'Succeed once received data matches REGEX (exit 1 if the connection ends first)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l deny -d 'Outbound BlockList: never connect to an address inside RULE (repeatable, or @FILE)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l local-address -d 'localAddress: the address to connect from' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l local-port -d 'localPort: the port to connect from' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l resolve -d 'lookup: answer HOST with ADDR instead of asking DNS; HOST:PORT:ADDR (curl\'s form) only for that port (repeatable; ADDR may be a list: A,B)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l attempt-timeout -d 'autoSelectFamilyAttemptTimeout: milliseconds (or 1s, …) before the next address is tried' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l connect-timeout -d 'Give up connecting after MS milliseconds (or 500ms, 5s, 2m; exit 4)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l proxy -d 'Reach TCP targets through a proxy: socks5://, socks5h:// (the proxy resolves), socks4://, socks4a:// or http:// (CONNECT), as curl spells them; [USER:PASS@]HOST[:PORT], port 1080 by default' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l proxy-user -d 'Credentials for --proxy (instead of USER:PASS@ in its URL; never shown in events)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l keepalive -d 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l timeout -d 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l family -d 'family: 0 (any), 4 or 6' -r -f -a "0\t''
4\t''
6\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l linger -d 'After stdin\'s EOF, give the peer at most SECS (or 500ms, 2m) to end its side, then close; exit 0 (nc\'s -q)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l ca -d 'Trust anchors (PEM) for the peer\'s certificate (client default: the system\'s roots)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l cert -d 'Our certificate chain (PEM)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l key -d 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l alpn -d 'ALPN protocol to offer (client) or accept (server) (repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l tls-min -d 'Lowest TLS version allowed' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l tls-max -d 'Highest TLS version allowed (1.2 to test or reach old peers)' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l key-password-file -d 'Password of an encrypted PKCS#8 --key (first line of FILE)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l handshake-timeout -d 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l servername -d 'SNI server name, also checked in the certificate (default: the host, when it is a name)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l pin-sha256 -d 'Trust exactly the certificate with this SHA-256 fingerprint (AB:CD:…, colons optional, as a self-signed server prints it and `openssl x509 -fingerprint -sha256` shows it) instead of a CA; implies --tls' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l progress -d 'Show progress on stderr (bytes, rates, ETA; servers: connections and bytes), and a summary line when done: `auto` (the default when given) only on a terminal, `always` even when stderr is not one' -r -f -a "auto\t''
always\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -s z -l zero-io -d 'Only check which ports are open (PORT may be a list or range: 22,80,8000-8010)'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l no-auto-select-family -d 'autoSelectFamily=false: try addresses one at a time, no Happy Eyeballs'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l nodelay -d 'noDelay: disable Nagle\'s algorithm (TCP_NODELAY)'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -s 4 -d 'family: only IPv4'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -s 6 -d 'family: only IPv6'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l allow-half-open -d 'allowHalfOpen: after the peer\'s FIN, keep sending stdin until its EOF'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l recv-only -d 'readable=false: read nothing from stdin and never half-close'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l send-only -d 'writable=false: send stdin, discard what arrives'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l crlf -d 'Turn LF into CRLF on the way out (telnet habit)'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l hex -d 'Show received bytes as a hex dump on stdout'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l no-shutdown -d 'Send no FIN at stdin\'s EOF: end only at the peer\'s FIN, --linger or --timeout (ncat\'s --no-shutdown)'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l reset -d 'resetAndDestroy(): close with RST instead of FIN'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l tls -d 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l insecure -d 'Do not verify the server\'s certificate (warned every time)'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -s v -l verbose -d 'Print Node\'s events (lookup, connect, end, close, …) on stderr for people'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -l json -d 'Print events on stderr as one JSON object per line'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -s h -l help -d 'Print help'
complete -c wirecat -n "__fish_wirecat_using_subcommand c" -s V -l version -d 'Print version'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -s e -l exec -d 'pauseOnConnect: hand each connection, unread, to CMD as its stdin/stdout (no shell); with --tls, CMD gets the plaintext' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -s c -l sh-exec -d 'As --exec, but CMD is run by /bin/sh -c' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l backlog -d 'backlog: length of the pending-connection queue' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l max-connections -d 'maxConnections: close connections over N at once (a `drop` event)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l ready-file -d 'Write the bound address to PATH (atomically) once accepting' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l allow -d 'BlockList: admit only peers inside RULE (address, START-END, NET/PREFIX, @FILE of one or more; repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l deny -d 'BlockList: close peers inside RULE before reading or writing a byte (repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l keepalive -d 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l timeout -d 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l family -d 'family: 0 (any), 4 or 6' -r -f -a "0\t''
4\t''
6\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l linger -d 'After stdin\'s EOF, give the peer at most SECS (or 500ms, 2m) to end its side, then close; exit 0 (nc\'s -q)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l ca -d 'Trust anchors (PEM) for the peer\'s certificate (client default: the system\'s roots)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l cert -d 'Our certificate chain (PEM)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l key -d 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l alpn -d 'ALPN protocol to offer (client) or accept (server) (repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l tls-min -d 'Lowest TLS version allowed' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l tls-max -d 'Highest TLS version allowed (1.2 to test or reach old peers)' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l key-password-file -d 'Password of an encrypted PKCS#8 --key (first line of FILE)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l handshake-timeout -d 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l sni -d 'Serve CERT/KEY to clients asking for NAME (repeatable; --cert/--key is the default)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l progress -d 'Show progress on stderr (bytes, rates, ETA; servers: connections and bytes), and a summary line when done: `auto` (the default when given) only on a terminal, `always` even when stderr is not one' -r -f -a "auto\t''
always\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l workers -d 'Run N accept loops on N threads (SO_REUSEPORT), the multi-task server [default: 1, as Node]' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -s k -l keep-open -d 'Keep serving after the first connection (stdin goes to every open connection)'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l broker -d 'Relay each client\'s bytes to every other client (and to stdout; stdin goes to all), dropping a client that does not read (ncat\'s --broker; implies -k)'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l chat -d '--broker in lines, each prefixed with its sender\'s name (userN), joins and leaves announced (ncat\'s --chat)'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l ipv6-only -d 'ipv6Only: do not accept IPv4 on an IPv6 socket'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l exclusive -d 'exclusive: no SO_REUSEPORT sharing (SO_REUSEADDR is always set)'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l readable-all -d 'readableAll: make the Unix socket readable by everyone'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l writable-all -d 'writableAll: make the Unix socket writable by everyone'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l nodelay -d 'noDelay: disable Nagle\'s algorithm (TCP_NODELAY)'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -s 4 -d 'family: only IPv4'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -s 6 -d 'family: only IPv6'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l allow-half-open -d 'allowHalfOpen: after the peer\'s FIN, keep sending stdin until its EOF'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l recv-only -d 'readable=false: read nothing from stdin and never half-close'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l send-only -d 'writable=false: send stdin, discard what arrives'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l crlf -d 'Turn LF into CRLF on the way out (telnet habit)'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l hex -d 'Show received bytes as a hex dump on stdout'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l no-shutdown -d 'Send no FIN at stdin\'s EOF: end only at the peer\'s FIN, --linger or --timeout (ncat\'s --no-shutdown)'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l reset -d 'resetAndDestroy(): close with RST instead of FIN'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l tls -d 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l require-client-cert -d 'Refuse clients without a certificate issued by --ca (mutual TLS)'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -s v -l verbose -d 'Print Node\'s events (lookup, connect, end, close, …) on stderr for people'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -l json -d 'Print events on stderr as one JSON object per line'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -s h -l help -d 'Print help'
complete -c wirecat -n "__fish_wirecat_using_subcommand listen" -s V -l version -d 'Print version'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -s e -l exec -d 'pauseOnConnect: hand each connection, unread, to CMD as its stdin/stdout (no shell); with --tls, CMD gets the plaintext' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -s c -l sh-exec -d 'As --exec, but CMD is run by /bin/sh -c' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l backlog -d 'backlog: length of the pending-connection queue' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l max-connections -d 'maxConnections: close connections over N at once (a `drop` event)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l ready-file -d 'Write the bound address to PATH (atomically) once accepting' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l allow -d 'BlockList: admit only peers inside RULE (address, START-END, NET/PREFIX, @FILE of one or more; repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l deny -d 'BlockList: close peers inside RULE before reading or writing a byte (repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l keepalive -d 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l timeout -d 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l family -d 'family: 0 (any), 4 or 6' -r -f -a "0\t''
4\t''
6\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l linger -d 'After stdin\'s EOF, give the peer at most SECS (or 500ms, 2m) to end its side, then close; exit 0 (nc\'s -q)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l ca -d 'Trust anchors (PEM) for the peer\'s certificate (client default: the system\'s roots)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l cert -d 'Our certificate chain (PEM)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l key -d 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l alpn -d 'ALPN protocol to offer (client) or accept (server) (repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l tls-min -d 'Lowest TLS version allowed' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l tls-max -d 'Highest TLS version allowed (1.2 to test or reach old peers)' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l key-password-file -d 'Password of an encrypted PKCS#8 --key (first line of FILE)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l handshake-timeout -d 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l sni -d 'Serve CERT/KEY to clients asking for NAME (repeatable; --cert/--key is the default)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l progress -d 'Show progress on stderr (bytes, rates, ETA; servers: connections and bytes), and a summary line when done: `auto` (the default when given) only on a terminal, `always` even when stderr is not one' -r -f -a "auto\t''
always\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l workers -d 'Run N accept loops on N threads (SO_REUSEPORT), the multi-task server [default: 1, as Node]' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -s k -l keep-open -d 'Keep serving after the first connection (stdin goes to every open connection)'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l broker -d 'Relay each client\'s bytes to every other client (and to stdout; stdin goes to all), dropping a client that does not read (ncat\'s --broker; implies -k)'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l chat -d '--broker in lines, each prefixed with its sender\'s name (userN), joins and leaves announced (ncat\'s --chat)'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l ipv6-only -d 'ipv6Only: do not accept IPv4 on an IPv6 socket'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l exclusive -d 'exclusive: no SO_REUSEPORT sharing (SO_REUSEADDR is always set)'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l readable-all -d 'readableAll: make the Unix socket readable by everyone'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l writable-all -d 'writableAll: make the Unix socket writable by everyone'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l nodelay -d 'noDelay: disable Nagle\'s algorithm (TCP_NODELAY)'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -s 4 -d 'family: only IPv4'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -s 6 -d 'family: only IPv6'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l allow-half-open -d 'allowHalfOpen: after the peer\'s FIN, keep sending stdin until its EOF'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l recv-only -d 'readable=false: read nothing from stdin and never half-close'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l send-only -d 'writable=false: send stdin, discard what arrives'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l crlf -d 'Turn LF into CRLF on the way out (telnet habit)'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l hex -d 'Show received bytes as a hex dump on stdout'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l no-shutdown -d 'Send no FIN at stdin\'s EOF: end only at the peer\'s FIN, --linger or --timeout (ncat\'s --no-shutdown)'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l reset -d 'resetAndDestroy(): close with RST instead of FIN'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l tls -d 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l require-client-cert -d 'Refuse clients without a certificate issued by --ca (mutual TLS)'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -s v -l verbose -d 'Print Node\'s events (lookup, connect, end, close, …) on stderr for people'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -l json -d 'Print events on stderr as one JSON object per line'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -s h -l help -d 'Print help'
complete -c wirecat -n "__fish_wirecat_using_subcommand l" -s V -l version -d 'Print version'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l banner -d 'Send TEXT to each connection first (escapes \\r \\n \\t \\0 \\e \\\\ \\xHH are understood)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l backlog -d 'backlog: length of the pending-connection queue' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l max-connections -d 'maxConnections: close connections over N at once (a `drop` event)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l ready-file -d 'Write the bound address to PATH (atomically) once accepting' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l workers -d 'Run N accept loops on N threads (SO_REUSEPORT), the multi-task server [default: 1, as Node]' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l allow -d 'BlockList: admit only peers inside RULE (address, START-END, NET/PREFIX, @FILE of one or more; repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l deny -d 'BlockList: close peers inside RULE before reading or writing a byte (repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l keepalive -d 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l timeout -d 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l family -d 'family: 0 (any), 4 or 6' -r -f -a "0\t''
4\t''
6\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l ca -d 'Trust anchors (PEM) for the peer\'s certificate (client default: the system\'s roots)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l cert -d 'Our certificate chain (PEM)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l key -d 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l alpn -d 'ALPN protocol to offer (client) or accept (server) (repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l tls-min -d 'Lowest TLS version allowed' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l tls-max -d 'Highest TLS version allowed (1.2 to test or reach old peers)' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l key-password-file -d 'Password of an encrypted PKCS#8 --key (first line of FILE)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l handshake-timeout -d 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l sni -d 'Serve CERT/KEY to clients asking for NAME (repeatable; --cert/--key is the default)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l progress -d 'Show progress on stderr (bytes, rates, ETA; servers: connections and bytes), and a summary line when done: `auto` (the default when given) only on a terminal, `always` even when stderr is not one' -r -f -a "auto\t''
always\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l once -d 'Serve one connection, then exit'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l ipv6-only -d 'ipv6Only: do not accept IPv4 on an IPv6 socket'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l exclusive -d 'exclusive: no SO_REUSEPORT sharing (SO_REUSEADDR is always set)'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l readable-all -d 'readableAll: make the Unix socket readable by everyone'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l writable-all -d 'writableAll: make the Unix socket writable by everyone'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l nodelay -d 'noDelay: disable Nagle\'s algorithm (TCP_NODELAY)'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -s 4 -d 'family: only IPv4'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -s 6 -d 'family: only IPv6'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l reset -d 'resetAndDestroy(): close with RST instead of FIN'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l tls -d 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l require-client-cert -d 'Refuse clients without a certificate issued by --ca (mutual TLS)'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -s v -l verbose -d 'Print Node\'s events (lookup, connect, end, close, …) on stderr for people'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -l json -d 'Print events on stderr as one JSON object per line'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -s h -l help -d 'Print help'
complete -c wirecat -n "__fish_wirecat_using_subcommand echo" -s V -l version -d 'Print version'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l backlog -d 'backlog: length of the pending-connection queue' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l max-connections -d 'maxConnections: close connections over N at once (a `drop` event)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l ready-file -d 'Write the bound address to PATH (atomically) once accepting' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l workers -d 'Run N accept loops on N threads (SO_REUSEPORT), the multi-task server [default: 1, as Node]' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l allow -d 'BlockList: admit only peers inside RULE (address, START-END, NET/PREFIX, @FILE of one or more; repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l deny -d 'BlockList: close peers inside RULE before reading or writing a byte (repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l local-address -d 'localAddress: the address to connect from' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l local-port -d 'localPort: the port to connect from' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l resolve -d 'lookup: answer HOST with ADDR instead of asking DNS; HOST:PORT:ADDR (curl\'s form) only for that port (repeatable; ADDR may be a list: A,B)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l attempt-timeout -d 'autoSelectFamilyAttemptTimeout: milliseconds (or 1s, …) before the next address is tried' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l connect-timeout -d 'Give up connecting after MS milliseconds (or 500ms, 5s, 2m; exit 4)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l proxy -d 'Reach TCP targets through a proxy: socks5://, socks5h:// (the proxy resolves), socks4://, socks4a:// or http:// (CONNECT), as curl spells them; [USER:PASS@]HOST[:PORT], port 1080 by default' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l proxy-user -d 'Credentials for --proxy (instead of USER:PASS@ in its URL; never shown in events)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l keepalive -d 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l timeout -d 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l family -d 'family: 0 (any), 4 or 6' -r -f -a "0\t''
4\t''
6\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l ca -d 'Trust anchors (PEM) for the peer\'s certificate (client default: the system\'s roots)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l cert -d 'Our certificate chain (PEM)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l key -d 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l alpn -d 'ALPN protocol to offer (client) or accept (server) (repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l tls-min -d 'Lowest TLS version allowed' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l tls-max -d 'Highest TLS version allowed (1.2 to test or reach old peers)' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l key-password-file -d 'Password of an encrypted PKCS#8 --key (first line of FILE)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l handshake-timeout -d 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l sni -d 'Serve CERT/KEY to clients asking for NAME (repeatable; --cert/--key is the default)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l target-ca -d 'Trust anchors (PEM) for the target\'s certificate (default: the system\'s roots)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l target-servername -d 'SNI server name sent to the target and checked in its certificate (default: TARGET\'s host)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l target-pin-sha256 -d 'Trust exactly the target certificate with this SHA-256 fingerprint (as --pin-sha256)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l target-cert -d 'Client certificate chain (PEM) presented to the target' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l target-key -d 'Private key of --target-cert (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l target-alpn -d 'ALPN protocol to offer the target (repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l target-tls-min -d 'Lowest TLS version allowed towards the target' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l target-tls-max -d 'Highest TLS version allowed towards the target' -r -f -a "1.2\t''
1.3\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l target-key-password-file -d 'Password of an encrypted PKCS#8 --target-key (first line of FILE)' -r -F
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l progress -d 'Show progress on stderr (bytes, rates, ETA; servers: connections and bytes), and a summary line when done: `auto` (the default when given) only on a terminal, `always` even when stderr is not one' -r -f -a "auto\t''
always\t''"
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l once -d 'Serve one connection, then exit'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l ipv6-only -d 'ipv6Only: do not accept IPv4 on an IPv6 socket'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l exclusive -d 'exclusive: no SO_REUSEPORT sharing (SO_REUSEADDR is always set)'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l readable-all -d 'readableAll: make the Unix socket readable by everyone'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l writable-all -d 'writableAll: make the Unix socket writable by everyone'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l no-auto-select-family -d 'autoSelectFamily=false: try addresses one at a time, no Happy Eyeballs'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l nodelay -d 'noDelay: disable Nagle\'s algorithm (TCP_NODELAY)'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -s 4 -d 'family: only IPv4'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -s 6 -d 'family: only IPv6'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l tls -d 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l require-client-cert -d 'Refuse clients without a certificate issued by --ca (mutual TLS)'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l target-tls -d 'Speak TLS to TARGET (also implied by tls:// TARGET and by any --target-* flag)'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l target-insecure -d 'Do not verify the target\'s certificate (warned every time)'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -s v -l verbose -d 'Print Node\'s events (lookup, connect, end, close, …) on stderr for people'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -l json -d 'Print events on stderr as one JSON object per line'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -s h -l help -d 'Print help'
complete -c wirecat -n "__fish_wirecat_using_subcommand pipe" -s V -l version -d 'Print version'
complete -c wirecat -n "__fish_wirecat_using_subcommand isip" -l in -d 'Print the inputs that are IPs inside RULE (address, START-END, NET/PREFIX, @FILE; repeatable)' -r
complete -c wirecat -n "__fish_wirecat_using_subcommand isip" -l v4 -d 'isIPv4: print true/false'
complete -c wirecat -n "__fish_wirecat_using_subcommand isip" -l v6 -d 'isIPv6: print true/false'
complete -c wirecat -n "__fish_wirecat_using_subcommand isip" -s q -l quiet -d 'Print nothing; answer by exit code'
complete -c wirecat -n "__fish_wirecat_using_subcommand isip" -l json -d 'Print one JSON object per input'
complete -c wirecat -n "__fish_wirecat_using_subcommand isip" -l invert -d 'With --in, print the inputs that are not inside the rules'
complete -c wirecat -n "__fish_wirecat_using_subcommand isip" -s h -l help -d 'Print help'
complete -c wirecat -n "__fish_wirecat_using_subcommand isip" -s V -l version -d 'Print version'
complete -c wirecat -n "__fish_wirecat_using_subcommand generate" -s h -l help -d 'Print help'
complete -c wirecat -n "__fish_wirecat_using_subcommand generate" -s V -l version -d 'Print version'
complete -c wirecat -n "__fish_wirecat_using_subcommand help; and not __fish_seen_subcommand_from connect listen echo pipe isip generate help" -f -a "connect" -d 'Open one connection and bridge it to stdin/stdout (net.connect)'
complete -c wirecat -n "__fish_wirecat_using_subcommand help; and not __fish_seen_subcommand_from connect listen echo pipe isip generate help" -f -a "listen" -d 'Accept a connection (or many with -k) and bridge it to stdin/stdout (server.listen)'
complete -c wirecat -n "__fish_wirecat_using_subcommand help; and not __fish_seen_subcommand_from connect listen echo pipe isip generate help" -f -a "echo" -d 'Echo server: every connection receives its own bytes back (c.pipe(c))'
complete -c wirecat -n "__fish_wirecat_using_subcommand help; and not __fish_seen_subcommand_from connect listen echo pipe isip generate help" -f -a "pipe" -d 'Relay: accept on LISTEN, connect each connection to TARGET, copy both ways'
complete -c wirecat -n "__fish_wirecat_using_subcommand help; and not __fish_seen_subcommand_from connect listen echo pipe isip generate help" -f -a "isip" -d 'Classify strings as IPv4 / IPv6 / not an IP (net.isIP), or filter by rules'
complete -c wirecat -n "__fish_wirecat_using_subcommand help; and not __fish_seen_subcommand_from connect listen echo pipe isip generate help" -f -a "generate" -d 'Write shell completions and man pages (for packagers)'
complete -c wirecat -n "__fish_wirecat_using_subcommand help; and not __fish_seen_subcommand_from connect listen echo pipe isip generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
