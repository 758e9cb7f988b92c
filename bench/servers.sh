#!/usr/bin/env bash
# Server benchmarks for `wirecat echo` and `wirecat pipe`, each against its
# peers in the same run (see "Measuring speed" in SPEC.md):
#   echo vs Node's echo server: requests/s and server CPU per request for
#   50 connections x 64 B and x 16 KiB, new connections/s, RSS per idle
#   connection (9,000 held);
#   pipe vs direct iperf3, socat (default, -b 131072) and ncat -k -c relays.
#   For every pipe path also iperf3's own CPU (client and server) per GB
#   and how busy the two cores were, so the run shows what a relay may
#   cost at most for a given throughput.
# Usage: bench/servers.sh [SECS]   (needs node, iperf3, socat, ncat, GNU time)
#   ONLY=echo or ONLY=pipe runs one half.
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
ONLY=${ONLY:-}
for name in wirecat node; do
  [ "$ONLY" = pipe ] && break
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
if [ "$ONLY" != pipe ]; then
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
fi
[ "$ONLY" = echo ] && exit 0

# pipe: iperf3 through each relay.
IPERF=$(free_port)
iperf3 -s -p "$IPERF" >/dev/null 2>&1 & IPERF_PID=$!; PIDS+=("$IPERF_PID")
wait_port "$IPERF"
# Gbit/s and bytes received, from iperf3's JSON; the client's CPU seconds
# go to $CLIENT_CPU (a file), from GNU time.
CLIENT_CPU=$(mktemp); trap 'rm -f "$CLIENT_CPU"; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
gbps() { /usr/bin/time -o "$CLIENT_CPU" -f '%U %S' iperf3 -c 127.0.0.1 -p "$1" -t "$SECS" -J | python3 -c 'import json,sys; r = json.load(sys.stdin)["end"]["sum_received"]; print("%.2f %d" % (r["bits_per_second"] / 1e9, r["bytes"]))'; }
client_ticks() { awk -v hz="$TICK" '{printf "%d", ($1 + $2) * hz}' "$CLIENT_CPU"; }
# Busy and total jiffies of the whole machine (all cores) from /proc/stat.
machine() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }
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
declare -A G C I B
per_gb() { awk -v t="$1" -v b="$2" -v hz="$TICK" 'BEGIN {printf "%.3f", t / hz / (b / 1e9)}'; }
for r in direct wirecat socat socat-b128k ncat; do
  if [ $r = direct ]; then port=$IPERF; else port=$(free_port); relay $r "$port"; fi
  [ $r = direct ] || before=$(cpu_all "$RELAY")
  s_before=$(cpu_ticks "$IPERF_PID"); read -r m_busy m_all < <(machine)
  read -r G[$r] bytes < <(gbps "$port")
  read -r m_busy2 m_all2 < <(machine); s_after=$(cpu_ticks "$IPERF_PID")
  I[$r]=$(per_gb $((s_after - s_before + $(client_ticks))) "$bytes")
  B[$r]=$(awk -v b=$((m_busy2 - m_busy)) -v a=$((m_all2 - m_all)) 'BEGIN {printf "%.0f", 100 * b / a}')
  [ $r = direct ] && { C[$r]=0; continue; }
  sleep 0.5 # let forked relays exit and be reaped
  after=$(cpu_all "$RELAY")
  C[$r]=$(per_gb $((after - before)) "$bytes")
  kill "$RELAY"; wait "$RELAY" 2>/dev/null || true
done
echo
echo "## pipe: iperf3 -t $SECS through each relay"
printf '| path | Gbit/s | vs direct | wirecat throughput vs it | relay CPU s/GB | wirecat CPU vs it | iperf3 CPU s/GB | cores busy |\n|---|---|---|---|---|---|---|---|\n'
for r in direct wirecat socat socat-b128k ncat; do
  if [ $r = direct ]; then cpu=-; cr=-; else cpu=${C[$r]}; cr="$(ratio "${C[$r]}" "${C[wirecat]}")× less"; fi
  printf '| %s | %s | %s× | %s× | %s | %s | %s | %s %% |\n' "$r" "${G[$r]}" "$(ratio "${G[$r]}" "${G[direct]}")" \
    "$(ratio "${G[wirecat]}" "${G[$r]}")" "$cpu" "$cr" "${I[$r]}" "${B[$r]}"
done
# The budget: at 2x socat's throughput, the seconds of CPU one GB may cost
# in all with both cores fully busy (the hard ceiling), less what iperf3
# itself spent per GB through wirecat in this run.
awk -v g="${G[socat]}" -v ip="${I[wirecat]}" -v w="${C[wirecat]}" 'BEGIN {
  gbs = 2 * g / 8; all = 2 / gbs
  printf "\n2x socat = %.2f Gbit/s: at most %.3f CPU s/GB for everything with both cores busy; iperf3 took %.3f through wirecat, leaving %.3f for a relay (wirecat used %.3f)\n", 2 * g, all, ip, all - ip, w }'
