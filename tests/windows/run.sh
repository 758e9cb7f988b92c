#!/usr/bin/env bash
# The Windows tests: wirecat.exe under wine, driven from Linux-side peers
# (socat, openssl, the Linux wirecat) on loopback TCP, every transfer
# checked byte for byte by its SHA-256, every wait bounded.
#
#   tests/windows/run.sh WIRECAT_EXE LINUX_WIRECAT
#
# Expects WINEPREFIX set up by .ci/windows (the bcryptprimitives stub in
# system32, a persistent wineserver, a first process already run). Ports
# are the servers' own (port 0, read from --ready-file), but for
# openssl s_server, which cannot report one: a free port is picked and the
# test retried once if it was taken meanwhile.
# Prints one line per test and "windows: N passed, N failed"; exits 1 on
# any failure.
set -uo pipefail

EXE=${1:?usage: run.sh WIRECAT_EXE LINUX_WIRECAT}
LWC=${2:?usage: run.sh WIRECAT_EXE LINUX_WIRECAT}
WINE=${WINE:-/usr/lib/wine/wine64}
export WINEDEBUG=${WINEDEBUG:--all}
T=$(mktemp -d)
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$T"' EXIT

pass=0
fail=0

# wirecat.exe, bounded; stdin is the caller's. Servers are started in the
# background as "${W[@]}" (not through a function: a background subshell
# would ignore the SIGINT the test sends; timeout passes it on to wine,
# which delivers it as Ctrl-C).
W=(timeout 60 "$WINE" "$EXE")
w() { "${W[@]}" "$@"; }
# A file's SHA-256.
sum() { sha256sum <"$1" | cut -d' ' -f1; }
# Wait (up to 20 s) for a ready file; print the address in it.
ready() {
  for _ in $(seq 400); do
    if [ -s "$1" ]; then
      tr -d '\r\n' <"$1"
      return 0
    fi
    sleep 0.05
  done
  echo "no ready file $1" >&2
  return 1
}
port_of() { echo "${1##*:}"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Wait (bounded) for background process $1; its exit code must be $2.
exits() {
  local pid=$1 want=$2 got
  for _ in $(seq 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  got=0
  wait "$pid" || got=$?
  [ "$got" -eq "$want" ] || { echo "exit $got, expected $want" >&2; return 1; }
}
same() { [ "$(sum "$1")" = "$(sum "$2")" ] || { echo "$1 and $2 differ ($(wc -c <"$2") bytes)" >&2; return 1; }; }

head -c $((3 * 1024 * 1024)) /dev/urandom >"$T/payload"

t_version_and_isip_read_stdin() {
  w --version | grep -q '^wirecat '
  [ "$(printf '1.2.3.4\n::1\nnope\n' | w isip | tr -d '\r' | tr '\n' ' ')" = "4 6 0 " ]
}

t_echo_round_trip_then_ctrl_c_exits_130() {
  "${W[@]}" echo 127.0.0.1:0 --ready-file "Z:$T/e1" </dev/null >/dev/null 2>"$T/e1.err" &
  local pid=$! a
  a=$(ready "$T/e1")
  timeout 30 socat -t10 - "TCP:$a,shut-down" <"$T/payload" >"$T/e1.out"
  same "$T/payload" "$T/e1.out"
  kill -INT "$pid"
  exits "$pid" 130
}

t_echo_serves_twelve_clients_at_once() {
  "${W[@]}" echo 127.0.0.1:0 --ready-file "Z:$T/e2" </dev/null >/dev/null 2>"$T/e2.err" &
  local pid=$! a i pids=()
  a=$(ready "$T/e2")
  for i in $(seq 12); do
    head -c $((200 * 1024 + i)) /dev/urandom >"$T/c$i"
    timeout 30 socat -t10 - "TCP:$a,shut-down" <"$T/c$i" >"$T/c$i.out" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  for i in $(seq 12); do same "$T/c$i" "$T/c$i.out"; done
  kill -INT "$pid"
  exits "$pid" 130
}

t_connect_receives_a_file() {
  timeout 60 "$LWC" listen 127.0.0.1:0 --ready-file "$T/l1" <"$T/payload" >/dev/null &
  local peer=$! a
  a=$(ready "$T/l1")
  w connect 127.0.0.1 "$(port_of "$a")" --recv-only </dev/null >"$T/l1.out"
  same "$T/payload" "$T/l1.out"
  exits "$peer" 0
}

t_connect_sends_a_file() {
  timeout 60 "$LWC" listen 127.0.0.1:0 --recv-only --ready-file "$T/l2" </dev/null >"$T/l2.out" &
  local peer=$! a
  a=$(ready "$T/l2")
  w connect "$a" <"$T/payload" >/dev/null
  exits "$peer" 0
  same "$T/payload" "$T/l2.out"
}

t_connect_ends_at_the_peers_fin_while_stdin_stays_open() {
  # The peer's FIN ends the connection (exit 0) although stdin (a pipe
  # from a sleep) neither ends nor sends: the stdin thread is left blocked.
  head -c 100000 /dev/urandom >"$T/small"
  timeout 60 "$LWC" listen 127.0.0.1:0 --ready-file "$T/l5" <"$T/small" >/dev/null &
  local peer=$! a start
  a=$(ready "$T/l5")
  start=$(date +%s)
  w connect "$a" < <(sleep 30) >"$T/l5.out"
  [ $(($(date +%s) - start)) -lt 15 ] || { echo "waited for stdin" >&2; return 1; }
  same "$T/small" "$T/l5.out"
  exits "$peer" 0
}

t_max_connections_drops_the_one_over_with_a_drop_event() {
  "${W[@]}" echo 127.0.0.1:0 --max-connections 1 --json --ready-file "Z:$T/m1" \
    </dev/null >/dev/null 2>"$T/m1.err" &
  local pid=$! a holder
  a=$(ready "$T/m1")
  sleep 20 | timeout 30 socat - "TCP:$a" >/dev/null &
  holder=$!
  for _ in $(seq 200); do grep -q '"event":"connection"' "$T/m1.err" && break; sleep 0.05; done
  # The second one is closed at once: its echo is empty.
  [ -z "$(echo over | timeout 10 socat -t5 - "TCP:$a" 2>/dev/null)" ]
  for _ in $(seq 200); do grep -q '"event":"drop"' "$T/m1.err" && break; sleep 0.05; done
  grep '"event":"drop"' "$T/m1.err" | grep -q '"remoteAddress":"127.0.0.1"'
  grep -q '"event":"listening".*"engine":"tokio"' "$T/m1.err"
  kill "$holder" 2>/dev/null || true
  kill -INT "$pid"
  exits "$pid" 130
}

t_listen_sends_stdin_to_its_client() {
  "${W[@]}" listen 127.0.0.1:0 --ready-file "Z:$T/l3" <"$T/payload" >/dev/null &
  local pid=$! a
  a=$(ready "$T/l3")
  timeout 30 socat -u "TCP:$a" - >"$T/l3.out"
  exits "$pid" 0
  same "$T/payload" "$T/l3.out"
}

t_listen_writes_what_its_client_sends() {
  "${W[@]}" listen 127.0.0.1:0 --recv-only --ready-file "Z:$T/l4" </dev/null >"$T/l4.out" &
  local pid=$! a
  a=$(ready "$T/l4")
  timeout 30 socat -u "FILE:$T/payload" "TCP:$a"
  exits "$pid" 0
  same "$T/payload" "$T/l4.out"
}

t_pipe_relays_to_a_linux_echo_server() {
  timeout 60 "$LWC" echo 127.0.0.1:0 --ready-file "$T/p1" &
  local target=$! a b pid i pids=()
  a=$(ready "$T/p1")
  "${W[@]}" pipe 127.0.0.1:0 "$a" --ready-file "Z:$T/p2" </dev/null >/dev/null &
  pid=$!
  b=$(ready "$T/p2")
  timeout 30 socat -t10 - "TCP:$b,shut-down" <"$T/payload" >"$T/p.out"
  same "$T/payload" "$T/p.out"
  for i in $(seq 4); do
    timeout 30 socat -t10 - "TCP:$b,shut-down" <"$T/c$i" >"$T/pc$i.out" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  for i in $(seq 4); do same "$T/c$i" "$T/pc$i.out"; done
  kill -INT "$pid"
  exits "$pid" 130
  kill -INT "$target"
  exits "$target" 130 || true
}

t_refused_connect_is_econnrefused_exit_1() {
  local p rc=0
  p=$(free_port)
  w connect 127.0.0.1 "$p" </dev/null >/dev/null 2>"$T/r.err" || rc=$?
  [ "$rc" -eq 1 ] || { echo "exit $rc" >&2; cat "$T/r.err" >&2; return 1; }
  grep -q 'ECONNREFUSED (connection refused)' "$T/r.err" || { cat "$T/r.err" >&2; return 1; }
}

t_a_port_in_use_is_eaddrinuse_exit_5() {
  # Without SO_REUSEADDR: with it, Windows (and wine) let a second
  # listener bind the same port and take its connections.
  "${W[@]}" listen 127.0.0.1:0 --ready-file "Z:$T/u1" </dev/null >/dev/null &
  local pid=$! a rc=0
  a=$(ready "$T/u1")
  w listen "$a" </dev/null >/dev/null 2>"$T/u.err" || rc=$?
  kill -INT "$pid"
  exits "$pid" 130
  [ "$rc" -eq 5 ] || { echo "second listener: exit $rc" >&2; cat "$T/u.err" >&2; return 1; }
  grep -q EADDRINUSE "$T/u.err"
}

# One refusal: exit 2 and a line that says why.
refused() {
  local want=$1 rc=0
  shift
  w "$@" </dev/null >/dev/null 2>"$T/x.err" || rc=$?
  [ "$rc" -eq 2 ] || { echo "$*: exit $rc" >&2; cat "$T/x.err" >&2; return 1; }
  grep -q -- "$want" "$T/x.err" || { echo "$*:" >&2; cat "$T/x.err" >&2; return 1; }
}

t_what_does_not_apply_on_windows_is_refused_exit_2() {
  refused 'Unix domain sockets are not supported on Windows' connect ./wirecat.sock
  refused 'Unix domain sockets are not supported on Windows' listen unix:wirecat.sock
  refused 'inherited sockets' listen fd:3
  refused 'does not apply on Windows' listen --exec cat 127.0.0.1:0
  refused 'does not apply on Windows' echo --readable-all 127.0.0.1:0
  refused 'named pipes are not supported yet' connect '\\.\pipe\wirecat'
  refused 'named pipes are not supported yet' listen npipe:wirecat
}

t_tls_listen_to_openssl_s_client() {
  "${W[@]}" listen 127.0.0.1:0 --tls --ready-file "Z:$T/t1" <"$T/payload" >/dev/null 2>"$T/t1.err" &
  local pid=$! a
  a=$(ready "$T/t1")
  timeout 30 openssl s_client -quiet -connect "$a" </dev/null >"$T/t1.out" 2>"$T/t1.cerr"
  exits "$pid" 0
  same "$T/payload" "$T/t1.out"
}

t_tls_connect_to_openssl_s_server() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=localhost -keyout "$T/k.pem" -out "$T/c.pem" 2>/dev/null
  local p try server keep
  for try in 1 2; do
    p=$(free_port)
    # Its stdin stays open (a fifo held by a sleep of ours): at its EOF
    # s_server would end the connection before the client sent anything.
    rm -f "$T/keep"
    mkfifo "$T/keep"
    sleep 60 >"$T/keep" &
    keep=$!
    timeout 60 openssl s_server -quiet -naccept 1 -accept "127.0.0.1:$p" \
      -cert "$T/c.pem" -key "$T/k.pem" <"$T/keep" >"$T/t2.out" 2>"$T/t2.err" &
    server=$!
    for _ in $(seq 200); do
      ss -Htln "sport = :$p" | grep -q . && break
      kill -0 "$server" 2>/dev/null || break
      sleep 0.05
    done
    kill -0 "$server" 2>/dev/null && break
  done
  w connect --tls --insecure 127.0.0.1 "$p" <"$T/payload" >/dev/null 2>"$T/t2.cerr"
  exits "$server" 0
  kill "$keep"
  same "$T/payload" "$T/t2.out"
}

tests=$(declare -F | awk '{print $3}' | grep '^t_')
# One test, or a few: ONLY="t_name t_other" tests/windows/run.sh …
tests=${ONLY:-$tests}
for t in $tests; do
  start=$(date +%s%N)
  # Not in an `if`: there bash would ignore the subshell's `set -e`.
  # What a test leaves running (a failed one's servers) ends with it.
  (
    trap 'jobs -p | xargs -r kill 2>/dev/null' EXIT
    set -e
    [ -z "${TRACE:-}" ] || set -x
    "$t"
  ) >"$T/$t.log" 2>&1
  rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  if [ "$rc" -eq 0 ]; then
    pass=$((pass + 1))
    printf 'ok      %s (%d ms)\n' "${t#t_}" "$ms"
  else
    fail=$((fail + 1))
    printf 'FAILED  %s\n' "${t#t_}"
    sed 's/^/        /' "$T/$t.log"
  fi
done
echo "windows: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
