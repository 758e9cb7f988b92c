#!/usr/bin/env bash
# TLS over loopback, in one run:
#  1. bulk: BYTES (default 2 GiB) of stdin through a TLS client into a TLS
#     server writing to /dev/null, wirecat -> wirecat against ncat --ssl and
#     socat OPENSSL (default and -b 131072); best of ROUNDS, MiB/s and ratios
#     (wirecat and socat clients verify against the CA; ncat's client does
#     not verify: its --ssl-trustfile fails to load here);
#  2. handshakes: `openssl s_time -new` (one client for all, full handshakes,
#     TLS 1.3, ECDSA P-256) for SECS seconds against wirecat listen -k --tls,
#     openssl s_server and a Node tls server; handshakes/s and the server's
#     CPU time per handshake (user+sys from /proc/PID/stat).
# Usage: bench/tls.sh [BYTES] [ROUNDS] [SECS]
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
BYTES=${1:-$((2 << 30))}
ROUNDS=${2:-3}
SECS=${3:-5}
MIB=$((BYTES >> 20))
cargo build --release -q
W=${CARGO_TARGET_DIR:-$PWD/target}/release/wirecat
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null || true' EXIT

# A CA and a leaf for localhost/127.0.0.1, ECDSA P-256, made now.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=bench-ca -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$tmp/leaf.key" -out "$tmp/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$tmp/ext"
openssl x509 -req -in "$tmp/leaf.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
  -CAcreateserial -days 1 -extfile "$tmp/ext" -out "$tmp/leaf.pem" 2>/dev/null
CA=$tmp/ca.pem CERT=$tmp/leaf.pem KEY=$tmp/leaf.key


declare -A RESULT CPUGIB
# bulk NAME SERVER_CMD CLIENT_CMD: best MiB/s of ROUNDS, and the least CPU
# time (user+sys of client and server together) per GiB, the figure that a
# loaded shared machine disturbs least; {PORT} is replaced.
bulk() {
  local name=$1 best=0 least=999
  for _ in $(seq "$ROUNDS"); do
    local port; port=$(free_port)
    local server=${2//\{PORT\}/$port} client=${3//\{PORT\}/$port}
    rm -f "$tmp/cpu.s" "$tmp/cpu.c"
    /usr/bin/time -f '%U %S' -o "$tmp/cpu.s" bash -c "$server" >/dev/null 2>&1 &
    local spid=$!
    wait_port "$port"
    local s e
    s=$(now)
    head -c "$BYTES" /dev/zero | /usr/bin/time -f '%U %S' -o "$tmp/cpu.c" bash -c "$client" >/dev/null 2>&1 \
      || echo "  ($name: client failed)" >&2
    wait "$spid" 2>/dev/null || true
    e=$(now)
    local rate; rate=$(python3 -c "print(int($MIB/($e-$s)))")
    (( rate > best )) && best=$rate
    local cpu; cpu=$(cat "$tmp/cpu.s" "$tmp/cpu.c" | awk -v mib="$MIB" '{t += $1 + $2} END {printf "%.2f", t * 1024 / mib}')
    least=$(python3 -c "print(min($least, $cpu))")
  done
  RESULT[$name]=$best
  CPUGIB[$name]=$least
  printf '%-26s %8d MiB/s  %6s CPU s/GiB (client+server)\n' "$name" "$best" "$least"
}

echo "TLS bulk transfer of $MIB MiB over 127.0.0.1 (TLS 1.3, ECDSA P-256), best of $ROUNDS"
bulk wirecat \
  "$W listen --tls --cert $CERT --key $KEY 127.0.0.1:{PORT} --recv-only" \
  "$W connect --ca $CA tls://127.0.0.1:{PORT}"
bulk "ncat --ssl" \
  "ncat -l --ssl --ssl-cert $CERT --ssl-key $KEY 127.0.0.1 {PORT} --recv-only" \
  "ncat --ssl --send-only 127.0.0.1 {PORT}"
bulk "socat OPENSSL" \
  "socat -u OPENSSL-LISTEN:{PORT},bind=127.0.0.1,reuseaddr,cert=$CERT,key=$KEY,verify=0 STDOUT" \
  "socat -u STDIN OPENSSL:127.0.0.1:{PORT},cafile=$CA"
bulk "socat -b131072 OPENSSL" \
  "socat -b131072 -u OPENSSL-LISTEN:{PORT},bind=127.0.0.1,reuseaddr,cert=$CERT,key=$KEY,verify=0 STDOUT" \
  "socat -b131072 -u STDIN OPENSSL:127.0.0.1:{PORT},cafile=$CA"
echo "ratios (wirecat / other): throughput, and CPU per GiB (other / wirecat)"
for k in "ncat --ssl" "socat OPENSSL" "socat -b131072 OPENSSL"; do
  python3 -c "print(f'  vs {\"$k\":<24} {${RESULT[wirecat]}/max(1,${RESULT[$k]}):.2f}x MiB/s, {${CPUGIB[$k]}/max(0.01,${CPUGIB[wirecat]}):.2f}x less CPU')"
done

# Handshakes: CPU ticks of a process (user + system), in seconds.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
declare -A HS CPU
handshakes() {
  local name=$1 port=$2 pid=$3
  wait_port "$port"
  local c0; c0=$(cpu "$pid")
  local out; out=$(openssl s_time -connect "127.0.0.1:$port" -new -time "$SECS" -CAfile "$CA" 2>&1 || true)
  local c1; c1=$(cpu "$pid")
  local n real
  n=$(sed -n 's/^\([0-9]*\) connections in [0-9]* real seconds.*/\1/p' <<<"$out" | head -1)
  real=$(sed -n 's/^[0-9]* connections in \([0-9]*\) real seconds.*/\1/p' <<<"$out" | head -1)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  HS[$name]=$(python3 -c "print(int(${n:-0}/max(1,${real:-1})))")
  CPU[$name]=$(python3 -c "print(round(1e6*($c1-$c0)/max(1,${n:-0}), 1))")
  printf '%-26s %8s handshakes/s  %8s us server CPU per handshake  (%s in %ss)\n' \
    "$name" "${HS[$name]}" "${CPU[$name]}" "${n:-0}" "${real:-?}"
}

echo
echo "full TLS 1.3 handshakes, openssl s_time -new for ${SECS}s against each server"
port=$(free_port)
"$W" listen -k --tls --cert "$CERT" --key "$KEY" "127.0.0.1:$port" </dev/null >/dev/null 2>&1 &
handshakes "wirecat listen -k --tls" "$port" $!
port=$(free_port)
openssl s_server -accept "127.0.0.1:$port" -cert "$CERT" -key "$KEY" -quiet </dev/null >/dev/null 2>&1 &
handshakes "openssl s_server" "$port" $!
if command -v node >/dev/null; then
  port=$(free_port)
  node -e "
    const fs = require('fs'), tls = require('tls');
    tls.createServer({key: fs.readFileSync('$KEY'), cert: fs.readFileSync('$CERT')}, s => s.end())
       .on('tlsClientError', () => {}).listen($port, '127.0.0.1');" >/dev/null 2>&1 &
  handshakes "node tls server" "$port" $!
fi
echo "ratios (wirecat / other), handshakes/s and CPU per handshake:"
for k in "openssl s_server" "node tls server"; do
  [ -n "${HS[$k]:-}" ] || continue
  python3 -c "print(f'  vs {\"$k\":<24} {${HS[wirecat listen -k --tls]}/max(1,${HS[$k]}):.2f}x rate, {${CPU[$k]}/max(0.1,${CPU[wirecat listen -k --tls]}):.2f}x less CPU')"
done
