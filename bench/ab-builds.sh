#!/usr/bin/env bash
# Interleaved A/B of two wirecat builds on one bulk transfer through stdin
# (listen --recv-only ← connect), plain (the splice path) or with --tls:
# the way to show that a refactor did not make the copy paths slower.
# Usage: bench/ab-builds.sh OLD_BINARY NEW_BINARY [tls] [BYTES] [ROUNDS]
set -euo pipefail
OLD=$1 NEW=$2 MODE=${3:-plain} BYTES=${4:-$((2 << 30))} ROUNDS=${5:-4}
MIB=$((BYTES >> 20))
tls_listen=() tls_connect=()
if [ "$MODE" = tls ]; then tls_listen=(--tls) tls_connect=(--tls --insecure); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null || true' EXIT
one() {
  local bin=$1 rf=$tmp/ready port s e
  rm -f "$rf"
  "$bin" listen 127.0.0.1:0 "${tls_listen[@]}" --recv-only --ready-file "$rf" >/dev/null 2>&1 &
  local server=$!
  for _ in $(seq 500); do [ -s "$rf" ] && break; sleep 0.01; done
  port=$(grep -o '[0-9]*$' "$rf")
  s=$(date +%s.%N)
  head -c "$BYTES" /dev/zero | "$bin" connect "${tls_connect[@]}" 127.0.0.1 "$port" >/dev/null 2>&1
  wait "$server"
  e=$(date +%s.%N)
  python3 -c "print(int($MIB / ($e - $s)))"
}
echo "$MODE bulk of $MIB MiB, MiB/s, interleaved"
for _ in $(seq "$ROUNDS"); do
  echo "old $(one "$OLD")  new $(one "$NEW")"
done
