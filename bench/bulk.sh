#!/usr/bin/env bash
# Loopback bulk transfer through stdin: wirecat against nc.openbsd, socat
# (default and -b 131072), ncat, and iperf3 (the ceiling), in one run.
# Usage: bench/bulk.sh [BYTES] [ROUNDS]   (default 4 GiB, best of 3)
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
BYTES=${1:-$((4 << 30))}
ROUNDS=${2:-3}
MIB=$((BYTES >> 20))
cargo build --release -q
W=$PWD/target/release/wirecat
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null || true' EXIT



# run NAME SERVER_CMD CLIENT_CMD: best MiB/s of ROUNDS, and the least CPU
# time (user+sys of client and server together) per GiB: on a shared 2-core
# machine the CPU figure is the steadier one. {PORT} is replaced.
declare -A RESULT CPUGIB
run() {
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
    head -c "$BYTES" /dev/zero | /usr/bin/time -f '%U %S' -o "$tmp/cpu.c" bash -c "$client" >/dev/null 2>&1
    wait "$spid" 2>/dev/null || true
    e=$(now)
    local rate; rate=$(python3 -c "print(int($MIB/($e-$s)))")
    (( rate > best )) && best=$rate
    local cpu; cpu=$(cat "$tmp/cpu.s" "$tmp/cpu.c" | awk -v mib="$MIB" '{t += $1 + $2} END {printf "%.2f", t * 1024 / mib}')
    least=$(python3 -c "print(min($least, $cpu))")
  done
  RESULT[$name]=$best
  CPUGIB[$name]=$least
  printf '%-22s %8d MiB/s  %6s CPU s/GiB (client+server)\n' "$name" "$best" "$least"
}

echo "bulk transfer of $MIB MiB over 127.0.0.1, best of $ROUNDS"
run wirecat "$W listen 127.0.0.1:{PORT} --recv-only" "$W connect 127.0.0.1:{PORT}"
run nc.openbsd "nc.openbsd -l 127.0.0.1 {PORT}" "nc.openbsd -N 127.0.0.1 {PORT}"
run socat "socat -u TCP-LISTEN:{PORT},bind=127.0.0.1,reuseaddr STDOUT" "socat -u STDIN TCP:127.0.0.1:{PORT}"
run "socat -b131072" "socat -b131072 -u TCP-LISTEN:{PORT},bind=127.0.0.1,reuseaddr STDOUT" "socat -b131072 -u STDIN TCP:127.0.0.1:{PORT}"
run ncat "ncat -l 127.0.0.1 {PORT} --recv-only" "ncat --send-only 127.0.0.1 {PORT}"

# iperf3: memory to memory, no pipes, the loopback ceiling.
best=0
for _ in $(seq "$ROUNDS"); do
  port=$(free_port)
  iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
  sleep 0.3
  bps=$(iperf3 -c 127.0.0.1 -p "$port" -n "$BYTES" -J 2>/dev/null | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))')
  wait || true
  rate=$((bps / 8 / 1048576))
  (( rate > best )) && best=$rate
done
RESULT[iperf3]=$best
printf '%-22s %8d MiB/s\n' iperf3 "$best"

echo
echo "ratios (wirecat / other):"
for k in nc.openbsd socat "socat -b131072" ncat; do
  python3 -c "print(f'  vs {\"$k\":<18} {${RESULT[wirecat]}/max(1,${RESULT[$k]}):.2f}x MiB/s, {${CPUGIB[$k]}/max(0.01,${CPUGIB[wirecat]}):.2f}x less CPU per GiB')"
done
python3 -c "print(f'  vs {\"iperf3\":<18} {${RESULT[wirecat]}/max(1,${RESULT[iperf3]}):.2f}x MiB/s (memory to memory, no pipes: the ceiling)')"
