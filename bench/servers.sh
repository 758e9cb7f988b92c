#!/usr/bin/env bash
# Server benchmarks for `wirecat echo` and `wirecat pipe`, each against its
# peers in the same run (see "Measuring speed" in SPEC.md):
#   echo vs Node's echo server: requests/s and server CPU per request for
#   50 connections x 64 B and x 16 KiB, new connections/s, RSS per idle
#   connection (9,000 held);
#   pipe vs direct iperf3, socat (default, -b 131072) and ncat -k -c relays.
# Usage: bench/servers.sh [SECS]   (needs node, iperf3, socat, ncat)
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
SECS=${1:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
cargo build --release --quiet --offline --manifest-path "$ROOT/bench/loadgen/Cargo.toml" \
  --target-dir "$CARGO_TARGET_DIR/loadgen" 2>/dev/null \
  || cargo build --release --quiet --manifest-path "$ROOT/bench/loadgen/Cargo.toml" \
       --target-dir "$CARGO_TARGET_DIR/loadgen"
WIRECAT=$CARGO_TARGET_DIR/release/wirecat
LOADGEN=$CARGO_TARGET_DIR/loadgen/release/loadgen
ulimit -n 20000
TICK=$(getconf CLK_TCK)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p"; }

start_echo() { # name port → pid in SERVER
  case $1 in
    wirecat) "$WIRECAT" echo "127.0.0.1:$2" 2>/dev/null & ;;
    node) node "$ROOT/bench/node-echo.js" "$2" & ;;
  esac
  SERVER=$!; PIDS+=("$SERVER"); wait_port "$2"
}

# One load against one server: prints "rps cpu_us_per_request".
measure() { # pid loadgen-args...
  local pid=$1; shift
  local before after out reqs
  before=$(cpu_ticks "$pid")
  out=$("$LOADGEN" "$@")
  after=$(cpu_ticks "$pid")
  reqs=$(echo "$out" | field requests)
  echo "$(echo "$out" | field rps) $(awk -v t=$((after - before)) -v r="$reqs" -v hz="$TICK" 'BEGIN {printf "%.2f", t / hz * 1e6 / r}')" "$(echo "$out" | field p99_us)"
}

declare -A R
for name in wirecat node; do
  port=$(free_port); start_echo $name "$port"
  read -r R[$name,64,rps] R[$name,64,cpu] R[$name,64,p99] < <(measure "$SERVER" pingpong "127.0.0.1:$port" 50 64 "$SECS")
  read -r R[$name,16k,rps] R[$name,16k,cpu] R[$name,16k,p99] < <(measure "$SERVER" pingpong "127.0.0.1:$port" 50 16384 "$SECS")
  read -r R[$name,churn,rps] R[$name,churn,cpu] _ < <(measure "$SERVER" churn "127.0.0.1:$port" 8 "$SECS")
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  # Idle memory: RSS with 9,000 connections held, over the empty server's.
  port=$(free_port); start_echo $name "$port"; sleep 0.5
  base=$(rss_kib "$SERVER")
  coproc IDLE { "$LOADGEN" idle "127.0.0.1:$port" 9000 30; }
  read -r _ <&"${IDLE[0]}"; sleep 0.5
  full=$(rss_kib "$SERVER")
  kill "$IDLE_PID" 2>/dev/null || true; wait "$IDLE_PID" 2>/dev/null || true
  R[$name,idle]=$(awk -v a="$base" -v b="$full" 'BEGIN {printf "%.2f", (b - a) / 9000}')
  R[$name,base]=$base
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "## echo: wirecat vs Node (50 conns, ${SECS}s each; load generator on the same 2 cores)"
printf '| load | wirecat req/s | node req/s | ratio | wirecat CPU µs/req | node CPU µs/req | CPU ratio (node/wirecat) | p99 µs wirecat / node |\n|---|---|---|---|---|---|---|---|\n'
for k in 64 16k churn; do
  label=$([ $k = 64 ] && echo "64 B ping-pong" || { [ $k = 16k ] && echo "16 KiB ping-pong" || echo "new connections (8 loops)"; })
  printf '| %s | %s | %s | %s× | %s | %s | %s× | %s / %s |\n' "$label" "${R[wirecat,$k,rps]}" "${R[node,$k,rps]}" \
    "$(ratio "${R[wirecat,$k,rps]}" "${R[node,$k,rps]}")" "${R[wirecat,$k,cpu]}" "${R[node,$k,cpu]}" \
    "$(ratio "${R[node,$k,cpu]}" "${R[wirecat,$k,cpu]}")" "${R[wirecat,$k,p99]:--}" "${R[node,$k,p99]:--}"
