#!/usr/bin/env bash
# isip throughput and start-up: wirecat vs Node (readline + net.isIP) vs
# Python (ipaddress), same machine, same run, same generated file.
# Usage: bench/isip.sh [LINES]   (default 20000000)
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-20000000}
WORK=${BENCH_DIR:-$(mktemp -d)}
DATA="$WORK/isip-$LINES.txt"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
WIRECAT="$CARGO_TARGET_DIR/release/wirecat"

[ -s "$DATA" ] || python3 bench/gen_isip.py "$LINES" > "$DATA"
echo "input: $LINES lines, $(du -h "$DATA" | cut -f1) ($DATA)"

cat > "$WORK/isip.js" <<'JS'
const net = require('net');
const readline = require('readline');
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
let out = [];
rl.on('line', (l) => {
  out.push(net.isIP(l));
  if (out.length >= 65536) { process.stdout.write(out.join('\n') + '\n'); out = []; }
});
rl.on('close', () => { if (out.length) process.stdout.write(out.join('\n') + '\n'); });
JS
cat > "$WORK/isip.py" <<'PY'
import ipaddress, sys
out = sys.stdout.write
def family(s):
    try:
        return ipaddress.ip_address(s).version
    except ValueError:
        return 0
for line in sys.stdin.buffer:
    out("%d\n" % family(line.rstrip(b"\r\n").decode("utf-8", "replace")))
PY

# Best of RUNS wall-clock seconds of a command reading $DATA; the output
# lands in $WORK/out.NAME.
best() {
  local runs=$1 best=""
  shift
  local name
  name=$(basename "$1")
  for _ in $(seq "$runs"); do
    local s e t
    s=$(date +%s.%N)
    "$@" < "$DATA" > "$WORK/out.$name" || true
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
  done
  echo "$best"
}

W=$(best 3 "$WIRECAT" isip)
N=$(best 3 node "$WORK/isip.js")
cmp -s "$WORK/out.wirecat" "$WORK/out.node" && AGREE=yes || AGREE=NO
P=$(best 1 python3 "$WORK/isip.py")  # slow: one run
rate() { echo "scale=1; $LINES / $1 / 1000000" | bc; }
printf '%-34s %8s s %8s M lines/s\n' "wirecat isip" "$W" "$(rate "$W")"
printf '%-34s %8s s %8s M lines/s\n' "node readline + net.isIP" "$N" "$(rate "$N")"
printf '%-34s %8s s %8s M lines/s\n' "python3 ipaddress" "$P" "$(rate "$P")"
echo "wirecat vs node:   $(echo "scale=1; $N / $W" | bc)x"
echo "wirecat vs python: $(echo "scale=1; $P / $W" | bc)x"
echo "wirecat and node outputs identical: $AGREE"
echo "wirecat peak RSS: $(/usr/bin/time -f %M "$WIRECAT" isip < "$DATA" 2>&1 >/dev/null | tail -1) KB"

echo
echo "start-up (wall time of one classification, hyperfine, median):"
if command -v hyperfine > /dev/null; then
  hyperfine -N --warmup 20 --runs 300 --style none --export-json "$WORK/startup.json" \
    "$WIRECAT isip 1.2.3.4" \
    "node -e \"require('net').isIP('1.2.3.4')\"" > /dev/null
  python3 - "$WORK/startup.json" <<'PY'
import json, sys
rs = json.load(open(sys.argv[1]))["results"]
for r in rs:
    print("  %-40s median %6.2f ms  mean %6.2f ms  min %6.2f ms" % (
        r["command"][-40:], r["median"] * 1e3, r["mean"] * 1e3, r["min"] * 1e3))
print("  node / wirecat (median): %.1fx" % (rs[1]["median"] / rs[0]["median"]))
PY
else
  echo "  (hyperfine not installed: apt-get install hyperfine)"
fi
