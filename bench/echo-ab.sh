#!/usr/bin/env bash
# A/B of `wirecat echo` builds against Node's echo server, interleaved so
# that every repetition sees the same machine load: for each repetition and
# each server, 50 connections x 64 B, x 16 KiB, and connect/close churn with
# 8 loops; prints "rep server load req/s cpu_us_per_request" lines and the
# medians (CPU from /proc/PID/stat, see "Measuring speed" in SPEC.md).
# Usage: bench/echo-ab.sh SECS REPS WIRECAT_BIN... (after bench/servers.sh
# has built the load generator under $CARGO_TARGET_DIR/loadgen)
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
SECS=$1; REPS=$2; shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOADGEN=${CARGO_TARGET_DIR:-$ROOT/target}/loadgen/release/loadgen
TICK=$(getconf CLK_TCK)
ulimit -n 20000
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p"; }
measure() { # pid loadgen-args... → "rps cpu_us"
  local pid=$1 b a out; shift
  b=$(cpu_ticks "$pid"); out=$("$LOADGEN" "$@"); a=$(cpu_ticks "$pid")
  echo "$(echo "$out" | field rps) $(awk -v t=$((a - b)) -v r="$(echo "$out" | field requests)" -v hz="$TICK" 'BEGIN {printf "%.2f", t / hz * 1e6 / r}')"
}
for rep in $(seq "$REPS"); do
  for bin in "$@" node; do
    port=$(free_port)
    if [ "$bin" = node ]; then node "$ROOT/bench/node-echo.js" "$port" & else "$bin" echo "127.0.0.1:$port" 2>/dev/null & fi
    server=$!; wait_port "$port"
    echo "$rep $bin 64 $(measure $server pingpong "127.0.0.1:$port" 50 64 "$SECS")"
    echo "$rep $bin 16k $(measure $server pingpong "127.0.0.1:$port" 50 16384 "$SECS")"
    echo "$rep $bin churn $(measure $server churn "127.0.0.1:$port" 8 "$SECS")"
    kill "$server"; wait "$server" 2>/dev/null || true
  done
done | tee /dev/stderr | sort -k2,2 -k3,3 -k5,5n | awk '
  { k = $2 " " $3; n[k]++; cpu[k, n[k]] = $5; rps[k] = rps[k] " " $4 }
  END { for (k in n) print k, cpu[k, int((n[k] + 1) / 2)], "|" rps[k] }' | sort \
  | sed '1i medians: server load cpu_us/req | req/s of every repetition.'