done
printf '| RSS per idle connection (9,000 held) | %s KiB | %s KiB | %s× less | | | | empty server: %s / %s KiB |\n' \
  "${R[wirecat,idle]}" "${R[node,idle]}" "$(ratio "${R[node,idle]}" "${R[wirecat,idle]}")" "${R[wirecat,base]}" "${R[node,base]}"

# pipe: iperf3 through each relay.
IPERF=$(free_port)
iperf3 -s -p "$IPERF" >/dev/null 2>&1 & PIDS+=($!)
wait_port "$IPERF"
# Gbit/s and bytes received, from iperf3's JSON.
gbps() { iperf3 -c 127.0.0.1 -p "$1" -t "$SECS" -J | python3 -c 'import json,sys; r = json.load(sys.stdin)["end"]["sum_received"]; print("%.2f %d" % (r["bits_per_second"] / 1e9, r["bytes"]))'; }
# A relay's CPU, its reaped children included (socat and ncat fork).
cpu_all() { awk '{print $14+$15+$16+$17}' "/proc/$1/stat"; }
relay() { # name port
  case $1 in # (socat and ncat print EPIPE/ECONNRESET when iperf3 ends: harmless)
    wirecat) "$WIRECAT" pipe "127.0.0.1:$2" "127.0.0.1:$IPERF" 2>/dev/null & ;;
    socat) socat -lf /dev/null "TCP-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$IPERF" & ;;
    socat-b128k) socat -lf /dev/null -b 131072 "TCP-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$IPERF" & ;;
    ncat) ncat -k -l 127.0.0.1 "$2" -c "ncat 127.0.0.1 $IPERF 2>/dev/null" 2>/dev/null & ;;
  esac
  RELAY=$!; PIDS+=("$RELAY"); wait_port "$2"
}
declare -A G C
read -r G[direct] _ < <(gbps "$IPERF")
C[direct]=0
for r in wirecat socat socat-b128k ncat; do
  port=$(free_port); relay $r "$port"
  before=$(cpu_all "$RELAY")
  read -r G[$r] bytes < <(gbps "$port")
  sleep 0.5 # let forked relays exit and be reaped
  after=$(cpu_all "$RELAY")
  C[$r]=$(awk -v t=$((after - before)) -v b="$bytes" -v hz="$TICK" 'BEGIN {printf "%.3f", t / hz / (b / 1e9)}')
  kill "$RELAY"; wait "$RELAY" 2>/dev/null || true
done
echo
echo "## pipe: iperf3 -t $SECS through each relay"
printf '| path | Gbit/s | vs direct | wirecat throughput vs it | relay CPU s/GB | wirecat CPU vs it |\n|---|---|---|---|---|---|\n'
for r in direct wirecat socat socat-b128k ncat; do
  if [ $r = direct ]; then cpu=-; cr=-; else cpu=${C[$r]}; cr="$(ratio "${C[$r]}" "${C[wirecat]}")× less"; fi
  printf '| %s | %s | %s× | %s× | %s | %s |\n' "$r" "${G[$r]}" "$(ratio "${G[$r]}" "${G[direct]}")" \
    "$(ratio "${G[wirecat]}" "${G[$r]}")" "$cpu" "$cr"
done
