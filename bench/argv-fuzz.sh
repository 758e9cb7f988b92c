#!/bin/sh
# The random-argv run of tests/integration/hostile/fuzz_argv.rs, longer:
#   bench/argv-fuzz.sh [RUNS] [SEED]
# RUNS defaults to 5000, SEED to the clock; a failure prints the seed, the
# run and its argv (as $'...' words a shell takes back).
set -eu
cd "$(dirname "$0")/.."
runs=${1:-5000}
seed=${2:-$(date +%s%N)}
echo "argv-fuzz: $runs runs, seed $seed"
WIRECAT_ARGV_RUNS=$runs WIRECAT_ARGV_SEED=$seed \
    cargo test --test integration hostile::fuzz_argv -- --nocapture
