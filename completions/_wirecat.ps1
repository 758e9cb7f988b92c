
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'wirecat' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'wirecat'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'wirecat' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Open one connection and bridge it to stdin/stdout (net.connect)')
            [CompletionResult]::new('c', 'c', [CompletionResultType]::ParameterValue, 'Open one connection and bridge it to stdin/stdout (net.connect)')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Accept a connection (or many with -k) and bridge it to stdin/stdout (server.listen)')
            [CompletionResult]::new('l', 'l', [CompletionResultType]::ParameterValue, 'Accept a connection (or many with -k) and bridge it to stdin/stdout (server.listen)')
            [CompletionResult]::new('echo', 'echo', [CompletionResultType]::ParameterValue, 'Echo server: every connection receives its own bytes back (c.pipe(c))')
            [CompletionResult]::new('pipe', 'pipe', [CompletionResultType]::ParameterValue, 'Relay: accept on LISTEN, connect each connection to TARGET, copy both ways')
            [CompletionResult]::new('isip', 'isip', [CompletionResultType]::ParameterValue, 'Classify strings as IPv4 / IPv6 / not an IP (net.isIP), or filter by rules')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and man pages (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'wirecat;connect' {
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Retry for up to SECS seconds (or 500ms, 2m) until the name resolves and the target accepts (wait-for-port)')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'Send TEXT instead of stdin (escapes \r \n \t \0 \e \\ \xHH are understood, as for echo --banner)')
            [CompletionResult]::new('--expect', '--expect', [CompletionResultType]::ParameterName, 'Succeed once received data matches REGEX (exit 1 if the connection ends first)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Outbound BlockList: never connect to an address inside RULE (repeatable, or @FILE)')
            [CompletionResult]::new('--local-address', '--local-address', [CompletionResultType]::ParameterName, 'localAddress: the address to connect from')
            [CompletionResult]::new('--local-port', '--local-port', [CompletionResultType]::ParameterName, 'localPort: the port to connect from')
            [CompletionResult]::new('--resolve', '--resolve', [CompletionResultType]::ParameterName, 'lookup: answer HOST with ADDR instead of asking DNS; HOST:PORT:ADDR (curl''s form) only for that port (repeatable; ADDR may be a list: A,B)')
            [CompletionResult]::new('--attempt-timeout', '--attempt-timeout', [CompletionResultType]::ParameterName, 'autoSelectFamilyAttemptTimeout: milliseconds (or 1s, …) before the next address is tried')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after MS milliseconds (or 500ms, 5s, 2m; exit 4)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4')
            [CompletionResult]::new('--family', '--family', [CompletionResultType]::ParameterName, 'family: 0 (any), 4 or 6')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust anchors (PEM) for the peer''s certificate (client default: the system''s roots)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Our certificate chain (PEM)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--alpn', '--alpn', [CompletionResultType]::ParameterName, 'ALPN protocol to offer (client) or accept (server) (repeatable)')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'Lowest TLS version allowed')
            [CompletionResult]::new('--tls-max', '--tls-max', [CompletionResultType]::ParameterName, 'Highest TLS version allowed (1.2 to test or reach old peers)')
            [CompletionResult]::new('--key-password-file', '--key-password-file', [CompletionResultType]::ParameterName, 'Password of an encrypted PKCS#8 --key (first line of FILE)')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)')
            [CompletionResult]::new('--servername', '--servername', [CompletionResultType]::ParameterName, 'SNI server name, also checked in the certificate (default: the host, when it is a name)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress on stderr (bytes, rate, ETA; servers: connections and bytes): `auto` (the default when given) only on a terminal, `always` even when stderr is not one')
            [CompletionResult]::new('-z', '-z', [CompletionResultType]::ParameterName, 'Only check which ports are open (PORT may be a list or range: 22,80,8000-8010)')
            [CompletionResult]::new('--zero-io', '--zero-io', [CompletionResultType]::ParameterName, 'Only check which ports are open (PORT may be a list or range: 22,80,8000-8010)')
            [CompletionResult]::new('--no-auto-select-family', '--no-auto-select-family', [CompletionResultType]::ParameterName, 'autoSelectFamily=false: try addresses one at a time, no Happy Eyeballs')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'noDelay: disable Nagle''s algorithm (TCP_NODELAY)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'family: only IPv4')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'family: only IPv6')
            [CompletionResult]::new('--allow-half-open', '--allow-half-open', [CompletionResultType]::ParameterName, 'allowHalfOpen: after the peer''s FIN, keep sending stdin until its EOF')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'readable=false: read nothing from stdin and never half-close')
            [CompletionResult]::new('--send-only', '--send-only', [CompletionResultType]::ParameterName, 'writable=false: send stdin, discard what arrives')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Turn LF into CRLF on the way out (telnet habit)')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Show received bytes as a hex dump on stdout')
            [CompletionResult]::new('--reset', '--reset', [CompletionResultType]::ParameterName, 'resetAndDestroy(): close with RST instead of FIN')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (warned every time)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print events on stderr as one JSON object per line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'wirecat;c' {
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Retry for up to SECS seconds (or 500ms, 2m) until the name resolves and the target accepts (wait-for-port)')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'Send TEXT instead of stdin (escapes \r \n \t \0 \e \\ \xHH are understood, as for echo --banner)')
            [CompletionResult]::new('--expect', '--expect', [CompletionResultType]::ParameterName, 'Succeed once received data matches REGEX (exit 1 if the connection ends first)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Outbound BlockList: never connect to an address inside RULE (repeatable, or @FILE)')
            [CompletionResult]::new('--local-address', '--local-address', [CompletionResultType]::ParameterName, 'localAddress: the address to connect from')
            [CompletionResult]::new('--local-port', '--local-port', [CompletionResultType]::ParameterName, 'localPort: the port to connect from')
            [CompletionResult]::new('--resolve', '--resolve', [CompletionResultType]::ParameterName, 'lookup: answer HOST with ADDR instead of asking DNS; HOST:PORT:ADDR (curl''s form) only for that port (repeatable; ADDR may be a list: A,B)')
            [CompletionResult]::new('--attempt-timeout', '--attempt-timeout', [CompletionResultType]::ParameterName, 'autoSelectFamilyAttemptTimeout: milliseconds (or 1s, …) before the next address is tried')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after MS milliseconds (or 500ms, 5s, 2m; exit 4)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4')
            [CompletionResult]::new('--family', '--family', [CompletionResultType]::ParameterName, 'family: 0 (any), 4 or 6')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust anchors (PEM) for the peer''s certificate (client default: the system''s roots)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Our certificate chain (PEM)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--alpn', '--alpn', [CompletionResultType]::ParameterName, 'ALPN protocol to offer (client) or accept (server) (repeatable)')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'Lowest TLS version allowed')
            [CompletionResult]::new('--tls-max', '--tls-max', [CompletionResultType]::ParameterName, 'Highest TLS version allowed (1.2 to test or reach old peers)')
            [CompletionResult]::new('--key-password-file', '--key-password-file', [CompletionResultType]::ParameterName, 'Password of an encrypted PKCS#8 --key (first line of FILE)')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)')
            [CompletionResult]::new('--servername', '--servername', [CompletionResultType]::ParameterName, 'SNI server name, also checked in the certificate (default: the host, when it is a name)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress on stderr (bytes, rate, ETA; servers: connections and bytes): `auto` (the default when given) only on a terminal, `always` even when stderr is not one')
            [CompletionResult]::new('-z', '-z', [CompletionResultType]::ParameterName, 'Only check which ports are open (PORT may be a list or range: 22,80,8000-8010)')
            [CompletionResult]::new('--zero-io', '--zero-io', [CompletionResultType]::ParameterName, 'Only check which ports are open (PORT may be a list or range: 22,80,8000-8010)')
            [CompletionResult]::new('--no-auto-select-family', '--no-auto-select-family', [CompletionResultType]::ParameterName, 'autoSelectFamily=false: try addresses one at a time, no Happy Eyeballs')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'noDelay: disable Nagle''s algorithm (TCP_NODELAY)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'family: only IPv4')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'family: only IPv6')
            [CompletionResult]::new('--allow-half-open', '--allow-half-open', [CompletionResultType]::ParameterName, 'allowHalfOpen: after the peer''s FIN, keep sending stdin until its EOF')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'readable=false: read nothing from stdin and never half-close')
            [CompletionResult]::new('--send-only', '--send-only', [CompletionResultType]::ParameterName, 'writable=false: send stdin, discard what arrives')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Turn LF into CRLF on the way out (telnet habit)')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Show received bytes as a hex dump on stdout')
            [CompletionResult]::new('--reset', '--reset', [CompletionResultType]::ParameterName, 'resetAndDestroy(): close with RST instead of FIN')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (warned every time)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print events on stderr as one JSON object per line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'wirecat;listen' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'pauseOnConnect: hand each connection, unread, to CMD as its stdin/stdout (no shell); with --tls, CMD gets the plaintext')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'pauseOnConnect: hand each connection, unread, to CMD as its stdin/stdout (no shell); with --tls, CMD gets the plaintext')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'As --exec, but CMD is run by /bin/sh -c')
            [CompletionResult]::new('--sh-exec', '--sh-exec', [CompletionResultType]::ParameterName, 'As --exec, but CMD is run by /bin/sh -c')
            [CompletionResult]::new('--backlog', '--backlog', [CompletionResultType]::ParameterName, 'backlog: length of the pending-connection queue')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'maxConnections: close connections over N at once (a `drop` event)')
            [CompletionResult]::new('--ready-file', '--ready-file', [CompletionResultType]::ParameterName, 'Write the bound address to PATH (atomically) once accepting')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'BlockList: admit only peers inside RULE (address, START-END, NET/PREFIX, @FILE; repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'BlockList: close peers inside RULE before reading or writing a byte (repeatable)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4')
            [CompletionResult]::new('--family', '--family', [CompletionResultType]::ParameterName, 'family: 0 (any), 4 or 6')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust anchors (PEM) for the peer''s certificate (client default: the system''s roots)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Our certificate chain (PEM)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--alpn', '--alpn', [CompletionResultType]::ParameterName, 'ALPN protocol to offer (client) or accept (server) (repeatable)')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'Lowest TLS version allowed')
            [CompletionResult]::new('--tls-max', '--tls-max', [CompletionResultType]::ParameterName, 'Highest TLS version allowed (1.2 to test or reach old peers)')
            [CompletionResult]::new('--key-password-file', '--key-password-file', [CompletionResultType]::ParameterName, 'Password of an encrypted PKCS#8 --key (first line of FILE)')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)')
            [CompletionResult]::new('--sni', '--sni', [CompletionResultType]::ParameterName, 'Serve CERT/KEY to clients asking for NAME (repeatable; --cert/--key is the default)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress on stderr (bytes, rate, ETA; servers: connections and bytes): `auto` (the default when given) only on a terminal, `always` even when stderr is not one')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Run N accept loops on N threads (SO_REUSEPORT), the multi-task server [default: 1, as Node]')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep serving after the first connection (stdin goes to every open connection)')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Keep serving after the first connection (stdin goes to every open connection)')
            [CompletionResult]::new('--ipv6-only', '--ipv6-only', [CompletionResultType]::ParameterName, 'ipv6Only: do not accept IPv4 on an IPv6 socket')
            [CompletionResult]::new('--exclusive', '--exclusive', [CompletionResultType]::ParameterName, 'exclusive: no SO_REUSEPORT sharing (SO_REUSEADDR is always set)')
            [CompletionResult]::new('--readable-all', '--readable-all', [CompletionResultType]::ParameterName, 'readableAll: make the Unix socket readable by everyone')
            [CompletionResult]::new('--writable-all', '--writable-all', [CompletionResultType]::ParameterName, 'writableAll: make the Unix socket writable by everyone')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'noDelay: disable Nagle''s algorithm (TCP_NODELAY)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'family: only IPv4')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'family: only IPv6')
            [CompletionResult]::new('--allow-half-open', '--allow-half-open', [CompletionResultType]::ParameterName, 'allowHalfOpen: after the peer''s FIN, keep sending stdin until its EOF')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'readable=false: read nothing from stdin and never half-close')
            [CompletionResult]::new('--send-only', '--send-only', [CompletionResultType]::ParameterName, 'writable=false: send stdin, discard what arrives')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Turn LF into CRLF on the way out (telnet habit)')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Show received bytes as a hex dump on stdout')
            [CompletionResult]::new('--reset', '--reset', [CompletionResultType]::ParameterName, 'resetAndDestroy(): close with RST instead of FIN')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)')
            [CompletionResult]::new('--require-client-cert', '--require-client-cert', [CompletionResultType]::ParameterName, 'Refuse clients without a certificate issued by --ca (mutual TLS)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print events on stderr as one JSON object per line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'wirecat;l' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'pauseOnConnect: hand each connection, unread, to CMD as its stdin/stdout (no shell); with --tls, CMD gets the plaintext')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'pauseOnConnect: hand each connection, unread, to CMD as its stdin/stdout (no shell); with --tls, CMD gets the plaintext')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'As --exec, but CMD is run by /bin/sh -c')
            [CompletionResult]::new('--sh-exec', '--sh-exec', [CompletionResultType]::ParameterName, 'As --exec, but CMD is run by /bin/sh -c')
            [CompletionResult]::new('--backlog', '--backlog', [CompletionResultType]::ParameterName, 'backlog: length of the pending-connection queue')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'maxConnections: close connections over N at once (a `drop` event)')
            [CompletionResult]::new('--ready-file', '--ready-file', [CompletionResultType]::ParameterName, 'Write the bound address to PATH (atomically) once accepting')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'BlockList: admit only peers inside RULE (address, START-END, NET/PREFIX, @FILE; repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'BlockList: close peers inside RULE before reading or writing a byte (repeatable)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4')
            [CompletionResult]::new('--family', '--family', [CompletionResultType]::ParameterName, 'family: 0 (any), 4 or 6')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust anchors (PEM) for the peer''s certificate (client default: the system''s roots)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Our certificate chain (PEM)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--alpn', '--alpn', [CompletionResultType]::ParameterName, 'ALPN protocol to offer (client) or accept (server) (repeatable)')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'Lowest TLS version allowed')
            [CompletionResult]::new('--tls-max', '--tls-max', [CompletionResultType]::ParameterName, 'Highest TLS version allowed (1.2 to test or reach old peers)')
            [CompletionResult]::new('--key-password-file', '--key-password-file', [CompletionResultType]::ParameterName, 'Password of an encrypted PKCS#8 --key (first line of FILE)')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)')
            [CompletionResult]::new('--sni', '--sni', [CompletionResultType]::ParameterName, 'Serve CERT/KEY to clients asking for NAME (repeatable; --cert/--key is the default)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress on stderr (bytes, rate, ETA; servers: connections and bytes): `auto` (the default when given) only on a terminal, `always` even when stderr is not one')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Run N accept loops on N threads (SO_REUSEPORT), the multi-task server [default: 1, as Node]')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep serving after the first connection (stdin goes to every open connection)')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Keep serving after the first connection (stdin goes to every open connection)')
            [CompletionResult]::new('--ipv6-only', '--ipv6-only', [CompletionResultType]::ParameterName, 'ipv6Only: do not accept IPv4 on an IPv6 socket')
            [CompletionResult]::new('--exclusive', '--exclusive', [CompletionResultType]::ParameterName, 'exclusive: no SO_REUSEPORT sharing (SO_REUSEADDR is always set)')
            [CompletionResult]::new('--readable-all', '--readable-all', [CompletionResultType]::ParameterName, 'readableAll: make the Unix socket readable by everyone')
            [CompletionResult]::new('--writable-all', '--writable-all', [CompletionResultType]::ParameterName, 'writableAll: make the Unix socket writable by everyone')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'noDelay: disable Nagle''s algorithm (TCP_NODELAY)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'family: only IPv4')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'family: only IPv6')
            [CompletionResult]::new('--allow-half-open', '--allow-half-open', [CompletionResultType]::ParameterName, 'allowHalfOpen: after the peer''s FIN, keep sending stdin until its EOF')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'readable=false: read nothing from stdin and never half-close')
            [CompletionResult]::new('--send-only', '--send-only', [CompletionResultType]::ParameterName, 'writable=false: send stdin, discard what arrives')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Turn LF into CRLF on the way out (telnet habit)')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Show received bytes as a hex dump on stdout')
            [CompletionResult]::new('--reset', '--reset', [CompletionResultType]::ParameterName, 'resetAndDestroy(): close with RST instead of FIN')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)')
            [CompletionResult]::new('--require-client-cert', '--require-client-cert', [CompletionResultType]::ParameterName, 'Refuse clients without a certificate issued by --ca (mutual TLS)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print events on stderr as one JSON object per line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'wirecat;echo' {
            [CompletionResult]::new('--banner', '--banner', [CompletionResultType]::ParameterName, 'Send TEXT to each connection first (escapes \r \n \t \0 \e \\ \xHH are understood)')
            [CompletionResult]::new('--backlog', '--backlog', [CompletionResultType]::ParameterName, 'backlog: length of the pending-connection queue')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'maxConnections: close connections over N at once (a `drop` event)')
            [CompletionResult]::new('--ready-file', '--ready-file', [CompletionResultType]::ParameterName, 'Write the bound address to PATH (atomically) once accepting')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Run N accept loops on N threads (SO_REUSEPORT), the multi-task server [default: 1, as Node]')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'BlockList: admit only peers inside RULE (address, START-END, NET/PREFIX, @FILE; repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'BlockList: close peers inside RULE before reading or writing a byte (repeatable)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4')
            [CompletionResult]::new('--family', '--family', [CompletionResultType]::ParameterName, 'family: 0 (any), 4 or 6')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust anchors (PEM) for the peer''s certificate (client default: the system''s roots)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Our certificate chain (PEM)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--alpn', '--alpn', [CompletionResultType]::ParameterName, 'ALPN protocol to offer (client) or accept (server) (repeatable)')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'Lowest TLS version allowed')
            [CompletionResult]::new('--tls-max', '--tls-max', [CompletionResultType]::ParameterName, 'Highest TLS version allowed (1.2 to test or reach old peers)')
            [CompletionResult]::new('--key-password-file', '--key-password-file', [CompletionResultType]::ParameterName, 'Password of an encrypted PKCS#8 --key (first line of FILE)')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)')
            [CompletionResult]::new('--sni', '--sni', [CompletionResultType]::ParameterName, 'Serve CERT/KEY to clients asking for NAME (repeatable; --cert/--key is the default)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress on stderr (bytes, rate, ETA; servers: connections and bytes): `auto` (the default when given) only on a terminal, `always` even when stderr is not one')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Serve one connection, then exit')
            [CompletionResult]::new('--ipv6-only', '--ipv6-only', [CompletionResultType]::ParameterName, 'ipv6Only: do not accept IPv4 on an IPv6 socket')
            [CompletionResult]::new('--exclusive', '--exclusive', [CompletionResultType]::ParameterName, 'exclusive: no SO_REUSEPORT sharing (SO_REUSEADDR is always set)')
            [CompletionResult]::new('--readable-all', '--readable-all', [CompletionResultType]::ParameterName, 'readableAll: make the Unix socket readable by everyone')
            [CompletionResult]::new('--writable-all', '--writable-all', [CompletionResultType]::ParameterName, 'writableAll: make the Unix socket writable by everyone')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'noDelay: disable Nagle''s algorithm (TCP_NODELAY)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'family: only IPv4')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'family: only IPv6')
            [CompletionResult]::new('--reset', '--reset', [CompletionResultType]::ParameterName, 'resetAndDestroy(): close with RST instead of FIN')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)')
            [CompletionResult]::new('--require-client-cert', '--require-client-cert', [CompletionResultType]::ParameterName, 'Refuse clients without a certificate issued by --ca (mutual TLS)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print events on stderr as one JSON object per line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'wirecat;pipe' {
            [CompletionResult]::new('--backlog', '--backlog', [CompletionResultType]::ParameterName, 'backlog: length of the pending-connection queue')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'maxConnections: close connections over N at once (a `drop` event)')
            [CompletionResult]::new('--ready-file', '--ready-file', [CompletionResultType]::ParameterName, 'Write the bound address to PATH (atomically) once accepting')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Run N accept loops on N threads (SO_REUSEPORT), the multi-task server [default: 1, as Node]')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'BlockList: admit only peers inside RULE (address, START-END, NET/PREFIX, @FILE; repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'BlockList: close peers inside RULE before reading or writing a byte (repeatable)')
            [CompletionResult]::new('--local-address', '--local-address', [CompletionResultType]::ParameterName, 'localAddress: the address to connect from')
            [CompletionResult]::new('--local-port', '--local-port', [CompletionResultType]::ParameterName, 'localPort: the port to connect from')
            [CompletionResult]::new('--resolve', '--resolve', [CompletionResultType]::ParameterName, 'lookup: answer HOST with ADDR instead of asking DNS; HOST:PORT:ADDR (curl''s form) only for that port (repeatable; ADDR may be a list: A,B)')
            [CompletionResult]::new('--attempt-timeout', '--attempt-timeout', [CompletionResultType]::ParameterName, 'autoSelectFamilyAttemptTimeout: milliseconds (or 1s, …) before the next address is tried')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after MS milliseconds (or 500ms, 5s, 2m; exit 4)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'keepAlive: SO_KEEPALIVE, with TCP_KEEPIDLE=MS (keepAliveInitialDelay; or 30s, 2m), TCP_KEEPCNT=10, TCP_KEEPINTVL=1')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'setTimeout(): idle timeout in milliseconds (or 500ms, 5s, 2m); emit `timeout`, end the connection, exit 4')
            [CompletionResult]::new('--family', '--family', [CompletionResultType]::ParameterName, 'family: 0 (any), 4 or 6')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust anchors (PEM) for the peer''s certificate (client default: the system''s roots)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Our certificate chain (PEM)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--alpn', '--alpn', [CompletionResultType]::ParameterName, 'ALPN protocol to offer (client) or accept (server) (repeatable)')
            [CompletionResult]::new('--tls-min', '--tls-min', [CompletionResultType]::ParameterName, 'Lowest TLS version allowed')
            [CompletionResult]::new('--tls-max', '--tls-max', [CompletionResultType]::ParameterName, 'Highest TLS version allowed (1.2 to test or reach old peers)')
            [CompletionResult]::new('--key-password-file', '--key-password-file', [CompletionResultType]::ParameterName, 'Password of an encrypted PKCS#8 --key (first line of FILE)')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Give up a TLS handshake not finished after MS milliseconds (or 10s, …; so a silent peer cannot hold a slot)')
            [CompletionResult]::new('--sni', '--sni', [CompletionResultType]::ParameterName, 'Serve CERT/KEY to clients asking for NAME (repeatable; --cert/--key is the default)')
            [CompletionResult]::new('--target-ca', '--target-ca', [CompletionResultType]::ParameterName, 'Trust anchors (PEM) for the target''s certificate (default: the system''s roots)')
            [CompletionResult]::new('--target-servername', '--target-servername', [CompletionResultType]::ParameterName, 'SNI server name sent to the target and checked in its certificate (default: TARGET''s host)')
            [CompletionResult]::new('--target-cert', '--target-cert', [CompletionResultType]::ParameterName, 'Client certificate chain (PEM) presented to the target')
            [CompletionResult]::new('--target-key', '--target-key', [CompletionResultType]::ParameterName, 'Private key of --target-cert (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--target-alpn', '--target-alpn', [CompletionResultType]::ParameterName, 'ALPN protocol to offer the target (repeatable)')
            [CompletionResult]::new('--target-tls-min', '--target-tls-min', [CompletionResultType]::ParameterName, 'Lowest TLS version allowed towards the target')
            [CompletionResult]::new('--target-tls-max', '--target-tls-max', [CompletionResultType]::ParameterName, 'Highest TLS version allowed towards the target')
            [CompletionResult]::new('--target-key-password-file', '--target-key-password-file', [CompletionResultType]::ParameterName, 'Password of an encrypted PKCS#8 --target-key (first line of FILE)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress on stderr (bytes, rate, ETA; servers: connections and bytes): `auto` (the default when given) only on a terminal, `always` even when stderr is not one')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Serve one connection, then exit')
            [CompletionResult]::new('--ipv6-only', '--ipv6-only', [CompletionResultType]::ParameterName, 'ipv6Only: do not accept IPv4 on an IPv6 socket')
            [CompletionResult]::new('--exclusive', '--exclusive', [CompletionResultType]::ParameterName, 'exclusive: no SO_REUSEPORT sharing (SO_REUSEADDR is always set)')
            [CompletionResult]::new('--readable-all', '--readable-all', [CompletionResultType]::ParameterName, 'readableAll: make the Unix socket readable by everyone')
            [CompletionResult]::new('--writable-all', '--writable-all', [CompletionResultType]::ParameterName, 'writableAll: make the Unix socket writable by everyone')
            [CompletionResult]::new('--no-auto-select-family', '--no-auto-select-family', [CompletionResultType]::ParameterName, 'autoSelectFamily=false: try addresses one at a time, no Happy Eyeballs')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'noDelay: disable Nagle''s algorithm (TCP_NODELAY)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'family: only IPv4')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'family: only IPv6')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS (also implied by tls:// and by any other TLS flag but --handshake-timeout)')
            [CompletionResult]::new('--require-client-cert', '--require-client-cert', [CompletionResultType]::ParameterName, 'Refuse clients without a certificate issued by --ca (mutual TLS)')
            [CompletionResult]::new('--target-tls', '--target-tls', [CompletionResultType]::ParameterName, 'Speak TLS to TARGET (also implied by tls:// TARGET and by any --target-* flag)')
            [CompletionResult]::new('--target-insecure', '--target-insecure', [CompletionResultType]::ParameterName, 'Do not verify the target''s certificate (warned every time)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print Node''s events (lookup, connect, end, close, …) on stderr for people')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print events on stderr as one JSON object per line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'wirecat;isip' {
            [CompletionResult]::new('--in', '--in', [CompletionResultType]::ParameterName, 'Print the inputs that are IPs inside RULE (address, START-END, NET/PREFIX, @FILE; repeatable)')
            [CompletionResult]::new('--v4', '--v4', [CompletionResultType]::ParameterName, 'isIPv4: print true/false')
            [CompletionResult]::new('--v6', '--v6', [CompletionResultType]::ParameterName, 'isIPv6: print true/false')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing; answer by exit code')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing; answer by exit code')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object per input')
            [CompletionResult]::new('--invert', '--invert', [CompletionResultType]::ParameterName, 'With --in, print the inputs that are not inside the rules')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'wirecat;generate' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'wirecat;help' {
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Open one connection and bridge it to stdin/stdout (net.connect)')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Accept a connection (or many with -k) and bridge it to stdin/stdout (server.listen)')
            [CompletionResult]::new('echo', 'echo', [CompletionResultType]::ParameterValue, 'Echo server: every connection receives its own bytes back (c.pipe(c))')
            [CompletionResult]::new('pipe', 'pipe', [CompletionResultType]::ParameterValue, 'Relay: accept on LISTEN, connect each connection to TARGET, copy both ways')
            [CompletionResult]::new('isip', 'isip', [CompletionResultType]::ParameterValue, 'Classify strings as IPv4 / IPv6 / not an IP (net.isIP), or filter by rules')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and man pages (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'wirecat;help;connect' {
            break
        }
        'wirecat;help;listen' {
            break
        }
        'wirecat;help;echo' {
            break
        }
        'wirecat;help;pipe' {
            break
        }
        'wirecat;help;isip' {
            break
        }
        'wirecat;help;generate' {
            break
        }
        'wirecat;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
