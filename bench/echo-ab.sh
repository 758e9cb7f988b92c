#!/usr/bin/env bash
# A/B of `wirecat echo` builds against Node's echo server and the C floor
# (bench/floor-echo.c: epoll, one read + one write per event) and its
# io_uring twin (bench/floor-uring.c, when liburing-dev is installed), interleaved
# so that every repetition sees the same machine load: for each repetition
# and each server, 50 connections x 64 B, x 16 KiB, and connect/close churn
# with 8 loops; prints "rep server load req/s cpu_us_per_request loadavg"
# lines and the medians (CPU from /proc/PID/stat, see "Measuring speed" in
# SPEC.md).
# Usage: bench/echo-ab.sh SECS REPS WIRECAT_BIN... (after bench/servers.sh
# has built the load generator under $CARGO_TARGET_DIR/loadgen, or with
# LOADGEN=path; a WIRECAT_BIN may carry flags: "path --workers 1")
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
SECS=$1; REPS=$2; shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOADGEN=${LOADGEN:-${CARGO_TARGET_DIR:-$ROOT/target}/loadgen/release/loadgen}
FLOOR=${CARGO_TARGET_DIR:-$ROOT/target}/floor-echo
cc -O2 -o "$FLOOR" "$ROOT/bench/floor-echo.c"
# The io_uring floor too, where liburing's headers are installed
# (Debian: liburing-dev).
URING=${CARGO_TARGET_DIR:-$ROOT/target}/floor-uring
FLOORS=floor
if cc -O2 -o "$URING" "$ROOT/bench/floor-uring.c" -luring 2>/dev/null; then FLOORS="floor uring"; fi
TICK=$(getconf CLK_TCK)
ulimit -n 20000
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
la() { cut -d' ' -f1 /proc/loadavg; }
field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p"; }
measure() { # pid loadgen-args... → "rps cpu_us"
  local pid=$1 b a out; shift
  b=$(cpu_ticks "$pid"); out=$("$LOADGEN" "$@"); a=$(cpu_ticks "$pid")
  echo "$(echo "$out" | field rps) $(awk -v t=$((a - b)) -v r="$(echo "$out" | field requests)" -v hz="$TICK" 'BEGIN {printf "%.2f", t / hz * 1e6 / r}')"
}
for rep in $(seq "$REPS"); do
  for bin in "$@" node $FLOORS; do
    port=$(free_port)
    case $bin in
      node) node "$ROOT/bench/node-echo.js" "$port" & ;;
      floor) "$FLOOR" "$port" & ;;
      uring) "$URING" "$port" & ;;
      *) read -ra cmd <<<"$bin"; "${cmd[0]}" echo "127.0.0.1:$port" "${cmd[@]:1}" 2>/dev/null & ;;
    esac
    server=$!; wait_port "$port"
    name=${bin// /_}
    echo "$rep $name 64 $(measure $server pingpong "127.0.0.1:$port" 50 64 "$SECS") $(la)"
    echo "$rep $name 16k $(measure $server pingpong "127.0.0.1:$port" 50 16384 "$SECS") $(la)"
    echo "$rep $name churn $(measure $server churn "127.0.0.1:$port" 8 "$SECS") $(la)"
    kill "$server"; wait "$server" 2>/dev/null || true
  done
done | tee /dev/stderr | awk '
  function median(s,   a, n, i, j, t) {
    n = split(substr(s, 2), a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return a[int((n + 1) / 2)]
  }
  { k = $2 " " $3; cpu[k] = cpu[k] " " $5; rps[k] = rps[k] " " $4; la[k] = la[k] " " $6 }
  END { for (k in cpu) print k, median(cpu[k]), median(rps[k]), "| cpu" cpu[k], "| req/s" rps[k], "| load" la[k] }' | sort \
  | sed '1i medians: server load cpu_us/req req/s | every repetition.'
